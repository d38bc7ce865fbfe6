package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vantage-bgp/vantage/schema"
)

// Schema migrations. The embedded schema/NNN_*.sql files are applied in
// order when a DB is opened; schema_migrations records every statement run,
// (version, step), so each runs once per database and a migration that was
// interrupted (a crash, a lost connection) carries on with the statement
// it had not finished. Only one process migrates at a time: it holds the
// lock table schema_migrating, which CREATE TABLE (without IF NOT EXISTS)
// gives to exactly one; the others wait for it to go.
const migrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    version UInt32,
    step UInt32,
    name String,
    applied_at DateTime
)
ENGINE = ReplacingMergeTree()
ORDER BY (version, step)`

const migrationLock = "schema_migrating"

// migrateWait bounds how long a process waits for another one's migration.
var migrateWait = 6 * time.Hour

// migrate brings the database's schema to schema.Version() by the
// migrations migs: schema.Migrations(), or localMigrations() on the shards
// of a cluster.
func migrate(ctx context.Context, conn driver.Conn, migs []schema.Migration, log *slog.Logger) error {
	if err := conn.Exec(ctx, migrationsDDL); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	waitingSince := time.Time{}
	for {
		done, err := appliedSteps(ctx, conn)
		if err != nil {
			return err
		}
		if len(pendingSteps(migs, done)) == 0 {
			return nil
		}
		err = conn.Exec(ctx, "CREATE TABLE "+migrationLock+" (since DateTime) ENGINE = Memory")
		if err == nil {
			break
		}
		if !isAlreadyExists(err) {
			return fmt.Errorf("take the migration lock %s: %w", migrationLock, err)
		}
		// Another process migrates.
		now := time.Now()
		if waitingSince.IsZero() {
			waitingSince = now
			log.Info("another process is migrating the schema; waiting", "lock", migrationLock)
		} else if now.Sub(waitingSince) > migrateWait {
			return fmt.Errorf("the schema migration lock %s is still held after %s; if the process that migrated died, DROP TABLE %s and start again",
				migrationLock, migrateWait, migrationLock)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	defer func() {
		// With a fresh context: the lock must go even when ctx ended.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := conn.Exec(dctx, "DROP TABLE IF EXISTS "+migrationLock); err != nil {
			log.Error("drop the schema migration lock", "lock", migrationLock, "err", err)
		}
	}()
	done, err := appliedSteps(ctx, conn)
	if err != nil {
		return err
	}
	if len(done) == 0 {
		// A store from before schema_migrations: its migrations are the
		// ones whose tables all exist.
		if done, err = adoptExisting(ctx, conn, migs, log); err != nil {
			return err
		}
	}
	for _, st := range pendingSteps(migs, done) {
		start := time.Now()
		if err := conn.Exec(ctx, st.SQL); err != nil {
			return fmt.Errorf("apply %s: %w", st.Name, err)
		}
		if err := recordStep(ctx, conn, st); err != nil {
			return err
		}
		if d := time.Since(start); d > time.Second {
			log.Info("schema migration step", "step", st.Name, "took", d.Round(time.Millisecond))
		}
	}
	log.Debug("schema is current", "version", schema.Version())
	return nil
}

// step is a statement of a migration, with its place.
type step struct {
	version, step int
	schema.Statement
}

type stepKey struct{ version, step int }

func pendingSteps(migs []schema.Migration, done map[stepKey]bool) []step {
	var out []step
	for _, m := range migs {
		for i, st := range m.Statements {
			if !done[stepKey{m.Version, i + 1}] {
				out = append(out, step{m.Version, i + 1, st})
			}
		}
	}
	return out
}

func appliedSteps(ctx context.Context, conn driver.Conn) (map[stepKey]bool, error) {
	rows, err := conn.Query(ctx, "SELECT version, step FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[stepKey]bool{}
	for rows.Next() {
		var v, s uint32
		if err := rows.Scan(&v, &s); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		done[stepKey{int(v), int(s)}] = true
	}
	return done, rows.Err()
}

func recordStep(ctx context.Context, conn driver.Conn, st step) error {
	err := conn.Exec(ctx, "INSERT INTO schema_migrations (version, step, name, applied_at) SELECT toUInt32(?), toUInt32(?), ?, now()",
		uint32(st.version), uint32(st.step), st.Name)
	if err != nil {
		return fmt.Errorf("record %s in schema_migrations: %w", st.Name, err)
	}
	return nil
}

var createdObject = regexp.MustCompile(`^CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS (\w+)`)

// adoptExisting records, on a store created before schema_migrations
// existed (versions 1 to 3, whose statements are all CREATE ... IF NOT
// EXISTS plus the fill of routes_current), every migration whose tables
// all exist as applied, and returns what it recorded. On an empty database
// it records nothing.
func adoptExisting(ctx context.Context, conn driver.Conn, migs []schema.Migration, log *slog.Logger) (map[stepKey]bool, error) {
	done := map[stepKey]bool{}
	for _, m := range migs {
		var objects []string
		for _, st := range m.Statements {
			if sm := createdObject.FindStringSubmatch(st.SQL); sm != nil {
				objects = append(objects, sm[1])
			}
		}
		if len(objects) == 0 {
			break // the first migration that is not made of CREATEs only
		}
		all := true
		for _, o := range objects {
			var n uint8
			if err := conn.QueryRow(ctx, "EXISTS TABLE "+o).Scan(&n); err != nil {
				return nil, fmt.Errorf("adopt an existing store: %w", err)
			}
			all = all && n == 1
		}
		if !all {
			break
		}
		for i, st := range m.Statements {
			s := step{m.Version, i + 1, st}
			if err := recordStep(ctx, conn, s); err != nil {
				return nil, err
			}
			done[stepKey{s.version, s.step}] = true
		}
		log.Info("store from before schema_migrations: adopted", "migration", m.Name)
	}
	return done, nil
}

// isAlreadyExists reports a ClickHouse "table already exists" error (code 57).
func isAlreadyExists(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 57
}
