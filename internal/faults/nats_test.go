package faults

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// TestExternalNATSStopped stops the external nats-server the collector
// publishes to for 60 s while BIRD keeps sending (a 5,000-route burst and
// steady flapping): the BGP session stays up, the events wait in the disk
// spool, and once NATS is back they are all in the log in per-peer order,
// and in ClickHouse.
func TestExternalNATSStopped(t *testing.T) {
	t.Parallel()
	testpeer.Need(t, "bird", "bird2")
	natsBin := testpeer.Need(t, "nats-server", "nats-server")
	natsDir := t.TempDir()
	natsPort := port(t)
	natsCmd := fmt.Sprintf("%s -js -sd %s -a 127.0.0.1 -p %d", natsBin, filepath.Join(natsDir, "js"), natsPort)
	natsd := testpeer.StartCommand(t, natsDir, "nats-server", natsCmd)
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", natsPort), 30*time.Second)

	s := newStack(t, stackOptions{name: "faults-nats", natsURL: fmt.Sprintf("nats://127.0.0.1:%d", natsPort), queueBytes: 1 << 20})
	s.startCollector()
	bird := testpeer.StartBIRD(t, birdConf(port(t), s.bgpPort,
		staticProtocol("base4", netip.MustParseAddr("10.0.0.0"), 1, 1000, false, nil),
		staticProtocol("flap4", netip.MustParseAddr("172.16.0.0"), 2, 200, false, nil),
		staticProtocol("burst4", netip.MustParseAddr("100.64.0.0"), 3, 5000, true, nil)))
	eventually(t, 60*time.Second, "BIRD's 1,200 routes announced", func() error {
		return s.wantEvents(1200)
	})
	s.waitStored(60 * time.Second)

	flap := startFlapper(bird, "flap4", 500*time.Millisecond)
	defer flap.Stop()
	natsd.Stop()
	stopped := time.Now()
	t.Logf("nats-server stopped: %v", natsd.Err())
	if _, err := bird.Ctl("enable", "burst4"); err != nil {
		t.Fatal(err)
	}
	var maxSpool float64
	for time.Since(stopped) < outage {
		time.Sleep(min(2*time.Second, outage-time.Since(stopped)))
		if up, state := birdEstablished(bird); !up {
			t.Errorf("%v into the NATS outage: want BIRD's session Established, saw %s", time.Since(stopped).Round(time.Second), state)
		}
		m, err := s.scrape()
		if err != nil {
			t.Errorf("%v into the NATS outage: want /metrics to answer, saw %v", time.Since(stopped).Round(time.Second), err)
			continue
		}
		maxSpool = max(maxSpool, m["vantage_spool_bytes"])
		if m[`vantage_sessions{state="established"}`] != 1 {
			t.Errorf("%v into the NATS outage: want 1 established session in /metrics, saw %v", time.Since(stopped).Round(time.Second), m[`vantage_sessions{state="established"}`])
		}
	}
	m, err := s.scrape()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %v without NATS: %v events, %v in memory (%v bytes), %v spool bytes (at most %v), %v writes blocked",
		time.Since(stopped).Round(time.Second), m["vantage_events_total"], m["vantage_publish_queue_events"],
		m["vantage_publish_queue_bytes"], m["vantage_spool_bytes"], maxSpool, m["vantage_publish_blocked_total"])
	if maxSpool == 0 {
		t.Errorf("want events in the spool while NATS is stopped (vantage_spool_bytes > 0 at some point), saw 0 throughout")
	}

	testpeer.StartCommand(t, natsDir, "nats-server-again", natsCmd)
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", natsPort), 30*time.Second)
	time.Sleep(2 * time.Second) // ingest goes on while the spool drains
	if n, err := flap.Stop(); err != nil {
		t.Fatalf("flapping BIRD: %v", err)
	} else {
		t.Logf("BIRD flapped %d times", n)
	}
	s.waitStored(120 * time.Second)
	t.Logf("drained and stored %v after NATS came back", time.Since(stopped.Add(outage)).Round(time.Second))
	if up, state := birdEstablished(bird); !up {
		t.Errorf("after the NATS outage: want BIRD's session Established, saw %s", state)
	}

	// The log holds every event, each peer's in order.
	events := readLog(t, s.natsURL, s.name)
	next := map[netip.Addr]uint64{}
	var bad []string
	for _, e := range events {
		ev := &e.ev
		want := next[ev.Peer] + 1
		if ev.Seq != want && len(bad) < 10 {
			bad = append(bad, fmt.Sprintf("stream seq %d: peer %s seq %d after %d", e.streamSeq, ev.Peer, ev.Seq, next[ev.Peer]))
		}
		next[ev.Peer] = ev.Seq
		if ev.Type == schema.TypePeerState && ev.State != schema.StateConnected {
			t.Errorf("want no session state but connected in the log, saw %s (%s) at seq %d", ev.State, ev.Reason, ev.Seq)
		}
	}
	if len(bad) > 0 {
		t.Errorf("want each peer's events in the log in order, seq going up by 1 without gap or duplicate; saw %v", bad)
	}
	emitted := s.metric("vantage_events_total")
	if float64(len(events)) != emitted || next[peerAddr] != uint64(len(events)) {
		t.Errorf("want every event the collector emitted in the log: %v emitted, %d in the log, last seq of %s %d",
			emitted, len(events), peerAddr, next[peerAddr])
	}
	n := compareLogAndStore(t, s.ch(), events, s.name)
	t.Logf("compared the %d events of the log with the log order and with ClickHouse", n)
}
