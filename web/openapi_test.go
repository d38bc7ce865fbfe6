package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIDescribesEveryRoute: every registered route is described in
// endpoints (so in /api/v1/openapi.json) and every described one is
// registered; HEAD answers wherever GET does, with GET's status and
// headers and no body.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	srv, db := fixture(t)
	e, _ := newServer(db, Options{})
	var registered []string
	for _, r := range e.Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		registered = append(registered, r.Path)
		if endpointOf(r.Path) == nil {
			t.Errorf("route GET %s is registered but not described: add it to endpoints in web/endpoints.go", r.Path)
		}
	}
	for _, ep := range endpoints {
		if !slices.Contains(registered, ep.Path) {
			t.Errorf("endpoints describes %s, which is not registered", ep.Path)
		}
	}

	code, ctype, body := get(t, srv.URL+"/api/v1/openapi.json")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || code != http.StatusOK || !strings.HasPrefix(ctype, "application/json") || doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi.json: %d %s %v: %.200s", code, ctype, err, body)
	}
	for _, ep := range endpoints {
		path := strings.Replace(ep.Path, "*", "{file}", 1)
		item, ok := doc.Paths[path]
		if !ok || item["get"] == nil || item["head"] == nil {
			t.Errorf("openapi.json: no get and head for %s", path)
			continue
		}
		var names []string
		params, _ := item["get"].(map[string]any)["parameters"].([]any)
		for _, p := range params {
			names = append(names, p.(map[string]any)["name"].(string))
		}
		for _, p := range ep.Params {
			if !slices.Contains(names, p.Name) {
				t.Errorf("openapi.json: %s lacks parameter %s", path, p.Name)
			}
		}
	}

	// HEAD, with the required parameters' examples.
	for _, ep := range endpoints {
		u := srv.URL + strings.Replace(ep.Path, "*", "style.css", 1)
		v := url.Values{}
		for _, p := range ep.Params {
			if p.Required || p.Example != "" {
				v.Set(p.Name, p.Example)
			}
		}
		if len(v) > 0 {
			u += "?" + v.Encode()
		}
		getResp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, getResp.Body)
		getResp.Body.Close()
		headResp, err := http.Head(u)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, headResp.Body)
		headResp.Body.Close()
		want := http.StatusOK
		if ep.Tag == "stream" {
			want = http.StatusServiceUnavailable // the fixture has no event log
		}
		if getResp.StatusCode != want || headResp.StatusCode != want || n != 0 ||
			headResp.Header.Get("Content-Type") != getResp.Header.Get("Content-Type") {
			t.Errorf("%s: GET %d %s, HEAD %d %s with %d body bytes; want %d for both, no body for HEAD", u,
				getResp.StatusCode, getResp.Header.Get("Content-Type"), headResp.StatusCode, headResp.Header.Get("Content-Type"), n, want)
		}
	}
}

