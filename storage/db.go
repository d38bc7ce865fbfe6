package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vantage-bgp/vantage/schema"
)

// DefaultDatabase is the database used when Config.Database is empty.
const DefaultDatabase = "vantage"

// Config says which ClickHouse to use.
type Config struct {
	// DSN is a clickhouse-go DSN of an existing server, for example
	// clickhouse://user:password@host:9000. Empty: start (or reuse) a local
	// clickhouse-server as described by Server. Use the native protocol:
	// the HTTP transport does not work with ClickHouse 18.16.
	DSN string
	// Database is created if missing; any database in the DSN is ignored.
	// Default DefaultDatabase.
	Database string
	// Server configures the local server (when DSN is empty).
	Server ServerConfig
	// Limits bound every query of Routes and Peers; zero fields mean
	// their defaults.
	Limits QueryLimits
	// Cluster, when set, is the name of a ClickHouse cluster (the
	// remote_servers section of every server's configuration) whose
	// shards are Shards: the store's tables are sharded over them, with a
	// Distributed table of each on every server (see cluster.go). Queries
	// and inserts go to DSN, or to the first shard when DSN is empty; no
	// local server is started. Empty: a single server.
	Cluster string
	// Shards are the DSNs (native protocol) of the cluster's shards, one
	// server of each; Open applies the schema on every one.
	Shards []string
}

var databaseName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks the values that Open would reject.
func (c Config) Validate() error {
	if c.Database != "" && !databaseName.MatchString(c.Database) {
		return fmt.Errorf("database %q: want letters, digits and underscores, not starting with a digit", c.Database)
	}
	if c.DSN != "" {
		if _, err := clickhouse.ParseDSN(c.DSN); err != nil {
			return fmt.Errorf("dsn: %w", err)
		}
	}
	if c.Cluster != "" {
		if !databaseName.MatchString(c.Cluster) {
			return fmt.Errorf("cluster %q: want letters, digits and underscores, not starting with a digit", c.Cluster)
		}
		if len(c.Shards) == 0 {
			return fmt.Errorf("shards: empty: a cluster needs the DSN of every shard")
		}
	} else if len(c.Shards) > 0 {
		return fmt.Errorf("shards: set without a cluster name")
	}
	for i, dsn := range c.Shards {
		if _, err := clickhouse.ParseDSN(dsn); err != nil {
			return fmt.Errorf("shards[%d]: %w", i, err)
		}
	}
	if err := c.Limits.Validate(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	return nil
}

// DB is a connection to ClickHouse with the Vantage tables in place.
type DB struct {
	conn     driver.Conn
	database string
	server   *Server       // nil when a DSN is configured
	cluster  string        // Config.Cluster
	shards   []driver.Conn // a connection to every shard of the cluster
	log      *slog.Logger
	limits   QueryLimits

	closeOnce sync.Once
	closeErr  error
}

// Open connects to ClickHouse, starting or reusing a local server first when
// cfg.DSN is empty, creates the database if it does not exist and applies
// the DDL. A nil logger discards.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	if cfg.Cluster != "" {
		return openCluster(ctx, cfg, log)
	}
	var opts *clickhouse.Options
	var srv *Server
	if cfg.DSN != "" {
		o, err := clickhouse.ParseDSN(cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("dsn: %w", err)
		}
		opts = o
	} else {
		s, err := StartServer(ctx, cfg.Server, log)
		if err != nil {
			return nil, err
		}
		srv = s
		opts = &clickhouse.Options{Addr: []string{s.Addr()}, Auth: clickhouse.Auth{Username: ServerUser, Password: s.Password()}}
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 5 * time.Second
	}
	db, err := openLogged(ctx, opts, cfg.Database, log)
	if err != nil {
		if srv != nil {
			srv.Close()
		}
		return nil, err
	}
	db.server = srv
	db.log = log
	db.limits = cfg.Limits.withDefaults()
	return db, nil
}

func open(ctx context.Context, opts *clickhouse.Options, database string) (*DB, error) {
	return openLogged(ctx, opts, database, nil)
}

// openLogged connects, creates the database and migrates its schema,
// logging the migration to log (nil: discard).
func openLogged(ctx context.Context, opts *clickhouse.Options, database string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := connectDatabase(ctx, opts, database)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, conn, schema.Migrations(), log); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse: schema migration: %w", err)
	}
	return &DB{conn: conn, database: database, log: slog.New(slog.DiscardHandler), limits: DefaultQueryLimits()}, nil
}

// connectDatabase creates the database if it does not exist and returns a
// connection that uses it.
func connectDatabase(ctx context.Context, opts *clickhouse.Options, database string) (driver.Conn, error) {
	// The database must exist before a connection can use it as default.
	o := *opts
	o.Auth.Database = "default"
	boot, err := clickhouse.Open(&o)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	err = boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+database)
	boot.Close()
	if err != nil {
		return nil, fmt.Errorf("clickhouse: create database %s: %w", database, err)
	}
	o.Auth.Database = database
	conn, err := clickhouse.Open(&o)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	return conn, nil
}

// Cluster is the name of the cluster the store is sharded over, "" for a
// single server.
func (db *DB) Cluster() string { return db.cluster }

// Database is the name of the database in use.
func (db *DB) Database() string { return db.database }

// Server is the local server in use, or nil when a DSN is configured.
func (db *DB) Server() *Server { return db.server }

// Ping checks that ClickHouse answers.
func (db *DB) Ping(ctx context.Context) error { return db.conn.Ping(ctx) }

// Close closes the connection and gives up the local server, stopping it if
// no other Vantage process uses it. Close the writers first. Close is
// idempotent.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.closeErr = db.conn.Close()
		for _, c := range db.shards {
			db.closeErr = errors.Join(db.closeErr, c.Close())
		}
		if db.server != nil {
			db.closeErr = errors.Join(db.closeErr, db.server.Close())
		}
	})
	return db.closeErr
}
