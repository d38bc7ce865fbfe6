package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// archive is a RouteViews-style updates file of 2026 (49,220 records, 20
// peers, communities with well-known ones, large communities).
var archive = []string{"mrt", "morrowc-mrtparser", "testdata", "updates.20260222.1530.bz2"}

// importArchive stores an MRT file the way `collector mrt import` does:
// MRTImporter into a storage writer that keeps the archive's times, then
// the peers' route counts.
func importArchive(t testing.TB, db *storage.DB, path, host string) {
	t.Helper()
	w := db.NewWriter(storage.WriterConfig{KeepTimestamps: true}, nil)
	im := &collector.MRTImporter{Sink: w, Host: host}
	n, err := im.ImportFile(t.Context(), path, nil)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.RecountPeers(t.Context(), host); err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %d events from %s", n, path)
}

// routeRows is how the route table's rows read: prefix and peer.
func routeRows(routes []storage.Route) []string {
	out := make([]string, len(routes))
	for i, r := range routes {
		out[i] = r.Prefix.String() + " " + r.Peer.String()
	}
	return out
}

// tableRows reads the route table the browser shows.
const tableRows = `return Array.from(document.querySelectorAll("table.routes tbody tr")).map(tr => {
  const td = tr.querySelectorAll("td");
  return td[0].querySelector("a").textContent + " " + td[1].querySelector("a").textContent;
})`

