package faults

import (
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// outage is how long ClickHouse and NATS are kept away (issue 9: 60 s).
const outage = 60 * time.Second

// TestClickHouseFrozenAndKilled freezes the collector's ClickHouse
// (SIGSTOP) for 60 s while BIRD keeps announcing and withdrawing, then
// kills it (SIGKILL): the BGP session stays up, the log keeps growing, the
// writer catches up once the supervisor has restarted the server, and
// ClickHouse holds every event of the log exactly once.
func TestClickHouseFrozenAndKilled(t *testing.T) {
	t.Parallel()
	testpeer.Need(t, "bird", "bird2")
	s := newStack(t, stackOptions{name: "faults-clickhouse"})
	s.startCollector()
	bird := testpeer.StartBIRD(t, birdConf(port(t), s.bgpPort,
		staticProtocol("base4", netip.MustParseAddr("10.0.0.0"), 1, 2000, false, nil),
		staticProtocol("flap4", netip.MustParseAddr("172.16.0.0"), 2, 200, false, nil)))
	eventually(t, 60*time.Second, "BIRD's 2,200 routes announced", func() error {
		return s.wantEvents(2200)
	})
	s.waitStored(60 * time.Second)

	nc, err := nats.Connect(s.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	streamMsgs := func() uint64 {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := js.Stream(ctx, bus.StreamName)
		if err != nil {
			t.Fatalf("stream %s: %v", bus.StreamName, err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatalf("stream %s: %v", bus.StreamName, err)
		}
		return info.State.Msgs
	}

	flap := startFlapper(bird, "flap4", 500*time.Millisecond)
	defer flap.Stop()
	pid := s.clickhousePID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	msgs0, acked0 := streamMsgs(), s.metric("vantage_publish_acked_total")
	t.Logf("clickhouse-server %d stopped (SIGSTOP); the log holds %d events", pid, msgs0)
	// Hold the outage, checking the session and the metrics meanwhile.
	var slowest time.Duration // of the /metrics requests
	for time.Since(stopped) < outage {
		time.Sleep(min(5*time.Second, outage-time.Since(stopped)))
		if up, state := birdEstablished(bird); !up {
			t.Errorf("%v into the ClickHouse outage: want BIRD's session Established, saw %s", time.Since(stopped).Round(time.Second), state)
		}
		t0 := time.Now()
		m, err := s.scrape()
		slowest = max(slowest, time.Since(t0))
		if err != nil {
			t.Errorf("%v into the ClickHouse outage: want /metrics to answer, saw %v", time.Since(stopped).Round(time.Second), err)
			continue
		}
		if m["vantage_clickhouse_up"] != 0 {
			t.Errorf("%v into the ClickHouse outage: want vantage_clickhouse_up 0, saw %v", time.Since(stopped).Round(time.Second), m["vantage_clickhouse_up"])
		}
		if m[`vantage_sessions{state="established"}`] != 1 {
			t.Errorf("%v into the ClickHouse outage: want 1 established session in /metrics, saw %v", time.Since(stopped).Round(time.Second), m[`vantage_sessions{state="established"}`])
		}
	}
	msgs1, acked1 := streamMsgs(), s.metric("vantage_publish_acked_total")
	lag := s.metric("vantage_store_lag_events")
	t.Logf("after %v frozen: the log holds %d events (+%d), %v acknowledged publishes (+%v), writer lag %v; /metrics answered within %v",
		time.Since(stopped).Round(time.Second), msgs1, msgs1-msgs0, acked1, acked1-acked0, lag, slowest.Round(time.Millisecond))
	if msgs1 <= msgs0+100 || acked1 <= acked0+100 {
		t.Errorf("want the log to grow while ClickHouse is stopped (BIRD flapping), saw stream messages %d -> %d and vantage_publish_acked_total %v -> %v",
			msgs0, msgs1, acked0, acked1)
	}
	if slowest > 3*time.Second {
		t.Errorf("want /metrics to answer within 3s while ClickHouse is stopped, the slowest request took %v", slowest.Round(time.Millisecond))
	}
	if lag == 0 {
		t.Errorf("want the writer behind while ClickHouse is stopped (vantage_store_lag_events > 0), saw 0")
	}

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("clickhouse-server %d killed (SIGKILL)", pid)
	eventually(t, 90*time.Second, "the collector restarts ClickHouse", func() error {
		if p, ok := statusPID(s.statusFile()); !ok || p == pid || syscall.Kill(p, 0) != nil {
			return errorf("clickhouse-server in %s: still PID %d or not running (status PID %d)", s.statusFile(), pid, p)
		}
		if m, err := s.scrape(); err != nil || m["vantage_clickhouse_up"] != 1 {
			return errorf("vantage_clickhouse_up %v (err %v)", m["vantage_clickhouse_up"], err)
		}
		return nil
	})
	time.Sleep(2 * time.Second) // ingest goes on while the writer catches up
	if n, err := flap.Stop(); err != nil {
		t.Fatalf("flapping BIRD: %v", err)
	} else {
		t.Logf("BIRD flapped %d times", n)
	}
	s.waitStored(120 * time.Second)
	t.Logf("caught up %v after the SIGKILL", time.Since(stopped.Add(outage)).Round(time.Second))
	if up, state := birdEstablished(bird); !up {
		t.Errorf("after the ClickHouse outage: want BIRD's session Established, saw %s", state)
	}

	events := readLog(t, s.natsURL, s.name)
	for _, e := range events {
		if e.ev.Type == schema.TypePeerState && e.ev.State != schema.StateConnected {
			t.Errorf("want no session state but connected in the log, saw %s (%s) at seq %d", e.ev.State, e.ev.Reason, e.ev.Seq)
		}
	}
	n := compareLogAndStore(t, s.ch(), events, s.name)
	t.Logf("compared the %d events of the log with ClickHouse", n)
}
