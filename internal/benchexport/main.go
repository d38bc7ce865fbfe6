// Command benchexport compares the MRT export of a RIB with bgpdump
// reading it back (issue 11): it writes a synthetic TABLE_DUMP_V2 RIB of
// -routes entries (-peers peers sharing one prefix set made by
// internal/replay's Synthetic table), imports it with `collector mrt
// import` into a private clickhouse-server, then, in interleaved rounds,
// runs `collector mrt export -rib -at T -o X.gz` as a whole process and
// `bgpdump -m X.gz` (output to /dev/null) on the file that export wrote.
// It reports per round the wall time and CPU time of each process (for
// the export also the clickhouse-server's CPU meanwhile) and the ratio of
// the export's wall time to bgpdump's, and the medians at the end.
//
// scripts/bench-export.sh builds the collector and runs it:
//
//	go run ./internal/benchexport -collector bin/collector -rounds 5
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/freeport"
	"github.com/vantage-bgp/vantage/internal/replay"
	"github.com/vantage-bgp/vantage/storage"
)

// dumpTime is the synthetic dump's time; the export is of the RIB a
// minute later.
var dumpTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	bin := flag.String("collector", "bin/collector", "the collector `binary`")
	rounds := flag.Int("rounds", 5, "rounds (0: start the store, import, and wait for an interrupt); each runs the export, then bgpdump on its file (odd rounds) or bgpdump on the previous file, then the export (even rounds)")
	routes := flag.Int("routes", 1_000_000, "RIB `entries` in all")
	peers := flag.Int("peers", 10, "`peers`, each with a route for every prefix (routes/peers prefixes)")
	v6 := flag.Float64("v6", 0.15, "`share` of IPv6 prefixes")
	profile := flag.String("cpuprofile", "", "write the export's CPU profile of the last round to `file`")
	keep := flag.String("keep", "", "keep the last export in this `file`")
	store := flag.String("store", "", "keep ClickHouse's data in this `directory`, and reuse a RIB imported there by an earlier run with the same -routes, -peers and -v6")
	flag.Parse()
	if err := run(*bin, *rounds, *routes, *peers, *v6, *profile, *keep, *store); err != nil {
		fmt.Fprintln(os.Stderr, "benchexport:", err)
		os.Exit(1)
	}
}

