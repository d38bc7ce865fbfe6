package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

// do sends a request with headers and returns the status, the headers and
// the error message of a JSON error.
func do(t *testing.T, method, url string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, resp.Header, e.Error
}

// TestRateLimit: past its rate a client gets 429 with Retry-After; health
// checks and other clients (another token) are not counted with it.
func TestRateLimit(t *testing.T) {
	_, db := fixture(t)
	const tokA, tokB = "token-a-0123456789", "token-b-0123456789"
	srv := httptest.NewServer(New(db, Options{Limits: Limits{Rate: 1, Burst: 2, Tokens: []string{tokA, tokB}}}))
	defer srv.Close()
	a := map[string]string{"Authorization": "Bearer " + tokA}
	for i := range 2 {
		if code, _, msg := do(t, "GET", srv.URL+"/api/v1/peers", a); code != 200 {
			t.Fatalf("request %d within the burst: %d %s", i, code, msg)
		}
	}
	code, hdr, msg := do(t, "GET", srv.URL+"/api/v1/peers", a)
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.HasPrefix(msg, "rate limit: at most 1 requests per second from 127.0.0.1") {
		t.Errorf("past the burst: %d Retry-After %q %q", code, hdr.Get("Retry-After"), msg)
	}
	if code, _, msg := do(t, "GET", srv.URL+"/api/v1/peers", map[string]string{"Authorization": "Bearer " + tokB}); code != 200 {
		t.Errorf("another token: %d %s", code, msg)
	}
	if code, _, _ := do(t, "GET", srv.URL+"/healthz", nil); code != 200 {
		t.Errorf("healthz is not limited: %d", code)
	}
	body := metricsText(t, srv.URL)
	if !strings.Contains(body, `vantage_lg_requests_refused_total{limit="rate"} 1`) {
		t.Errorf("/metrics does not count the refusal:\n%s", body)
	}
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	code, ctype, body := get(t, base+"/metrics")
	if code != 200 || !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("/metrics: %d %s", code, ctype)
	}
	return string(body)
}

// blockingStore holds every Peers call until release is closed.
type blockingStore struct {
	Store
	entered chan struct{}
	release chan struct{}
}

func (b blockingStore) Peers(ctx context.Context) ([]storage.Peer, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Store.Peers(ctx)
}

// TestConcurrencyLimit: a client with MaxConcurrent requests in progress
// gets 429 for one more, and is served again when one finishes.
func TestConcurrencyLimit(t *testing.T) {
	_, db := fixture(t)
	bs := blockingStore{Store: db, entered: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(New(bs, Options{Limits: Limits{MaxConcurrent: 2}}))
	defer srv.Close()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if code, _, msg := do(t, "GET", srv.URL+"/api/v1/peers", nil); code != 200 {
				t.Errorf("held request: %d %s", code, msg)
			}
		})
		<-bs.entered
	}
	code, _, msg := do(t, "GET", srv.URL+"/api/v1/peers", nil)
	if code != http.StatusTooManyRequests || msg != "too many requests at once from 127.0.0.1: at most 2; wait for one to finish" {
		t.Errorf("third at once: %d %q", code, msg)
	}
	close(bs.release)
	wg.Wait()
	go func() { <-bs.entered }()
	if code, _, msg := do(t, "GET", srv.URL+"/api/v1/peers", nil); code != 200 {
		t.Errorf("after the others finished: %d %s", code, msg)
	}
}

// TestTokensAndCORS: with tokens, the API wants one (the UI and /healthz
// do not); CORS answers configured origins only.
func TestTokensAndCORS(t *testing.T) {
	_, db := fixture(t)
	const tok = "0123456789abcdef0123"
	srv := httptest.NewServer(New(db, Options{Limits: Limits{Tokens: []string{tok}, CORSOrigins: []string{"https://noc.example.net"}}}))
	defer srv.Close()
	u := srv.URL + "/api/v1/routes?prefix=10.1.0.0/16"
	for _, tt := range []struct {
		auth string
		code int
		want string
	}{
		{"", 401, "Authorization: missing; this API needs a token"},
		{"Bearer nope", 401, "Authorization: not a token of this looking glass"},
		{"Basic " + tok, 401, "Authorization: missing"},
		{"Bearer " + tok, 200, ""},
	} {
		code, hdr, msg := do(t, "GET", u, map[string]string{"Authorization": tt.auth})
		if code != tt.code || !strings.HasPrefix(msg, tt.want) || code == 401 && hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d %q, want %d %q", tt.auth, code, msg, tt.code, tt.want)
		}
	}
	for _, path := range []string{"/", "/search?q=10.1.0.0/16", "/healthz"} {
		if code, _, _ := do(t, "GET", srv.URL+path, nil); code != 200 {
			t.Errorf("%s without a token: %d", path, code)
		}
	}

	code, hdr, _ := do(t, "OPTIONS", u, map[string]string{"Origin": "https://noc.example.net", "Access-Control-Request-Method": "GET",
		"Access-Control-Request-Headers": "Authorization"})
	if code != http.StatusNoContent || hdr.Get("Access-Control-Allow-Origin") != "https://noc.example.net" || !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", code, hdr)
	}
	_, hdr, _ = do(t, "GET", u, map[string]string{"Origin": "https://noc.example.net", "Authorization": "Bearer " + tok})
	if hdr.Get("Access-Control-Allow-Origin") != "https://noc.example.net" {
		t.Errorf("GET from the allowed origin: %v", hdr)
	}
	_, hdr, _ = do(t, "GET", u, map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer " + tok})
	if v := hdr.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("GET from another origin: Access-Control-Allow-Origin %q", v)
	}
}

