package main

import (
	"compress/gzip"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// BenchmarkMRTExportUpdates exports the whole window of RIS's
// updates.et-header.2015 (89,686 records, imported once) as BGP4MP_ET,
// to io.Discard, gzip at the default level (what `collector mrt export
// -updates -o X.gz` does after opening the store), at the fastest level, and
// uncompressed. It reports records/s.
func BenchmarkMRTExportUpdates(b *testing.B) {
	src := shareddata.Path(b, "mrt", "bgpdump", "test_data", "updates.et-header.2015.gz")
	cfgFile, storeCfg := exportConfig(b)
	if err := runMRTImport([]string{"-config", cfgFile, "-host", "rrc-test", src}); err != nil {
		b.Fatal(err)
	}
	db, err := storage.Open(b.Context(), storeCfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	// The file's records are from 2015-10-23 02:01 UTC on, for a few minutes.
	q := storage.UpdatesQuery{From: time.Unix(1445565600, 0), To: time.Unix(1445565600+3600, 0)}
	for _, level := range []int{gzip.DefaultCompression, gzip.BestSpeed, plainLevel} {
		name := map[int]string{gzip.DefaultCompression: "gzip", gzip.BestSpeed: "gzip-fast", plainLevel: "plain"}[level]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			records := 0
			for b.Loop() {
				var w io.WriteCloser = nopWriteCloser{io.Discard}
				if level != plainLevel {
					w, _ = gzip.NewWriterLevel(io.Discard, level)
				}
				st, err := web.ExportUpdates(b.Context(), db, q, w, web.UpdatesOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				if st.Records < 89_000 {
					b.Fatalf("%d records exported, want the file's 89,686 less its empty UPDATEs", st.Records)
				}
				records += st.Records
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// plainLevel stands for no gzip at all.
const plainLevel = -99

// BenchmarkMRTExportRIB exports the RIB of a RIS dump (imported once) at
// its time, gzip to io.Discard, and reports RIB entries/s; then, once, it
// writes the export to a file and times `bgpdump -m` reading it
// (bgpdump-s), the yardstick: the export should take at most as
// long.
func BenchmarkMRTExportRIB(b *testing.B) {
	bin := testpeer.Need(b, "bgpdump", "bgpdump")
	for _, c := range []struct {
		name   string
		path   []string
		at     time.Time
		routes int
	}{
		// 115,521 IPv4 routes of 13 peers (TABLE_DUMP).
		{"bview.20020722", []string{"bgpdump", "test_data", "bview.20020722.2337.gz"}, time.Date(2002, 7, 22, 23, 59, 0, 0, time.UTC), 100_000},
		// 270,005 IPv4 routes (TABLE_DUMP_V2, the file's first MB).
		{"rib.20140523", []string{"pyasn", "data", "rib.20140523.0600_firstMB.bz2"}, time.Date(2014, 5, 23, 7, 0, 0, 0, time.UTC), 250_000},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := shareddata.Path(b, append([]string{"mrt"}, c.path...)...)
			cfgFile, storeCfg := exportConfig(b)
			if err := runMRTImport([]string{"-config", cfgFile, "-host", "rrc-test", src}); err != nil {
				b.Fatal(err)
			}
			db, err := storage.Open(b.Context(), storeCfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			q := storage.RIBQuery{At: c.at}
			b.ReportAllocs()
			routes := 0
			for b.Loop() {
				w, _ := web.Compress(io.Discard, "gz")
				st, err := web.ExportRIB(b.Context(), db, q, w)
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				if st.Routes < c.routes {
					b.Fatalf("%d routes exported, want at least %d", st.Routes, c.routes)
				}
				routes += st.Routes
			}
			b.ReportMetric(float64(routes)/b.Elapsed().Seconds(), "routes/s")
			b.StopTimer()
			out := filepath.Join(b.TempDir(), "bview.gz")
			if err := runMRTExport([]string{"-config", cfgFile, "-rib", "-at", c.at.Format(time.RFC3339), "-o", out}); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := exec.Command(bin, "-m", out).Run(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(time.Since(start).Seconds(), "bgpdump-s")
		})
	}
}