func run(bin string, rounds, routes, peers int, v6 float64, profile, keep, store string) error {
	bgpdump, err := exec.LookPath("bgpdump")
	if err != nil {
		return errors.New("bgpdump is not installed (make deps-test)")
	}
	if peers < 1 || peers > 1000 || routes < peers {
		return fmt.Errorf("-peers %d -routes %d: want 1 to 1000 peers and at least a route each", peers, routes)
	}
	dir, err := os.MkdirTemp("", "vantage-bench-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	chDir := filepath.Join(dir, "clickhouse")
	if store != "" {
		chDir = store
	}
	database := fmt.Sprintf("bench_export_%d_%d_%d", routes, peers, int(v6*1000))
	tcpPort, err := freeport.Get()
	if err != nil {
		return err
	}
	httpPort, err := freeport.Get()
	if err != nil {
		return err
	}
	ch, err := storage.StartServer(ctx, storage.ServerConfig{DataDir: chDir, TCPPort: tcpPort, HTTPPort: httpPort, ExitWithStarter: true}, nil)
	if err != nil {
		return fmt.Errorf("clickhouse-server: %w", err)
	}
	defer ch.Close()
	chPID, ok := storage.ServerPID(chDir)
	if !ok {
		return errors.New("clickhouse-server: no PID in its status file")
	}
	cfg := filepath.Join(dir, "vantage.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "clickhouse: {dsn: %q, database: %s}\nlog: {level: warn}\n", ch.DSN(), database), 0o644); err != nil {
		return err
	}
	// An import that completed leaves this mark in a kept store.
	imported := filepath.Join(chDir, database+".imported")
	if _, err := os.Stat(imported); err == nil {
		fmt.Printf("synthetic RIB: imported by an earlier run (%s)\n", imported)
	} else {
		start := time.Now()
		dump := filepath.Join(dir, "bview.synthetic.mrt")
		n, err := writeRIB(dump, routes/peers, peers, v6)
		if err != nil {
			return err
		}
		fmt.Printf("synthetic RIB: %d entries (%d peers x %d prefixes, %.0f%% IPv6) written in %s\n",
			n, peers, routes/peers, v6*100, time.Since(start).Round(time.Millisecond))
		start = time.Now()
		if out, err := exec.Command(bin, "mrt", "import", "-config", cfg, "-host", "rrc-bench", dump).CombinedOutput(); err != nil {
			return fmt.Errorf("collector mrt import: %v\n%s", err, out)
		}
		fmt.Printf("imported with collector mrt import in %s\n", time.Since(start).Round(time.Millisecond))
		os.Remove(dump)
		if store != "" {
			if err := os.WriteFile(imported, nil, 0o644); err != nil {
				return err
			}
		}
	}

	at := dumpTime.Add(time.Minute).Format(time.RFC3339)
	if rounds == 0 {
		// For experiments: the store stays up until interrupted.
		fmt.Printf("-rounds 0: clickhouse-server at %s (database %s), config %s; the RIB's time is %s; interrupt to stop\n", ch.DSN(), database, cfg, at)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		return nil
	}
	out := filepath.Join(dir, "bview.gz")
	export := func(round int) (sample, error) {
		args := []string{"mrt", "export", "-config", cfg, "-rib", "-at", at, "-o", out}
		if profile != "" && round == rounds {
			args = append(args, "-cpuprofile", profile)
		}
		ch0 := pidCPU(chPID)
		s, err := timed(exec.Command(bin, args...))
		s.other = pidCPU(chPID) - ch0
		return s, err
	}
	dumpRead := func() (sample, error) {
		c := exec.Command(bgpdump, "-m", out)
		var stderr bytes.Buffer
		c.Stderr = &stderr
		lines := &lineCounter{}
		c.Stdout = lines
		s, err := timed(c)
		if err == nil && lines.n != routes/peers*peers {
			return s, fmt.Errorf("bgpdump -m printed %d lines, want %d", lines.n, routes/peers*peers)
		}
		for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			if l != "" && !strings.Contains(l, "logging to syslog") {
				return s, fmt.Errorf("bgpdump warns: %s", l)
			}
		}
		return s, err
	}
	// A first export, not counted: the file bgpdump reads in an even
	// round before that round's export, and ClickHouse's caches warm.
	if _, err := export(0); err != nil {
		return err
	}
	if fi, err := os.Stat(out); err == nil {
		fmt.Printf("export file: %.1f MB (gzip)\n", float64(fi.Size())/1e6)
	}
	fmt.Printf("%-6s %-28s %-28s %s\n", "round", "export: wall, CPU (+CH CPU)", "bgpdump -m: wall, CPU", "export/bgpdump")
	var ratios, ews, bws []float64
	for r := 1; r <= rounds; r++ {
		var e, b sample
		var err error
		if r%2 == 1 {
			if e, err = export(r); err == nil {
				b, err = dumpRead()
			}
		} else {
			if b, err = dumpRead(); err == nil {
				e, err = export(r)
			}
		}
		if err != nil {
			return err
		}
		ratio := e.wall.Seconds() / b.wall.Seconds()
		ratios, ews, bws = append(ratios, ratio), append(ews, e.wall.Seconds()), append(bws, b.wall.Seconds())
		fmt.Printf("%-6d %-28s %-28s %.2f\n", r,
			fmt.Sprintf("%.2f s, %.2f s (+%.2f s)", e.wall.Seconds(), e.cpu, e.other),
			fmt.Sprintf("%.2f s, %.2f s", b.wall.Seconds(), b.cpu), ratio)
	}
	fmt.Printf("median: export %.2f s, bgpdump -m %.2f s, ratio %.2f (%.2f-%.2f)\n",
		median(ews), median(bws), median(ratios), slices.Min(ratios), slices.Max(ratios))
	if keep != "" {
		if err := copyFile(out, keep); err != nil {
			return err
		}
	}
	return nil
}

