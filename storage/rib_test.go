package storage

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// TestWithdrawAbsent: a RIB dump is the state of its peers at dump time:
// the routes it lacks are withdrawn then (and stay in the history before),
// other peers' routes are untouched, and applying it again changes nothing.
func TestWithdrawAbsent(t *testing.T) {
	db := testDB(t)
	c := netip.MustParseAddr("192.0.2.3")
	dump := func(sec float64, peer netip.Addr, prefixes ...string) schema.Event {
		return announce(sec, peer, 64500, []uint32{64500, 64496}, prefixes...)
	}
	err := db.Insert(t.Context(), []schema.Event{
		dump(100, peerA, "10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16"),
		dump(100, c, "10.2.0.0/16"),
		// Withdrawn before the second dump: nothing to do for it.
		withdraw(150, peerA, 64500, "10.2.0.0/16"),
		// The second dump, of peer A only: 10.1.0.0/16 is gone.
		dump(200, peerA, "10.0.0.0/8"),
	})
	if err != nil {
		t.Fatal(err)
	}
	current := func(atSec float64) []string {
		t.Helper()
		q := RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Match: MatchMore}
		if atSec > 0 {
			q.At = at(atSec)
		}
		routes, err := db.Routes(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range routes {
			out = append(out, r.Peer.String()+" "+r.Prefix.String())
		}
		slices.Sort(out)
		return out
	}
	for range 2 { // the second time must change nothing
		if err := db.WithdrawAbsent(t.Context(), "rrc-test", []netip.Addr{peerA}, at(200), at(200)); err != nil {
			t.Fatal(err)
		}
		if got, want := current(0), []string{"192.0.2.1 10.0.0.0/8", "192.0.2.3 10.2.0.0/16"}; !slices.Equal(got, want) {
			t.Errorf("now: %v, want %v", got, want)
		}
		if got, want := current(120), []string{"192.0.2.1 10.0.0.0/8", "192.0.2.1 10.1.0.0/16", "192.0.2.1 10.2.0.0/16", "192.0.2.3 10.2.0.0/16"}; !slices.Equal(got, want) {
			t.Errorf("between the dumps: %v, want %v", got, want)
		}
	}
	h, err := db.History(t.Context(), HistoryQuery{Prefix: netip.MustParsePrefix("10.1.0.0/16"), From: at(0), To: at(300)})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || !h[1].Withdrawn || !h[1].Time.Equal(at(200)) {
		t.Errorf("history of the absent route: %+v; want its announcement, then a withdrawal at the second dump", h)
	}
}
