// Package e2e holds the end-to-end test of the walking skeleton: a real
// BGP speaker (BIRD 2) peers with the collector, and its routes show up on
// NATS (embedded nats-server), in ClickHouse (a real clickhouse-server)
// and in the looking glass API.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats.go"

	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// birdConf announces IPv4 and IPv6 routes with standard and large
// communities. static4w holds the route the test withdraws.
const birdConf = `
log "DIR/bird.log" all;
router id 192.0.2.11;
protocol device { }
protocol static static4 {
  ipv4;
  route 198.51.100.0/24 blackhole { bgp_community.add((65001,100)); bgp_large_community.add((65001,1,2)); bgp_path.prepend(64512); };
}
protocol static static4w {
  ipv4;
  route 203.0.113.0/25 blackhole { bgp_community.add((65001,200)); };
}
protocol static static6 {
  ipv6;
  route 2001:db8:100::/48 blackhole { bgp_community.add((65001,600)); bgp_large_community.add((65001,6,6)); bgp_path.prepend(64512); };
}
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

// natsEvents collects the events a NATS subscriber receives.
type natsEvents struct {
	mu     sync.Mutex
	events []schema.Event
	errs   []error
}

func (n *natsEvents) handle(m *nats.Msg) {
	var ev schema.Event
	err := json.Unmarshal(m.Data, &ev)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		n.errs = append(n.errs, fmt.Errorf("%w: %s", err, m.Data))
		return
	}
	n.events = append(n.events, ev)
}

func (n *natsEvents) find(ok func(*schema.Event) bool) (schema.Event, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range n.events {
		if ok(&n.events[i]) {
			return n.events[i], true
		}
	}
	return schema.Event{}, false
}

// eventually polls cond until it returns nil or the time runs out.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

// apiRoute is a route as /api/v1/routes returns it.
type apiRoute struct {
	Peer           string          `json:"peer"`
	PeerASN        string          `json:"peer_asn"`
	Prefix         string          `json:"prefix"`
	Path           schema.ASPath   `json:"path"`
	NextHop        string          `json:"next_hop"`
	Community      [][2]uint16     `json:"community"`
	LargeCommunity [][3]uint32     `json:"large_community"`
	Origin         string          `json:"origin"`
	Extra          json.RawMessage `json:"-"`
}

func getRoutes(base, prefix string) ([]apiRoute, error) {
	resp, err := http.Get(base + "/api/v1/routes?prefix=" + prefix)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		Routes []apiRoute `json:"routes"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("%w: %s", err, body)
	}
	return out.Routes, nil
}

func hasPrefix(ev *schema.Event, p string) bool {
	for _, a := range ev.Announcements {
		for _, x := range a.Prefixes {
			if x.String() == p {
				return true
			}
		}
	}
	return false
}

