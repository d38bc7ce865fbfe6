package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// exportResult is the export of one hour of updates (issue 11) from the
// data set: the hour that ends with the current table, whose routes were
// stored as UPDATEs with their raw messages in its last ten minutes.
type exportResult struct {
	from, to time.Time
	stats    web.ExportStats
	took     time.Duration
	bytes    int64
	cpu      cpuUse
}

// exportBench writes the hour's updates as `collector mrt export -updates
// -o FILE.gz` does (web.ExportUpdates through gzip into a file) and
// times it.
func exportBench(ctx context.Context, db *storage.DB, m *meta, meter *cpuMeter, dataDir string, logf func(string, ...any)) (*exportResult, error) {
	r := &exportResult{to: time.UnixMicro(m.BaseEndUS + 1)}
	r.from = r.to.Add(-time.Hour)
	path := filepath.Join(dataDir, "export-updates.gz")
	defer os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	logf("exporting the updates from %s to %s", r.from.UTC().Format(time.RFC3339), r.to.UTC().Format(time.RFC3339))
	r0, t0 := meter.read(), time.Now()
	cw, err := web.Compress(f, "gz")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(cw, 1<<16)
	r.stats, err = web.ExportUpdates(ctx, db, storage.UpdatesQuery{From: r.from, To: r.to, Host: host}, bw, web.UpdatesOptions{})
	if err == nil {
		err = bw.Flush()
	}
	if cerr := cw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	r.took, r.cpu = time.Since(t0), meter.since(r0)
	if st, err := f.Stat(); err == nil {
		r.bytes = st.Size()
	}
	logf("exported %d records in %v", r.stats.Records, r.took.Round(time.Millisecond))
	return r, nil
}

func (r *exportResult) print(w io.Writer, m *meta) {
	fmt.Fprintf(w, "\n### MRT export of one hour of updates (issue 11)\n\n")
	fmt.Fprintf(w, "The hour %s to %s (the current table's %d routes, stored as one UPDATE each with its raw message, in its last %v), as `collector mrt export -updates -o FILE.gz` writes it (web.ExportUpdates, gzip, to a file; the server quiet): "+
		"**%d records (%d messages, %d state changes) in %v: %.0f records/s**, %s of gzip; CPUs used: benchlg + server %.2f, other processes %.2f.\n",
		r.from.UTC().Format(time.RFC3339), r.to.UTC().Format(time.RFC3339), m.Build.BaseRows, (time.Duration(m.BaseEndUS-m.BaseUS) * time.Microsecond).Round(time.Second),
		r.stats.Records, r.stats.Messages, r.stats.States, r.took.Round(time.Millisecond), float64(r.stats.Records)/r.took.Seconds(), human(r.bytes), r.cpu.ours, r.cpu.others)
}
