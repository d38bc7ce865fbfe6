package storage

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/schema"
)

// risEvents returns the events of a shared RIS updates file, in order.
func risEvents(t testing.TB) []schema.Event {
	path := shareddata.Path(t, "mrt", "mrt-rs", "res", "updates.20190101.0000.gz")
	conv := &collector.MRTConverter{Host: "rrc-test", Source: filepath.Base(path)}
	var out []schema.Event
	err := collector.ScanMRTFile(path, 0, nil, nil, func(rec bgpwire.MRTRecord) error {
		return conv.Convert(rec, func(ev *schema.Event) error {
			out = append(out, *ev)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLiveRIBAnswersAsTheStore: the events of a real RIS updates file
// (with a session going down among them, one peer's routes announced again
// after it and a second collector's copy of a peer) are stored and applied
// to a LiveRIB in the same order; every query about now that the RIB
// answers (exact, longest match, less-specifics, a page after a cursor,
// scoped to a peer or a collector) returns exactly what DB.Routes returns.
// A LiveRIB loaded from DB.CurrentRoutes answers the same again.
func TestLiveRIBAnswersAsTheStore(t *testing.T) {
	events := risEvents(t)
	// The busiest peer goes down halfway; another collector has its own
	// copy of a peer's first UPDATEs.
	count := map[netip.Addr]int{}
	for _, e := range events {
		count[e.Peer]++
	}
	var busiest netip.Addr
	for p, n := range count {
		if n > count[busiest] || n == count[busiest] && p.Less(busiest) {
			busiest = p
		}
	}
	half := len(events) / 2
	asn, ts := events[half].PeerASN, events[half].Timestamp
	session := func(typ schema.Type, sec float64) schema.Event {
		return schema.Event{Type: typ, Host: "rrc-test", Peer: busiest, PeerASN: asn, Timestamp: ts + sec}
	}
	// What a live session adds: OPENs with hold times, route counts on
	// KEEPALIVEs, a down state with a reason, then up again.
	up := session(schema.TypePeerState, -3)
	up.State = schema.StateConnected
	open := session(schema.TypeOpen, -3)
	open.Open = &schema.Open{Version: 4, ASN: asn, HoldTime: 90}
	sent := session(schema.TypeOpen, -3)
	sent.Open = &schema.Open{Version: 4, ASN: 64999, HoldTime: 180, Sent: true}
	counted := session(schema.TypeKeepalive, -2)
	counted.Seq, counted.Routes = 1, schema.RouteCounts{{Family: schema.IPv4Unicast, Routes: 700000}, {Family: schema.IPv6Unicast, Routes: 90000}}
	down := session(schema.TypePeerState, 0)
	down.State, down.Reason = schema.StateDown, "hold timer expired"
	again := session(schema.TypePeerState, 1)
	again.State = schema.StateConnected
	recounted := session(schema.TypeKeepalive, 2)
	recounted.Seq, recounted.Routes = 2, schema.RouteCounts{{Family: schema.IPv4Unicast, Routes: 12}}
	events = slices.Insert(events, half, up, open, sent, counted, down, again, recounted)
	var copies []schema.Event
	for _, e := range events[:2000] {
		if e.Peer == busiest && e.Type == schema.TypeUpdate {
			e.Host = "rrc-other"
			copies = append(copies, e)
		}
	}
	events = append(events, copies...)

	db := testDB(t)
	live := NewLiveRIB()
	for i := 0; i < len(events); i += 5000 {
		batch := events[i:min(i+5000, len(events))]
		if err := db.Insert(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		for j := range batch {
			live.Apply(&batch[j])
		}
	}
	if r, ok := live.Routes(RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8")}); ok || r != nil {
		t.Fatalf("a RIB not ready answered: %v", r)
	}
	live.SetReady(true)
	st := live.Stats()
	t.Logf("%d events; live RIB: %+v", len(events), st)
	if st.Routes < 1000 || st.Peers < 2 {
		t.Fatalf("live RIB holds %+v: too little to compare", st)
	}

	// Queries: announced and withdrawn prefixes of the file, addresses in
	// them, and one of nothing.
	var prefixes []netip.Prefix
	for _, e := range events {
		for _, a := range e.Announcements {
			prefixes = append(prefixes, a.Prefixes...)
		}
		prefixes = append(prefixes, e.Withdrawals...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(prefixes), func(i, j int) { prefixes[i], prefixes[j] = prefixes[j], prefixes[i] })
	prefixes = append(prefixes[:min(len(prefixes), 200)], netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("2001:db8::/32"))
	var queries []RoutesQuery
	for i, p := range prefixes {
		host := netip.PrefixFrom(p.Addr(), p.Addr().BitLen())
		queries = append(queries,
			RoutesQuery{Prefix: p, Match: MatchExact},
			RoutesQuery{Prefix: host, Match: MatchLongest},
			RoutesQuery{Prefix: p, Match: MatchLess})
		if i%10 == 0 {
			queries = append(queries,
				RoutesQuery{Prefix: host, Match: MatchLongest, Peer: busiest},
				RoutesQuery{Prefix: p, Match: MatchExact, Host: "rrc-other"},
				RoutesQuery{Prefix: p, Match: MatchLess, Limit: 2})
		}
	}
	// Searches by origin ASN (every prefix), some paged.
	origins := map[uint32]bool{}
	for _, e := range events {
		if o := e.Path.OriginASN(); o != 0 && len(e.Announcements) > 0 && len(origins) < 60 && rng.IntN(50) == 0 {
			origins[o] = true
		}
	}
	for o := range origins {
		queries = append(queries, RoutesQuery{Filter: RouteFilter{OriginASN: o}}, RoutesQuery{Filter: RouteFilter{OriginASN: o}, Limit: 3})
	}
	queries = append(queries, RoutesQuery{Filter: RouteFilter{OriginASN: 3356}, Limit: 1001}, RoutesQuery{Filter: RouteFilter{OriginASN: 3356}, Host: "rrc-other"})
	compare := func(name string, live *LiveRIB) {
		t.Helper()
		answered := 0
		for _, q := range queries {
			want, err := db.Routes(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := live.Routes(q)
			if !ok {
				t.Fatalf("%s: %+v not answered", name, q)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %v %v origin %d (peer %v host %q limit %d):\n got %d routes %+v\nwant %d routes %+v", name, q.Match, q.Prefix, q.Filter.OriginASN, q.Peer, q.Host, q.Limit, len(got), got, len(want), want)
			}
			if len(want) > 1 {
				// The next page after the first route.
				q.After, q.Limit = want[0].Key(), 1
				want, _ := db.Routes(t.Context(), q)
				got, _ := live.Routes(q)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: %v %v after %+v:\n got %+v\nwant %+v", name, q.Match, q.Prefix, q.After, got, want)
				}
			}
			if len(want) > 0 {
				answered++
			}
		}
		if answered < len(queries)/3 {
			t.Fatalf("%s: only %d of %d queries have routes", name, answered, len(queries))
		}
		t.Logf("%s: %d queries, %d with routes, all as DB.Routes", name, len(queries), answered)
	}
	compare("applied", live)
	comparePeers := func(name string, live *LiveRIB) {
		t.Helper()
		want, err := db.Peers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got, _ := live.Peers()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: peers:\n got %+v\nwant %+v", name, got, want)
		}
		wantDowns, err := db.PeerDowns(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(wantDowns, func(a, b PeerDown) int { return cmp.Or(strings.Compare(a.Host, b.Host), a.Address.Compare(b.Address)) })
		gotDowns, _ := live.PeerDowns()
		if !reflect.DeepEqual(gotDowns, wantDowns) || !slices.ContainsFunc(wantDowns, func(d PeerDown) bool { return d.Address == busiest && d.Reason == "hold timer expired" }) {
			t.Fatalf("%s: peer downs:\n got %+v\nwant %+v (the busiest peer's with its reason)", name, gotDowns, wantDowns)
		}
		for _, p := range want {
			if p.Address == busiest && p.Host == "rrc-test" && (p.IPv4Routes != 12 || p.State != schema.StateConnected) {
				t.Fatalf("%s: the busiest peer: %+v, want connected with 12 IPv4 routes", name, p)
			}
		}
		t.Logf("%s: %d peers, %d downs, as DB.Peers and DB.PeerDowns", name, len(want), len(wantDowns))
	}
	comparePeers("applied", live)

	loaded := NewLiveRIB()
	if err := loaded.Load(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	loaded.SetReady(true)
	if a, b := live.Stats(), loaded.Stats(); b.Routes == 0 || b.Routes > a.Routes {
		t.Fatalf("loaded %+v, applied %+v", b, a)
	}
	compare("loaded", loaded)
	comparePeers("loaded", loaded)
	if changed, why, err := loaded.ChangedOutsideLog(t.Context(), db); err != nil || changed {
		t.Fatalf("a RIB just loaded: changed outside the log: %v %s %v", changed, why, err)
	}
	// An MRT import writes to the store only.
	imported := announce(float64(time.Now().Unix()), netip.MustParseAddr("203.0.113.9"), 64511, []uint32{64511}, "192.0.2.0/24")
	imported.Imported = true
	if err := db.Insert(t.Context(), []schema.Event{imported}); err != nil {
		t.Fatal(err)
	}
	if changed, why, err := loaded.ChangedOutsideLog(t.Context(), db); err != nil || !changed {
		t.Fatalf("after an import: changed outside the log: %v %s %v", changed, why, err)
	} else {
		t.Logf("after an import: %s", why)
	}

	// More-specifics (maybe the whole table), other searches and a past
	// time are left to the store.
	for _, q := range []RoutesQuery{
		{Filter: RouteFilter{ASPath: "_3356_"}},
		{Filter: RouteFilter{OriginASN: 3356}, Prefix: netip.MustParsePrefix("0.0.0.0/0"), Match: MatchMore},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), At: time.Now()},
	} {
		if _, ok := live.Routes(q); ok {
			t.Errorf("%+v answered from memory", q)
		}
	}
	if _, ok := live.Routes(RoutesQuery{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Match: MatchMore}); ok {
		t.Error("more-specifics answered from memory")
	}
}
