package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestSearchAPI: /api/v1/search finds current routes by origin, AS path
// and community, and names a bad parameter.
func TestSearchAPI(t *testing.T) {
	srv, _ := fixture(t)
	find := func(query string) []string {
		t.Helper()
		code, _, body := get(t, srv.URL+"/api/v1/search?"+query)
		if code != http.StatusOK {
			t.Fatalf("search %s: %d %s", query, code, body)
		}
		var r routesResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, rt := range r.Routes {
			out = append(out, rt["peer"].(string)+" "+rt["prefix"].(string))
		}
		slices.Sort(out)
		return out
	}
	for query, want := range map[string][]string{
		// 10.1.0.0/16 from peer A is now originated by 64497.
		"origin=64496":                                      {"192.0.2.1 10.0.0.0/8", "192.0.2.1 10.1.2.0/24", "2001:db8::2 10.1.0.0/16", "2001:db8::2 2001:db8::/32"},
		"origin=AS64497":                                    {"192.0.2.1 10.1.0.0/16"},
		"aspath=" + url.QueryEscape("^64501_"):              {"2001:db8::2 10.1.0.0/16", "2001:db8::2 2001:db8::/32"},
		"community=64500:100&prefix=10.1.0.0/16&match=more": {"192.0.2.1 10.1.0.0/16", "192.0.2.1 10.1.2.0/24"},
		"community=64501:1:2":                               {"2001:db8::2 10.1.0.0/16", "2001:db8::2 2001:db8::/32"},
		"origin=64496&aspath=" + url.QueryEscape("_64500_") + "&peer=192.0.2.1&limit=100": {"192.0.2.1 10.0.0.0/8", "192.0.2.1 10.1.2.0/24"},
	} {
		if got := find(query); !slices.Equal(got, want) {
			t.Errorf("search %s:\n got %v\nwant %v", query, got, want)
		}
	}
	for param, query := range map[string]string{
		"origin":    "origin=sixty",
		"aspath":    "aspath=" + url.QueryEscape("(64500"),
		"community": "community=70000:1",
		"limit":     "origin=1&limit=0",
		"prefix":    "origin=1&prefix=banana",
	} {
		code, _, body := get(t, srv.URL+"/api/v1/search?"+query)
		if code != http.StatusBadRequest || !strings.Contains(string(body), param) {
			t.Errorf("search %s: %d %s; want 400 naming %s", query, code, body, param)
		}
	}
	if code, _, body := get(t, srv.URL+"/api/v1/search"); code != http.StatusBadRequest || !strings.Contains(string(body), "origin, aspath, community") {
		t.Errorf("search without a filter: %d %s", code, body)
	}
}
