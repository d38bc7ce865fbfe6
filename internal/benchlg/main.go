// Command benchlg measures the looking glass at RIS scale (issue 10): it
// builds a data set of 10M current routes (20 peers × 500k) and 100M
// history rows in a dedicated local ClickHouse, then measures the
// latency (p50, p99 over 1,000 random queries each) of the storage
// functions lg calls, while 20k events/s are stored through the
// collector's insert path; the bytes on disk per stored event beside the
// gzipped MRT bytes of the same updates; and the rate of inserting into
// the real tables beside clickhouse-go inserting the same rows into an
// ENGINE = Null table.
//
// The data set is made of the shared RIB dumps (../shared/data): their
// prefixes, prefix lengths, AS paths and communities, read with the
// project's MRT reader. The prefixes are the RIBs' own and copies of them
// moved to other address space with their lengths (and their own origin
// AS), until each peer has -routes; each peer's route to a prefix takes
// the attributes of one of the RIB peers' views of it, with the peer's AS
// first. The current table is stored through storage's DB.Insert, as the
// collector's log consumer stores events (route_events, routes_current
// through its materialized view, peer_events, peer_seen); the older
// history is grown in ClickHouse with INSERT ... SELECT: full-table copies
// of the current rows moved back in time (after session resets of a
// third of the peers) with a share of the routes withdrawn between copies,
// so that the state at a time T differs from now. The data set is kept
// in -data and reused by later runs with the same parameters.
//
// scripts/bench-lg.sh builds and runs it:
//
//	scripts/bench-lg.sh                        # full scale, as the issue says
//	scripts/bench-lg.sh -routes 100k -history 1M -queries 200
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

// count is a flag of a number that may end in k or M.
type count int

func (c *count) String() string { return strconv.Itoa(int(*c)) }
func (c *count) Set(s string) error {
	mult := 1
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1_000, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "M"):
		mult, s = 1_000_000, strings.TrimSuffix(s, "M")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("want a number such as 500000, 500k or 1M")
	}
	*c = count(v * float64(mult))
	return nil
}

type config struct {
	dataDir     string
	tcpPort     int
	httpPort    int
	rebuild     bool
	migrate     bool
	httpClients int
	httpFor     time.Duration
	shared      string
	ribs        string
	updates     string
	p           params
	queries     int
	warmup      int
	budget      time.Duration
	timeout     time.Duration
	ingestRate  int
	ingestRaw   bool
	memoryRIB   bool
	perEvent    int
	flushEvery  time.Duration
	insertRound int
	settle      time.Duration
	only        string
	snapEvery   time.Duration
}

