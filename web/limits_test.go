package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// limitedFixture is a looking glass over 25 routes under 10.0.0.0/16 (12
// of peer A, 13 of peer B), in a store opened with limits.
func limitedFixture(t *testing.T, limits storage.QueryLimits) *httptest.Server {
	srv, _ := limitedStore(t, limits)
	return srv
}

// limitedStore is limitedFixture, with its store.
func limitedStore(t *testing.T, limits storage.QueryLimits) (*httptest.Server, *storage.DB) {
	t.Helper()
	db, err := storage.Open(t.Context(), storage.Config{DSN: storagetest.DSN(t), Database: storagetest.Database(t), Limits: limits}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var a, b []string
	for i := range 13 {
		p := fmt.Sprintf("10.0.%d.0/24", i)
		if i < 12 {
			a = append(a, p)
		}
		b = append(b, p)
	}
	w := db.NewWriter(storage.WriterConfig{}, nil)
	defer w.Close()
	if err := w.Write(t.Context(), []schema.Event{
		announce(0, peerA, 64500, []uint32{64500, 1}, a...),
		announce(0, peerB, 64501, []uint32{64501, 2}, b...),
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(db, Options{MaxRoutes: 100}))
	t.Cleanup(srv.Close)
	return srv, db
}

func routesPage(t *testing.T, u string) routesResponse {
	t.Helper()
	code, _, body := get(t, u)
	if code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", u, code, body)
	}
	var resp routesResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRoutesPaging(t *testing.T) {
	srv := limitedFixture(t, storage.QueryLimits{})
	key := func(r map[string]any) string { return r["prefix"].(string) + " " + r["peer"].(string) }
	base := srv.URL + "/api/v1/routes?prefix=10.0.0.0/16&match=more"
	whole := routesPage(t, base)
	if whole.Count != 25 || whole.Truncated || whole.Next != "" {
		t.Fatalf("unpaged: count %d truncated %v next %q", whole.Count, whole.Truncated, whole.Next)
	}
	var want []string
	for _, r := range whole.Routes {
		want = append(want, key(r))
	}

	var sizes []int
	var got []string
	u := base + "&limit=10"
	for range 10 {
		p := routesPage(t, u)
		sizes = append(sizes, p.Count)
		for _, r := range p.Routes {
			got = append(got, key(r))
		}
		if p.Next == "" {
			break
		}
		if !p.Truncated {
			t.Errorf("next %q without truncated", p.Next)
		}
		u = base + "&limit=10&cursor=" + url.QueryEscape(p.Next)
	}
	if !reflect.DeepEqual(sizes, []int{10, 10, 5}) {
		t.Errorf("page sizes %v, want [10 10 5]", sizes)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paged routes\n%q\nwant the unpaged\n%q", got, want)
	}

	// Without limit, the default applies; over it, 400 names it.
	if code, _, body := get(t, base+"&limit=10000"); code != http.StatusBadRequest || !strings.Contains(string(body), `limit \"10000\"`) {
		t.Errorf("limit over the maximum: %d %s", code, body)
	}
}

func TestQueryTooExpensive(t *testing.T) {
	srv := limitedFixture(t, storage.QueryLimits{MaxExecutionTime: 5 * time.Second, MaxRowsToRead: 3})
	const want = `{"error":"query too expensive: read more than 3 rows; narrow the prefix, peer or time window"}`
	for _, path := range []string{"/api/v1/routes?prefix=10.0.0.0/16&match=more", "/api/v1/peers"} {
		code, ctype, body := get(t, srv.URL+path)
		if code != http.StatusUnprocessableEntity || !strings.HasPrefix(ctype, "application/json") || strings.TrimSpace(string(body)) != want {
			t.Errorf("%s: %d %s %s, want 422 %s", path, code, ctype, body, want)
		}
	}
}

// failingStore fails every query with err.
type failingStore struct{ err error }

func (f failingStore) Ping(context.Context) error { return nil }
func (f failingStore) Peers(context.Context) ([]storage.Peer, error) {
	return nil, f.err
}
func (f failingStore) Routes(context.Context, storage.RoutesQuery) ([]storage.Route, error) {
	return nil, f.err
}
func (f failingStore) History(context.Context, storage.HistoryQuery) ([]storage.RouteEvent, error) {
	return nil, f.err
}

// TestStoreErrors: the store's text never reaches the answer.
func TestStoreErrors(t *testing.T) {
	tests := []struct {
		err  error
		code int
		want string
	}{
		{fmt.Errorf("routes: %w", &clickhouse.Exception{Code: 60, Message: "Table vantage.route_events doesn't exist"}), 500, "the store failed; the looking glass's log says why"},
		{fmt.Errorf("routes: %w", context.DeadlineExceeded), 503, "the store did not answer within 30s"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(New(failingStore{tt.err}, Options{}))
		for _, path := range []string{"/api/v1/routes?prefix=10.0.0.0/8", "/api/v1/peers"} {
			code, _, body := get(t, srv.URL+path)
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || code != tt.code || e.Error != tt.want {
				t.Errorf("%s with %v: %d %s, want %d %q", path, tt.err, code, body, tt.code, tt.want)
			}
		}
		srv.Close()
	}
}
