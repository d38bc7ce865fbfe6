package storage

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// stateModel computes, independently of the store, the routes current at
// a time from a list of events: "peer prefix path" lines, sorted.
func stateModel(events []schema.Event, atSec float64) []string {
	type key struct {
		peer   netip.Addr
		prefix netip.Prefix
	}
	cur := map[key]string{}
	for _, e := range events {
		if e.Timestamp > ts(atSec) {
			continue
		}
		switch {
		case e.Type == schema.TypePeerState && e.State == schema.StateDown:
			for k := range cur {
				if k.peer == e.Peer {
					delete(cur, k)
				}
			}
		case e.Type == schema.TypeUpdate:
			for _, p := range e.Withdrawals {
				delete(cur, key{e.Peer, p})
			}
			for _, a := range e.Announcements {
				for _, p := range a.Prefixes {
					cur[key{e.Peer, p}] = e.Path.String()
				}
			}
		}
	}
	var out []string
	for k, path := range cur {
		out = append(out, k.peer.String()+" "+k.prefix.String()+" "+path)
	}
	slices.Sort(out)
	return out
}

func stateAt(t *testing.T, db *DB, atSec float64) []string {
	t.Helper()
	var out []string
	for _, all := range []string{"0.0.0.0/0", "::/0"} {
		routes, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix(all), Match: MatchMore, At: at(atSec)})
		if err != nil {
			t.Fatalf("routes at %v s: %v", atSec, err)
		}
		for _, r := range routes {
			out = append(out, r.Peer.String()+" "+r.Prefix.String()+" "+r.Path.String())
		}
	}
	slices.Sort(out)
	return out
}

// TestStateAtAnyTime: routes announced, changed, withdrawn, and a session
// that flaps, at known times; the routes at each time are what they were,
// read from the events alone, then through snapshots taken in between,
// then with a snapshot made stale by an event stored late.
func TestStateAtAnyTime(t *testing.T) {
	db := testDB(t)
	// Snapshots built in ranges of one bucket of prefixes each.
	defer func(n uint64) { snapshotRangeRows = n }(snapshotRangeRows)
	snapshotRangeRows = 1
	peerC := netip.MustParseAddr("192.0.2.3")
	events := []schema.Event{
		state(10, peerA, 64500, schema.StateConnected),
		state(10, peerC, 64503, schema.StateConnected),
		announce(20, peerA, 64500, []uint32{64500, 1}, "10.0.0.0/8", "10.1.0.0/16"),
		announce(21, peerC, 64503, []uint32{64503, 1}, "10.0.0.0/8"),
		announce(22, peerC, 64503, []uint32{64503, 5}, "2001:db8::/32", "2001:db8:1::/48", "2a00::/12"),
		announce(30, peerA, 64500, []uint32{64500, 2}, "10.0.0.0/8"),
		withdraw(40, peerA, 64500, "10.1.0.0/16"),
		state(50, peerA, 64500, schema.StateDown),
		state(60, peerA, 64500, schema.StateConnected),
		announce(70, peerA, 64500, []uint32{64500, 3}, "10.2.0.0/16"),
		announce(80, peerA, 64500, []uint32{64500, 4}, "10.0.0.0/8"),
		withdraw(90, peerC, 64503, "10.0.0.0/8"),
		withdraw(91, peerC, 64503, "2001:db8:1::/48"),
	}
	store(t, db, events...)
	times := []float64{5, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95}
	check := func(path string) {
		t.Helper()
		for _, sec := range times {
			want := stateModel(events, sec)
			if got := stateAt(t, db, sec); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: routes at %v s:\n got %q\nwant %q", path, sec, got, want)
			}
		}
	}
	check("events only")

	for _, sec := range []float64{35, 55, 75} {
		n, err := db.Snapshot(t.Context(), at(sec))
		if err != nil {
			t.Fatal(err)
		}
		if want := len(stateModel(events, sec)); n != uint64(want) {
			t.Errorf("snapshot at %v s holds %d routes, want %d", sec, n, want)
		}
	}
	check("snapshots at 35, 55, 75 s")

	// An event before two snapshots, stored after them (an old archive
	// imported late): both become stale for its peer and stay right.
	late := announce(33, peerC, 64503, []uint32{64503, 9}, "10.9.0.0/16")
	store(t, db, late)
	events = append(events, late)
	check("after a late event")
	var stale uint64
	if err := db.conn.QueryRow(t.Context(), "SELECT count() FROM (SELECT DISTINCT snap_us FROM rib_snapshot_stale)").Scan(&stale); err != nil {
		t.Fatal(err)
	}
	if stale != 3 {
		t.Errorf("%d snapshots marked stale by an event at 33 s, want 3 (35, 55, 75 s)", stale)
	}
	// The next snapshot is built from the stale one and that peer's whole
	// history, and is right.
	if _, err := db.Snapshot(t.Context(), at(85)); err != nil {
		t.Fatal(err)
	}
	check("snapshot at 85 s after a stale one")
	// The same snapshot built again (a second writer) changes nothing.
	if _, err := db.Snapshot(t.Context(), at(85)); err != nil {
		t.Fatal(err)
	}
	check("snapshot at 85 s built twice")
}