func main() {
	var c config
	routes, history, rate := count(500_000), count(100_000_000), count(20_000)
	queries := count(1000)
	flag.StringVar(&c.dataDir, "data", ".cache/benchlg", "data `dir` of the dedicated clickhouse-server; the data set is kept there for later runs")
	flag.IntVar(&c.tcpPort, "tcp-port", 19310, "native `port` of the dedicated server")
	flag.IntVar(&c.httpPort, "http-port", 18310, "HTTP `port` of the dedicated server")
	flag.BoolVar(&c.rebuild, "rebuild", false, "build the data set again even if -data holds one with the same parameters")
	flag.IntVar(&c.httpClients, "http-clients", 8, "after the queries, this many `clients` ask lg over HTTP for longest matches (0: none)")
	flag.DurationVar(&c.httpFor, "http-for", 30*time.Second, "for this `time`")
	flag.BoolVar(&c.migrate, "migrate", false, "a data set of an older schema version is migrated (by storage.Open, as a store would be) instead of built again")
	flag.StringVar(&c.shared, "shared", "", "the shared data `dir` (default $VANTAGE_SHARED_DATA, else ../shared/data)")
	flag.StringVar(&c.ribs, "ribs", strings.Join(defaultRIBs, ","), "comma-separated RIB `files` (relative to -shared) the data set is made of")
	flag.StringVar(&c.updates, "updates", "mrt/mrt-rs/res/updates.20190101.0000.gz", "RIS updates `file` (relative to -shared) for the bytes-on-disk and insert-rate comparisons")
	flag.IntVar(&c.p.Peers, "peers", 20, "peers")
	flag.Var(&routes, "routes", "current routes per peer (`n`, k and M suffixes)")
	flag.Var(&history, "history", "rows of route_events in all, current table included (`n`)")
	flag.IntVar(&c.p.HistoryDays, "history-days", 180, "the history spans this many `days` before the current table")
	flag.Float64Var(&c.p.Churn, "churn", 0.1, "share of the routes withdrawn (and announced again) between two history copies (adjusted to hit -history)")
	flag.Float64Var(&c.p.V6Share, "v6-share", 0.18, "share of IPv6 prefixes")
	flag.Uint64Var(&c.p.Seed, "seed", 1, "seed of the data set and of the queries")
	flag.Var(&queries, "queries", "queries of each kind (`n`)")
	flag.IntVar(&c.warmup, "warmup", 10, "uncounted queries of each kind first")
	flag.DurationVar(&c.budget, "budget", 5*time.Minute, "stop a kind's queries after this `time` (the report says how many ran)")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Second, "per query, as lg's query_timeout")
	flag.Var(&rate, "ingest", "events per second stored while the queries run (0: none)")
	flag.BoolVar(&c.memoryRIB, "memory-rib", true, "load the current routes into lg's memory RIB (lg.memory_rib, its default), apply the ingest's events to it as lg applies the log's, and measure its longest match too")
	flag.BoolVar(&c.ingestRaw, "ingest-raw", true, "the ingested UPDATEs are stored with their message, as with collector.store_raw on (its default)")
	flag.IntVar(&c.perEvent, "routes-per-event", 3, "average routes per ingested UPDATE (RIS updates carry about 3)")
	flag.DurationVar(&c.flushEvery, "flush", time.Second, "the ingest inserts what accumulated this often (clickhouse.flush_interval)")
	flag.IntVar(&c.insertRound, "insert-rounds", 7, "interleaved rounds of the insert-rate comparison")
	flag.DurationVar(&c.settle, "settle", 15*time.Minute, "after a build, wait at most this long for ClickHouse's merges to finish")
	flag.DurationVar(&c.snapEvery, "snapshot-interval", 8*time.Hour, "clickhouse.snapshot_interval: after the build, one RIB snapshot at the latest multiple of it (0: none)")
	flag.StringVar(&c.only, "only", "", "comma-separated parts to run: queries, bytes, export (default all three); build: only build (or restore) the data set")
	flag.Parse()
	c.p.Routes, c.p.History, c.ingestRate, c.queries = int(routes), int(history), int(rate), int(queries)
	if c.shared == "" {
		c.shared = os.Getenv("VANTAGE_SHARED_DATA")
		if c.shared == "" {
			c.shared = filepath.Join("..", "shared", "data")
		}
	}
	if os.Getenv("GOGC") == "" {
		// As collector run and collector store set it: DB.Insert runs
		// there with it.
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchlg:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, out io.Writer) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "benchlg: %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	if _, err := os.Stat(c.shared); err != nil {
		return fmt.Errorf("shared data not found at %s (set -shared or VANTAGE_SHARED_DATA): %w", c.shared, err)
	}
	c.p.RawMessages = true
	for _, r := range strings.Split(c.ribs, ",") {
		c.p.RIBs = append(c.p.RIBs, strings.TrimSpace(r))
	}
	want := map[string]bool{"queries": true, "bytes": true, "export": true}
	if c.only != "" {
		want = map[string]bool{}
		for _, p := range strings.Split(c.only, ",") {
			want[strings.TrimSpace(p)] = true
		}
	}

	if err := os.MkdirAll(c.dataDir, 0o755); err != nil {
		return err
	}
	if err := writeUsersFile(c.dataDir); err != nil {
		return err
	}
	const dbName = "benchlg"
	meter := &cpuMeter{pids: []int{os.Getpid()}}
	metaPath := filepath.Join(c.dataDir, metaFile)
	restored := false
	// migrating: a data set of an older schema, to migrate (-migrate).
	migrating := false
	if m, err := loadMeta(metaPath); err == nil && c.migrate && !c.rebuild && sameParams(m.Params, c.p) && m.SchemaVersion < schema.Version() {
		migrating = true
	}
	if m, err := loadMeta(metaPath); err == nil && !c.rebuild && sameParams(m.Params, c.p) && (m.SchemaVersion == schema.Version() || migrating) && haveSnapshot(c.dataDir, dbName) {
		if err := restoreSnapshot(c.dataDir, dbName); err != nil {
			logf("not restoring the data set as built (what earlier runs ingested stays): %v", err)
		} else {
			restored = true
		}
	}
	cfg := storage.Config{Database: dbName, Server: storage.ServerConfig{DataDir: c.dataDir, TCPPort: c.tcpPort, HTTPPort: c.httpPort, ExitWithStarter: true}}
	// A data set to build again is dropped before storage.Open, which
	// would first migrate it to the current schema (copying the history).
	if m, err := loadMeta(metaPath); !migrating && (err != nil || c.rebuild || !sameParams(m.Params, c.p) || m.SchemaVersion != schema.Version()) {
		if err := dropBefore(ctx, cfg.Server, c.dataDir, dbName); err != nil {
			return err
		}
	}
	db, err := storage.Open(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := openAdmin(db.Server().Addr(), c.dataDir, dbName)
	if err != nil {
		return err
	}
	defer a.conn.Close()
	if pid, ok := storage.ServerPID(c.dataDir); ok {
		meter.pids = append(meter.pids, pid)
	}

	t := time.Now()
	var paths []string
	for _, r := range c.p.RIBs {
		paths = append(paths, filepath.Join(c.shared, r))
	}
	pool, err := loadPool(paths)
	if err != nil {
		return err
	}
	d, err := genDataset(pool, c.p.Peers, c.p.Routes, c.p.V6Share, c.p.Seed)
	if err != nil {
		return err
	}
	poolTime := time.Since(t)
	logf("RIBs: %d entries, %d prefixes, %d peers read in %v; data set: %d peers × %d prefixes, %d origin ASNs",
		pool.entries, len(pool.templates), len(pool.peers), poolTime.Round(time.Millisecond), len(d.peers), len(d.slots), len(d.origins))

	// The data set: reuse, or (re)build.
	fp, err := schemaPrint(ctx, a, dbName)
	if err != nil {
		return err
	}
	m, err := loadMeta(metaPath)
	reason := ""
	switch {
	case c.rebuild:
		reason = "-rebuild"
	case err != nil:
		reason = "no data set in " + c.dataDir
	case !sameParams(m.Params, c.p):
		reason = "other parameters"
	case migrating:
		// storage.Open migrated it: it is the data set of this schema now.
		logf("data set migrated from schema version %d to %d", m.SchemaVersion, schema.Version())
		m.Schema, m.SchemaVersion = fp, schema.Version()
		if err := takeSnapshot(ctx, a, c.dataDir, dbName); err != nil {
			return err
		}
		if err := saveMeta(metaPath, m); err != nil {
			return err
		}
	case m.Schema != fp || m.SchemaVersion != schema.Version():
		reason = "the schema changed"
	}
	built := false
	if reason != "" {
		logf("building the data set (%s)", reason)
		os.Remove(metaPath)
		if err := a.exec(ctx, "DROP DATABASE IF EXISTS "+dbName); err != nil {
			return err
		}
		// A fresh database with the tables (the old handle keeps the
		// server in use meanwhile).
		old := db
		if db, err = storage.Open(ctx, cfg, nil); err != nil {
			return err
		}
		defer db.Close()
		old.Close()
		a.conn.Close()
		if a, err = openAdmin(db.Server().Addr(), c.dataDir, dbName); err != nil {
			return err
		}
		defer a.conn.Close()
		m = plan(c.p, len(d.slots), time.Now())
		r0 := meter.read()
		if err := build(ctx, db, a, dbName, d, m, c.settle, c.snapEvery, logf); err != nil {
			return fmt.Errorf("build: %w", err)
		}
		m.Build.Pool = poolTime
		m.Build.CPU = meter.since(r0)
		if m.Schema, err = schemaPrint(ctx, a, dbName); err != nil {
			return err
		}
		m.SchemaVersion = schema.Version()
		if err := takeSnapshot(ctx, a, c.dataDir, dbName); err != nil {
			return err
		}
		if err := saveMeta(metaPath, m); err != nil {
			return err
		}
		built = true
		logf("data set built in %v (merges settled in %v)", m.Build.Total.Round(time.Second), m.Build.Settle.Round(time.Second))
	} else {
		how := "as built (snapshot restored)"
		if !restored {
			how = "with what earlier runs ingested (no snapshot restored)"
		}
		logf("reusing the data set in %s (built %s), %s; waiting for merges", c.dataDir, m.Build.Start.Format(time.RFC3339), how)
		if _, err := a.settle(ctx, dbName, c.settle); err != nil {
			return err
		}
	}

	// The insert comparison first, while the server is quiet (the data
	// set's merges settled, no ingest); then the queries under the ingest.
	var updates *updatesFile
	var store *storeResult
	if want["bytes"] {
		if updates, err = readUpdates(filepath.Join(c.shared, c.updates)); err != nil {
			return err
		}
		if store, err = storeBench(ctx, a, meter, updates, c.insertRound, logf); err != nil {
			return err
		}
		if err := a.exec(ctx, "DROP DATABASE IF EXISTS "+nullDB); err != nil {
			return err
		}
		updates.events = nil
		runtime.GC()
	}

	rep := &report{cfg: c, meta: m, built: built, restored: restored, dataset: d, updates: updates, store: store}
	if want["export"] {
		if rep.export, err = exportBench(ctx, db, m, meter, c.dataDir, logf); err != nil {
			return err
		}
	}
	if rep.tables, err = tableStats(ctx, a, dbName); err != nil {
		return err
	}
	rep.diskUse = dirSize(c.dataDir)
	if err := a.conn.QueryRow(ctx, "SELECT version()").Scan(&rep.version); err != nil {
		return err
	}

	if want["queries"] {
		if err := runQueries(ctx, c, db, a, meter, dbName, d, m, rep, logf); err != nil {
			return err
		}
	}
	rep.print(out)

	// Give the disk back: what this run ingested (and the parts its
	// merges left behind) goes, the data set as built stays.
	a.conn.Close()
	db.Close()
	if haveSnapshot(c.dataDir, dbName) {
		for i := 0; i < 60; i++ {
			if pid, ok := storage.ServerPID(c.dataDir); !ok || !processAlive(pid) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err := restoreSnapshot(c.dataDir, dbName); err != nil {
			logf("the data set stays as this run left it: %v", err)
		} else {
			logf("data set reset to its snapshot: %s on disk in %s", human(dirSize(c.dataDir)), c.dataDir)
		}
	}
	return nil
}

// dropBefore drops the data set's database, if the server holds one,
// through a server handle of its own.
func dropBefore(ctx context.Context, sc storage.ServerConfig, dataDir, dbName string) error {
	srv, err := storage.StartServer(ctx, sc, nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	a, err := openAdmin(srv.Addr(), dataDir, "default")
	if err != nil {
		return err
	}
	defer a.conn.Close()
	return a.exec(ctx, "DROP DATABASE IF EXISTS "+dbName)
}

// runQueries measures every kind while the ingester runs, then reads the
// query log.
func runQueries(ctx context.Context, c config, db *storage.DB, a *admin, meter *cpuMeter, dbName string, d *dataset, m *meta, rep *report, logf func(string, ...any)) error {
	var rib *storage.LiveRIB
	if c.memoryRIB {
		logf("loading the memory RIB")
		var err error
		if rib, rep.rib, err = loadRIB(ctx, db); err != nil {
			return err
		}
		logf("memory RIB: %d routes (%d prefixes, %d attribute sets) in %v, %.0f MB of heap (%.0f B/route)", rep.rib.stats.Routes, rep.rib.stats.Prefixes,
			rep.rib.stats.AttrSets, rep.rib.took.Round(time.Millisecond), float64(rep.rib.heap)/1e6, float64(rep.rib.heap)/float64(max(rep.rib.stats.Routes, 1)))
	}
	var in *ingester
	ictx, stopIngest := context.WithCancel(ctx)
	defer stopIngest()
	done := make(chan struct{})
	if c.ingestRate > 0 {
		seqs, err := lastSeqs(ctx, a, m)
		if err != nil {
			return err
		}
		in = newIngester(db, d, seqs, c.ingestRate, c.perEvent, c.flushEvery)
		in.noRaw = !c.ingestRaw
		in.rib = rib
		go func() {
			defer close(done)
			in.run(ictx, c.p.Seed+uint64(time.Now().UnixNano()))
		}()
		time.Sleep(2 * c.flushEvery) // the first inserts are under way
	} else {
		close(done)
	}
	for i, k := range queryKinds(db, rib, d, m) {
		logf("measuring %s (%d queries)", k.name, c.queries)
		before, t0, r0 := int64(0), time.Now(), meter.read()
		if in != nil {
			before = in.stored.Load()
		}
		l := measure(ctx, k, c.queries, c.warmup, c.budget, c.timeout, c.p.Seed+uint64(i), func() time.Duration { return a.waitIdle(ctx, 2*time.Minute) })
		l.cpu = meter.since(r0)
		if in != nil {
			l.ingested, l.ingestFor = in.stored.Load()-before, time.Since(t0)
		}
		rep.latencies = append(rep.latencies, l)
		msg := ""
		if l.firstErr != nil {
			msg = fmt.Sprintf(", %d errors, the first: %v", l.errors, l.firstErr)
		}
		logf("%s: %d queries, p50 %v, p99 %v%s", k.name, len(l.durations), l.quantile(0.5).Round(time.Microsecond), l.quantile(0.99).Round(time.Microsecond), msg)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if c.httpClients > 0 {
		// lg over HTTP, under the same ingest.
		base, stop, err := startLG(db, rib)
		if err != nil {
			return err
		}
		logf("measuring lg over HTTP: %d clients for %v", c.httpClients, c.httpFor)
		r0 := meter.read()
		rep.http = httpLoad(ctx, base, d, c.httpClients, c.httpFor, c.p.Seed)
		rep.http.cpu = meter.since(r0)
		stop()
		logf("lg over HTTP: %d requests in %v (%.0f/s), p50 %v, p99 %v, %d errors", len(rep.http.durations), rep.http.took.Round(time.Millisecond),
			float64(len(rep.http.durations))/rep.http.took.Seconds(), rep.http.quantile(0.5).Round(time.Microsecond), rep.http.quantile(0.99).Round(time.Microsecond), rep.http.errors)
		if rep.http.firstErr != nil {
			logf("lg over HTTP: the first error: %v", rep.http.firstErr)
		}
	}
	stopIngest()
	<-done
	rep.ingest = in
	// The query log is flushed every 7.5 s.
	if err := a.exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
		time.Sleep(8 * time.Second)
	}
	for _, l := range rep.latencies {
		st, err := phaseStatements(ctx, a, l.from, l.to)
		if err != nil {
			logf("query log: %v", err)
			break
		}
		rep.statements = append(rep.statements, st)
	}
	return nil
}

// tableStats is the active parts of the data set's tables.
func tableStats(ctx context.Context, a *admin, dbName string) (map[string]partStats, error) {
	tables, err := a.tables(ctx, dbName)
	if err != nil {
		return nil, err
	}
	out := map[string]partStats{}
	for n, e := range tables {
		if strings.HasSuffix(e, "MergeTree") {
			if out[n], err = a.parts(ctx, dbName, n); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// dirSize is the disk space of the files under dir, each hard-linked
// file once (the snapshot shares its files with the live tables).
func dirSize(dir string) int64 {
	var n int64
	seen := map[uint64]bool{}
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
			n += st.Blocks * 512
			return nil
		}
		n += info.Size()
		return nil
	})
	return n
}

// report is everything printed at the end.
type report struct {
	cfg        config
	meta       *meta
	built      bool
	restored   bool
	dataset    *dataset
	tables     map[string]partStats
	diskUse    int64
	version    string
	latencies  []*latency
	http       *httpResult
	rib        ribLoad
	statements [][]statementStats
	ingest     *ingester
	updates    *updatesFile
	store      *storeResult
	export     *exportResult
}

func (r *report) print(w io.Writer) {
	m := r.meta
	fmt.Fprintf(w, "\n## benchlg: looking glass at RIS scale (issue 10)\n\n")
	fmt.Fprintf(w, "command: %s\n", commandLine())
	fmt.Fprintf(w, "machine: %d CPUs; ClickHouse %s; %s\n\n", numCPU(), r.version, time.Now().UTC().Format(time.RFC3339))

	p := m.Params
	fmt.Fprintf(w, "### Data set\n\n")
	v4, v6, n4, n6 := r.dataset.lengthShares()
	fmt.Fprintf(w, "- %d peers × %d prefixes (%d IPv4, %d IPv6; %d origin ASNs) from %d RIB entries of %d shared RIB dumps\n",
		p.Peers, len(r.dataset.slots), n4, n6, len(r.dataset.origins), r.dataset.pool.entries, len(p.RIBs))
	fmt.Fprintf(w, "- prefix lengths, IPv4: %s; IPv6: %s\n", topShares(v4, 5), topShares(v6, 4))
	fmt.Fprintf(w, "- history: %d full-table copies over %d days before the current table, %.1f%% of the routes withdrawn between copies; session resets of ~30%% of the peers before each copy\n",
		m.Copies, p.HistoryDays, 100*m.CopyChurn)
	built := "reused, with what earlier runs ingested"
	switch {
	case r.built:
		built = "built in this run"
	case r.restored:
		built = "reused as built: snapshot restored"
	}
	b := m.Build
	fmt.Fprintf(w, "- build (%s, %s): %v in all: RIBs read %v, base table %d rows through DB.Insert %v (%.0f rows/s), history to %d rows by INSERT ... SELECT %v, merges settled %v\n",
		built, b.Start.Format("2006-01-02 15:04"), b.Total.Round(time.Second), b.Pool.Round(time.Second), b.BaseRows, b.Base.Round(time.Second), b.BaseInsertRate,
		b.HistoryRows, b.History.Round(time.Second), b.Settle.Round(time.Second))
	switch {
	case m.SnapErr != "":
		fmt.Fprintf(w, "- RIB snapshot (storage.DB.Snapshot, as RunSnapshots makes every %v): **failed** after %v: %s\n", r.cfg.snapEvery, m.SnapTook.Round(time.Millisecond), m.SnapErr)
	case m.SnapUS != 0:
		fmt.Fprintf(w, "- RIB snapshot (storage.DB.Snapshot, as RunSnapshots makes every %v) at %s: %d routes in %v\n", r.cfg.snapEvery,
			time.UnixMicro(m.SnapUS).UTC().Format(time.RFC3339), m.SnapRoutes, m.SnapTook.Round(time.Millisecond))
	}
	if r.cfg.snapEvery > 0 {
		n := int64(p.HistoryDays) * 24 * int64(time.Hour) / int64(r.cfg.snapEvery)
		fmt.Fprintf(w, "- a store that made a snapshot every %v over these %d days would hold %d of them: %d × %d routes = %.1f G rows in rib_snapshots, %.0fx the history; this one holds one\n",
			r.cfg.snapEvery, p.HistoryDays, n, n, p.Peers*p.Routes, float64(n)*float64(p.Peers*p.Routes)/1e9, float64(n)*float64(p.Peers*p.Routes)/float64(max(p.History, 1)))
	}
	if r.built {
		fmt.Fprintf(w, "- CPUs used during the build: %.2f by benchlg + clickhouse-server, %.2f by other processes\n", b.CPU.ours, b.CPU.others)
	}
	fmt.Fprintf(w, "- on disk: %s in %s (the live tables and the snapshot of the data set as built share their files)\n\n", human(r.diskUse), r.cfg.dataDir)
	fmt.Fprintf(w, "| table | rows | parts | bytes on disk | bytes/row |\n|---|---:|---:|---:|---:|\n")
	names := make([]string, 0, len(r.tables))
	for n := range r.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.tables[n]
		fmt.Fprintf(w, "| %s | %d | %d | %s | %.1f |\n", n, s.rows, s.parts, human(int64(s.bytesOnDisk)), float64(s.bytesOnDisk)/float64(max(s.rows, 1)))
	}

	if len(r.latencies) > 0 {
		fmt.Fprintf(w, "\n### Latency\n\n")
		if in := r.ingest; in != nil {
			el := in.ended.Sub(in.began).Seconds()
			raw := "with their raw messages (store_raw on)"
			if in.noRaw {
				raw = "without their raw messages (-ingest-raw=false)"
			}
			fmt.Fprintf(w, "While ingesting (UPDATEs %s): target %d events/s; stored %.0f events/s (%.0f route rows/s) through DB.Insert, %d INSERTs (mean %v, max %v), %d events not stored%s.\n\n",
				raw, r.cfg.ingestRate, float64(in.stored.Load())/el, float64(in.rows.Load())/el, in.inserts.Load(),
				(time.Duration(in.insertTime.Load()) / time.Duration(max(in.inserts.Load(), 1))).Round(time.Millisecond),
				time.Duration(in.maxInsert.Load()).Round(time.Millisecond), in.failed.Load()+in.generated.Load()-in.stored.Load(), ingestNote(in))
		} else {
			fmt.Fprintf(w, "No ingest (-ingest 0).\n\n")
		}
		if rb := r.rib; rb.stats.Routes > 0 {
			fmt.Fprintf(w, "Memory RIB (lg.memory_rib): loaded from ClickHouse (DB.CurrentRoutes) in %v: %d routes, %d prefixes, %d attribute sets, %.0f MB of Go heap (%.0f B/route); the ingest's events applied to it as lg applies the log's (JSON decoded, in order).\n\n",
				rb.took.Round(time.Millisecond), rb.stats.Routes, rb.stats.Prefixes, rb.stats.AttrSets, float64(rb.heap)/1e6, float64(rb.heap)/float64(rb.stats.Routes))
		}
		fmt.Fprintf(w, "| query | storage call | queries | p50 | p99 | target p99 | result | rows answered (mean) | errors | ingest meanwhile | CPUs used: benchlg + server / other processes |\n|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
		for _, l := range r.latencies {
			verdict := "pass"
			if l.quantile(0.99) >= l.kind.target || l.errors > 0 || len(l.durations) == 0 {
				verdict = "**FAIL**"
			}
			n := fmt.Sprintf("%d", len(l.durations))
			if l.stopped {
				n += fmt.Sprintf(" (budget %v)", r.cfg.budget)
			}
			if l.idle > 0 {
				n += fmt.Sprintf(" (+%v waiting for failed ones to end on the server)", l.idle.Round(time.Second))
			}
			rate := "-"
			if r.ingest != nil {
				rate = fmt.Sprintf("%.0f events/s", float64(l.ingested)/l.ingestFor.Seconds())
			}
			fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | < %v | %s | %.1f | %d | %s | %.2f / %.2f |\n", l.kind.name, l.kind.what, n,
				ms(l.quantile(0.5)), ms(l.quantile(0.99)), l.kind.target, verdict, float64(l.rows)/float64(max(len(l.durations), 1)), l.errors, rate, l.cpu.ours, l.cpu.others)
		}
		for _, l := range r.latencies {
			kinds := make([]string, 0, len(l.errKinds))
			for k := range l.errKinds {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			for _, k := range kinds {
				fmt.Fprintf(w, "\n%s: %d× %s\n", l.kind.name, l.errKinds[k], k)
			}
		}
		if h := r.http; h != nil {
			n := len(h.durations)
			fmt.Fprintf(w, "\nlg over HTTP (issue 13): %d clients on loopback asking `/api/v1/routes?match=longest` for random addresses, one request after the other, for %v, during the ingest: **%d requests, %.0f/s, p50 %s, p99 %s**, %d errors; CPUs used: benchlg (lg, clients, ingest) + server %.2f / other processes %.2f\n",
				h.clients, h.took.Round(time.Second), n, float64(n)/h.took.Seconds(), ms(h.quantile(0.5)), ms(h.quantile(0.99)), h.errors, h.cpu.ours, h.cpu.others)
		}
		if len(r.statements) > 0 {
			fmt.Fprintf(w, "\nWhat each storage call ran (system.query_log of the measured queries; no EXPLAIN in ClickHouse 18.16):\n\n")
			fmt.Fprintf(w, "| query | statement (literals as N/H) | runs | server p50 ms | p99 ms | rows read (mean) | max | MB read (mean) | peak memory MB | result rows |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
			for i, st := range r.statements {
				for _, s := range st {
					fmt.Fprintf(w, "| %s | `%s` | %d | %.0f | %.0f | %.0f | %d | %.1f | %.1f | %.1f |\n", r.latencies[i].kind.name, shortShape(s.shape, 260), s.count,
						s.p50ms, s.p99ms, s.readRows, s.maxReadRows, s.readBytes/1e6, s.memory/1e6, s.resultRows)
				}
			}
		}
	}

	if s := r.store; s != nil {
		u := r.updates
		fmt.Fprintf(w, "\n### Bytes on disk per stored event vs gzipped MRT\n\n")
		fmt.Fprintf(w, "`%s`: %s gzipped, %d records, %d UPDATE messages: **%.1f bytes of .gz per UPDATE**. Imported with DB.Insert (the events `collector mrt import` makes, raw message included) into the scratch database `%s` on the same server, merged (OPTIMIZE FINAL): %d route rows, %d stored events (route events by id + peer events).\n\n",
			u.path, human(u.gzBytes), u.records, u.updates, float64(u.gzBytes)/float64(u.updates), s.scratch, s.rows, s.events)
		fmt.Fprintf(w, "| table | rows | parts as inserted | bytes as inserted | bytes merged | bytes per stored event |\n|---|---:|---:|---:|---:|---:|\n")
		for _, t := range []string{"route_events", "peer_events", "routes_current", "peer_seen"} {
			st, ai := s.tables[t], s.asInserted[t]
			fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %.1f |\n", t, st.rows, ai.parts, ai.bytesOnDisk, st.bytesOnDisk, float64(st.bytesOnDisk)/float64(s.events))
		}
		gz := float64(u.gzBytes) / float64(u.updates)
		verdict := func(v float64) string {
			if v <= gz {
				return "pass"
			}
			return "**FAIL**"
		}
		fmt.Fprintf(w, "\n| figure | bytes per event | .gz MRT per UPDATE | ratio | target (at most equal) |\n|---|---:|---:|---:|---|\n")
		fmt.Fprintf(w, "| history (route_events + peer_events) | %.1f | %.1f | %.2fx | %s |\n", s.perEvent, gz, s.perEvent/gz, verdict(s.perEvent))
		fmt.Fprintf(w, "| with routes_current and peer_seen | %.1f | %.1f | %.2fx | %s |\n", s.allPer, gz, s.allPer/gz, verdict(s.allPer))
		for _, c := range s.topColumns {
			if c.name == "raw" {
				v := s.perEvent - float64(c.compressed)/float64(s.events)
				fmt.Fprintf(w, "| history without route_events.raw (as with collector.store_raw: false) | %.1f | %.1f | %.2fx | %s |\n", v, gz, v/gz, verdict(v))
			}
		}
		fmt.Fprintf(w, "\nroute_events columns of at least 0.5 B/event, by compressed size (merged; compression ratio in parentheses): ")
		for i, c := range s.topColumns {
			if float64(c.compressed)/float64(s.events) < 0.5 {
				break
			}
			if i > 0 {
				fmt.Fprintf(w, ", ")
			}
			fmt.Fprintf(w, "%s %.1f B/event (%.1fx)", c.name, float64(c.compressed)/float64(s.events), float64(c.plain)/float64(max(c.compressed, 1)))
		}
		fmt.Fprintln(w)

		all, med := s.ratios()
		fmt.Fprintf(w, "\n### Insert rate: real tables vs clickhouse-go into ENGINE = Null\n\n")
		fmt.Fprintf(w, "Same run, %d interleaved rounds after one warm-up round, each into a fresh database, the %d route rows of the updates file: DB.Insert of the events (rows built from the events, route_events + its view into routes_current, peer_events) in batches of at most %d route rows (clickhouse.batch_size's default: the writer and the store consumer send batches of that size when events arrive faster than its flush interval), beside clickhouse-go inserting the rows read back from route_events into `CREATE TABLE ... AS route_events ENGINE = Null` in as many INSERTs (typed column slices, arrays by AppendRow; building them not timed).\n\n", len(s.rounds), s.rows, storage.DefaultBatchSize)
		fmt.Fprintf(w, "| round | DB.Insert | rows/s | CPU-s benchlg / server | Null table | rows/s | CPU-s benchlg / server | ratio | other processes' CPUs (real / Null) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for i, rd := range s.rounds {
			fmt.Fprintf(w, "| %d | %v | %.0f | %s | %v | %.0f | %s | %.2fx | %.2f / %.2f |\n", i+1, rd.real.Round(time.Millisecond), float64(rd.rows)/rd.real.Seconds(), cpuSecs(rd.realCPU),
				rd.null.Round(time.Millisecond), float64(rd.rows)/rd.null.Seconds(), cpuSecs(rd.nullCPU), all[i], rd.realCPU.others, rd.nullCPU.others)
		}
		v := "pass"
		if med < 0.7 {
			v = "**FAIL**"
		}
		lo, hi := slices.Min(all), slices.Max(all)
		fmt.Fprintf(w, "\nMedian ratio %.2fx (rounds %.2f-%.2fx; target at least 0.7x): %s\n", med, lo, hi, v)
		var bare, sorted []float64
		for _, rd := range s.rounds {
			bare = append(bare, rd.null.Seconds()/rd.bare.Seconds())
			sorted = append(sorted, rd.null.Seconds()/rd.sorted.Seconds())
		}
		fmt.Fprintf(w, "\nThe same rows, by the same clickhouse-go inserts as into the Null table, into a `MergeTree() ORDER BY tuple()` copy of route_events' columns (no sort key, no views: what any MergeTree table costs): median %.2fx the Null table's rate (rounds %.2f-%.2fx); into a copy of route_events (its sort key, no views): %.2fx (%.2f-%.2fx).\n",
			median(bare), slices.Min(bare), slices.Max(bare), median(sorted), slices.Min(sorted), slices.Max(sorted))
	}
	if r.export != nil {
		r.export.print(w, r.meta)
	}
}

func ingestNote(in *ingester) string {
	var notes []string
	if n := in.behind.Load(); n > 0 {
		notes = append(notes, fmt.Sprintf("; generation paused %d times (more than 10 s of events waiting)", n))
	}
	if err := in.err(); err != nil {
		notes = append(notes, "; first insert error: "+err.Error())
	}
	return strings.Join(notes, "")
}

func topShares(m map[int]float64, n int) string {
	type kv struct {
		l int
		v float64
	}
	var s []kv
	for l, v := range m {
		s = append(s, kv{l, v})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].v > s[j].v || (s[i].v == s[j].v && s[i].l < s[j].l) })
	var parts []string
	for i, e := range s {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("/%d %.1f%%", e.l, 100*e.v))
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + " ms"
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func commandLine() string {
	if s := os.Getenv("BENCHLG_COMMAND"); s != "" {
		return s
	}
	return strings.Join(os.Args, " ")
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "processor\t:")
}

// cpuSecs is the CPU seconds of benchlg and of the server.
func cpuSecs(u cpuUse) string {
	if len(u.seconds) < 2 {
		return "-"
	}
	return fmt.Sprintf("%.2f / %.2f", u.seconds[0], u.seconds[1])
}
