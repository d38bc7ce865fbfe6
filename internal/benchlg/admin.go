package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// admin is this program's own connection to the server, for what the
// storage package has no function for: growing the history in SQL,
// reading system tables, the Null-table baseline.
type admin struct {
	conn driver.Conn
	addr string
	pass string
}

// passwordFile is where a local server started by storage keeps its
// default user's password, when it has one.
const passwordFile = "default-password"

func openAdmin(addr, dataDir, database string) (*admin, error) {
	a := &admin{addr: addr}
	if b, err := os.ReadFile(filepath.Join(dataDir, passwordFile)); err == nil {
		a.pass = strings.TrimSpace(string(b))
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{addr},
		Auth:        clickhouse.Auth{Username: "default", Password: a.pass, Database: database},
		DialTimeout: 10 * time.Second,
		ReadTimeout: time.Hour, // INSERT ... SELECT of 10M rows, OPTIMIZE
	})
	if err != nil {
		return nil, err
	}
	a.conn = conn
	return a, nil
}

// dsn is a clickhouse-go DSN of the server, for a second storage.DB.
func (a *admin) dsn() string {
	if a.pass == "" {
		return "clickhouse://" + a.addr
	}
	return "clickhouse://default:" + a.pass + "@" + a.addr
}

func (a *admin) exec(ctx context.Context, sql string, args ...any) error {
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_execution_time": 0}))
	if err := a.conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", firstLine(sql), err)
	}
	return nil
}

// u64 runs a query that returns one number.
func (a *admin) u64(ctx context.Context, sql string, args ...any) (uint64, error) {
	var v uint64
	if err := a.conn.QueryRow(ctx, "SELECT toUInt64(("+sql+"))", args...).Scan(&v); err != nil {
		return 0, fmt.Errorf("%s: %w", firstLine(sql), err)
	}
	return v, nil
}

// col is a column of a table as system.columns describes it.
type col struct {
	name, typ string
}

// columns reads a table's columns in order, so that nothing here repeats
// the schema's DDL.
func (a *admin) columns(ctx context.Context, db, table string) ([]col, error) {
	rows, err := a.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ? AND default_kind NOT IN ('ALIAS', 'MATERIALIZED') ORDER BY position", db, table)
	if err != nil {
		// 18.16 has no position column: system.columns lists in order.
		rows, err = a.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ? AND default_kind NOT IN ('ALIAS', 'MATERIALIZED')", db, table)
		if err != nil {
			return nil, fmt.Errorf("columns of %s.%s: %w", db, table, err)
		}
	}
	defer rows.Close()
	var out []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("table %s.%s has no columns (does it exist?)", db, table)
	}
	return out, nil
}

// tables lists the tables of db with their engines.
func (a *admin) tables(ctx context.Context, db string) (map[string]string, error) {
	rows, err := a.conn.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = ?", db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, e string
		if err := rows.Scan(&n, &e); err != nil {
			return nil, err
		}
		out[n] = e
	}
	return out, rows.Err()
}

// partStats is the active parts of a table.
type partStats struct {
	parts        uint64
	rows         uint64
	bytesOnDisk  uint64
	uncompressed uint64
}

func (a *admin) parts(ctx context.Context, db, table string) (partStats, error) {
	var s partStats
	err := a.conn.QueryRow(ctx, `SELECT count(), sum(rows), sum(bytes_on_disk), sum(data_uncompressed_bytes)
FROM system.parts WHERE active AND database = ? AND table = ?`, db, table).Scan(&s.parts, &s.rows, &s.bytesOnDisk, &s.uncompressed)
	if err != nil {
		return s, fmt.Errorf("parts of %s.%s: %w", db, table, err)
	}
	return s, nil
}

// settle waits until no merge has run on db's tables and the number of
// active parts has not changed for 30 s, or until limit; it returns the
// time waited.
func (a *admin) settle(ctx context.Context, db string, limit time.Duration) (time.Duration, error) {
	const quiet = 30 * time.Second
	start := time.Now()
	last, since := uint64(0), time.Now()
	for time.Since(start) < limit {
		merges, err := a.u64(ctx, "SELECT count() FROM system.merges WHERE database = ?", db)
		if err != nil {
			return 0, err
		}
		parts, err := a.u64(ctx, "SELECT count() FROM system.parts WHERE active AND database = ?", db)
		if err != nil {
			return 0, err
		}
		if merges != 0 || parts != last {
			last, since = parts, time.Now()
		} else if time.Since(since) >= quiet {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
	return time.Since(start), nil
}

// noMerges waits (at most limit) until the server runs no merge.
func (a *admin) noMerges(ctx context.Context, limit time.Duration) {
	for start := time.Now(); time.Since(start) < limit && ctx.Err() == nil; time.Sleep(500 * time.Millisecond) {
		if n, err := a.u64(ctx, "SELECT count() FROM system.merges"); err != nil || n == 0 {
			return
		}
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// waitIdle waits (at most limit) until the server runs no query but
// INSERTs and this one, and returns the time waited.
func (a *admin) waitIdle(ctx context.Context, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit && ctx.Err() == nil {
		n, err := a.u64(ctx, "SELECT count() FROM system.processes WHERE query NOT LIKE 'INSERT%' AND query NOT LIKE '%system.processes%'")
		if err != nil || n == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}