// TestMetrics: /metrics counts requests by route pattern and status.
func TestMetrics(t *testing.T) {
	srv, _ := fixture(t)
	get(t, srv.URL+"/api/v1/routes?prefix=10.1.0.0/16")
	get(t, srv.URL+"/api/v1/routes?prefix=10.1.0.0/16&match=more")
	get(t, srv.URL+"/api/v1/routes?prefix=bad")
	get(t, srv.URL+"/nothing")
	body := metricsText(t, srv.URL)
	for _, want := range []string{
		`vantage_lg_requests_total{route="/api/v1/routes",code="200"} 2`,
		`vantage_lg_requests_total{route="/api/v1/routes",code="400"} 1`,
		`vantage_lg_requests_total{route="unmatched",code="404"} 1`,
		`vantage_lg_request_duration_seconds_count{route="/api/v1/routes"} 3`,
		`vantage_lg_request_duration_seconds_bucket{route="/api/v1/routes",le="+Inf"} 3`,
		"# TYPE vantage_lg_requests_in_flight gauge\nvantage_lg_requests_in_flight 0\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

// TestPeersDownReason: /api/v1/peers says when and why a session went
// down.
func TestPeersDownReason(t *testing.T) {
	srv, db := fixture(t)
	w := db.NewWriter(storage.WriterConfig{}, nil)
	defer w.Close()
	down := state(30, peerB, 64501, schema.StateDown)
	down.Reason = "hold timer expired"
	if err := w.Write(t.Context(), []schema.Event{down}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, _, body := get(t, srv.URL+"/api/v1/peers")
	var resp struct{ Peers []map[string]any }
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.Peers) != 2 {
		t.Fatalf("%s: %v", body, err)
	}
	b := resp.Peers[1]
	if b["state"] != "down" || b["last_down"] != ts(30) || b["last_down_reason"] != "hold timer expired" {
		t.Errorf("peer B: %v", b)
	}
	if a := resp.Peers[0]; a["last_down"] != nil || a["last_down_reason"] != nil {
		t.Errorf("peer A never went down: %v", a)
	}
	_, _, page := get(t, srv.URL+"/peers")
	if !strings.Contains(string(page), "hold timer expired") || !strings.Contains(string(page), time.Unix(int64(ts(30)), 0).UTC().Format("2006-01-02 15:04:05")) {
		t.Errorf("/peers does not show the down reason and time:\n%s", page)
	}
}

// TestTrustedProxies: X-Forwarded-For names the client only when the
// connection comes from a trusted proxy.
func TestTrustedProxies(t *testing.T) {
	_, db := fixture(t)
	for _, tt := range []struct {
		proxies []netip.Prefix
		client  string
	}{
		{[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "203.0.113.1"},
		{nil, "127.0.0.1"},
		{[]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, "127.0.0.1"},
	} {
		srv := httptest.NewServer(New(db, Options{Limits: Limits{Rate: 1, Burst: 1, TrustedProxies: tt.proxies}}))
		xff := map[string]string{"X-Forwarded-For": "203.0.113.1"}
		do(t, "GET", srv.URL+"/api/v1/peers", xff)
		code, _, msg := do(t, "GET", srv.URL+"/api/v1/peers", xff)
		if code != http.StatusTooManyRequests || !strings.Contains(msg, "from "+tt.client+";") {
			t.Errorf("proxies %v: %d %q, want 429 naming %s", tt.proxies, code, msg, tt.client)
		}
		other, _, _ := do(t, "GET", srv.URL+"/api/v1/peers", map[string]string{"X-Forwarded-For": "203.0.113.2"})
		if want := map[bool]int{true: 200, false: 429}[tt.client != "127.0.0.1"]; other != want {
			t.Errorf("proxies %v: another forwarded client: %d, want %d", tt.proxies, other, want)
		}
		srv.Close()
	}
}