// TestBrowser drives headless chromium through the web UI over real
// RouteViews data imported into ClickHouse: the search box with a prefix,
// an address and an ASN shows the routes the store holds; the time
// control set before the file's first announcement shows none; an update
// published to the event log appears in the live view. It writes
// screenshots at 1280 px (VANTAGE_SCREENSHOTS=DIR keeps them).
func TestBrowser(t *testing.T) {
	path := shareddata.Path(t, archive...)
	b := startBrowser(t)
	dsn, database := storagetest.DSN(t), storagetest.Database(t)
	db, err := storage.Open(t.Context(), storage.Config{DSN: dsn, Database: database}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	importArchive(t, db, path, "route-views2")

	pub, natsURL := startEventLog(t)
	cfg := writeConfig(t, fmt.Sprintf("clickhouse: {dsn: %q, database: %s}\nnats: {url: %q}\nlg: {listen: '127.0.0.1:0'}\n", dsn, database, natsURL))
	lg, _, stop := startLG(t, cfg)
	defer stop()

	// The prefix seen by the most peers, as the store has it.
	all, err := db.Routes(t.Context(), storage.RoutesQuery{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Match: storage.MatchMore})
	if err != nil {
		t.Fatal(err)
	}
	peers := map[netip.Prefix]int{}
	for _, r := range all {
		peers[r.Prefix]++
	}
	var prefix netip.Prefix
	for p, n := range peers {
		if n > peers[prefix] || n == peers[prefix] && p.Addr().Less(prefix.Addr()) {
			prefix = p
		}
	}
	t.Logf("%d current routes; %s is seen by %d peers", len(all), prefix, peers[prefix])
	routesOf := func(q storage.RoutesQuery) []string {
		t.Helper()
		rs, err := db.Routes(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		return routeRows(rs)
	}
	// search types into the search box, presses Enter, and returns the
	// rows of the page that opens.
	search := func(text, heading string) []string {
		t.Helper()
		b.typeInto("#q", text+"\uE007")
		b.waitFor("the answer to "+text, `const h = document.querySelector("h1"); return location.pathname === "/search" && h !== null && h.textContent === `+strconv.Quote(heading))
		var rows []string
		b.script(tableRows, &rows)
		return rows
	}

	b.open(lg)
	b.screenshot("index")
	want := routesOf(storage.RoutesQuery{Prefix: prefix, Match: storage.MatchExact})
	if got := search(prefix.String(), "Routes for "+prefix.String()+" (exact match)"); !slices.Equal(got, want) || len(got) < 2 {
		t.Errorf("prefix %s: rows\n%q\nwant the store's\n%q", prefix, got, want)
	}
	b.screenshot("prefix")

	addr := prefix.Addr().Next()
	want = routesOf(storage.RoutesQuery{Prefix: netip.PrefixFrom(addr, 32), Match: storage.MatchLongest})
	if got := search(addr.String(), "Routes covering "+addr.String()+" (longest match across all peers)"); !slices.Equal(got, want) || len(got) == 0 {
		t.Errorf("address %s: rows\n%q\nwant the store's\n%q", addr, got, want)
	}

	origin := lastASN(t, db, prefix)
	want = routesOf(storage.RoutesQuery{Filter: storage.RouteFilter{OriginASN: origin}, Limit: 500})
	if got := search("AS"+strconv.FormatUint(uint64(origin), 10), "Routes originated by AS"+strconv.FormatUint(uint64(origin), 10)); !slices.Equal(got, want) || len(got) == 0 {
		t.Errorf("AS%d: rows\n%q\nwant the store's\n%q", origin, got, want)
	}
	b.screenshot("asn")

	// The time control, set to before the file's first record: the
	// prefix's routes are gone.
	if rows := search(prefix.String(), "Routes for "+prefix.String()+" (exact match)"); len(rows) == 0 {
		t.Fatalf("prefix %s again: no rows", prefix)
	}
	before := time.Date(2026, 2, 22, 15, 29, 0, 0, time.UTC)
	b.script(`document.querySelector("input[name=at]").value = arguments[0]; document.querySelector("form.search").requestSubmit();`, nil,
		before.Format("2006-01-02T15:04:05"))
	b.waitFor("the state before the announcements", `const h = document.querySelector("h1"); return h !== null && h.textContent === `+
		strconv.Quote("Routes for "+prefix.String()+" (exact match) at "+before.Format("2006-01-02 15:04:05")+" UTC"))
	var count string
	var rows []string
	b.script(`return document.getElementById("route-count").textContent.trim()`, &count)
	b.script(tableRows, &rows)
	if !strings.HasPrefix(count, "0 routes.") || len(rows) != 0 {
		t.Errorf("at %v: %q, rows %q; want none", before, count, rows)
	}

	b.open(lg + "peers")
	b.waitFor("the peers page", `return document.querySelectorAll("table.peers tbody tr").length > 0`)
	b.screenshot("peers")
	// A peer's link opens its page with its routes.
	b.script(`document.querySelector("table.peers tbody tr a.mono").click()`, nil)
	b.waitFor("a peer's page", `return location.pathname === "/peer" && document.querySelectorAll("table.routes tbody tr").length > 0`)
	b.screenshot("peer")
	b.open(lg + "history?prefix=" + prefix.String() + "&from=2026-02-22T15:00:00Z&to=2026-02-22T16:00:00Z")
	b.waitFor("the timeline", `return document.querySelectorAll("svg.timeline circle").length > 0`)
	b.screenshot("history")

	// The live view, filtered on the prefix and its more-specifics: an
	// UPDATE published to the event log shows up in it.
	b.open(lg + "live?more=1&prefix=" + prefix.String())
	b.waitFor("the live subscription", `return document.getElementById("live-status").textContent.startsWith("Subscribed")`)
	more, _ := prefix.Addr().Prefix(prefix.Bits() + 1)
	ev := schema.Event{Timestamp: float64(time.Now().UnixMicro()) / 1e6, Peer: netip.MustParseAddr("192.0.2.1"), PeerASN: 64500,
		Host: "rrc-browser", Type: schema.TypeUpdate, ID: "browser-test-1", Seq: 1, Origin: schema.OriginIGP,
		Path:          schema.ASPath{{Type: schema.SegmentSequence, ASNs: []uint32{64500, origin}}},
		Community:     []schema.Community{{64500, 100}},
		Announcements: []schema.Announcement{{NextHop: netip.MustParseAddr("192.0.2.1"), NLRISet: schema.NLRISet{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{more}}}},
	}
	other := ev
	other.ID, other.Seq = "browser-test-2", 2
	other.Announcements = []schema.Announcement{{NextHop: netip.MustParseAddr("192.0.2.1"), NLRISet: schema.NLRISet{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}}}
	if err := pub.Write(t.Context(), []schema.Event{other, ev}); err != nil {
		t.Fatal(err)
	}
	b.waitFor("the live update", `return document.querySelectorAll("#live tbody tr").length > 0`)
	var live []string
	b.script(`return Array.from(document.querySelectorAll("#live tbody tr")).map(tr => Array.from(tr.cells).slice(1).map(td => td.textContent).join(" | "))`, &live)
	if want := fmt.Sprintf("UPDATE | 192.0.2.1 AS64500 rrc-browser | %s |  | 64500 %d | 64500:100", more, origin); len(live) != 1 || live[0] != want {
		t.Errorf("live view rows %q, want [%q] (the other prefix filtered out)", live, want)
	}
	b.screenshot("live")

	// On a phone the page does not overflow: wide tables scroll in their
	// own box.
	b.must(b.call("POST", b.base+"/window/rect", map[string]int{"width": 412, "height": 900}, nil))
	for _, page := range []string{"search?q=" + prefix.String(), "peers", "history?prefix=" + prefix.String() + "&from=2026-02-22T15:00:00Z&to=2026-02-22T16:00:00Z"} {
		b.open(lg + page)
		var fits bool
		b.script(`return document.documentElement.scrollWidth <= window.innerWidth`, &fits)
		if !fits {
			var w []int
			b.script(`return [document.documentElement.scrollWidth, window.innerWidth]`, &w)
			t.Errorf("%s at 412 px: the page is %v px wide", page, w)
		}
	}
	b.open(lg + "search?q=" + prefix.String())
	b.screenshot("phone")
}

// startEventLog runs an embedded NATS with the event log's stream, as
// the collector does, and returns a publisher into it and its URL.
func startEventLog(t *testing.T) (*bus.Publisher, string) {
	t.Helper()
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	conn, err := bus.Dial(t.Context(), bus.Options{URL: ns.ClientURL(), MaxAge: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	pub, err := bus.NewPublisher(conn, bus.PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })
	return pub, ns.ClientURL()
}

// lastASN is the origin AS of the first route of a prefix.
func lastASN(t *testing.T, db *storage.DB, p netip.Prefix) uint32 {
	t.Helper()
	rs, err := db.Routes(t.Context(), storage.RoutesQuery{Prefix: p, Match: storage.MatchExact, Limit: 1})
	if err != nil || len(rs) == 0 || len(rs[0].Path) == 0 {
		t.Fatalf("routes of %s: %v %v", p, rs, err)
	}
	seg := rs[0].Path[len(rs[0].Path)-1]
	return seg.ASNs[len(seg.ASNs)-1]
}
