package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

func TestSplitEventID(t *testing.T) {
	for _, c := range []struct {
		id, host, peer string
		seq            uint64
	}{
		{"rrc-local-1795697423-127.0.0.11-4", "rrc-local", "127.0.0.11", 4},
		{"rrc00-1-2001:db8::1-18446744073709551615", "rrc00", "2001:db8::1", 1<<64 - 1},
		{"a-b-c-0-192.0.2.1-0", "a-b-c", "192.0.2.1", 0},
	} {
		host, peer, seq, err := splitEventID(c.id)
		if err != nil || host != c.host || peer.String() != c.peer || seq != c.seq {
			t.Errorf("%s: %q %v %d %v", c.id, host, peer, seq, err)
		}
	}
	for _, bad := range []string{"", "x", "h-1-192.0.2.1-x", "h-1-notanip-4", "h-x-192.0.2.1-4", "1-192.0.2.1-4", "-1-192.0.2.1-4"} {
		if _, _, _, err := splitEventID(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestLogPositions: Last, SeqOf and SeqAt over a log of two peers'
// events published as the collector publishes them.
func TestLogPositions(t *testing.T) {
	ns := embedded(t)
	c := dial(t, ns.ClientURL())
	log := NewLog(c)
	if last, err := log.Last(t.Context()); err != nil || last != 0 {
		t.Fatalf("empty log: Last %d %v", last, err)
	}
	if seq, err := log.SeqAt(t.Context(), time.Now()); err != nil || seq != 1 {
		t.Fatalf("empty log: SeqAt %d %v", seq, err)
	}
	p, err := NewPublisher(c, PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(t.Context())
	var evs []schema.Event
	for i := uint64(1); i <= 50; i++ {
		evs = append(evs, testEvent("192.0.2.1", i), testEvent("192.0.2.2", i))
	}
	if err := p.Write(t.Context(), evs[:60]); err != nil {
		t.Fatal(err)
	}
	waitLast := func(n uint64) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			last, err := log.Last(t.Context())
			if err == nil && last >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the log has %d events, want %d", last, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitLast(60)
	mid := time.Now()
	if err := p.Write(t.Context(), evs[60:]); err != nil {
		t.Fatal(err)
	}
	waitLast(100)
	for i, ev := range evs {
		seq, err := log.SeqOf(t.Context(), ev.ID)
		if err != nil || seq != uint64(i+1) {
			t.Errorf("SeqOf(%s) = %d, %v; want %d", ev.ID, seq, err, i+1)
		}
	}
	for _, id := range []string{"rrc.test-1-192.0.2.1-51", "rrc.test-1-192.0.2.3-1", "other-1-192.0.2.1-1"} {
		if _, err := log.SeqOf(t.Context(), id); !errors.Is(err, ErrNotInLog) {
			t.Errorf("SeqOf(%s): %v, want ErrNotInLog", id, err)
		}
	}
	if seq, err := log.SeqAt(t.Context(), mid); err != nil || seq != 61 {
		t.Errorf("SeqAt(between the writes) = %d, %v; want 61", seq, err)
	}
	if seq, err := log.SeqAt(t.Context(), mid.Add(-time.Hour)); err != nil || seq != 1 {
		t.Errorf("SeqAt(before the log) = %d, %v; want 1", seq, err)
	}
	if seq, err := log.SeqAt(t.Context(), time.Now().Add(time.Hour)); err != nil || seq != 101 {
		t.Errorf("SeqAt(after the log) = %d, %v; want 101", seq, err)
	}
}

// BenchmarkLogFollow measures reading the log in order with Follow (the
// live stream's reader): CPU of the whole process per event, the embedded
// server's delivery included.
func BenchmarkLogFollow(b *testing.B) {
	ns, err := StartEmbedded(EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	c, err := Dial(b.Context(), Options{URL: ns.ClientURL(), Name: "follow", MaxAge: time.Hour}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p, err := NewPublisher(c, PublisherConfig{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var evs []schema.Event
	for i := 0; i < b.N; i++ {
		evs = append(evs, testEvent("192.0.2.1", uint64(i+1)))
	}
	for i := 0; i < len(evs); i += 10_000 {
		if err := p.Write(b.Context(), evs[i:min(i+10_000, len(evs))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Close(b.Context()); err != nil {
		b.Fatal(err)
	}
	log := NewLog(c)
	for {
		last, err := log.Last(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if last >= uint64(b.N) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	errDone := errors.New("done")
	err = log.Follow(ctx, 1, func(seq uint64, _ []byte) error {
		if seq >= uint64(b.N) {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		b.Fatal(err)
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}
