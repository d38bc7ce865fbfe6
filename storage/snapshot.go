package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// RIB snapshots (schema/005_rib_snapshots.sql): the routes current at
// every multiple of an interval, so that the state at any time T is read
// from the latest snapshot at or before T plus the events after it.

// routeKeyColumns identify a route.
var routeKeyColumns = []string{"host", "peer", "afi", "safi", "rd", "nlri", "prefix", "prefix_len", "path_id"}

// snapshotRef is a complete snapshot: its time and the peers
// ("host|HEX(peer)") for which it is stale.
type snapshotRef struct {
	us    uint64
	stale []string
}

// sourceColumns are the columns that routeSource yields.
func sourceColumns() []string {
	return slices.Concat(routeKeyColumns, []string{"ts", "ts_us", "kind", "origin_asn"}, routeAttrColumns)
}

// routeSource returns a FROM clause, with its bound arguments, that holds
// the route events needed for the state at a time after snapshot s: the
// snapshot's routes (as announcements at their announcement's time) and
// the route events after it, except for the peers for which it is stale,
// of which it holds every event. where (with its arguments) applies to
// both. Without a snapshot (s.us = 0) it is route_events.
func routeSource(s snapshotRef, where []string, args []any) (string, []any) {
	return routeSourceIn(s, where, args, "")
}

// routeSourceIn is routeSource over the tables whose names end in suffix:
// LocalSuffix for a shard's own rows.
func routeSourceIn(s snapshotRef, where []string, args []any, suffix string) (string, []any) {
	if s.us == 0 {
		if len(where) == 0 {
			return "route_events" + suffix, args
		}
		return "(SELECT " + strings.Join(sourceColumns(), ", ") + " FROM route_events" + suffix + " WHERE " + strings.Join(where, " AND ") + ")", args
	}
	cols := sourceColumns()
	snapCols := slices.Clone(cols)
	snapCols[slices.Index(snapCols, "kind")] = "CAST('announce' AS Enum8('announce' = 1, 'withdraw' = 2)) AS kind"
	snapWhere := append(slices.Clone(where), "snap_us = toUInt64(?)")
	snapArgs := append(slices.Clone(args), s.us)
	eventWhere := slices.Clone(where)
	eventArgs := slices.Clone(args)
	if len(s.stale) == 0 {
		// ts prunes the partitions before the snapshot's; ts_us decides.
		eventWhere = append(eventWhere, "ts >= toDateTime(toUInt32(?))", "ts_us > toUInt64(?)")
		eventArgs = append(eventArgs, uint32(s.us/1e6), s.us)
	} else {
		isStale := "has(CAST(? AS Array(String)), concat(host, '|', hex(peer)))"
		snapWhere = append(snapWhere, "NOT "+isStale)
		snapArgs = append(snapArgs, s.stale)
		eventWhere = append(eventWhere, "(ts_us > toUInt64(?) OR "+isStale+")")
		eventArgs = append(eventArgs, s.us, s.stale)
	}
	sql := "(SELECT " + strings.Join(snapCols, ", ") + " FROM rib_snapshots" + suffix + " WHERE " + strings.Join(snapWhere, " AND ") +
		" UNION ALL SELECT " + strings.Join(cols, ", ") + " FROM route_events" + suffix + " WHERE " + strings.Join(eventWhere, " AND ") + ")"
	return sql, append(snapArgs, eventArgs...)
}

