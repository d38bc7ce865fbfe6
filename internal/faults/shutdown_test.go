package faults

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testpeer"
)

// shutdownWithin is how long Ctrl-C may take with a part hung: each stage
// has a deadline of a few seconds (issue 9).
const shutdownWithin = 15 * time.Second

// TestShutdownWithPartsHung: Ctrl-C (SIGINT) makes the collector return
// within a few seconds even with ClickHouse frozen (SIGSTOP) or the
// external NATS frozen, and it says what was left for later: with NATS
// frozen, the events it could not publish go to the spool, and the next
// start publishes them.
func TestShutdownWithPartsHung(t *testing.T) {
	t.Parallel()
	testpeer.Need(t, "bird", "bird2")
	natsBin := testpeer.Need(t, "nats-server", "nats-server")
	natsDir := t.TempDir()
	natsPort := port(t)
	natsd := testpeer.StartCommand(t, natsDir, "nats-server", fmt.Sprintf("%s -js -sd %s -a 127.0.0.1 -p %d", natsBin, filepath.Join(natsDir, "js"), natsPort))
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", natsPort), 30*time.Second)
	s := newStack(t, stackOptions{name: "faults-shutdown", natsURL: fmt.Sprintf("nats://127.0.0.1:%d", natsPort)})
	col := s.startCollector()
	bird := testpeer.StartBIRD(t, birdConf(port(t), s.bgpPort,
		staticProtocol("base4", netip.MustParseAddr("10.0.0.0"), 1, 500, false, nil),
		staticProtocol("late4", netip.MustParseAddr("100.64.0.0"), 2, 500, true, nil)))
	eventually(t, 60*time.Second, "BIRD's 500 routes announced", func() error { return s.wantEvents(500) })
	s.waitStored(60 * time.Second)

	interrupt := func(p *testpeer.Process, what string) {
		t.Helper()
		start := time.Now()
		if err := p.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.Done():
			t.Logf("%s: the collector returned %v after Ctrl-C", what, time.Since(start).Round(10*time.Millisecond))
		case <-time.After(shutdownWithin):
			t.Fatalf("%s: want the collector to return within %v of Ctrl-C, it still runs; output:\n%s", what, shutdownWithin, p.Output())
		}
	}

	// 1. ClickHouse frozen.
	ch := s.clickhousePID()
	if err := syscall.Kill(ch, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	interrupt(col, "ClickHouse frozen")
	if out := col.Output(); !strings.Contains(out, "every event is in the log") {
		t.Errorf("ClickHouse frozen: want the collector to say every event is in the log; output:\n%s", out)
	}
	syscall.Kill(ch, syscall.SIGCONT)

	// 2. NATS frozen while BIRD sends 500 more routes: what the collector
	// could not publish goes to the spool, and the next start publishes it.
	col = s.startCollector()
	if err := natsd.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if _, err := bird.Ctl("enable", "late4"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the 500 late routes received", func() error {
		m, err := s.scrape()
		if err != nil {
			return err
		}
		if q := m["vantage_publish_queued_total"]; q < 500 {
			return fmt.Errorf("%v events queued for the log", q)
		}
		return nil
	})
	interrupt(col, "NATS frozen")
	if out := col.Output(); !strings.Contains(out, "events left in the spool for the next start") {
		t.Errorf("NATS frozen: want the collector to say what it left in the spool; output:\n%s", out)
	}
	if err := natsd.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The next start publishes the spool first; every route reaches the store.
	s.startCollector()
	s.waitStored(90 * time.Second)
	eventually(t, 90*time.Second, "all 1,000 routes stored", func() error {
		var n uint64
		if err := s.ch().QueryRow(t.Context(), "SELECT uniqExact(prefix, prefix_len) FROM vantage.route_events WHERE host = 'faults-shutdown' AND kind = 'announce'").Scan(&n); err != nil {
			return err
		}
		if n < 1000 {
			return fmt.Errorf("%d prefixes stored", n)
		}
		return nil
	})
}
