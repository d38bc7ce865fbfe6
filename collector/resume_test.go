package collector

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// TestResumeCarriesSeqAndRecordsRestart: the peers of an earlier run go
// on with their sequence numbers and times, and a session that was up when
// that run ended is recorded down (reason "collector restart") before any
// session is accepted; a peer that reconnects then goes on from there.
func TestResumeCarriesSeqAndRecordsRestart(t *testing.T) {
	rec := &recorder{}
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	srv, err := New(cfg, nil, NamedSink{Name: "recorder", Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	up, down := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	future := time.Now().Add(time.Hour).UnixMicro() // a clock that went back since
	srv.Resume([]PeerResume{
		{Peer: up, PeerASN: 65002, Seq: 41, TimestampMicros: future, Up: true},
		{Peer: down, PeerASN: 65003, Seq: 7, TimestampMicros: 1},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	ev := rec.wait(t, "the restart's down event", func(ev *schema.Event) bool { return ev.Type == schema.TypePeerState })
	if ev.Peer != up || ev.State != schema.StateDown || ev.Reason != ReasonCollectorRestart || ev.Seq != 42 {
		t.Errorf("first event %+v, want %s down, reason %q, seq 42", ev, up, ReasonCollectorRestart)
	}
	if ev.Routes != nil {
		t.Errorf("restart's down event carries route counts %v; the lost session's families are not known", ev.Routes)
	}
	if us := int64(ev.Timestamp*1e6 + 0.5); us <= future {
		t.Errorf("down event at %d µs, not after the earlier run's last event (%d)", us, future)
	}

	dialPeer(t, srv.Addr(), "127.0.0.2", 65002)
	dialPeer(t, srv.Addr(), "127.0.0.3", 65003)
	rec.wait(t, "both sessions up", func(ev *schema.Event) bool {
		return ev.Peer == down && ev.State == schema.StateConnected
	})
	rec.wait(t, "both sessions up", func(ev *schema.Event) bool {
		return ev.Peer == up && ev.State == schema.StateConnected
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	next := map[netip.Addr]uint64{up: 42, down: 8}
	downs := 0
	for _, ev := range rec.events {
		if ev.Seq != next[ev.Peer] {
			t.Fatalf("%s %s: seq %d, want %d", ev.Peer, ev.Type, ev.Seq, next[ev.Peer])
		}
		next[ev.Peer]++
		if ev.Peer == down && ev.Reason == ReasonCollectorRestart {
			downs++
		}
	}
	if downs != 0 {
		t.Errorf("a peer whose session was down got a restart down event")
	}
}
