package collector

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
	"github.com/vantage-bgp/vantage/schema"
)

// refEvent is schema.Event without its methods, so that encoding/json
// marshals it by reflection: the reference for AppendJSON.
type refEvent schema.Event

// sharedMRTFiles lists the shared MRT files (everything under mrt/ but
// licences, notes, configurations and bgpdump's expected output).
func sharedMRTFiles(t testing.TB) []string {
	t.Helper()
	root := filepath.Join(shareddata.Dir(t), "mrt")
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		base := filepath.Base(p)
		switch {
		case strings.Contains(rel, "test_expect"), strings.HasSuffix(base, ".md"), strings.HasSuffix(base, ".rst"),
			strings.HasSuffix(base, ".conf"), strings.HasPrefix(base, "LICENSE"), base == "COPYING",
			strings.Contains(rel, "vast/integration/data/bgpdump/"): // bgpdump's text output, not MRT
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		testenv.Skip(t, "shared test file missing: no shared MRT files")
	}
	sort.Strings(files)
	return files
}

// mrtEvents calls fn with each event of an MRT file, as MRT import
// builds them.
func mrtEvents(t testing.TB, path string, fn func(*schema.Event)) {
	t.Helper()
	conv := &MRTConverter{Host: "test", Source: filepath.Base(path)}
	err := ScanMRTFile(path, 0, nil, nil, func(rec bgpwire.MRTRecord) error {
		conv.Convert(rec, func(ev *schema.Event) error { // records that do not convert are skipped, as on import
			fn(ev)
			return nil
		})
		return nil
	})
	if err != nil {
		t.Logf("%s: %v", path, err)
	}
}

// TestAppendJSONSharedMRT checks AppendJSON against encoding/json for
// every event of every shared MRT file (in -short mode, the first
// 20,000 events of each).
func TestAppendJSONSharedMRT(t *testing.T) {
	total := 0
	seen := map[string]int{} // what the events exercised, for the log
	for _, path := range sharedMRTFiles(t) {
		n := 0
		buf := make([]byte, 0, 4096)
		mrtEvents(t, path, func(ev *schema.Event) {
			if t.Failed() || testing.Short() && n >= 20_000 {
				return
			}
			n++
			seen[ev.Type.String()]++
			for _, s := range ev.Path {
				if s.Type != schema.SegmentSequence {
					seen["non-sequence path segment"]++
				}
			}
			for k, on := range map[string]bool{
				"ext_community": len(ev.ExtCommunity) > 0, "large_community": len(ev.LargeCommunity) > 0,
				"aggregator": ev.Aggregator != nil, "other_attributes": len(ev.OtherAttrs) > 0,
				"withdrawn": len(ev.Withdrawn) > 0, "end_of_rib": !ev.EndOfRIB.IsZero(), "raw": ev.Raw != "",
				"ipv6 next hop": len(ev.Announcements) > 0 && ev.Announcements[0].NextHop.Is6(),
			} {
				if on {
					seen[k]++
				}
			}
			want, err := json.Marshal((*refEvent)(ev))
			if err != nil {
				t.Errorf("%s: event %s: encoding/json: %v", path, ev.ID, err)
				return
			}
			buf = ev.AppendJSON(buf[:0])
			if !bytes.Equal(buf, want) {
				t.Errorf("%s: event %s\nAppendJSON:    %s\nencoding/json: %s", path, ev.ID, buf, want)
			}
		})
		total += n
	}
	t.Logf("%d events: %v", total, seen)
	if total == 0 {
		t.Fatal("no events")
	}
}

// risUpdates returns the UPDATE events of the RIS updates file the
// benchmarks use.
func risUpdates(b *testing.B) []schema.Event {
	path := shareddata.Path(b, "mrt", "mrt-rs", "res", "updates.20190101.0000.gz")
	var evs []schema.Event
	mrtEvents(b, path, func(ev *schema.Event) {
		if ev.Type == schema.TypeUpdate {
			evs = append(evs, *ev)
		}
	})
	if len(evs) == 0 {
		b.Fatalf("%s: no UPDATE events", path)
	}
	return evs
}

// BenchmarkEventJSON serializes real RIS UPDATE events, one per
// operation: AppendJSON into a reused buffer against encoding/json.
func BenchmarkEventJSON(b *testing.B) {
	evs := risUpdates(b)
	size := 0
	for i := range evs {
		size += len(evs[i].AppendJSON(nil))
	}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size / len(evs)))
		buf := make([]byte, 0, 4096)
		i := 0
		for b.Loop() {
			buf = evs[i].AppendJSON(buf[:0])
			if i++; i == len(evs) {
				i = 0
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size / len(evs)))
		i := 0
		for b.Loop() {
			if _, err := json.Marshal((*refEvent)(&evs[i])); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(evs) {
				i = 0
			}
		}
	})
}
