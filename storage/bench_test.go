package storage

import (
	"net/netip"
	"testing"

	"github.com/vantage-bgp/vantage/internal/testenv"
	"github.com/vantage-bgp/vantage/schema"
)

// benchEvents returns n UPDATEs of one /24 each from one peer, with the
// attributes a full-table feed carries.
func benchEvents(n int) []schema.Event {
	events := make([]schema.Event, n)
	for i := range events {
		e := announce(float64(i)/1000, peerA, 64500, []uint32{64500, 3356, 174, uint32(64512 + i%1000)},
			netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(i >> 16), byte(i >> 8), byte(i), 0}), 24).String())
		e.Community = []schema.Community{{64500, 1}, {3356, 2}, {174, 3}}
		e.LargeCommunity = []schema.LargeCommunity{{64500, 1, 2}}
		e.MED = u32(10)
		events[i] = e
	}
	return events
}

// BenchmarkWriter measures converting and inserting 100,000 route rows in
// one batch (the rate a collector sees while peers send full tables).
func BenchmarkWriter(b *testing.B) {
	if testServer == nil {
		testenv.Skip(b, testSkip)
	}
	db := testDB(b)
	events := benchEvents(100_000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := db.NewWriter(WriterConfig{BatchSize: 200_000}, nil)
		if err := w.Write(b.Context(), events); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkAppendRows measures the conversion alone.
func BenchmarkAppendRows(b *testing.B) {
	events := benchEvents(10_000)
	b.ReportAllocs()
	for b.Loop() {
		addEvents(clock{}, &routeBatch{}, &peerBatch{}, events)
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "rows/s")
}
