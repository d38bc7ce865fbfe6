package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/collector/bgpdump"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// dumpLines is `collector mrt dump` (bgpdump -m lines) of the files.
func dumpLines(t *testing.T, files ...string) []string {
	t.Helper()
	var out bytes.Buffer
	p := bgpdump.NewPrinter(&out, bgpdump.Options{})
	for _, f := range files {
		if err := collector.ScanMRTFile(f, 1, nil, func(error) {}, func(rec bgpwire.MRTRecord) error {
			_ = p.Record(rec) // records bgpdump does not print are skipped
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}

// ribModel applies bgpdump -m lines in order up to time at (Unix seconds),
// independently of the importer and the store: TABLE_DUMP2 entries and
// announcements set a route ("peer prefix path"), withdrawals remove it, a
// session leaving Established removes its peer's routes; a RIB dump
// replaces the state of the peers it has entries for.
func ribModel(lines []string, at int64) []string {
	type key struct{ peer, prefix string }
	state := map[key]string{}
	var dumpPeers map[string]bool // peers of the RIB dump being read
	for _, l := range lines {
		f := strings.Split(l, "|")
		if len(f) < 6 {
			continue
		}
		ts, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || ts > at {
			continue
		}
		switch {
		case f[0] == "TABLE_DUMP2" && f[2] == "B":
			if dumpPeers == nil {
				dumpPeers = map[string]bool{}
			}
			if !dumpPeers[f[3]] {
				dumpPeers[f[3]] = true
				for k := range state {
					if k.peer == f[3] {
						delete(state, k)
					}
				}
			}
			state[key{f[3], f[5]}] = f[6]
		case f[2] == "A":
			dumpPeers = nil
			state[key{f[3], f[5]}] = f[6]
		case f[2] == "W":
			dumpPeers = nil
			delete(state, key{f[3], f[5]})
		case f[2] == "STATE" && len(f) >= 7 && f[5] == "6" && f[6] != "6":
			for k := range state {
				if k.peer == f[3] {
					delete(state, k)
				}
			}
		}
	}
	out := make([]string, 0, len(state))
	for k, path := range state {
		out = append(out, k.peer+" "+k.prefix+" "+path)
	}
	slices.Sort(out)
	return out
}

// storedState is every route of host current at at (zero: now).
func storedState(t *testing.T, db *storage.DB, host string, at time.Time) []string {
	t.Helper()
	var out []string
	for _, all := range []string{"0.0.0.0/0", "::/0"} {
		routes, err := db.Routes(t.Context(), storage.RoutesQuery{Prefix: netip.MustParsePrefix(all), Match: storage.MatchMore, Host: host, At: at})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range routes {
			out = append(out, r.Peer.String()+" "+r.Prefix.String()+" "+r.Path.String())
		}
	}
	slices.Sort(out)
	return out
}

// smallerRIB writes a copy of the RIB dump src, dated at, that keeps only
// the RIB records whose prefix keep accepts: the same peers' state at a
// later time, with routes gone.
func smallerRIB(t *testing.T, src, dst string, at uint32, keep func(netip.Prefix) bool) {
	t.Helper()
	var out bytes.Buffer
	var rib bgpwire.RIB
	err := collector.ScanMRTFile(src, 1, nil, func(error) {}, func(rec bgpwire.MRTRecord) error {
		if rec.Header.Type == bgpwire.MRTTableDump2 && bgpwire.IsRIBSubtype(rec.Header.Subtype) {
			if err := rib.Decode(rec.Header.Subtype, rec.Body); err != nil {
				return err
			}
			if !keep(rib.NLRI.Prefix) {
				return nil
			}
		}
		var h [12]byte
		binary.BigEndian.PutUint32(h[0:], at)
		binary.BigEndian.PutUint16(h[4:], uint16(rec.Header.Type))
		binary.BigEndian.PutUint16(h[6:], rec.Header.Subtype)
		binary.BigEndian.PutUint32(h[8:], uint32(len(rec.Body)))
		out.Write(h[:])
		out.Write(rec.Body)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMRTImportRIBThenUpdates: a RIB dump and the updates that follow it
// (RouteViews, 2016-11-01 00:00), imported: the state at times during and
// after the updates is the dump with the updates applied, computed from
// `collector mrt dump` lines alone. Then a later, smaller RIB dump of the
// same peers: the routes it lacks are no longer current.
func TestMRTImportRIBThenUpdates(t *testing.T) {
	rib := shareddata.Path(t, "mrt", "ryu", "ryu", "tests", "packet_data", "mrt", "rib.20161101.0000_pick.bz2")
	updates := shareddata.Path(t, "mrt", "ryu", "ryu", "tests", "packet_data", "mrt", "updates.20161101.0000.bz2")
	const host = "route-views-test"
	dsn, database := storagetest.DSN(t), storagetest.Database(t)
	cfgFile := filepath.Join(t.TempDir(), "vantage.yaml")
	cfg := fmt.Sprintf("clickhouse: {dsn: %q, database: %s, flush_interval: 100ms, batch_size: 5000}\nlog: {level: warn}\n", dsn, database)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runMRTImport([]string{"-config", cfgFile, "-host", host, rib, updates}); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(t.Context(), storage.Config{DSN: dsn, Database: database}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lines := dumpLines(t, rib, updates)
	first, last := lineTime(t, lines[0]), lineTime(t, lines[len(lines)-1])
	check := func(path string) {
		t.Helper()
		for _, at := range []int64{first, first + (last-first)/3, first + 2*(last-first)/3, last} {
			want := ribModel(lines, at)
			if len(want) == 0 {
				t.Fatalf("the model has no routes at %d", at)
			}
			// The end of second at: the importer spreads one second's
			// messages over its microseconds, in file order.
			if got := storedState(t, db, host, time.Unix(at, 0).Add(time.Second-time.Microsecond)); !slices.Equal(got, want) {
				t.Errorf("%s: routes at %d: %d, want %d\n%s", path, at, len(got), len(want), diff(got, want))
			}
		}
	}
	check("from the events")
	// The same through a RIB snapshot taken halfway.
	if _, err := db.Snapshot(t.Context(), time.Unix(first+(last-first)/2, 0)); err != nil {
		t.Fatal(err)
	}
	check("through a snapshot")
	if got, want := storedState(t, db, host, time.Time{}), ribModel(lines, last); !slices.Equal(got, want) {
		t.Errorf("routes now: %d, want %d\n%s", len(got), len(want), diff(got, want))
	}

	// A later dump of the same peers that has only 1.0.4.0/24.
	later := filepath.Join(t.TempDir(), "rib.20161101.0010")
	smallerRIB(t, rib, later, uint32(last+600), func(p netip.Prefix) bool { return p == netip.MustParsePrefix("1.0.4.0/24") })
	if err := runMRTImport([]string{"-config", cfgFile, "-host", host, later}); err != nil {
		t.Fatal(err)
	}
	lines = append(lines, dumpLines(t, later)...)
	want := ribModel(lines, last+600)
	for _, peer := range []string{"202.249.2.86", "202.249.2.169"} {
		var kept []string
		for _, r := range want {
			if strings.HasPrefix(r, peer+" ") {
				kept = append(kept, r)
			}
		}
		if len(kept) != 1 || !strings.Contains(kept[0], " 1.0.4.0/24 ") {
			t.Fatalf("the model keeps %q of %s after the smaller dump, want 1.0.4.0/24 only", kept, peer)
		}
	}
	if got := storedState(t, db, host, time.Time{}); !slices.Equal(got, want) {
		t.Errorf("routes after the smaller dump: %d, want %d\n%s", len(got), len(want), diff(got, want))
	}
}

func lineTime(t *testing.T, line string) int64 {
	t.Helper()
	f := strings.Split(line, "|")
	if len(f) < 2 {
		t.Fatalf("bgpdump line %q", line)
	}
	ts, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatalf("bgpdump line %q: %v", line, err)
	}
	return ts
}

// diff lists up to 10 lines only in got and only in want.
func diff(got, want []string) string {
	var b strings.Builder
	n := 0
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok && n < 10 {
			fmt.Fprintf(&b, "  extra   %s\n", g)
			n++
		}
	}
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok && n < 20 {
			fmt.Fprintf(&b, "  missing %s\n", w)
			n++
		}
	}
	return b.String()
}
