package main

import (
	"compress/gzip"
	"io"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/shareddata"
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

// BenchmarkMRTExportRIB exports the RIB of RIS's bview.20020722.2337
// (115,521 routes of 13 peers, imported once) at its time, gzip to
// io.Discard. It reports RIB entries/s.
func BenchmarkMRTExportRIB(b *testing.B) {
	src := shareddata.Path(b, "mrt", "bgpdump", "test_data", "bview.20020722.2337.gz")
	cfgFile, storeCfg := exportConfig(b)
	if err := runMRTImport([]string{"-config", cfgFile, "-host", "rrc-test", src}); err != nil {
		b.Fatal(err)
	}
	db, err := storage.Open(b.Context(), storeCfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	q := storage.RIBQuery{At: time.Date(2002, 7, 22, 23, 59, 0, 0, time.UTC)}
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
		if st.Routes < 100_000 {
			b.Fatalf("%d routes exported, want about 115,000", st.Routes)
		}
		routes += st.Routes
	}
	b.ReportMetric(float64(routes)/b.Elapsed().Seconds(), "routes/s")
}
