package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// BenchmarkAPILongest loads /api/v1/routes?prefix=ADDRESS (longest match)
// from 8 clients on loopback, over lg (run, as the command runs) serving
// the RouteViews updates file of TestBrowser imported into ClickHouse.
// Each address lies inside a stored prefix, so every answer has routes.
// It reports requests/s and the p50 and p99 latency, and the same for the
// store's queries alone.
//
//	go test -run '^$' -bench APILongest -benchtime 2000x ./cmd/lg/
func BenchmarkAPILongest(b *testing.B) {
	path := shareddata.Path(b, archive...)
	dsn, database := storagetest.DSN(b), storagetest.Database(b)
	db, err := storage.Open(b.Context(), storage.Config{DSN: dsn, Database: database}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	importArchive(b, db, path, "route-views2")
	all, err := db.Routes(b.Context(), storage.RoutesQuery{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Match: storage.MatchMore})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	addrs := make([]string, 4096)
	for i := range addrs {
		p := all[rng.IntN(len(all))].Prefix
		a := p.Addr().As4()
		host := rng.Uint32() & (1<<(32-p.Bits()) - 1)
		for j := range 4 {
			a[j] |= byte(host >> (24 - 8*j))
		}
		addrs[i] = netip.AddrFrom4(a).String()
	}

	cfg := writeConfig(b, fmt.Sprintf("clickhouse: {dsn: %q, database: %s}\nnats: {url: 'nats://127.0.0.1:1'}\nlg: {listen: '127.0.0.1:0', rate_limit: 0, max_concurrent: 0}\nlog: {level: error}\n", dsn, database))
	lg, _, stop := startLG(b, cfg)
	defer stop()

	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	b.Run("http", func(b *testing.B) {
		load(b, func(addr string) error {
			resp, err := client.Get(lg + "api/v1/routes?prefix=" + addr)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}, addrs)
	})
	// The same queries straight to the store: what lg adds is the
	// difference.
	b.Run("store", func(b *testing.B) {
		load(b, func(addr string) error {
			rs, err := db.Routes(context.Background(), storage.RoutesQuery{Prefix: netip.PrefixFrom(netip.MustParseAddr(addr), 32), Match: storage.MatchLongest, Limit: 1001})
			if err == nil && len(rs) == 0 {
				err = fmt.Errorf("%s: no route", addr)
			}
			return err
		}, addrs)
	})
}

// clients is the load generator's concurrency.
const clients = 8

// load runs b.N calls of do over the addresses from clients goroutines and
// reports requests/s, p50 and p99.
func load(b *testing.B, do func(addr string) error, addrs []string) {
	var mu sync.Mutex
	var lat []time.Duration
	next := make(chan int)
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for i := range next {
				t0 := time.Now()
				if err := do(addrs[i%len(addrs)]); err != nil {
					b.Error(err)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/el.Seconds(), "req/s")
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
