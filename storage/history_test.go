package storage

import (
	"net/netip"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// TestHistory: every announcement and withdrawal of a prefix in a window,
// oldest first, each once although the store holds it twice (a retried
// INSERT), more-specifics on request, paged with a cursor.
func TestHistory(t *testing.T) {
	db := testDB(t)
	a := netip.MustParseAddr("192.0.2.9")
	events := []schema.Event{
		announce(1, peerA, 64500, []uint32{64500, 1}, "10.0.0.0/8"),
		announce(2, a, 64509, []uint32{64509, 1}, "10.0.0.0/8", "10.1.0.0/16"),
		withdraw(3, peerA, 64500, "10.0.0.0/8"),
		announce(4, peerA, 64500, []uint32{64500, 2}, "10.0.0.0/8"),
		announce(5, peerA, 64500, []uint32{64500, 3}, "11.0.0.0/8"),
		announce(100, peerA, 64500, []uint32{64500, 4}, "10.0.0.0/8"),
	}
	for range 2 {
		if err := db.Insert(t.Context(), events); err != nil {
			t.Fatal(err)
		}
	}
	q := HistoryQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8"), From: at(0), To: at(10)}
	got, err := db.History(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		sec       float64
		peer      netip.Addr
		prefix    string
		withdrawn bool
	}
	summary := func(evs []RouteEvent) []ev {
		var out []ev
		for _, e := range evs {
			out = append(out, ev{e.Time.Sub(t0).Seconds(), e.Peer, e.Prefix.String(), e.Withdrawn})
		}
		return out
	}
	want := []ev{{1, peerA, "10.0.0.0/8", false}, {2, a, "10.0.0.0/8", false}, {3, peerA, "10.0.0.0/8", true}, {4, peerA, "10.0.0.0/8", false}}
	if s := summary(got); !equal(s, want) {
		t.Errorf("history:\n got %v\nwant %v", s, want)
	}
	if len(got) > 0 && (got[0].Path.String() != "64500 1" || got[0].NextHop.String() != "192.0.2.254") {
		t.Errorf("first event's attributes: path %q, next hop %s", got[0].Path.String(), got[0].NextHop)
	}

	q.MoreSpecific = true
	more, err := db.History(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(more) != 5 || more[2].Prefix.String() != "10.1.0.0/16" {
		t.Errorf("with more-specifics: %v", summary(more))
	}

	// Pages of 2: 2, 2, 1, the same events in the same order.
	q.Limit = 2
	var paged []RouteEvent
	for page := 0; ; page++ {
		evs, err := db.History(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, evs...)
		if len(evs) < q.Limit || page > 5 {
			break
		}
		k, err := ParseHistoryCursor(evs[len(evs)-1].Key().Cursor())
		if err != nil {
			t.Fatal(err)
		}
		q.After = k
	}
	if s, w := summary(paged), summary(more); !equal(s, w) {
		t.Errorf("paged:\n got %v\nwant %v", s, w)
	}

	for _, bad := range []HistoryQuery{
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), From: at(5), To: at(1)},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8")},
		{From: at(0), To: at(1)},
	} {
		if _, err := db.History(t.Context(), bad); err == nil {
			t.Errorf("History(%+v) did not fail", bad)
		}
	}
	if _, err := ParseHistoryCursor("bm90IGEgY3Vyc29y"); err == nil {
		t.Error("a bad cursor was accepted")
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
