package collector

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// countingSink counts the events it is given and keeps none.
type countingSink struct {
	events, downs atomic.Int64
}

func (c *countingSink) Write(_ context.Context, evs []schema.Event) error {
	c.events.Add(int64(len(evs)))
	for i := range evs {
		if evs[i].State == schema.StateDown {
			c.downs.Add(1)
		}
	}
	return nil
}

// TestManySessionsLeaveNothing: 200 peers connect at once, each sends
// 500 routes, and all close: no goroutine of theirs is left, the heap is
// back near where it was before them, and after shutdown nothing runs.
func TestManySessionsLeaveNothing(t *testing.T) {
	defer goleak.VerifyNone(t)
	const peers, routes = 200, 500
	sink := &countingSink{}
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	srv, err := New(cfg, nil, NamedSink{Name: "count", Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	srv.Addr()
	heap0, goroutines0 := liveHeap(), runtime.NumGoroutine()

	var opts bgpwire.DecodeOptions
	opts.ASN4 = true
	msg := routesUpdate(&opts, 65070, nlri(v4s(0, routes)), nil)
	var ps []*testPeer
	for i := range peers {
		p := dialPeer(t, srv.Addr(), fmt.Sprintf("127.0.%d.%d", 70+i/200, 1+i%200), 65070)
		p.send(msg)
		ps = append(ps, p)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 60s", what)
			}
		}
	}
	// Every session has its routes once each has sent a KEEPALIVE back
	// and the collector counted the messages.
	waitFor("every UPDATE received", func() bool { return srv.Stats().Messages.Load() >= peers })
	heapUp := liveHeap()
	for _, p := range ps {
		p.conn.Close()
	}
	waitFor("every session down", func() bool { return sink.downs.Load() == peers })
	waitFor("the sessions' goroutines gone", func() bool { return runtime.NumGoroutine() <= goroutines0 })
	heap1 := liveHeap()
	t.Logf("heap: %.1f MB before the sessions, %.1f MB with them, %.1f MB after", float64(heap0)/1e6, float64(heapUp)/1e6, float64(heap1)/1e6)
	if grown := int64(heap1) - int64(heap0); grown > 2<<20 {
		t.Errorf("the heap is %d bytes above where it was before the sessions", grown)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
