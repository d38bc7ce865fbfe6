package e2e

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// ttConf is the BIRD speaker of TestTimeTravel. Its static routes are
// ROUTES4 and ROUTES6, which the test rewrites (then `birdc configure`)
// to change and withdraw routes; the session flaps with `birdc disable
// collector` and `birdc enable collector`.
const ttConf = `
log "DIR/bird.log" all;
router id 192.0.2.11;
protocol device { }
protocol static static4 {
  ipv4;
ROUTES4}
protocol static static6 {
  ipv6;
ROUTES6}
protocol bgp collector {
  connect delay time 1;
  connect retry time 2;
  local 127.0.0.11 port BIRDPORT as 65001;
  strict bind on;
  neighbor 127.0.0.1 port COLLECTORPORT as 65000;
  multihop;
  ipv4 { import none; export where source = RTS_STATIC; next hop address 192.0.2.11; };
  ipv6 { import none; export where source = RTS_STATIC; next hop address 2001:db8::11; };
}
`

// ttRoute is a route of the BIRD speaker: its BIRD static statement and
// how the looking glass shows its attributes.
type ttRoute struct {
	prefix string
	bird   string // the attribute block of the static route
	attrs  string // as ttRouteJSON.attrs renders them
}

// The routes of the test: A (changed once), B (withdrawn) and C (IPv6,
// unchanged), under the two prefixes the test asks for with match=more.
var (
	ttA1 = ttRoute{"198.51.100.0/25", "bgp_community.add((65001,100)); bgp_large_community.add((65001,1,1));",
		"path 65001 nh 192.0.2.11 comm [[65001 100]] large [[65001 1 1]] origin IGP"}
	ttA2 = ttRoute{"198.51.100.0/25", "bgp_community.add((65001,101)); bgp_path.prepend(64512); bgp_path.prepend(64512);",
		"path 65001 64512 64512 nh 192.0.2.11 comm [[65001 101]] large [] origin IGP"}
	ttB = ttRoute{"198.51.100.128/25", "bgp_community.add((65001,200));",
		"path 65001 nh 192.0.2.11 comm [[65001 200]] large [] origin IGP"}
	ttC = ttRoute{"2001:db8:100::/48", "bgp_community.add((65001,600)); bgp_large_community.add((65001,6,6));",
		"path 65001 nh 2001:db8::11 comm [[65001 600]] large [[65001 6 6]] origin IGP"}
	ttQueries = []string{"198.51.100.0/24", "2001:db8::/32"}
)

const ttPeer = "127.0.0.11"

// ttRouteJSON is a route (or, with Type, an event of
// /api/v1/history) as the looking glass answers it.
type ttRouteJSON struct {
	Type           string          `json:"type"`
	Peer           string          `json:"peer"`
	PeerASN        string          `json:"peer_asn"`
	Prefix         string          `json:"prefix"`
	Path           json.RawMessage `json:"path"`
	NextHop        string          `json:"next_hop"`
	Community      [][2]uint16     `json:"community"`
	LargeCommunity [][3]uint32     `json:"large_community"`
	Origin         string          `json:"origin"`
	Timestamp      float64         `json:"timestamp"`
}

// us is the route's (or event's) time in Unix microseconds.
func (r ttRouteJSON) us() int64 { return int64(math.Round(r.Timestamp * 1e6)) }

// attrs renders the attributes the test sets, as ttRoute.attrs.
func (r ttRouteJSON) attrs() string {
	var path []uint32
	json.Unmarshal(r.Path, &path) // an AS_SET would not decode: it shows as an empty path
	p := strings.Trim(fmt.Sprint(path), "[]")
	return fmt.Sprintf("path %s nh %s comm %v large %v origin %s", p, r.NextHop, r.Community, r.LargeCommunity, r.Origin)
}

// line is a route as the test compares it: peer, prefix, attributes and
// the time of the announcement it comes from.
func (r ttRouteJSON) line() string {
	return fmt.Sprintf("%s AS%s %s %s @%d", r.Peer, r.PeerASN, r.Prefix, r.attrs(), r.us())
}

// ttEvent is a step's effect as stored, at the store's time of it.
type ttEvent struct {
	step  int
	us    int64
	what  string // announce, withdraw, down, up
	route ttRoute
}

// ttModel is what the test did: the events of the steps, at the times
// the store gave them.
type ttModel []ttEvent

