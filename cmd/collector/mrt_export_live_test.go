package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/mrt"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// TestMRTExportLive: a BIRD peer of the built collector announces two
// IPv4 routes and an IPv6 one, withdraws the IPv4 ones and goes away. The
// updates exported for the whole time are exactly that (bgpdump -m: the
// session coming up, the announcements, the withdrawals, the session going
// down), with the collector's AS and its address of the session
// (127.0.0.1) as the local AS and address of every message and state
// change record (gobgp reads the -seconds export); the RIBs exported after the
// announcements and after the withdrawals hold the routes current then.
// The collector's rolling files (intervals shortened to 1 and 2 seconds)
// hold exactly those messages, and each bview the routes of its time.
func TestMRTExportLive(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	bgpdump := testpeer.Need(t, "bgpdump", "bgpdump")
	_, storeCfg := exportConfig(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/collector")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := storagetest.FreePort
	dir := t.TempDir()
	bgpPort := port()
	cfg := filepath.Join(dir, "vantage.yaml")
	body := fmt.Sprintf(`collector: {name: live, listen: "127.0.0.1:%d", metrics_listen: "", asn: 65000}
nats: {listen: "127.0.0.1:%d", store_dir: %q, spool_dir: %q}
clickhouse: {dsn: %q, database: %s, flush_interval: 200ms}
mrt: {dir: %q, updates_interval: 1s, rib_interval: 2s}
`, bgpPort, port(), filepath.Join(dir, "nats"), filepath.Join(dir, "spool"), storeCfg.DSN, storeCfg.Database, filepath.Join(dir, "mrt"))
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(t.Context(), storeCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	start := time.Now().Add(-time.Second)
	collector := startProc(t, dir, filepath.Join(bin, "collector"), "run", "-config", cfg)
	collector.waitFor(t, "collector: BGP on")
	bird := testpeer.StartBIRD(t, strings.NewReplacer("BIRDPORT", fmt.Sprint(port()), "COLLECTORPORT", fmt.Sprint(bgpPort)).Replace(clusterBIRD))

	routes := func() []string {
		var out []string
		_ = db.RIB(t.Context(), storage.RIBQuery{At: time.Now().Add(time.Hour), Host: "live"}, func(r *storage.Route) error {
			out = append(out, r.Prefix.String())
			return nil
		})
		return out
	}
	waitRoutes := func(want ...string) time.Time {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !slices.Equal(routes(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("stored routes %v, want %v\n%s", routes(), want, collector.out)
			}
			time.Sleep(100 * time.Millisecond)
		}
		return time.Now()
	}
	announced := waitRoutes("198.51.100.0/24", "203.0.113.0/25", "2001:db8:100::/48")
	time.Sleep(2 * time.Second) // a bview of this state
	disabling := time.Now()
	if _, err := bird.Ctl("disable", "static4"); err != nil {
		t.Fatal(err)
	}
	withdrawn := waitRoutes("2001:db8:100::/48")
	time.Sleep(2 * time.Second)
	stopping := time.Now()
	bird.Stop()
	waitRoutes()
	end := time.Now().Add(time.Second)
	time.Sleep(time.Second) // the writer's flush interval, and then some

	export := func(name string, args ...string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		if err := runMRTExport(append([]string{"-config", cfg, "-o", out}, args...)); err != nil {
			t.Fatal(err)
		}
		return out
	}
	window := []string{"-updates", "-from", start.Format(time.RFC3339Nano), "-to", end.Format(time.RFC3339Nano)}
	var got []string
	for _, l := range bgpdumpLines(t, bgpdump, export("updates.gz", window...)) {
		f := strings.Split(l, "|")
		if f[0] != "BGP4MP_ET" {
			t.Fatalf("not a BGP4MP_ET line: %s", l)
		}
		got = append(got, strings.Join(append(f[2:3], f[3:]...), "|"))
	}
	// One UPDATE may carry both IPv4 routes: their lines' order is the
	// message's, so compare the announcements and withdrawals as sets.
	want := []string{
		"STATE|127.0.0.11|65001|5|6",
		"A|127.0.0.11|65001|198.51.100.0/24|65001|IGP|192.0.2.11|0|0||NAG||",
		"A|127.0.0.11|65001|203.0.113.0/25|65001|IGP|192.0.2.11|0|0||NAG||",
		"A|127.0.0.11|65001|2001:db8:100::/48|65001|IGP|2001:db8::11|0|0||NAG||",
		"W|127.0.0.11|65001|198.51.100.0/24",
		"W|127.0.0.11|65001|203.0.113.0/25",
		"STATE|127.0.0.11|65001|6|1",
	}
	if len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] ||
		!sameSet(got[1:4], want[1:4]) || !sameSet(got[4:6], want[4:6]) {
		t.Errorf("bgpdump -m of the updates (times left out):\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// gobgp reads the BGP4MP (-seconds) export: the session's local AS is
	// the collector's, from its stored OPEN; both OPENs are there.
	data := gunzip(t, export("updates.seconds.gz", append(window, "-seconds")...))
	opens, messages, states := 0, 0, 0
	for off := 0; off < len(data); {
		var h mrt.MRTHeader
		if err := h.DecodeFromBytes(data[off:]); err != nil {
			t.Fatal(err)
		}
		end := off + mrt.MRT_COMMON_HEADER_LEN + int(h.Len)
		m, err := mrt.ParseMRTBody(&h, data[off+mrt.MRT_COMMON_HEADER_LEN:end])
		if err != nil {
			t.Fatalf("gobgp: record at byte %d: %v", off, err)
		}
		off = end
		if b, ok := m.Body.(*mrt.BGP4MPMessage); ok {
			messages++
			if b.LocalAS != 65000 || b.PeerAS != 65001 || b.PeerIpAddress.String() != "127.0.0.11" || b.LocalIpAddress.String() != "127.0.0.1" {
				t.Errorf("BGP4MP message: peer %s AS %d, local %s AS %d; want 127.0.0.11 AS 65001, 127.0.0.1 AS 65000",
					b.PeerIpAddress, b.PeerAS, b.LocalIpAddress, b.LocalAS)
			}
			if b.BGPMessage != nil && b.BGPMessage.Header.Type == 1 {
				opens++
			}
		}
		if b, ok := m.Body.(*mrt.BGP4MPStateChange); ok {
			states++
			if b.PeerIpAddress.String() != "127.0.0.11" || b.LocalIpAddress.String() != "127.0.0.1" {
				t.Errorf("BGP4MP state change: peer %s, local %s; want 127.0.0.11, 127.0.0.1 (the collector's address of the session)",
					b.PeerIpAddress, b.LocalIpAddress)
			}
		}
	}
	if states != 2 {
		t.Errorf("%d state changes, want the session coming up and going down", states)
	}
	if opens != 2 || messages < 5 {
		t.Errorf("%d OPENs among %d messages, want both OPENs and the UPDATEs", opens, messages)
	}

	for _, c := range []struct {
		at   time.Time
		want []string
	}{
		{announced, []string{"198.51.100.0/24", "203.0.113.0/25", "2001:db8:100::/48"}},
		{withdrawn, []string{"2001:db8:100::/48"}},
	} {
		lines := bgpdumpLines(t, bgpdump, export("bview.gz", "-rib", "-at", c.at.Format(time.RFC3339Nano)))
		var got []string
		for _, l := range lines {
			got = append(got, strings.Split(l, "|")[5])
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("RIB at %s: %v, want %v\n%s", c.at, got, c.want, strings.Join(lines, "\n"))
		}
	}

	// The rolling files: wait for the updates file of the second after
	// the session went down (written 5.2 s after its end).
	month := filepath.Join(dir, "mrt", "live", end.UTC().Format("2006.01"))
	last := filepath.Join(month, "updates."+end.UTC().Truncate(time.Second).Format("20060102.150405")+".gz")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := os.Stat(last); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s\n%s", last, collector.out)
		}
	}
	collector.stop(t)
	files, err := filepath.Glob(filepath.Join(month, "*.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var rolled []string
	bviews := 0
	for _, f := range files { // in time order within each kind: the names sort so
		name := filepath.Base(f)
		ft, err := time.Parse("20060102.150405", strings.TrimSuffix(name[strings.Index(name, ".")+1:], ".gz"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lines := bgpdumpLines(t, bgpdump, f)
		if strings.HasPrefix(name, "updates.") {
			for _, l := range lines {
				f := strings.Split(l, "|")
				if sec, _, _ := strings.Cut(f[1], "."); sec != strconv.FormatInt(ft.Unix(), 10) {
					t.Errorf("%s holds a line of another second: %s", name, l)
				}
				rolled = append(rolled, strings.Join(f[2:], "|"))
			}
			continue
		}
		var prefixes []string
		for _, l := range lines {
			prefixes = append(prefixes, strings.Split(l, "|")[5])
		}
		var want []string
		switch {
		case !ft.Before(announced) && ft.Before(disabling):
			want = []string{"198.51.100.0/24", "203.0.113.0/25", "2001:db8:100::/48"}
		case !ft.Before(withdrawn) && ft.Before(stopping):
			want = []string{"2001:db8:100::/48"}
		default:
			continue // a time of change
		}
		bviews++
		if !slices.Equal(prefixes, want) {
			t.Errorf("%s: %v, want %v", name, prefixes, want)
		}
	}
	if !slices.Equal(rolled, got) {
		t.Errorf("the rolling updates files together:\n%s\nwant the export's\n%s", strings.Join(rolled, "\n"), strings.Join(got, "\n"))
	}
	if bviews < 2 {
		t.Errorf("%d bviews of a settled state among %d files", bviews, len(files))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func gunzip(t *testing.T, file string) []byte {
	t.Helper()
	out, err := exec.Command("gzip", "-dc", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(out)
}
