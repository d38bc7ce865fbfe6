package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/storage"
)

// pingTimeout bounds the ClickHouse ping behind vantage_clickhouse_up.
const pingTimeout = time.Second

// metrics serves the collector's counters in Prometheus' text format.
// Any of srv, pub and store may be nil (`collector store` has no sessions).
type metrics struct {
	srv      *collector.Server
	pub      *bus.Publisher
	store    *storeProcess
	conn     *bus.Conn
	consumer string
}

// serve listens on addr and returns a function that stops the server.
func (m *metrics) serve(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("collector.metrics_listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		m.write(r.Context(), w)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		hs.Shutdown(ctx)
	}, nil
}

func (m *metrics) write(ctx context.Context, w io.Writer) {
	metric := func(name, typ, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, typ, name, v)
	}
	if m.srv != nil {
		st := m.srv.Stats()
		fmt.Fprintf(w, "# HELP vantage_sessions BGP sessions by state.\n# TYPE vantage_sessions gauge\n")
		fmt.Fprintf(w, "vantage_sessions{state=\"established\"} %d\nvantage_sessions{state=\"connecting\"} %d\n", st.Established.Load(), st.Connections.Load())
		metric("vantage_messages_received_total", "counter", "BGP messages received on established sessions.", st.Messages.Load())
		metric("vantage_events_total", "counter", "Events emitted by the sessions.", st.Events.Load())
		metric("vantage_events_dropped_total", "counter", "Events lost (only when a sink hangs at shutdown; else always 0).", st.Undelivered.Load())
		metric("vantage_sink_retries_total", "counter", "Failed sink writes that were retried.", st.SinkRetries.Load())
		metric("vantage_connections_refused_total", "counter", "Connections refused: disabled neighbor, a range's max_sessions, too many opening.", st.Refused.Load())
		metric("vantage_dial_failures_total", "counter", "Failed connections to active neighbors.", st.DialFailures.Load())
		if c, ok := collector.ReadMD5Counters(); ok {
			metric("vantage_tcp_md5_failures_total", "counter", "Segments the kernel dropped for a wrong TCP MD5 signature (whole host; the only sign of a wrong password).", c.Failure)
			metric("vantage_tcp_md5_missing_total", "counter", "Segments the kernel dropped for a missing TCP MD5 signature (whole host).", c.NotFound)
		}
	}
	if m.pub != nil {
		ps := m.pub.Stats()
		metric("vantage_publish_queued_total", "counter", "Events queued for the log.", ps.Queued)
		metric("vantage_publish_acked_total", "counter", "Events acknowledged by JetStream.", ps.Acked)
		metric("vantage_publish_retried_total", "counter", "Publishes retried after a failure.", ps.Retried)
		metric("vantage_publish_acks_pending", "gauge", "Publishes awaiting JetStream's acknowledgement.", ps.Pending)
		metric("vantage_publish_queue_events", "gauge", "Events waiting in memory for NATS.", ps.MemoryEvents)
		metric("vantage_publish_queue_bytes", "gauge", "Bytes of events waiting in memory for NATS.", ps.MemoryBytes)
		metric("vantage_spool_bytes", "gauge", "Bytes of events waiting in the on-disk spool.", ps.SpoolBytes)
		metric("vantage_publish_blocked_total", "counter", "Writes that waited because memory and spool were full.", ps.Blocked)
	}
	if m.store != nil {
		st := &m.store.stats
		metric("vantage_store_events_total", "counter", "Events stored in ClickHouse and acknowledged.", st.Handled.Load())
		metric("vantage_store_failures_total", "counter", "Failed ClickHouse inserts (retried).", st.Failures.Load())
		metric("vantage_store_poison_total", "counter", "Messages of the log that were not events.", st.Poison.Load())
		metric("vantage_store_insert_seconds", "gauge", "Duration of the last ClickHouse insert.", float64(st.LastLatencyMicros.Load())/1e6)
		up := 0
		if db := m.store.db.Load(); db != nil {
			if pingWithin(ctx, db, pingTimeout) {
				up = 1
			}
		}
		metric("vantage_clickhouse_up", "gauge", "1 when ClickHouse answers.", up)
	}
	if m.conn != nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if lag, err := bus.Lag(ctx, m.conn, m.consumer); err == nil {
			metric("vantage_store_lag_events", "gauge", "Events in the log not yet stored in ClickHouse.", lag)
		}
	}
}

// pingWithin reports whether db answers a ping within d. A hung server
// (SIGSTOP, a stuck disk) must not hang /metrics with it, and the driver
// bounds a new connection's handshake by its dial timeout (5 s), not by
// the context, so the ping is left behind when d has passed.
func pingWithin(ctx context.Context, db *storage.DB, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	done := make(chan error, 1)
	go func() { defer cancel(); done <- db.Ping(ctx) }()
	select {
	case err := <-done:
		return err == nil
	case <-ctx.Done():
		return false
	}
}