// snapshotAt returns the latest complete snapshot at or before us, or a
// zero snapshotRef when there is none.
func (db *DB) snapshotAt(ctx context.Context, us uint64, before bool) (snapshotRef, error) {
	cmp := "<="
	if before {
		cmp = "<"
	}
	// One query for both: the snapshot, and the peers it is stale for.
	var ref snapshotRef
	rows, err := db.conn.Query(ctx, `SELECT snap_us, stale FROM (
  SELECT snap_us FROM rib_snapshot_runs WHERE snap_us `+cmp+` toUInt64(?)
  GROUP BY snap_us HAVING max(complete) = 1 ORDER BY snap_us DESC LIMIT 1
) AS runs ANY LEFT JOIN (
  SELECT snap_us, groupUniqArray(concat(host, '|', hex(peer))) AS stale FROM rib_snapshot_stale WHERE snap_us `+cmp+` toUInt64(?) GROUP BY snap_us
) AS stale USING (snap_us)`, us, us)
	if err != nil {
		return ref, fmt.Errorf("latest snapshot: %w", db.limited(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&ref.us, &ref.stale); err != nil {
			return ref, fmt.Errorf("latest snapshot: %w", err)
		}
	}
	if len(ref.stale) == 0 {
		ref.stale = nil
	}
	slices.Sort(ref.stale)
	return ref, rows.Err()
}

// Snapshot builds the RIB snapshot at at (truncated to the microsecond)
// from the previous one and the events since, and returns the number of
// routes in it. Building the same snapshot again, or in several processes
// at once, writes the same rows. Queries use it once it is complete.
func (db *DB) Snapshot(ctx context.Context, at time.Time) (uint64, error) {
	us := uint64(max(at.UnixMicro(), 1))
	fail := func(err error) (uint64, error) {
		return 0, fmt.Errorf("snapshot at %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	// Begun: from now on, writers storing events at or before it mark it
	// stale for their peers.
	if err := db.conn.Exec(ctx, "INSERT INTO rib_snapshot_runs (snap_us, made_us, complete, routes) SELECT toUInt64(?), toUInt64(?), 0, 0",
		us, uint64(time.Now().UnixMicro())); err != nil {
		return fail(err)
	}
	prev, err := db.snapshotAt(ctx, us, true)
	if err != nil {
		return fail(err)
	}
	t := usTime(us)
	downs, err := db.lastDowns(ctx, t, netip.Addr{}, "")
	if err != nil {
		return fail(err)
	}
	// build inserts the snapshot's rows into the tables whose names end in
	// suffix, one range of prefixes at a time (so that grouping a range's
	// routes fits in memory whatever the RIB's size), and returns how many
	// it holds. On a cluster, each shard builds its own from its own rows
	// (the sharding key keeps a route's events and snapshot rows on one
	// shard), with the down times and stale peers of the whole store.
	build := func(conn driver.Conn, suffix string) (uint64, error) {
		bounds, err := snapshotBounds(ctx, conn, suffix, snapshotRangeRows)
		if err != nil {
			return 0, err
		}
		var n uint64
		for i := 0; i <= len(bounds); i++ {
			rangeWhere, rangeArgs := prefixRange(bounds, i)
			where, args := db.scope(nil, nil, t, netip.Addr{}, "")
			where, args = append(where, rangeWhere...), append(args, rangeArgs...)
			from, args := routeSourceIn(prev, where, args, suffix)
			having := "argMax(kind, ts_us) = 'announce'"
			if c, a := downs.condition(); c != "" {
				having += " AND max(ts_us) > " + c
				args = append(args, a...)
			}
			sel := []string{"toUInt64(?)"}
			sel = append(sel, routeKeyColumns...)
			sel = append(sel, "max(ts_us)", "argMax(origin_asn, ts_us)")
			for _, c := range routeAttrColumns {
				sel = append(sel, "argMax("+c+", ts_us)")
			}
			cols := slices.Concat([]string{"snap_us"}, routeKeyColumns, []string{"ts_us", "origin_asn"}, routeAttrColumns)
			sql := "INSERT INTO rib_snapshots" + suffix + " (" + strings.Join(cols, ", ") + ")\nSELECT " + strings.Join(sel, ", ") +
				"\nFROM " + from + "\nGROUP BY " + strings.Join(routeKeyColumns, ", ") + "\nHAVING " + having
			if err := conn.Exec(ctx, sql, append([]any{us}, args...)...); err != nil {
				return 0, err
			}
			// FINAL: a snapshot built again (or at once elsewhere) has the
			// same rows twice until they merge.
			var c uint64
			q := "SELECT count() FROM rib_snapshots" + suffix + " FINAL WHERE " + strings.Join(append([]string{"snap_us = toUInt64(?)"}, rangeWhere...), " AND ")
			if err := conn.QueryRow(ctx, q, append([]any{us}, rangeArgs...)...).Scan(&c); err != nil {
				return 0, err
			}
			n += c
		}
		return n, nil
	}
	var n uint64
	if len(db.shards) == 0 {
		n, err = build(db.conn, "")
	} else {
		errs := make([]error, len(db.shards))
		counts := make([]uint64, len(db.shards))
		var wg sync.WaitGroup
		for i, c := range db.shards {
			wg.Go(func() {
				counts[i], errs[i] = build(c, LocalSuffix)
				if errs[i] != nil {
					errs[i] = fmt.Errorf("shard %d: %w", i+1, errs[i])
				}
			})
		}
		wg.Wait()
		err = errors.Join(errs...)
		for _, c := range counts {
			n += c
		}
	}
	if err != nil {
		return fail(err)
	}
	if err := db.conn.Exec(ctx, "INSERT INTO rib_snapshot_runs (snap_us, made_us, complete, routes) SELECT toUInt64(?), toUInt64(?), 1, toUInt64(?)",
		us, uint64(time.Now().UnixMicro()), n); err != nil {
		return fail(err)
	}
	return n, nil
}

// snapshotRangeRows is about the most rows of the current state in one
// range of prefixes that Snapshot groups at a time: some hundred MB of
// ClickHouse's memory. A variable for the tests, which split a few routes
// into many ranges.
var snapshotRangeRows uint64 = 500_000

// snapshotBounds splits the prefixes of the current state (of the tables
// whose names end in suffix) into ranges of about maxRows rows each, and
// returns the ranges' bounds in order: range i is [bounds[i-1], bounds[i])
// (prefixRange), the first without a lower bound and the last without an
// upper one, so that the ranges hold every prefix whatever was stored
// since. Prefixes are counted by bucket: their /16 for IPv4 (stored
// IPv4-mapped, the first 14 bytes), their first 3 bytes otherwise.
func snapshotBounds(ctx context.Context, conn driver.Conn, suffix string, maxRows uint64) ([][16]byte, error) {
	rows, err := conn.Query(ctx, "SELECT substring(prefix, 1, if(afi = 1, 14, 3)) AS bucket, count() FROM routes_current"+suffix+
		" GROUP BY bucket ORDER BY bucket")
	if err != nil {
		return nil, fmt.Errorf("prefix ranges: %w", err)
	}
	defer rows.Close()
	type bucket struct {
		start [16]byte
		rows  uint64
	}
	var buckets []bucket
	for rows.Next() {
		var b bucket
		var key string
		if err := rows.Scan(&key, &b.rows); err != nil {
			return nil, fmt.Errorf("prefix ranges: %w", err)
		}
		copy(b.start[:], key)
		buckets = append(buckets, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("prefix ranges: %w", err)
	}
	slices.SortFunc(buckets, func(a, b bucket) int { return bytes.Compare(a.start[:], b.start[:]) })
	var bounds [][16]byte
	var inRange uint64
	for _, b := range buckets {
		if inRange > 0 && inRange+b.rows > maxRows {
			if len(bounds) == 0 || bounds[len(bounds)-1] != b.start {
				bounds = append(bounds, b.start)
			}
			inRange = 0
		}
		inRange += b.rows
	}
	return bounds, nil
}

// prefixRange returns the conditions, with their bound arguments, that
// keep the prefixes of range i of bounds (see snapshotBounds).
func prefixRange(bounds [][16]byte, i int) ([]string, []any) {
	var where []string
	var args []any
	if i > 0 {
		where, args = append(where, "prefix >= "+fixed16Param), append(args, fixed16Arg(bounds[i-1]))
	}
	if i < len(bounds) {
		where, args = append(where, "prefix < "+fixed16Param), append(args, fixed16Arg(bounds[i]))
	}
	return where, args
}

// RunSnapshots builds a snapshot at every multiple of interval (Unix time)
// once grace has passed after it, so that the writers have stored its
// events, until ctx ends. A snapshot missed while nothing ran is built
// when it starts (only the latest one due). Errors are logged and retried
// a minute later.
func (db *DB) RunSnapshots(ctx context.Context, interval, grace time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		due := time.Now().Add(-grace).Truncate(interval)
		var done uint8
		err := db.conn.QueryRow(ctx, "SELECT count() > 0 FROM rib_snapshot_runs WHERE snap_us = toUInt64(?) AND complete = 1", uint64(due.UnixMicro())).Scan(&done)
		if err == nil && done == 0 && due.Unix() > 0 {
			start := time.Now()
			var n uint64
			n, err = db.Snapshot(ctx, due)
			if err == nil {
				log.Info("RIB snapshot", "at", due.UTC().Format(time.RFC3339), "routes", n, "took", time.Since(start).Round(time.Millisecond))
			}
		}
		wait := time.Until(due.Add(interval + grace))
		if err != nil && ctx.Err() == nil {
			log.Error("RIB snapshot", "at", due.UTC().Format(time.RFC3339), "err", err)
			wait = time.Minute
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, time.Second)):
		}
	}
}

// markStale records, for the chunks about to be stored, every begun
// snapshot at or after the earliest event of a peer as stale for that
// peer. It runs before the rows are inserted, so that a crash in between
// leaves a snapshot marked stale needlessly rather than wrong.
func (db *DB) markStale(ctx context.Context, chunks []chunk) error {
	first := map[peerKey16]uint64{}
	note := func(host []string, peer fixed16, tsUs []uint64) {
		for i, us := range tsUs {
			k := peerKey16{host[i], [16]byte(peer[16*i : 16*i+16])}
			if v, ok := first[k]; !ok || us < v {
				first[k] = us
			}
		}
	}
	for _, c := range chunks {
		note(c.routes.host, c.routes.peer, c.routes.tsUs)
		note(c.peers.host, c.peers.peer, c.peers.tsUs)
	}
	return db.markStalePeers(ctx, first)
}

// markStalePeers marks every begun snapshot at or after first[peer] stale
// for that peer.
func (db *DB) markStalePeers(ctx context.Context, first map[peerKey16]uint64) error {
	if len(first) == 0 {
		return nil
	}
	var latest uint64
	if err := db.conn.QueryRow(ctx, "SELECT max(snap_us) FROM rib_snapshot_runs").Scan(&latest); err != nil {
		return fmt.Errorf("latest snapshot: %w", err)
	}
	for k, us := range first {
		if us > latest {
			continue
		}
		err := db.conn.Exec(ctx, `INSERT INTO rib_snapshot_stale (snap_us, host, peer)
SELECT DISTINCT snap_us, ?, `+fixed16Param+` FROM rib_snapshot_runs WHERE snap_us >= toUInt64(?)`, k.host, fixed16Arg(k.peer), us)
		if err != nil {
			return fmt.Errorf("mark snapshots stale: %w", err)
		}
	}
	return nil
}

// peerKey16 is a peer of a collector in stored form.
type peerKey16 struct {
	host string
	peer [16]byte
}