func TestBIRDToNATSClickHouseAndLookingGlass(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	testpeer.Need(t, "clickhouse-server", "clickhouse-server")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// ClickHouse: a private server on free ports.
	db, err := storage.Open(ctx, storage.Config{Server: storage.ServerConfig{
		DataDir: t.TempDir(), TCPPort: testpeer.FreePort(t), HTTPPort: testpeer.FreePort(t),
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A separate connection to read the rows back, as any user would.
	ch, err := clickhouse.Open(&clickhouse.Options{
		Addr: []string{db.Server().Addr()},
		Auth: clickhouse.Auth{Username: storage.ServerUser, Password: db.Server().Password()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	countRows := func(prefix, kind string) (uint64, error) {
		p, bits := schema.PrefixTo16(netip.MustParsePrefix(prefix))
		var n uint64
		err := ch.QueryRow(ctx, "SELECT count() FROM vantage.route_events WHERE prefix = ? AND prefix_len = ? AND kind = ?",
			string(p[:]), bits, kind).Scan(&n)
		return n, err
	}
	// NATS: embedded, as the collector runs it by default: the log, and
	// the ClickHouse writer consuming it.
	pub, conn, got := startLog(t)
	startStore(t, conn, db)

	// The collector.
	collectorPort, stopCollector := startCollector(t, "e2e", collector.NamedSink{Name: "log", Sink: pub})
	defer func() {
		if err := stopCollector(); err != nil {
			t.Error(err)
		}
	}()

	// The looking glass.
	lg := httptest.NewServer(web.New(db, web.Options{}))
	defer lg.Close()

	// BIRD peers with the collector.
	conf := strings.NewReplacer("BIRDPORT", fmt.Sprint(testpeer.FreePort(t)),
		"COLLECTORPORT", fmt.Sprint(collectorPort)).Replace(birdConf)
	bird := testpeer.StartBIRD(t, conf)

	// 1. Announcements reach NATS ...
	want := []string{"198.51.100.0/24", "203.0.113.0/25", "2001:db8:100::/48"}
	eventually(t, "announcements on NATS", func() error {
		for _, p := range want {
			if _, ok := got.find(func(ev *schema.Event) bool { return hasPrefix(ev, p) }); !ok {
				return fmt.Errorf("no UPDATE announcing %s yet", p)
			}
		}
		return nil
	})
	ev, _ := got.find(func(ev *schema.Event) bool { return hasPrefix(ev, "198.51.100.0/24") })
	if ev.Host != "e2e" || ev.PeerASN != 65001 || ev.Peer != netip.MustParseAddr("127.0.0.11") ||
		ev.Path.String() != "65001 64512" || ev.Announcements[0].NextHop.String() != "192.0.2.11" ||
		fmt.Sprint(ev.Community) != "[65001:100]" || fmt.Sprint(ev.LargeCommunity) != "[65001:1:2]" ||
		ev.Origin != schema.OriginIGP {
		t.Errorf("NATS event for 198.51.100.0/24: %+v", ev)
	}
	ev6, _ := got.find(func(ev *schema.Event) bool { return hasPrefix(ev, "2001:db8:100::/48") })
	if ev6.Announcements[0].NextHop.String() != "2001:db8::11" || ev6.Announcements[0].Family != schema.IPv6Unicast ||
		fmt.Sprint(ev6.LargeCommunity) != "[65001:6:6]" {
		t.Errorf("NATS event for 2001:db8:100::/48: %+v", ev6)
	}
	if _, ok := got.find(func(ev *schema.Event) bool {
		return ev.Type == schema.TypePeerState && ev.State == schema.StateConnected
	}); !ok {
		t.Error("no RIS_PEER_STATE connected event on NATS")
	}

	// ... ClickHouse and the looking glass.
	checkRoute := func(prefix, path, nextHop, comm, large string) {
		t.Helper()
		eventually(t, "route "+prefix+" in the looking glass", func() error {
			rs, err := getRoutes(lg.URL, prefix)
			if err != nil {
				return err
			}
			if len(rs) != 1 {
				return fmt.Errorf("%d routes for %s, want 1: %+v", len(rs), prefix, rs)
			}
			r := rs[0]
			if r.Peer != "127.0.0.11" || r.PeerASN != "65001" || r.Prefix != prefix || r.Path.String() != path ||
				r.NextHop != nextHop || fmt.Sprint(r.Community) != comm || fmt.Sprint(r.LargeCommunity) != large {
				return fmt.Errorf("route %+v", r)
			}
			return nil
		})
	}
	checkRoute("198.51.100.0/24", "65001 64512", "192.0.2.11", "[[65001 100]]", "[[65001 1 2]]")
	checkRoute("203.0.113.0/25", "65001", "192.0.2.11", "[[65001 200]]", "[]")
	checkRoute("2001:db8:100::/48", "65001 64512", "2001:db8::11", "[[65001 600]]", "[[65001 6 6]]")
	eventually(t, "announcement rows in ClickHouse", func() error {
		n, err := countRows("198.51.100.0/24", "announce")
		if err != nil || n != 1 {
			return fmt.Errorf("%d rows, err %v", n, err)
		}
		return nil
	})

	// 2. BIRD withdraws 203.0.113.0/25.
	if _, err := bird.Ctl("disable", "static4w"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "withdrawal on NATS", func() error {
		if _, ok := got.find(func(ev *schema.Event) bool {
			return len(ev.Withdrawals) == 1 && ev.Withdrawals[0].String() == "203.0.113.0/25"
		}); !ok {
			return fmt.Errorf("no UPDATE withdrawing 203.0.113.0/25")
		}
		return nil
	})
	eventually(t, "withdrawal row in ClickHouse", func() error {
		n, err := countRows("203.0.113.0/25", "withdraw")
		if err != nil || n != 1 {
			return fmt.Errorf("%d rows, err %v", n, err)
		}
		return nil
	})
	eventually(t, "withdrawn route gone from the looking glass", func() error {
		rs, err := getRoutes(lg.URL, "203.0.113.0/25")
		if err != nil || len(rs) != 0 {
			return fmt.Errorf("routes %+v, err %v", rs, err)
		}
		return nil
	})
	checkRoute("198.51.100.0/24", "65001 64512", "192.0.2.11", "[[65001 100]]", "[[65001 1 2]]")

	// 3. BIRD stops: its routes are no longer current.
	bird.Stop()
	eventually(t, "peer down on NATS", func() error {
		if _, ok := got.find(func(ev *schema.Event) bool { return ev.Type == schema.TypePeerState && ev.State == schema.StateDown }); !ok {
			return fmt.Errorf("no RIS_PEER_STATE down event")
		}
		return nil
	})
	for _, p := range []string{"198.51.100.0/24", "2001:db8:100::/48"} {
		eventually(t, "routes of the stopped peer gone from the looking glass", func() error {
			rs, err := getRoutes(lg.URL, p)
			if err != nil || len(rs) != 0 {
				return fmt.Errorf("routes for %s: %+v, err %v", p, rs, err)
			}
			return nil
		})
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	for _, err := range got.errs {
		t.Errorf("NATS message does not decode as an event: %v", err)
	}
}
