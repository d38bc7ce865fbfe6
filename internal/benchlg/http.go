package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// The looking glass over HTTP (issue 13): lg's handler (web.New, as
// cmd/lg serves it, with lg's default per-client limits off: one load
// generator is one client) on a loopback port over the data set's store,
// and a load generator of clients that each ask /api/v1/routes for the
// longest match of a random address, one request after the other, for a
// while, during the ingest.

// httpResult is what the load generator measured.
type httpResult struct {
	clients   int
	took      time.Duration
	durations []time.Duration
	errors    int
	firstErr  error
	cpu       cpuUse
}

func (r *httpResult) quantile(q float64) time.Duration {
	l := latency{durations: r.durations}
	return l.quantile(q)
}

// startLG serves lg's HTTP API over db (and rib, when not nil, as lg with
// lg.memory_rib) on a loopback port and returns its base URL and a
// function that stops it.
func startLG(db *storage.DB, rib *storage.LiveRIB) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: web.New(db, web.Options{QueryTimeout: 30 * time.Second, RIB: rib}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// httpLoad runs clients concurrent clients against base for dur.
func httpLoad(ctx context.Context, base string, d *dataset, clients int, dur time.Duration, seed uint64) *httpResult {
	res := &httpResult{clients: clients}
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			var mine []time.Duration
			for ctx.Err() == nil {
				a := randomAddr(d, rng)
				url := base + "/api/v1/routes?match=longest&prefix=" + netip.PrefixFrom(a, a.BitLen()).String()
				t := time.Now()
				err := get(ctx, client, url)
				if ctx.Err() != nil {
					break // cut by the end of the run: not counted
				}
				mu.Lock()
				if err != nil {
					res.errors++
					if res.firstErr == nil {
						res.firstErr = err
					}
				}
				mu.Unlock()
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			res.durations = append(res.durations, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.took = time.Since(start)
	slices.Sort(res.durations)
	return res
}

func get(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %.200s", url, resp.Status, body)
	}
	return nil
}