// at returns the routes current at us, as the looking glass should list
// them for a query under prefix q with match=more: a route is current
// when its last event at or before us is an announcement made after the
// session's last going down.
func (m ttModel) at(us int64, q string) []string {
	type cur struct {
		r  ttRoute
		us int64
	}
	rib := map[string]cur{}
	events := slices.Clone(m)
	// At the same microsecond a "down" comes last: the store counts an
	// announcement as current only when it is after the last down.
	slices.SortStableFunc(events, func(a, b ttEvent) int {
		if c := cmp.Compare(a.us, b.us); c != 0 {
			return c
		}
		return boolInt(a.what == "down") - boolInt(b.what == "down")
	})
	for _, e := range events {
		if e.us > us {
			break
		}
		switch e.what {
		case "announce":
			rib[e.route.prefix] = cur{e.route, e.us}
		case "withdraw":
			delete(rib, e.route.prefix)
		case "down":
			clear(rib)
		}
	}
	out := []string{}
	for p, c := range rib {
		if strings.Contains(p, ":") != strings.Contains(q, ":") {
			continue
		}
		out = append(out, fmt.Sprintf("%s AS65001 %s %s @%d", ttPeer, p, c.r.attrs, c.us))
	}
	slices.Sort(out)
	return out
}

// count is the number of routes current at us, of every family.
func (m ttModel) count(us int64) int {
	n := 0
	for _, q := range ttQueries {
		n += len(m.at(us, q))
	}
	return n
}

