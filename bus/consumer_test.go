package bus

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

func publishAll(t *testing.T, c *Conn, events []schema.Event) {
	t.Helper()
	pub, err := NewPublisher(c, PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Write(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestConsumeAcknowledgesOnlyStoredBatches hands the log to a handler that
// fails at first: the batch is retried, every event arrives, and only
// what the handler accepted is acknowledged. A consumer stopped while its
// handler fails leaves the batch to the next one, which gets it again.
func TestConsumeAcknowledgesOnlyStoredBatches(t *testing.T) {
	ns := embedded(t)
	c := dial(t, ns.ClientURL())
	var events []schema.Event
	for n := uint64(1); n <= 3000; n++ {
		events = append(events, testEvent("192.0.2.1", n))
	}
	publishAll(t, c, events[:1000])

	// A consumer whose store never works, stopped after a few tries.
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := Consume(ctx, c, ConsumerConfig{FlushInterval: 100 * time.Millisecond}, func(context.Context, []schema.Event) error {
		calls++
		if calls == 3 {
			cancel()
		}
		return errors.New("clickhouse is down")
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lag, err := Lag(t.Context(), c, ""); err != nil || lag != 1000 {
		t.Fatalf("lag after a consumer that stored nothing: %d, %v; want 1000", lag, err)
	}

	// The next consumer of the same name gets them all, and the rest.
	publishAll(t, c, events[1000:])
	var mu sync.Mutex
	seen := map[uint64]int{}
	fails := 2
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	stats := &ConsumerStats{}
	done := make(chan error)
	go func() {
		done <- Consume(ctx, c, ConsumerConfig{FlushInterval: 100 * time.Millisecond}, func(_ context.Context, evs []schema.Event) error {
			mu.Lock()
			defer mu.Unlock()
			if fails > 0 {
				fails--
				return errors.New("insert timed out")
			}
			for _, ev := range evs {
				seen[ev.Seq]++
			}
			return nil
		}, stats, nil)
	}()
	waitFor(t, "every event handled", 30*time.Second, func() bool { return stats.Handled.Load() == 3000 })
	waitFor(t, "lag 0", 10*time.Second, func() bool { lag, err := Lag(t.Context(), c, ""); return err == nil && lag == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for n := uint64(1); n <= 3000; n++ {
		if seen[n] != 1 {
			t.Fatalf("event %d handled %d times by successful calls", n, seen[n])
		}
	}
	if stats.Failures.Load() != 2 {
		t.Errorf("%d failures counted, want 2", stats.Failures.Load())
	}
}

// TestLastPeerStates reads, per peer, the last sequence number and
// whether the session was last seen up.
func TestLastPeerStates(t *testing.T) {
	ns := embedded(t)
	c := dial(t, ns.ClientURL())
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::2")
	r := netip.MustParseAddr("192.0.2.3") // last restarting (graceful restart): its routes are up
	state := func(p netip.Addr, seq uint64, st schema.PeerState) schema.Event {
		return schema.Event{Host: "rrc.test", Type: schema.TypePeerState, Peer: p, PeerASN: 65002, Seq: seq, State: st,
			Timestamp: 1700000000 + float64(seq), ID: "s" + p.String() + string(rune('0'+seq))}
	}
	other := schema.Event{Host: "other", Type: schema.TypePeerState, Peer: a, PeerASN: 65001, Seq: 99, State: schema.StateConnected, ID: "o"}
	events := []schema.Event{state(a, 1, schema.StateConnected), testEvent("192.0.2.1", 2), testEvent("192.0.2.1", 3),
		state(b, 1, schema.StateConnected), state(b, 2, schema.StateDown),
		state(r, 1, schema.StateConnected), state(r, 2, schema.StateRestarting), other}
	events[1].Host, events[2].Host = "rrc.test", "rrc.test"
	publishAll(t, c, events)
	got, err := LastPeerStates(t.Context(), c, "rrc.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d peers, want 3: %+v", len(got), got)
	}
	if p := got[r]; p.Seq != 2 || !p.Up {
		t.Errorf("peer restarting: %+v, want seq 2, up", p)
	}
	if p := got[a]; p.Seq != 3 || !p.Up || p.PeerASN != 65001 {
		t.Errorf("peer a: %+v, want seq 3, up", p)
	}
	if p := got[b]; p.Seq != 2 || p.Up || p.TimestampMicros != 1700000002_000000 {
		t.Errorf("peer b: %+v, want seq 2, down", p)
	}
}

// TestConsumeBatchesByRows puts UPDATEs of 100 routes each and state
// events into the log and consumes it with a BatchSize of 1,000 rows:
// no batch holds much more than 1,000 rows (the UPDATE that crosses the
// bound ends the batch), a backlog still makes full batches, and every
// event arrives once.
func TestConsumeBatchesByRows(t *testing.T) {
	ns := embedded(t)
	c := dial(t, ns.ClientURL())
	var events []schema.Event
	for n := uint64(1); n <= 200; n++ {
		e := testEvent("192.0.2.1", n)
		if n%10 == 0 {
			e.Type, e.Announcements, e.State = schema.TypePeerState, nil, schema.StateConnected
		} else {
			a := &e.Announcements[0]
			for i := 1; i < 100; i++ {
				a.Prefixes = append(a.Prefixes, netip.PrefixFrom(netip.AddrFrom4([4]byte{11, byte(n), byte(i), 0}), 24))
			}
		}
		events = append(events, e)
	}
	publishAll(t, c, events) // a backlog before the consumer starts

	var mu sync.Mutex
	var batches []int // rows per batch
	seen := map[uint64]int{}
	stats := &ConsumerStats{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error)
	go func() {
		done <- Consume(ctx, c, ConsumerConfig{BatchSize: 1000, FlushInterval: time.Second}, func(_ context.Context, evs []schema.Event) error {
			mu.Lock()
			defer mu.Unlock()
			rows := 0
			for i := range evs {
				rows += max(evs[i].RouteCount(), 1)
				seen[evs[i].Seq]++
			}
			batches = append(batches, rows)
			return nil
		}, stats, nil)
	}()
	waitFor(t, "every event handled", 30*time.Second, func() bool { return stats.Handled.Load() == 200 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	total, full := 0, 0
	for _, rows := range batches {
		total += rows
		if rows > 1000+100 {
			t.Errorf("a batch of %d rows; BatchSize 1000 allows at most 1,000 + one UPDATE's 100", rows)
		}
		if rows >= 1000 {
			full++
		}
	}
	if want := 180*100 + 20; total != want {
		t.Errorf("%d rows handled, want %d", total, want)
	}
	if full < 15 {
		t.Errorf("only %d of %d batches full (%v): a backlog should fill them", full, len(batches), batches)
	}
	for n := uint64(1); n <= 200; n++ {
		if seen[n] != 1 {
			t.Fatalf("event %d handled %d times", n, seen[n])
		}
	}
}
