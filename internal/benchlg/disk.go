package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	chcolumn "github.com/ClickHouse/clickhouse-go/v2/lib/column"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

// updatesFile is the events of a RIS updates file, as `collector mrt
// import` makes them.
type updatesFile struct {
	path    string
	gzBytes int64
	records int
	updates int // UPDATE messages
	events  []schema.Event
}

// readUpdates converts every record of an MRT updates file with the
// importer's converter; each event is copied (JSON out and in), since the
// converter's are valid only during its callback.
func readUpdates(path string) (*updatesFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	u := &updatesFile{path: path, gzBytes: st.Size()}
	conv := &collector.MRTConverter{Host: "rrc-mrt", Source: filepath.Base(path)}
	var buf []byte
	err = collector.ScanMRTFile(path, 0, nil, nil, func(rec bgpwire.MRTRecord) error {
		u.records++
		_ = conv.Convert(rec, func(ev *schema.Event) error {
			if ev.Type == schema.TypeUpdate {
				u.updates++
			}
			ev.Imported = true // as MRTImporter marks them
			buf = ev.AppendJSON(buf[:0])
			var c schema.Event
			if err := c.DecodeJSON(buf); err != nil {
				return err
			}
			u.events = append(u.events, c)
			return nil
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if u.updates == 0 {
		return nil, fmt.Errorf("%s: no UPDATE messages", path)
	}
	return u, nil
}

// storeResult is the figures of the scratch database.
type storeResult struct {
	scratch    string // the database the figures are of
	rounds     []ratioRound
	rows       uint64 // route_events rows of the file
	events     uint64 // distinct events stored (route and peer tables)
	tables     map[string]partStats
	topColumns []colBytes
	perEvent   float64 // bytes on disk of route_events + peer_events per stored event
	allPer     float64 // with routes_current and peer_seen
	asInserted map[string]partStats
}

type ratioRound struct {
	real, null time.Duration
	// bare and sorted: clickhouse-go inserting the same rows as into the
	// Null table into a MergeTree without a sort key and into a copy of
	// route_events (its sort key, no views): what any MergeTree table,
	// and route_events alone, cost.
	bare, sorted     time.Duration
	rows             uint64
	realCPU, nullCPU cpuUse
}

type colBytes struct {
	name              string
	compressed, plain uint64
}

// scratchDB is the database on the same server that the updates file is
// imported into.
const scratchDB = "benchlg_scratch"
const nullDB = "benchlg_null"

// storeBench imports the updates file into a fresh scratch database
// through DB.Insert in batches of insertBatchMRT events (timed), then
// inserts the same rows with clickhouse-go into a Null table with
// route_events' columns (timed), rounds times, interleaved; then it
// measures the scratch tables' bytes on disk once their parts are
// merged.
func storeBench(ctx context.Context, a *admin, meter *cpuMeter, u *updatesFile, rounds int, logf func(string, ...any)) (*storeResult, error) {
	res := &storeResult{tables: map[string]partStats{}, asInserted: map[string]partStats{}}
	var cols []col
	var data []any // per column: the values read back
	var nullBatches int
	// A database of its own per round (the last one kept for the bytes
	// on disk): dropping and creating one again in the same name made
	// each round's INSERTs cost the server more.
	if err := dropScratch(ctx, a); err != nil {
		return nil, err
	}
	// Round 0 warms up (its figures are left out).
	scratch := scratchDB
	for r := 0; r <= rounds; r++ {
		scratch = fmt.Sprintf("%s_%d", scratchDB, r)
		// Merges of the data set's tables (the ingest's parts) compete
		// for the CPU: each round starts when none runs.
		a.noMerges(ctx, 2*time.Minute)
		db, err := storage.Open(ctx, storage.Config{DSN: a.dsn(), Database: scratch}, nil)
		if err != nil {
			return nil, fmt.Errorf("scratch database: %w", err)
		}
		r0 := meter.read()
		start := time.Now()
		nb := 0
		for _, b := range rowBatches(u.events, storage.DefaultBatchSize) {
			if err := db.Insert(ctx, b); err != nil {
				db.Close()
				return nil, fmt.Errorf("scratch insert: %w", err)
			}
			nb++
		}
		realDur := time.Since(start)
		realCPU := meter.since(r0)
		db.Close()
		rows, err := a.u64(ctx, "SELECT count() FROM "+scratch+".route_events")
		if err != nil {
			return nil, err
		}
		cur, err := a.u64(ctx, "SELECT count() FROM "+scratch+".routes_current")
		if err != nil {
			return nil, err
		}
		logf("insert round %d: route_events %d rows, routes_current %d rows", r, rows, cur)
		if r == 0 {
			res.rows = rows
			nullBatches = nb
			for _, t := range []string{"route_events", "peer_events", "routes_current", "peer_seen"} {
				if res.asInserted[t], err = a.parts(ctx, scratch, t); err != nil {
					return nil, err
				}
			}
			if cols, data, err = readBack(ctx, a, scratch+".route_events"); err != nil {
				return nil, err
			}
			if err := a.exec(ctx, "DROP DATABASE IF EXISTS "+nullDB); err != nil {
				return nil, err
			}
			if err := a.exec(ctx, "CREATE DATABASE "+nullDB); err != nil {
				return nil, err
			}
			if err := a.exec(ctx, "CREATE TABLE "+nullDB+".route_events AS "+scratch+".route_events ENGINE = Null"); err != nil {
				return nil, err
			}
		}
		a.noMerges(ctx, 2*time.Minute)
		r0 = meter.read()
		nullDur, err := insertNull(ctx, a, nullDB+".route_events", cols, data, nullBatches)
		if err != nil {
			return nil, err
		}
		nullCPU := meter.since(r0)
		bare, sorted := fmt.Sprintf("%s.bare_%d", nullDB, r), fmt.Sprintf("%s.sorted_%d", nullDB, r)
		if err := a.exec(ctx, "CREATE TABLE "+bare+" AS "+scratch+".route_events ENGINE = MergeTree() ORDER BY tuple()"); err != nil {
			return nil, err
		}
		if err := a.exec(ctx, "CREATE TABLE "+sorted+" AS "+scratch+".route_events"); err != nil {
			return nil, err
		}
		a.noMerges(ctx, 2*time.Minute)
		bareDur, err := insertNull(ctx, a, bare, cols, data, nullBatches)
		if err != nil {
			return nil, err
		}
		a.noMerges(ctx, 2*time.Minute)
		sortedDur, err := insertNull(ctx, a, sorted, cols, data, nullBatches)
		if err != nil {
			return nil, err
		}
		if r > 0 {
			res.rounds = append(res.rounds, ratioRound{real: realDur, null: nullDur, bare: bareDur, sorted: sortedDur, rows: rows, realCPU: realCPU, nullCPU: nullCPU})
		}
		logf("insert round %d: the same rows by clickhouse-go into a MergeTree without sort key %v, into a copy of route_events %v", r,
			bareDur.Round(time.Millisecond), sortedDur.Round(time.Millisecond))
		logf("insert round %d: DB.Insert %d rows in %v (%.0f rows/s), Null table %v (%.0f rows/s)", r, rows,
			realDur.Round(time.Millisecond), float64(rows)/realDur.Seconds(), nullDur.Round(time.Millisecond), float64(rows)/nullDur.Seconds())
	}

	// Bytes on disk once merged (as a store that received them a while
	// ago keeps them).
	for _, t := range []string{"route_events", "peer_events", "routes_current", "peer_seen"} {
		if err := a.exec(ctx, "OPTIMIZE TABLE "+scratch+"."+t+" FINAL"); err != nil {
			return nil, err
		}
	}
	var err error
	var routeBytes, allBytes uint64
	for _, t := range []string{"route_events", "peer_events", "routes_current", "peer_seen"} {
		s, err := a.parts(ctx, scratch, t)
		if err != nil {
			return nil, err
		}
		res.tables[t] = s
		allBytes += s.bytesOnDisk
		if t == "route_events" || t == "peer_events" {
			routeBytes += s.bytesOnDisk
		}
	}
	if res.events, err = a.u64(ctx, "SELECT (SELECT uniqExact(id) FROM "+scratch+".route_events) + (SELECT count() FROM "+scratch+".peer_events)"); err != nil {
		return nil, err
	}
	res.scratch = scratch
	res.perEvent = float64(routeBytes) / float64(res.events)
	res.allPer = float64(allBytes) / float64(res.events)
	rows, err := a.conn.Query(ctx, "SELECT name, data_compressed_bytes, data_uncompressed_bytes FROM system.columns WHERE database = ? AND table = 'route_events' ORDER BY data_compressed_bytes DESC", scratch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c colBytes
		if err := rows.Scan(&c.name, &c.compressed, &c.plain); err != nil {
			return nil, err
		}
		res.topColumns = append(res.topColumns, c)
	}
	return res, rows.Err()
}

// rowBatches splits events into runs of at most rows route rows (an
// UPDATE's prefixes; a peer event counts one), as the writer and the
// store consumer batch them (clickhouse.batch_size).
func rowBatches(events []schema.Event, rows int) [][]schema.Event {
	var out [][]schema.Event
	start, n := 0, 0
	for i := range events {
		c := max(events[i].RouteCount(), 1)
		if n > 0 && n+c > rows {
			out = append(out, events[start:i])
			start, n = i, 0
		}
		n += c
	}
	if start < len(events) {
		out = append(out, events[start:])
	}
	return out
}

// readBack reads a table's rows into one slice per column: scalar
// columns as typed slices of the Go types clickhouse-go scans them into,
// arrays as one boxed value per row, as AppendRow takes them.
func readBack(ctx context.Context, a *admin, table string) ([]col, []any, error) {
	db, name, _ := strings.Cut(table, ".")
	cols, err := a.columns(ctx, db, name)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for _, c := range cols {
		names = append(names, c.name)
	}
	rows, err := a.conn.Query(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	scalars := make([]reflect.Value, len(cols))
	arrays := make([][]any, len(cols))
	for i, t := range types {
		if !isArray(cols[i]) {
			scalars[i] = reflect.MakeSlice(reflect.SliceOf(t.ScanType()), 0, 0)
		}
	}
	ptrs := make([]any, len(cols))
	for rows.Next() {
		for i, t := range types {
			ptrs[i] = reflect.New(t.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		for i := range ptrs {
			v := reflect.ValueOf(ptrs[i]).Elem()
			if isArray(cols[i]) {
				arrays[i] = append(arrays[i], v.Interface())
			} else {
				scalars[i] = reflect.Append(scalars[i], v)
			}
		}
	}
	out := make([]any, len(cols))
	for i := range cols {
		if isArray(cols[i]) {
			out[i] = arrays[i]
		} else {
			out[i] = scalars[i].Interface()
		}
	}
	return cols, out, rows.Err()
}

func isArray(c col) bool { return strings.HasPrefix(c.typ, "Array(") }

// insertNull inserts the rows into table with clickhouse-go in batches
// INSERTs: scalar columns as typed slices (Append), arrays row by row
// (AppendRow, each row already boxed).
func insertNull(ctx context.Context, a *admin, table string, cols []col, data []any, batches int) (time.Duration, error) {
	n := 0
	if len(data) > 0 {
		n = reflect.ValueOf(data[0]).Len()
	}
	var names []string
	for _, c := range cols {
		names = append(names, c.name)
	}
	per := max((n+batches-1)/max(batches, 1), 1)
	start := time.Now()
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		b, err := a.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(names, ", ")+")")
		if err != nil {
			return 0, err
		}
		bcols := b.Columns()
		for i := range cols {
			if rows, ok := data[i].([]any); ok {
				if err := appendRows(bcols[i], rows[lo:hi]); err != nil {
					b.Abort()
					return 0, fmt.Errorf("column %s: %w", cols[i].name, err)
				}
				continue
			}
			part := reflect.ValueOf(data[i]).Slice(lo, hi).Interface()
			if err := b.Column(i).Append(part); err != nil {
				b.Abort()
				return 0, fmt.Errorf("column %s: %w", cols[i].name, err)
			}
		}
		if err := b.Send(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func appendRows(c chcolumn.Interface, rows []any) error {
	for _, r := range rows {
		if err := c.AppendRow(r); err != nil {
			return err
		}
	}
	return nil
}

// ratios are the rounds' real/null rate ratios and their median.
func (r *storeResult) ratios() (all []float64, med float64) {
	for _, rd := range r.rounds {
		all = append(all, rd.null.Seconds()/rd.real.Seconds())
	}
	return all, median(all)
}

// median is the middle value of v (the upper one of an even count).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// dropScratch drops the scratch databases of earlier rounds and runs.
func dropScratch(ctx context.Context, a *admin) error {
	rows, err := a.conn.Query(ctx, "SELECT name FROM system.databases WHERE startsWith(name, ?)", scratchDB)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if err := a.exec(ctx, "DROP DATABASE IF EXISTS "+n); err != nil {
			return err
		}
	}
	return rows.Err()
}