// sample is one process's wall time and CPU time (user and system,
// seconds); other is CPU of another process meanwhile.
type sample struct {
	wall       time.Duration
	cpu, other float64
}

// timed runs c (its standard output to /dev/null unless set).
func timed(c *exec.Cmd) (sample, error) {
	if c.Stderr == nil {
		var stderr bytes.Buffer
		c.Stderr = &stderr
		defer func() {
			if s := stderr.String(); strings.Contains(s, "error") {
				fmt.Fprint(os.Stderr, s)
			}
		}()
	}
	start := time.Now()
	err := c.Run()
	s := sample{wall: time.Since(start)}
	if c.ProcessState != nil {
		s.cpu = (c.ProcessState.UserTime() + c.ProcessState.SystemTime()).Seconds()
	}
	if err != nil {
		return s, fmt.Errorf("%s: %w", strings.Join(c.Args, " "), err)
	}
	return s, nil
}

// writeRIB writes a TABLE_DUMP_V2 RIB to path: a synthetic table of
// prefixes, every peer with a route for each, and returns the entries
// written. Peer i's route of a prefix has the attributes of the table's
// path group i places further (within the family), so that peers differ
// as real ones do.
func writeRIB(path string, prefixes, peers int, v6 float64) (int, error) {
	t := replay.Synthetic(prefixes, v6, 1)
	type route struct {
		f      bgpwire.Family
		p      netip.Prefix
		groups [2]int // the group's index in its family's list
	}
	var byFam [2][]*replay.Group
	var rs []route
	for _, g := range t.Groups {
		fi := 0
		if g.Family == bgpwire.IPv6Unicast {
			fi = 1
		}
		byFam[fi] = append(byFam[fi], g)
		for _, p := range g.Prefixes {
			rs = append(rs, route{f: g.Family, p: p, groups: [2]int{fi, len(byFam[fi]) - 1}})
		}
	}
	slices.SortFunc(rs, func(a, b route) int {
		if a.p.Addr().Is4() != b.p.Addr().Is4() {
			if a.p.Addr().Is4() {
				return -1
			}
			return 1
		}
		return cmp.Or(a.p.Addr().Compare(b.p.Addr()), a.p.Bits()-b.p.Bits())
	})
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bgpwire.NewMRTWriter(f)
	ts := uint32(dumpTime.Unix())
	ps := make([]bgpwire.MRTPeer, peers)
	for i := range ps {
		ps[i] = bgpwire.MRTPeer{
			Addr:  netip.AddrFrom4([4]byte{198, 51, byte(100 + i/250), byte(1 + i%250)}),
			BGPID: netip.AddrFrom4([4]byte{198, 51, byte(100 + i/250), byte(1 + i%250)}),
			ASN:   uint32(1000 + i),
		}
	}
	if err := w.WritePeerIndexTable(ts, netip.MustParseAddr("192.0.2.254"), "", ps); err != nil {
		return 0, err
	}
	entries := make([]bgpwire.RIBEntry, peers)
	n := 0
	for seq, r := range rs {
		gs := byFam[r.groups[0]]
		for i := range entries {
			g := gs[(r.groups[1]+i*7919)%len(gs)]
			entries[i] = bgpwire.RIBEntry{PeerIndex: uint16(i), OriginatedTime: ts - uint32(3600+(seq*31+i*17)%86400), Attrs: g.Attrs}
		}
		if err := w.WriteRIB(ts, uint32(seq), r.f, r.p, entries); err != nil {
			return n, err
		}
		n += len(entries)
	}
	return n, f.Close()
}

// pidCPU is the CPU time (user and system) of a process, in seconds.
func pidCPU(pid int) float64 {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // clock ticks
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// lineCounter counts the lines written to it.
type lineCounter struct{ n int }

func (c *lineCounter) Write(b []byte) (int, error) {
	c.n += bytes.Count(b, []byte{'\n'})
	return len(b), nil
}
