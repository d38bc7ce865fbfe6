package web

import (
	"fmt"
	"io"
)

// WriteMetricsTo writes the live stream's figures in Prometheus' text
// format (they are also on the looking glass's /metrics).
func (l *Live) WriteMetricsTo(w io.Writer) { l.writeMetrics(w) }

// writeMetrics adds the live stream's figures to /metrics.
func (l *Live) writeMetrics(w io.Writer) {
	l.mu.Lock()
	joined, pos, ready := len(l.clients), l.pos, l.ready
	l.mu.Unlock()
	fmt.Fprintln(w, "# HELP vantage_lg_live_clients Connections to the live stream (/v1/ws/, /v1/stream/), and those of them past their replay.")
	fmt.Fprintln(w, "# TYPE vantage_lg_live_clients gauge")
	fmt.Fprintf(w, "vantage_lg_live_clients %d\n", l.connected.Load())
	fmt.Fprintf(w, "vantage_lg_live_clients{state=\"live\"} %d\n", joined)
	fmt.Fprintln(w, "# HELP vantage_lg_live_replays Live stream connections replaying the log (resuming).")
	fmt.Fprintln(w, "# TYPE vantage_lg_live_replays gauge")
	fmt.Fprintf(w, "vantage_lg_live_replays %d\n", len(l.replays))
	fmt.Fprintln(w, "# HELP vantage_lg_live_messages_total ris_message frames queued for live stream clients.")
	fmt.Fprintln(w, "# TYPE vantage_lg_live_messages_total counter")
	fmt.Fprintf(w, "vantage_lg_live_messages_total %d\n", l.sent.Load())
	fmt.Fprintln(w, "# HELP vantage_lg_live_dropped_total Live stream clients closed for reading too slowly.")
	fmt.Fprintln(w, "# TYPE vantage_lg_live_dropped_total counter")
	fmt.Fprintf(w, "vantage_lg_live_dropped_total %d\n", l.Dropped.Load())
	fmt.Fprintln(w, "# HELP vantage_lg_live_log_sequence The event log's sequence the live stream has dispatched (0 until it reads the log).")
	fmt.Fprintln(w, "# TYPE vantage_lg_live_log_sequence gauge")
	if !ready {
		pos = 0
	}
	fmt.Fprintf(w, "vantage_lg_live_log_sequence %d\n", pos)
}
