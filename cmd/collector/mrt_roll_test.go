package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// TestMRTRollFiles: the rolling files of an imported RIS updates file
// (2016-08-11 16:00-16:05): one updates file per minute, named after
// its start as RIS names them, in RIS's directory layout, each holding
// the messages of its period, together the original's (bgpdump -m); a
// bview at each RIB time holding the RIB export's routes then; written
// again, the same bytes, and no temporary file left.
func TestMRTRollFiles(t *testing.T) {
	bin := testpeer.Need(t, "bgpdump", "bgpdump")
	src := shareddata.Path(t, "mrt", "bgpdump", "test_data", "updates.20160811.1600.gz")
	cfgFile, storeCfg := exportConfig(t)
	if err := runMRTImport([]string{"-config", cfgFile, "-host", "rrc-test", src}); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(t.Context(), storeCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	rc := web.RollConfig{Dir: dir, Host: "rrc-test", UpdatesInterval: time.Minute, RIBInterval: 150 * time.Second}
	from := time.Date(2016, 8, 11, 16, 0, 0, 0, time.UTC)
	written, err := web.RollFiles(t.Context(), db, rc, from, from.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	month := filepath.Join(dir, "rrc-test", "2016.08")
	var names []string
	for _, p := range written {
		if filepath.Dir(p) != month {
			t.Errorf("%s is not in %s", p, month)
		}
		names = append(names, filepath.Base(p))
	}
	// Seconds in the names: the RIB interval is not whole minutes.
	want := []string{"updates.20160811.160000.gz", "updates.20160811.160100.gz", "updates.20160811.160200.gz",
		"updates.20160811.160300.gz", "updates.20160811.160400.gz", "bview.20160811.160230.gz", "bview.20160811.160500.gz"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}

	// The updates files, each within its period, are the original.
	original := bgpdumpLines(t, bin, src)
	for i, l := range original {
		if f := strings.Split(l, "|"); f[2] == "STATE" { // as the store keeps them (see TestMRTExportUpdatesRoundTrip)
			f[5], f[6] = "6", "1"
			original[i] = strings.Join(f, "|")
		}
	}
	var all []string
	for i, p := range written[:5] {
		start := from.Add(time.Duration(i) * time.Minute).Unix()
		for _, l := range bgpdumpLines(t, bin, p) {
			l = etSeconds.ReplaceAllString(l, "BGP4MP|$1|")
			if ts := lineTime(t, l); ts < start || ts >= start+60 {
				t.Errorf("%s holds a line of %d: %s", names[i], ts, l)
			}
			all = append(all, l)
		}
	}
	if !slices.Equal(all, original) {
		t.Errorf("the updates files together: %s", firstDiff(all, original))
	}

	// A bview is the RIB export at its time.
	for i, p := range written[5:] {
		at := from.Add(time.Duration(i+1) * 150 * time.Second)
		ribFile := filepath.Join(t.TempDir(), "rib.gz")
		if err := runMRTExport([]string{"-config", cfgFile, "-rib", "-at", at.Format(time.RFC3339), "-collector", "rrc-test", "-o", ribFile}); err != nil {
			t.Fatal(err)
		}
		got, want := bgpdumpLines(t, bin, p), bgpdumpLines(t, bin, ribFile)
		if len(want) < 1000 || !slices.Equal(got, want) {
			t.Errorf("%s: %d lines, the RIB export at %s %d", names[5+i], len(got), at, len(want))
		}
	}

	// Again: the same bytes.
	before := map[string][]byte{}
	for _, p := range written {
		before[p], _ = os.ReadFile(p)
	}
	if _, err := web.RollFiles(t.Context(), db, rc, from, from.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, p := range written {
		if b, _ := os.ReadFile(p); !bytes.Equal(b, before[p]) {
			t.Errorf("%s differs when written again", filepath.Base(p))
		}
	}
	entries, _ := os.ReadDir(month)
	if len(entries) != len(written) {
		var left []string
		for _, e := range entries {
			left = append(left, e.Name())
		}
		t.Errorf("%s holds %v, want the %d files alone", month, left, len(written))
	}
}