// TestAPIBadParameters: every bad parameter of every API endpoint is a
// 4xx JSON error that names it.
func TestAPIBadParameters(t *testing.T) {
	srv, _ := fixture(t)
	long := strings.Repeat("1", maxParamLen+1)
	tests := []struct {
		path string
		code int
		want string
	}{
		{"/api/v1/peers?state=down", 400, `parameter "state": unknown here; /api/v1/peers takes no parameters`},
		{"/api/v1/routes?prefix=10.0.0.0/8&bogus=1", 400, `parameter "bogus": unknown here; /api/v1/routes takes prefix, match, at, peer, collector, limit, cursor`},
		{"/api/v1/routes?prefix=10.0.0.0/8&prefix=10.1.0.0/16", 400, "prefix: given 2 times; give it once"},
		{"/api/v1/routes?prefix=" + long, 400, "prefix: 1025 characters, more than the 1024 allowed"},
		{"/api/v1/routes?prefix=10.0.0.0/8&collector=" + long, 400, "collector: 1025 characters"},
		{"/api/v1/search?origin=AS0", 400, `origin "AS0": want an AS number`},
		{"/api/v1/search?origin=4294967296", 400, `origin "4294967296": want an AS number`},
		{"/api/v1/search?aspath=(", 400, `aspath "(": not a regular expression`},
		{"/api/v1/search?aspath=" + strings.Repeat("1", 300), 400, `aspath "11111111111111111111111111111111...": longer than 256 characters`},
		{"/api/v1/search?community=65536:1", 400, `community "65536:1": want a standard community`},
		{"/api/v1/search?community=1:2:3:4", 400, `community "1:2:3:4": want a standard community`},
		{"/api/v1/search?community=NO_EXPORTS", 400, `community "NO_EXPORTS": want a standard community`},
		{"/api/v1/search", 400, "origin, aspath, community: give at least one"},
		{"/api/v1/search?origin=1&at=soon", 400, `at "soon": want RFC 3339`},
		{"/api/v1/search?origin=1&limit=0", 400, `limit "0": want a number from 1 to 100`},
		{"/api/v1/history", 400, "prefix: missing"},
		{"/api/v1/history?prefix=10.0.0.0/8&match=less", 400, `match "less": want exact or more`},
		{"/api/v1/history?prefix=10.0.0.0/8&from=x", 400, `from "x": want RFC 3339`},
		{"/api/v1/history?prefix=10.0.0.0/8&from=100&to=50", 400, `to "50": before from`},
		{"/api/v1/history?prefix=10.0.0.0/8&peer=x", 400, `peer "x": want an IP address`},
		{"/api/v1/history?prefix=10.0.0.0/8&cursor=x", 400, `cursor "x": not the next of a previous answer`},
		{"/api/v1/mrt/rib", 400, "at: missing"},
		{"/api/v1/mrt/rib?at=1&format=zip", 400, `format "zip": want gz or bz2`},
		{"/api/v1/mrt/updates?from=1", 400, "to: missing"},
		{"/api/v1/mrt/updates?from=1&to=2&peer=x", 400, `peer "x": want an IP address`},
		{"/api/v1/openapi.json?v=2", 400, `parameter "v": unknown here`},
		{"/api/v1/nothing", 404, "Not Found"},
	}
	for _, tt := range tests {
		code, ctype, body := get(t, srv.URL+tt.path)
		var e struct{ Error string }
		if err := json.Unmarshal(body, &e); err != nil || code != tt.code || !strings.HasPrefix(ctype, "application/json") || !strings.HasPrefix(e.Error, tt.want) {
			t.Errorf("%.80s: %d %s %.200s; want %d and an error starting %q", tt.path, code, ctype, body, tt.code, tt.want)
		}
	}
}

// TestOpenAPIAnswers: the described answers list the fields the API
// sends, found by reading real answers.
func TestOpenAPIAnswers(t *testing.T) {
	srv, _ := fixture(t)
	_, _, body := get(t, srv.URL+"/api/v1/openapi.json")
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	// dig walks a path of object keys (and "[]" for array items).
	dig := func(v any, keys ...string) any {
		for _, k := range keys {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		return v
	}
	for _, tt := range []struct {
		path, list, query string
	}{
		{"/api/v1/routes", "routes", "prefix=10.1.0.0/16"},
		{"/api/v1/search", "routes", "origin=64496"},
		{"/api/v1/history", "events", "prefix=10.1.0.0/16&from=0"},
		{"/api/v1/peers", "peers", ""},
	} {
		props, _ := dig(doc, "paths", tt.path, "get", "responses", "200", "content", "application/json", "schema", "properties", tt.list, "items", "properties").(map[string]any)
		_, _, body := get(t, srv.URL+tt.path+"?"+tt.query)
		var answer map[string][]map[string]any
		json.Unmarshal(body, &answer)
		if len(answer[tt.list]) == 0 {
			t.Fatalf("%s: no %s in %s", tt.path, tt.list, body)
		}
		for _, item := range answer[tt.list] {
			for field := range item {
				if props[field] == nil {
					t.Errorf("%s: field %q of the answer is not described", tt.path, field)
				}
			}
		}
	}
}
