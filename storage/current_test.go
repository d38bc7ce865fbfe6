package storage

import (
	"net/netip"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// TestRoutesCurrentKeepsOneRowPerRoute: however long a route's history,
// routes_current holds one row for it once parts merge (its latest
// event), and "now" queries answer from it as from the whole history.
func TestRoutesCurrentKeepsOneRowPerRoute(t *testing.T) {
	db := testDB(t)
	var events []schema.Event
	for i := range 50 {
		events = append(events, announce(float64(2*i), peerA, 64500, []uint32{64500, uint32(i + 1)}, "10.0.0.0/8"))
		events = append(events, withdraw(float64(2*i+1), peerA, 64500, "10.0.0.0/8"))
	}
	events = append(events, announce(200, peerA, 64500, []uint32{64500, 64496}, "10.0.0.0/8"))
	if err := db.Insert(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	if err := db.Insert(t.Context(), events); err != nil { // a retried INSERT
		t.Fatal(err)
	}
	if err := db.conn.Exec(t.Context(), "OPTIMIZE TABLE routes_current FINAL"); err != nil {
		t.Fatal(err)
	}
	var history, current uint64
	if err := db.conn.QueryRow(t.Context(), "SELECT count() FROM route_events").Scan(&history); err != nil {
		t.Fatal(err)
	}
	if err := db.conn.QueryRow(t.Context(), "SELECT count() FROM routes_current").Scan(&current); err != nil {
		t.Fatal(err)
	}
	if current != 1 || history < 101 {
		t.Errorf("route_events holds %d rows, routes_current %d; want the history and 1", history, current)
	}
	now, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8")})
	if err != nil {
		t.Fatal(err)
	}
	past, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8"), At: at(10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(now) != 1 || now[0].Path.String() != "64500 64496" {
		t.Errorf("now: %+v, want the last announcement (path 64500 64496)", now)
	}
	if len(past) != 1 || past[0].Path.String() != "64500 6" {
		t.Errorf("at 10 s (from the history): %+v, want path 64500 6", past)
	}
}