// of returns the events of a prefix, as /api/v1/history lists them.
func (m ttModel) of(prefix string) []string {
	var out []string
	for _, e := range m {
		if e.route.prefix != prefix {
			continue
		}
		if e.what == "withdraw" {
			out = append(out, fmt.Sprintf("withdraw %s @%d", prefix, e.us))
		} else {
			out = append(out, fmt.Sprintf("announce %s %s @%d", prefix, e.route.attrs, e.us))
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// getJSON reads a looking glass answer into out.
func getJSON(u string, out any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w: %s", u, err, body)
	}
	return nil
}

// TestTimeTravel is issue 10's "time travel" check with a real session: a
// BIRD speaker announces routes, changes one, withdraws one, and its
// session flaps, step by step. After each step the test waits until the
// store has the step's events and takes their stored times. Then the
// looking glass's routes at every one of those times, a microsecond
// before each, and halfway between them must be exactly what the speaker
// had announced by then (attributes and announcement time included):
// first from the events alone, then with a snapshot in between, then
// with a snapshot at every one of those times.
func TestTimeTravel(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	testpeer.Need(t, "birdc", "bird2")
	testpeer.Need(t, "clickhouse-server", "clickhouse-server")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	db, err := storage.Open(ctx, storage.Config{Server: storage.ServerConfig{
		DataDir: t.TempDir(), TCPPort: testpeer.FreePort(t), HTTPPort: testpeer.FreePort(t),
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ch, err := clickhouse.Open(&clickhouse.Options{
		Addr: []string{db.Server().Addr()},
		Auth: clickhouse.Auth{Username: storage.ServerUser, Password: db.Server().Password()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	pub, conn, _ := startLog(t)
	startStore(t, conn, db)
	collectorPort, stopCollector := startCollector(t, "e2e-tt", collector.NamedSink{Name: "log", Sink: pub})
	defer func() {
		if err := stopCollector(); err != nil {
			t.Error(err)
		}
	}()
	lg := httptest.NewServer(web.New(db, web.Options{}))
	defer lg.Close()

	birdPort := testpeer.FreePort(t)
	conf := func(routes ...ttRoute) string {
		var r4, r6 strings.Builder
		for _, r := range routes {
			w := &r4
			if strings.Contains(r.prefix, ":") {
				w = &r6
			}
			fmt.Fprintf(w, "  route %s blackhole { %s };\n", r.prefix, r.bird)
		}
		return strings.NewReplacer("ROUTES4", r4.String(), "ROUTES6", r6.String(),
			"BIRDPORT", fmt.Sprint(birdPort), "COLLECTORPORT", fmt.Sprint(collectorPort)).Replace(ttConf)
	}
	bird := testpeer.StartBIRD(t, conf(ttA1, ttB, ttC))
	birdc := func(args ...string) string {
		t.Helper()
		out, err := bird.Ctl(args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	reconfigure := func(routes ...ttRoute) {
		t.Helper()
		c := strings.ReplaceAll(conf(routes...), "DIR", bird.Dir)
		if err := os.WriteFile(filepath.Join(bird.Dir, "bird.conf"), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := birdc("configure"); !strings.Contains(out, "Reconfigured") {
			t.Fatalf("birdc configure: %s", out)
		}
	}

	var model ttModel
	step := 0
	// waitEvents waits until /api/v1/history lists n events of r's
	// prefix, checks that the n-th is what the step did, and records it
	// in the model at its stored time: the step's time.
	waitEvents := func(r ttRoute, n int, what string) {
		t.Helper()
		var last ttRouteJSON
		eventually(t, fmt.Sprintf("event %d of %s (%s) in the store", n, r.prefix, what), func() error {
			var out struct{ Events []ttRouteJSON }
			if err := getJSON(lg.URL+"/api/v1/history?from=0&prefix="+url.QueryEscape(r.prefix), &out); err != nil {
				return err
			}
			if len(out.Events) < n {
				return fmt.Errorf("%d events: %+v", len(out.Events), out.Events)
			}
			last = out.Events[n-1]
			return nil
		})
		if last.Type != what || what == "announce" && last.attrs() != r.attrs {
			t.Fatalf("event %d of %s: %s %s, want %s %s", n, r.prefix, last.Type, last.attrs(), what, r.attrs)
		}
		model = append(model, ttEvent{step: step, us: last.us(), what: what, route: r})
	}
	// waitState waits until /api/v1/peers shows the session in state
	// since a time after the previous step's.
	waitState := func(state string) {
		t.Helper()
		var since int64
		var after int64
		if len(model) > 0 {
			after = model[len(model)-1].us
		}
		eventually(t, "session "+state+" in the store", func() error {
			var out struct {
				Peers []struct {
					Peer  string
					State string
					Since float64
				}
			}
			if err := getJSON(lg.URL+"/api/v1/peers", &out); err != nil {
				return err
			}
			for _, p := range out.Peers {
				if p.Peer == ttPeer {
					since = int64(math.Round(p.Since * 1e6))
					if p.State == state && since > after {
						return nil
					}
				}
			}
			return fmt.Errorf("peers %+v", out.Peers)
		})
		what := map[string]string{"connected": "up", "down": "down"}[state]
		model = append(model, ttEvent{step: step, us: since, what: what})
	}

	// 1. The session comes up; BIRD announces A, B and C.
	step = 1
	waitState("connected")
	waitEvents(ttA1, 1, "announce")
	waitEvents(ttB, 1, "announce")
	waitEvents(ttC, 1, "announce")
	// 2. A changes: another community, a longer path.
	step = 2
	reconfigure(ttA2, ttB, ttC)
	waitEvents(ttA2, 2, "announce")
	// 3. B is withdrawn.
	step = 3
	reconfigure(ttA2, ttC)
	waitEvents(ttB, 2, "withdraw")
	// 4. The session goes down: no route is current ...
	step = 4
	birdc("disable", "collector")
	waitState("down")
	// 5. ... until it is up again and BIRD announces A and C again.
	step = 5
	birdc("enable", "collector")
	waitState("connected")
	waitEvents(ttA2, 3, "announce")
	waitEvents(ttC, 2, "announce")

	// The store has exactly the route events of the steps.
	for _, r := range []ttRoute{ttA1, ttB, ttC} {
		var out struct{ Events []ttRouteJSON }
		if err := getJSON(lg.URL+"/api/v1/history?from=0&prefix="+url.QueryEscape(r.prefix), &out); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range out.Events {
			if e.Type == "withdraw" {
				got = append(got, fmt.Sprintf("withdraw %s @%d", e.Prefix, e.us()))
			} else {
				got = append(got, fmt.Sprintf("%s %s %s @%d", e.Type, e.Prefix, e.attrs(), e.us()))
			}
		}
		if want := model.of(r.prefix); !slices.Equal(got, want) {
			t.Errorf("history of %s:\n got %q\nwant %q", r.prefix, got, want)
		}
	}
	// Every step's events are stored after the step before's (within
	// a step, the UPDATEs of A, B and C may come in any order).
	for _, e := range model {
		for _, d := range model {
			if d.step < e.step && d.us >= e.us {
				t.Errorf("step %d's %s %s stored at %d, not after step %d's %s %s at %d",
					e.step, e.what, e.route.prefix, e.us, d.step, d.what, d.route.prefix, d.us)
			}
		}
	}

	// The times to ask about: before, at and after every event, and
	// halfway between events.
	sorted := slices.SortedFunc(slices.Values(model), func(a, b ttEvent) int { return cmp.Compare(a.us, b.us) })
	var times, mids []int64
	for i, e := range sorted {
		times = append(times, e.us-1, e.us)
		if i+1 < len(sorted) && sorted[i+1].us-e.us > 1 {
			mids = append(mids, e.us+(sorted[i+1].us-e.us)/2)
		}
	}
	last := sorted[len(sorted)-1].us
	times = append(times, last+1, last+1000)
	times = append(times, mids...)
	slices.Sort(times)
	times = slices.Compact(times)

	// routesAt asks the looking glass for the routes under q at us, with
	// at in RFC 3339 (rfc) or in Unix seconds.
	routesAt := func(q string, us int64, rfc bool) ([]string, error) {
		at := fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
		if rfc {
			at = time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
		}
		var out struct {
			Query  struct{ At string }
			Routes []ttRouteJSON
		}
		if err := getJSON(lg.URL+"/api/v1/routes?match=more&prefix="+url.QueryEscape(q)+"&at="+url.QueryEscape(at), &out); err != nil {
			return nil, err
		}
		// Both forms of at name the same microsecond.
		if want := time.UnixMicro(us).UTC().Format(time.RFC3339Nano); out.Query.At != want {
			return nil, fmt.Errorf("at=%s is read as %s, want %s", at, out.Query.At, want)
		}
		got := []string{}
		for _, r := range out.Routes {
			got = append(got, r.line())
		}
		slices.Sort(got)
		return got, nil
	}
	check := func(path string) {
		t.Helper()
		type ask struct {
			q   string
			us  int64
			rfc bool
		}
		var asks []ask
		for _, us := range times {
			for _, q := range ttQueries {
				asks = append(asks, ask{q, us, true}, ask{q, us, false})
			}
		}
		var (
			mu   sync.Mutex
			errs []string
			wg   sync.WaitGroup
			next = make(chan ask)
		)
		for range 4 {
			wg.Go(func() {
				for a := range next {
					got, err := routesAt(a.q, a.us, a.rfc)
					want := model.at(a.us, a.q)
					msg := ""
					if err != nil {
						msg = err.Error()
					} else if !slices.Equal(got, want) {
						msg = fmt.Sprintf("got  %q\nwant %q", got, want)
					}
					if msg != "" {
						mu.Lock()
						errs = append(errs, fmt.Sprintf("%s: routes under %s at %s (%d, rfc3339 %v):\n%s", path, a.q,
							time.UnixMicro(a.us).UTC().Format(time.RFC3339Nano), a.us, a.rfc, msg))
						mu.Unlock()
					}
				}
			})
		}
		for _, a := range asks {
			next <- a
		}
		close(next)
		wg.Wait()
		slices.Sort(errs)
		for _, e := range errs {
			t.Error(e)
		}
		if len(errs) > 0 {
			t.Logf("steps as stored: %+v", model)
		}
	}
	check("events only")

	// Now: the current state (no at) is the last one.
	for _, q := range ttQueries {
		var out struct{ Routes []ttRouteJSON }
		if err := getJSON(lg.URL+"/api/v1/routes?match=more&prefix="+url.QueryEscape(q), &out); err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, r := range out.Routes {
			got = append(got, r.line())
		}
		slices.Sort(got)
		if want := model.at(math.MaxInt64, q); !slices.Equal(got, want) {
			t.Errorf("current routes under %s:\n got %q\nwant %q", q, got, want)
		}
	}

	snapshot := func(us int64) {
		t.Helper()
		n, err := db.Snapshot(ctx, time.UnixMicro(us))
		if err != nil {
			t.Fatal(err)
		}
		if want := model.count(us); n != uint64(want) {
			t.Errorf("snapshot at %d holds %d routes, want %d", us, n, want)
		}
	}
	// A snapshot after B's withdrawal, before the session goes down.
	var mid int64
	for i, e := range sorted {
		if e.what == "withdraw" {
			mid = e.us + (sorted[i+1].us-e.us)/2
		}
	}
	snapshot(mid)
	check("a snapshot between B's withdrawal and the session's end")

	// Snapshots at every event and halfway between events, in time
	// order, each built from the one before.
	for _, us := range times {
		if us != mid {
			snapshot(us)
		}
	}
	check("a snapshot at every time asked about")

	// The snapshots were used: none is stale for the peer (then its
	// routes would come from the events again).
	var runs, stale uint64
	if err := ch.QueryRow(ctx, "SELECT uniqExactIf(snap_us, complete = 1), (SELECT count() FROM vantage.rib_snapshot_stale) FROM vantage.rib_snapshot_runs").Scan(&runs, &stale); err != nil {
		t.Fatal(err)
	}
	if runs != uint64(len(times)) || stale != 0 {
		t.Errorf("%d complete snapshots (want %d), %d stale markers (want 0)", runs, len(times), stale)
	}
}
