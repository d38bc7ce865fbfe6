package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// TestClusterLookingGlass: BIRD peers with the collector, whose log feeds
// two stores, one on a single clickhouse-server and one sharded over a
// cluster of two; the looking glass over each gives the same answers as
// routes are announced, withdrawn, and lost with the session.
func TestClusterLookingGlass(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	testpeer.Need(t, "clickhouse-server", "clickhouse-server")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	single, err := storage.Open(ctx, storage.Config{Server: storage.ServerConfig{
		DataDir: t.TempDir(), TCPPort: testpeer.FreePort(t), HTTPPort: testpeer.FreePort(t), ExitWithStarter: true,
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	var cfgs []storage.ServerConfig
	for range 2 {
		cfgs = append(cfgs, storage.ServerConfig{DataDir: t.TempDir(), TCPPort: testpeer.FreePort(t), HTTPPort: testpeer.FreePort(t), ExitWithStarter: true})
	}
	servers, err := storage.StartLocalCluster(ctx, "e2e", cfgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var shards []string
	for _, s := range servers {
		defer s.Close()
		shards = append(shards, s.DSN())
	}
	sharded, err := storage.Open(ctx, storage.Config{Cluster: "e2e", Shards: shards}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sharded.Close()

	pub, conn, _ := startLog(t)
	for name, db := range map[string]*storage.DB{"store-single": single, "store-cluster": sharded} {
		cctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			cc := bus.ConsumerConfig{Durable: name, FlushInterval: 200 * time.Millisecond}
			if err := bus.Consume(cctx, conn, cc, db.Insert, nil, nil); err != nil {
				t.Errorf("consumer %s: %v", name, err)
			}
		}()
		t.Cleanup(func() { stop(); <-done })
	}
	collectorPort, stopCollector := startCollector(t, "e2e", collector.NamedSink{Name: "log", Sink: pub})
	defer func() {
		if err := stopCollector(); err != nil {
			t.Error(err)
		}
	}()
	lgSingle := httptest.NewServer(web.New(single, web.Options{}))
	defer lgSingle.Close()
	lgCluster := httptest.NewServer(web.New(sharded, web.Options{}))
	defer lgCluster.Close()

	conf := strings.NewReplacer("BIRDPORT", fmt.Sprint(testpeer.FreePort(t)),
		"COLLECTORPORT", fmt.Sprint(collectorPort)).Replace(birdConf)
	bird := testpeer.StartBIRD(t, conf)

	// same waits until every query answers the same from both looking
	// glasses (the cluster's consumer may lag behind).
	start := time.Now().Add(-time.Minute).Unix()
	same := func(step string, queries []string) {
		t.Helper()
		eventually(t, step+": the same answers from the cluster", func() error {
			for _, q := range queries {
				want, err := getAnswer(lgSingle.URL + q)
				if err != nil {
					return fmt.Errorf("single server %s: %w", q, err)
				}
				got, err := getAnswer(lgCluster.URL + q)
				if err != nil {
					return fmt.Errorf("cluster %s: %w", q, err)
				}
				if !reflect.DeepEqual(got, want) {
					return fmt.Errorf("%s: the cluster answers\n%v\nthe single server\n%v", q, got, want)
				}
			}
			return nil
		})
	}
	routes := func(q string) int {
		rs, err := getRoutes(lgSingle.URL, q)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	eventually(t, "routes in the single server", func() error {
		for _, p := range []string{"198.51.100.0/24", "203.0.113.0/25", "2001:db8:100::/48"} {
			if routes(p) != 1 {
				return fmt.Errorf("no route for %s yet", p)
			}
		}
		return nil
	})
	announced := time.Now().Unix() + 1
	queries := func() []string {
		to := strconv.FormatInt(time.Now().Unix()+60, 10)
		return []string{
			"/api/v1/routes?prefix=198.51.100.0/24",
			"/api/v1/routes?prefix=203.0.113.0/25",
			"/api/v1/routes?prefix=2001:db8:100::/48",
			"/api/v1/routes?prefix=198.51.100.7/32&match=longest",
			"/api/v1/routes?prefix=198.0.0.0/8&match=more",
			"/api/v1/routes?prefix=203.0.113.0/26&match=less",
			"/api/v1/routes?prefix=0.0.0.0/0&match=more&at=" + strconv.FormatInt(announced, 10),
			"/api/v1/search?community=65001:100",
			"/api/v1/search?origin=64512",
			"/api/v1/history?prefix=203.0.113.0/25&from=" + strconv.FormatInt(start, 10) + "&to=" + to,
			"/api/v1/history?prefix=0.0.0.0/0&match=more&from=" + strconv.FormatInt(start, 10) + "&to=" + to,
			"/api/v1/peers",
		}
	}
	same("announced", queries())

	if _, err := bird.Ctl("disable", "static4w"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "withdrawal in the single server", func() error {
		if n := routes("203.0.113.0/25"); n != 0 {
			return fmt.Errorf("%d routes", n)
		}
		return nil
	})
	same("withdrawn", queries())

	bird.Stop()
	eventually(t, "routes of the stopped peer gone from the single server", func() error {
		if n := routes("198.51.100.0/24"); n != 0 {
			return fmt.Errorf("%d routes", n)
		}
		return nil
	})
	same("peer down", queries())
}

// getAnswer returns the decoded JSON answer to a GET, without the fields
// that depend on the time of the request (a peer's uptime).
func getAnswer(url string) (any, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%w: %s", err, body)
	}
	if m, ok := v.(map[string]any); ok {
		if peers, ok := m["peers"].([]any); ok {
			for _, p := range peers {
				if pm, ok := p.(map[string]any); ok {
					delete(pm, "uptime")
				}
			}
		}
	}
	return v, nil
}
