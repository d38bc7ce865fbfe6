package web

// This file owns the looking glass's /metrics: requests by route and
// status, their durations, requests in progress and refused by the limits,
// in Prometheus' text format.

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vantage-bgp/vantage/storage"
)

// durationBuckets are the upper bounds (seconds) of the request duration
// histogram.
var durationBuckets = []float64{0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30}

type routeStats struct {
	codes   map[int]uint64
	buckets []uint64 // per durationBuckets, not cumulative; the last is +Inf
	sum     float64
	count   uint64
}

type metrics struct {
	mu       sync.Mutex
	routes   map[string]*routeStats
	inflight int64
	refused  map[string]uint64
	// extra write further figures (the live stream's).
	extra []func(io.Writer)
}

func newMetrics() *metrics {
	return &metrics{routes: map[string]*routeStats{}, refused: map[string]uint64{}}
}

func (m *metrics) limited(why string) {
	m.mu.Lock()
	m.refused[why]++
	m.mu.Unlock()
}

// middleware counts every request under its route's pattern.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m.mu.Lock()
		m.inflight++
		m.mu.Unlock()
		start := time.Now()
		err := next(c)
		if err != nil {
			// Write the error now, so that its status is counted.
			c.Error(err)
			err = nil
		}
		d := time.Since(start).Seconds()
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound && route == "/*" {
			route = "unmatched"
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		m.inflight--
		rs := m.routes[route]
		if rs == nil {
			rs = &routeStats{codes: map[int]uint64{}, buckets: make([]uint64, len(durationBuckets)+1)}
			m.routes[route] = rs
		}
		rs.codes[c.Response().Status]++
		i, _ := slices.BinarySearch(durationBuckets, d)
		rs.buckets[i]++
		rs.sum += d
		rs.count++
		return err
	}
}

func (m *metrics) handler(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	m.write(c.Response())
	return nil
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	routes := make([]string, 0, len(m.routes))
	for r := range m.routes {
		routes = append(routes, r)
	}
	slices.Sort(routes)

	fmt.Fprintln(w, "# HELP vantage_lg_requests_total HTTP requests answered, by route and status.")
	fmt.Fprintln(w, "# TYPE vantage_lg_requests_total counter")
	for _, r := range routes {
		codes := make([]int, 0, len(m.routes[r].codes))
		for c := range m.routes[r].codes {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			fmt.Fprintf(w, "vantage_lg_requests_total{route=%q,code=\"%d\"} %d\n", r, c, m.routes[r].codes[c])
		}
	}
	fmt.Fprintln(w, "# HELP vantage_lg_request_duration_seconds Time to answer a request, by route.")
	fmt.Fprintln(w, "# TYPE vantage_lg_request_duration_seconds histogram")
	for _, r := range routes {
		rs := m.routes[r]
		var cum uint64
		for i, n := range rs.buckets {
			cum += n
			le := "+Inf"
			if i < len(durationBuckets) {
				le = strconv.FormatFloat(durationBuckets[i], 'g', -1, 64)
			}
			fmt.Fprintf(w, "vantage_lg_request_duration_seconds_bucket{route=%q,le=%q} %d\n", r, le, cum)
		}
		fmt.Fprintf(w, "vantage_lg_request_duration_seconds_sum{route=%q} %s\n", r, strconv.FormatFloat(rs.sum, 'g', -1, 64))
		fmt.Fprintf(w, "vantage_lg_request_duration_seconds_count{route=%q} %d\n", r, rs.count)
	}
	fmt.Fprintln(w, "# HELP vantage_lg_requests_in_flight Requests being answered.")
	fmt.Fprintln(w, "# TYPE vantage_lg_requests_in_flight gauge")
	fmt.Fprintf(w, "vantage_lg_requests_in_flight %d\n", max(m.inflight-1, 0)) // less this scrape
	fmt.Fprintln(w, "# HELP vantage_lg_requests_refused_total Requests refused by a per-client limit or for want of a token.")
	fmt.Fprintln(w, "# TYPE vantage_lg_requests_refused_total counter")
	for _, why := range []string{"concurrency", "rate", "token"} {
		fmt.Fprintf(w, "vantage_lg_requests_refused_total{limit=%q} %d\n", why, m.refused[why])
	}
	for _, f := range m.extra {
		f(w)
	}
}

// writeRIBMetrics adds the memory RIB's figures to /metrics.
func writeRIBMetrics(w io.Writer, rib *storage.LiveRIB) {
	st := rib.Stats()
	ready := 0
	if rib.Ready() {
		ready = 1
	}
	fmt.Fprintln(w, "# HELP vantage_lg_memory_rib_ready 1 when queries about now are answered from lg's memory RIB (loaded and caught up with the log).")
	fmt.Fprintln(w, "# TYPE vantage_lg_memory_rib_ready gauge")
	fmt.Fprintf(w, "vantage_lg_memory_rib_ready %d\n", ready)
	fmt.Fprintln(w, "# HELP vantage_lg_memory_rib_routes Routes held by the memory RIB.")
	fmt.Fprintln(w, "# TYPE vantage_lg_memory_rib_routes gauge")
	fmt.Fprintf(w, "vantage_lg_memory_rib_routes %d\n", st.Routes)
	fmt.Fprintln(w, "# HELP vantage_lg_memory_rib_prefixes Prefixes with routes in the memory RIB.")
	fmt.Fprintln(w, "# TYPE vantage_lg_memory_rib_prefixes gauge")
	fmt.Fprintf(w, "vantage_lg_memory_rib_prefixes %d\n", st.Prefixes)
}
