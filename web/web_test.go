package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

func TestMain(m *testing.M) { os.Exit(storagetest.Run(m)) }

var t0 = time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)

func ts(sec float64) float64 { return float64(t0.Unix()) + sec }

func u32(v uint32) *uint32 { return &v }

var (
	peerA = netip.MustParseAddr("192.0.2.1")
	peerB = netip.MustParseAddr("2001:db8::2")
)

func announce(sec float64, peer netip.Addr, asn uint32, path []uint32, prefixes ...string) schema.Event {
	var ps []netip.Prefix
	for _, p := range prefixes {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	return schema.Event{
		Timestamp: ts(sec), Peer: peer, PeerASN: asn, Host: "rrc-test", Type: schema.TypeUpdate,
		Path:           schema.ASPath{{Type: schema.SegmentSequence, ASNs: path}},
		Origin:         schema.OriginIGP,
		Community:      []schema.Community{{asn2(asn), 100}},
		LargeCommunity: []schema.LargeCommunity{{asn, 1, 2}},
		MED:            u32(5),
		LocalPref:      u32(100),
		Announcements:  []schema.Announcement{{NextHop: netip.MustParseAddr("192.0.2.254"), NLRISet: schema.NLRISet{Prefixes: ps}}},
	}
}

func asn2(asn uint32) uint16 { return uint16(asn) }

func state(sec float64, peer netip.Addr, asn uint32, s schema.PeerState) schema.Event {
	return schema.Event{Timestamp: ts(sec), Peer: peer, PeerASN: asn, Host: "rrc-test", Type: schema.TypePeerState, State: s}
}

// fixture is a looking glass over a store holding a few routes.
func fixture(t *testing.T) (*httptest.Server, *storage.DB) {
	t.Helper()
	db := storagetest.DB(t)
	w := db.NewWriter(storage.WriterConfig{}, nil)
	defer w.Close()
	// The route counts are what the sessions put on their events.
	counts := func(e schema.Event, seq uint64, counts ...schema.FamilyCount) schema.Event {
		e.Seq, e.Routes = seq, counts
		return e
	}
	v4 := func(n uint64) schema.FamilyCount { return schema.FamilyCount{Family: schema.IPv4Unicast, Routes: n} }
	v6 := func(n uint64) schema.FamilyCount { return schema.FamilyCount{Family: schema.IPv6Unicast, Routes: n} }
	err := w.Write(t.Context(), []schema.Event{
		counts(state(0, peerA, 64500, schema.StateConnected), 1),
		counts(state(0, peerB, 64501, schema.StateConnected), 1),
		counts(announce(10, peerA, 64500, []uint32{64500, 64496}, "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24"), 2, v4(3)),
		counts(announce(10, peerB, 64501, []uint32{64501, 64496}, "10.1.0.0/16", "2001:db8::/32"), 2, v4(1), v6(1)),
		counts(announce(20, peerA, 64500, []uint32{64500, 64497}, "10.1.0.0/16"), 3, v4(3)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(db, Options{MaxRoutes: 100}))
	t.Cleanup(srv.Close)
	return srv, db
}

func get(t *testing.T, url string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

type routesResponse struct {
	Query     map[string]any   `json:"query"`
	Routes    []map[string]any `json:"routes"`
	Count     int              `json:"count"`
	Truncated bool             `json:"truncated"`
	Next      string           `json:"next"`
}

func TestRoutes(t *testing.T) {
	srv, _ := fixture(t)
	tests := []struct {
		query     string
		want      []string // "peer prefix path"
		match     string
		truncated bool
	}{
		{"prefix=10.1.0.0/16", []string{"192.0.2.1 10.1.0.0/16 [64500,64497]", "2001:db8::2 10.1.0.0/16 [64501,64496]"}, "exact", false},
		{"prefix=10.1.0.0/16&match=exact&collector=rrc-test", []string{"192.0.2.1 10.1.0.0/16 [64500,64497]", "2001:db8::2 10.1.0.0/16 [64501,64496]"}, "exact", false},
		{"prefix=10.1.0.0/16&collector=rrc-elsewhere", nil, "exact", false},
		{"prefix=10.1.0.0/16&peer=2001:db8::2", []string{"2001:db8::2 10.1.0.0/16 [64501,64496]"}, "exact", false},
		{"prefix=10.1.2.3", []string{"192.0.2.1 10.1.2.0/24 [64500,64496]"}, "longest", false},
		{"prefix=10.9.9.9", []string{"192.0.2.1 10.0.0.0/8 [64500,64496]"}, "longest", false},
		{"prefix=10.1.2.3&match=exact", nil, "exact", false},
		{"prefix=10.1.0.0/16&match=more", []string{"192.0.2.1 10.1.0.0/16 [64500,64497]", "2001:db8::2 10.1.0.0/16 [64501,64496]", "192.0.2.1 10.1.2.0/24 [64500,64496]"}, "more", false},
		{"prefix=10.1.2.0/24&match=less", []string{"192.0.2.1 10.0.0.0/8 [64500,64496]", "192.0.2.1 10.1.0.0/16 [64500,64497]", "2001:db8::2 10.1.0.0/16 [64501,64496]", "192.0.2.1 10.1.2.0/24 [64500,64496]"}, "less", false},
		{"prefix=10.1.0.0/16&at=2024-05-14T12:00:15Z", []string{"192.0.2.1 10.1.0.0/16 [64500,64496]", "2001:db8::2 10.1.0.0/16 [64501,64496]"}, "exact", false},
		{"prefix=10.1.0.0/16&at=1715688015", []string{"192.0.2.1 10.1.0.0/16 [64500,64496]", "2001:db8::2 10.1.0.0/16 [64501,64496]"}, "exact", false},
		{"prefix=10.1.0.0/16&at=1715688005.5", nil, "exact", false},
		{"prefix=2001:db8::1", []string{"2001:db8::2 2001:db8::/32 [64501,64496]"}, "longest", false},
		{"prefix=10.0.0.0/8&match=more&limit=2", []string{"192.0.2.1 10.0.0.0/8 [64500,64496]", "192.0.2.1 10.1.0.0/16 [64500,64497]"}, "more", true},
		{"prefix=10.1.2.3/16", []string{"192.0.2.1 10.1.0.0/16 [64500,64497]", "2001:db8::2 10.1.0.0/16 [64501,64496]"}, "exact", false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, ctype, body := get(t, srv.URL+"/api/v1/routes?"+tt.query)
			if code != http.StatusOK || !strings.HasPrefix(ctype, "application/json") {
				t.Fatalf("status %d, %s: %s", code, ctype, body)
			}
			var resp routesResponse
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range resp.Routes {
				path, _ := json.Marshal(r["path"])
				got = append(got, r["peer"].(string)+" "+r["prefix"].(string)+" "+string(path))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("routes %q, want %q", got, tt.want)
			}
			if (resp.Next != "") != tt.truncated {
				t.Errorf("next %q with truncated %v", resp.Next, tt.truncated)
			}
			if resp.Query["match"] != tt.match || resp.Truncated != tt.truncated || resp.Count != len(tt.want) {
				t.Errorf("match %v truncated %v count %d, want %s %v %d", resp.Query["match"], resp.Truncated, resp.Count, tt.match, tt.truncated, len(tt.want))
			}
		})
	}
}

// TestRouteJSON pins the field names and forms of one route: the event's.
func TestRouteJSON(t *testing.T) {
	srv, _ := fixture(t)
	_, _, body := get(t, srv.URL+"/api/v1/routes?prefix=10.1.2.0/24")
	var resp struct {
		Routes []json.RawMessage `json:"routes"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.Routes) != 1 {
		t.Fatalf("%s: %v", body, err)
	}
	var got map[string]any
	if err := json.Unmarshal(resp.Routes[0], &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"host":            "rrc-test",
		"peer":            "192.0.2.1",
		"peer_asn":        "64500",
		"family":          "ipv4/unicast",
		"prefix":          "10.1.2.0/24",
		"path_id":         0.0,
		"next_hop":        "192.0.2.254",
		"path":            []any{64500.0, 64496.0},
		"origin":          "IGP",
		"med":             5.0,
		"local_pref":      100.0,
		"community":       []any{[]any{64500.0, 100.0}},
		"large_community": []any{[]any{64500.0, 1.0, 2.0}},
		"timestamp":       1715688010.0,
		"seq":             2.0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("route JSON\n got %s\nwant %v", resp.Routes[0], want)
	}
}

func TestRoutesBadRequests(t *testing.T) {
	srv, _ := fixture(t)
	tests := []struct {
		query string
		want  string
	}{
		{"", "prefix: missing"},
		{"prefix=", "prefix: missing"},
		{"prefix=10.0.0.0/33", `prefix "10.0.0.0/33": bad prefix length "33": want 0-32`},
		{"prefix=2001:db8::/129", `prefix "2001:db8::/129": bad prefix length "129": want 0-128`},
		{"prefix=10.0.0.0/", `prefix "10.0.0.0/": bad prefix length`},
		{"prefix=10.0.0.0/08", `prefix "10.0.0.0/08": bad prefix length`},
		{"prefix=banana", `prefix "banana": want a prefix`},
		{"prefix=fe80::1%25eth0", `prefix "fe80::1%eth0": want a prefix`},
		{"prefix=10.0.0.0/8&match=best", `match "best": want exact, longest, more or less`},
		{"prefix=10.0.0.0/8&at=yesterday", `at "yesterday": want RFC 3339`},
		{"prefix=10.0.0.0/8&at=-5", `at "-5": want RFC 3339`},
		{"prefix=10.0.0.0/8&peer=router1", `peer "router1": want an IP address`},
		{"prefix=10.0.0.0/8&limit=0", `limit "0": want a number from 1 to 100`},
		{"prefix=10.0.0.0/8&limit=101", `limit "101": want a number from 1 to 100`},
		{"prefix=10.0.0.0/8&limit=ten", `limit "ten": want a number from 1 to 100`},
		{"prefix=10.0.0.0/8&limit=", `limit "": want a number from 1 to 100`},
		{"prefix=10.0.0.0/8&cursor=", `cursor "": not the next of a previous answer`},
		{"prefix=10.0.0.0/8&cursor=bm9wZQ", `cursor "bm9wZQ": not the next of a previous answer`},
		{"prefix=10.0.0.0/8&cursor=%7B%7D", `cursor "{}": not the next of a previous answer`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, ctype, body := get(t, srv.URL+"/api/v1/routes?"+tt.query)
			if code != http.StatusBadRequest || !strings.HasPrefix(ctype, "application/json") {
				t.Fatalf("status %d %s, want 400 JSON: %s", code, ctype, body)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(e.Error, tt.want) {
				t.Errorf("error %q, want it to start with %q", e.Error, tt.want)
			}
		})
	}
}

func TestPeers(t *testing.T) {
	srv, _ := fixture(t)
	code, _, body := get(t, srv.URL+"/api/v1/peers")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var resp struct {
		Peers []map[string]any `json:"peers"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != 2 {
		t.Fatalf("peers %s, want 2", body)
	}
	a := resp.Peers[0]
	for k, v := range map[string]any{"host": "rrc-test", "peer": "192.0.2.1", "peer_asn": "64500", "state": "connected",
		"since": 1715688000.0, "last_update": 1715688020.0, "prefixes_ipv4": 3.0, "prefixes_ipv6": 0.0} {
		if a[k] != v {
			t.Errorf("peer A %s = %v, want %v", k, a[k], v)
		}
	}
	if up, _ := a["uptime"].(float64); up < 1 {
		t.Errorf("peer A uptime %v, want the seconds since %v", a["uptime"], t0)
	}
	if b := resp.Peers[1]; b["peer"] != "2001:db8::2" || b["prefixes_ipv4"] != 1.0 || b["prefixes_ipv6"] != 1.0 ||
		fmt.Sprint(b["routes"]) != "map[ipv4/unicast:1 ipv6/unicast:1]" {
		t.Errorf("peer B %v", b)
	}
}

func TestHealthAndErrors(t *testing.T) {
	srv, db := fixture(t)
	if code, _, body := get(t, srv.URL+"/healthz"); code != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, ctype, body := get(t, srv.URL+"/"); code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(string(body), "<title>Vantage looking glass</title>") {
		t.Errorf("/: %d %s", code, ctype)
	}
	if code, ctype, body := get(t, srv.URL+"/api/v1/nothing"); code != http.StatusNotFound || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(string(body), `"error"`) {
		t.Errorf("unknown path: %d %s %s", code, ctype, body)
	}

	// With the store gone, queries are server faults and health fails.
	db.Close()
	if code, _, body := get(t, srv.URL+"/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"error":"clickhouse: `) {
		t.Errorf("healthz with the store closed: %d %s", code, body)
	}
	// The driver's text stays in the log.
	const generic = `{"error":"the store failed; the looking glass's log says why"}`
	if code, _, body := get(t, srv.URL+"/api/v1/routes?prefix=10.0.0.0/8"); code != http.StatusInternalServerError || strings.TrimSpace(string(body)) != generic {
		t.Errorf("routes with the store closed: %d %s", code, body)
	}
	if code, _, body := get(t, srv.URL+"/api/v1/peers"); code != http.StatusInternalServerError || strings.TrimSpace(string(body)) != generic {
		t.Errorf("peers with the store closed: %d %s", code, body)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-05-14T12:00:00Z", t0},
		{"2024-05-14T14:00:00+02:00", t0},
		{"2024-05-14T12:00:00.25Z", t0.Add(250 * time.Millisecond)},
		{"1715688000", t0},
		{"1715688000.000001", t0.Add(time.Microsecond)},
		{"0", time.Unix(0, 0)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "now", "2024-05-14", "-1", "1e300", "NaN"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q): no error", bad)
		}
	}
}
