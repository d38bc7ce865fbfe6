package storage

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vantage-bgp/vantage/schema"
)

// A store on a ClickHouse cluster (Config.Cluster): the tables of
// schema/NNN_*.sql exist on every shard as NAME_local, made by the same
// migrations with the names rewritten (localMigrations), each shard
// recording its own schema_migrations; the materialized view of every
// shard fills its routes_current_local from its route_events_local. Over
// them, every server has a Distributed table of each data table under the
// table's own name, so the queries and inserts of the single-server store
// run unchanged through whichever server they are sent to. Without
// ZooKeeper there is no ON CLUSTER DDL: Open connects to every shard and
// applies the DDL there itself.
//
// Rows are placed by a sharding key that keeps together what a query
// aggregates: every event, current state and snapshot row of one route
// (prefix, prefix_len) on one shard, and everything of one peer (host,
// peer) on one shard. The snapshot bookkeeping (rib_snapshot_runs,
// rib_snapshot_stale) is small and read whole: its rows go to any shard
// and every read sees all of them.
//
// Queries go through the Distributed tables. Snapshot is the exception: each
// shard builds its part of a snapshot from its own rows (the route sharding
// key keeps a route's events and snapshot rows together), so that a
// snapshot does not pass through one server.
//
// Inserts into Distributed tables are synchronous (insert_distributed_sync):
// an INSERT returns once every shard has stored its rows, so the writer
// acknowledges the log only for rows that are really stored.
//
// A subquery over a Distributed table inside a query over one (IN, JOIN) is
// refused by distributed_product_mode = 'deny', the default; the setting
// takes a string, which clickhouse-go cannot send to 18.16 (it sends
// settings as integers to servers before revision 54429). The one such
// query, WithdrawAbsent's NOT IN in HAVING (evaluated on the initiator,
// after the merge), says GLOBAL instead. Peers' JOIN is of two subqueries,
// each distributed on its own, and needs nothing.

// distributedTable is a data table of the schema and the sharding key of
// its Distributed table.
type distributedTable struct {
	name, key string
}

const (
	routeShardingKey = "cityHash64(prefix, prefix_len)"
	peerShardingKey  = "cityHash64(host, peer)"
)

// distributedTables are the tables the queries and the writer use.
var distributedTables = []distributedTable{
	{"route_events", routeShardingKey},
	{"routes_current", routeShardingKey},
	{"routes_by_origin", routeShardingKey},
	{"rib_snapshots", routeShardingKey},
	{"peer_events", peerShardingKey},
	{"peer_seen", peerShardingKey},
	{"peer_routes", peerShardingKey},
	{"peer_updates", peerShardingKey},
	{"rib_snapshot_runs", "rand()"},
	{"rib_snapshot_stale", "rand()"},
}

// LocalSuffix is appended to the name of every table of the schema on the
// shards of a cluster.
const LocalSuffix = "_local"

var (
	createdName = regexp.MustCompile(`(?i)^CREATE (?:TABLE|MATERIALIZED VIEW) (?:IF NOT EXISTS )?(\w+)`)
	renamedName = regexp.MustCompile(`(?i)\bTO (\w+)`)
)

// localMigrations returns the migrations with every table and view they
// make (CREATE, RENAME ... TO) renamed NAME_local, in every statement.
func localMigrations() []schema.Migration {
	migs := schema.Migrations()
	names := map[string]bool{}
	for _, m := range migs {
		for _, st := range m.Statements {
			if sm := createdName.FindStringSubmatch(st.SQL); sm != nil {
				names[sm[1]] = true
			}
			if strings.HasPrefix(strings.ToUpper(st.SQL), "RENAME TABLE ") {
				for _, sm := range renamedName.FindAllStringSubmatch(st.SQL, -1) {
					names[sm[1]] = true
				}
			}
		}
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, regexp.QuoteMeta(n))
	}
	slices.Sort(list)
	re := regexp.MustCompile(`\b(` + strings.Join(list, "|") + `)\b`)
	out := make([]schema.Migration, len(migs))
	for i, m := range migs {
		out[i] = schema.Migration{Version: m.Version, Name: m.Name}
		for _, st := range m.Statements {
			out[i].Statements = append(out[i].Statements, schema.Statement{Name: st.Name, SQL: re.ReplaceAllString(st.SQL, "${1}"+LocalSuffix)})
		}
	}
	return out
}

// clusterServers returns the DSNs of the servers that get the schema: every
// shard, and the DSN queries go to when it is not one of them.
func (c Config) clusterServers() []string {
	out := slices.Clone(c.Shards)
	if c.DSN != "" && !slices.Contains(out, c.DSN) {
		out = append(out, c.DSN)
	}
	return out
}

// openCluster opens a store on cfg.Cluster: the schema on every server
// (see the top of this file), then a connection to cfg.DSN, or to the
// first shard, for queries and inserts.
func openCluster(ctx context.Context, cfg Config, log *slog.Logger) (*DB, error) {
	local := localMigrations()
	// A connection to every shard stays open, for the work each shard
	// does on its own rows (Snapshot).
	var shards []driver.Conn
	closeShards := func() {
		for _, c := range shards {
			c.Close()
		}
	}
	for i, dsn := range cfg.clusterServers() {
		opts, err := clickhouse.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("shard dsn: %w", err)
		}
		if opts.DialTimeout == 0 {
			opts.DialTimeout = 5 * time.Second
		}
		addr := strings.Join(opts.Addr, ",")
		conn, err := connectDatabase(ctx, opts, cfg.Database)
		if err != nil {
			closeShards()
			return nil, fmt.Errorf("cluster %s, server %s: %w", cfg.Cluster, addr, err)
		}
		err = checkNotSingle(ctx, conn, cfg.Database)
		if err == nil {
			err = checkCluster(ctx, conn, cfg.Cluster, len(cfg.Shards))
		}
		if err == nil {
			if err = migrate(ctx, conn, local, log.With("server", addr)); err != nil {
				err = fmt.Errorf("schema migration: %w", err)
			}
		}
		if err == nil {
			err = ensureDistributed(ctx, conn, cfg.Cluster, cfg.Database, log.With("server", addr))
		}
		if err != nil {
			conn.Close()
			closeShards()
			return nil, fmt.Errorf("cluster %s, server %s: %w", cfg.Cluster, addr, err)
		}
		if i < len(cfg.Shards) {
			shards = append(shards, conn)
		} else {
			conn.Close()
		}
	}
	dsn := cfg.DSN
	if dsn == "" {
		dsn = cfg.Shards[0]
	}
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		closeShards()
		return nil, fmt.Errorf("dsn: %w", err)
	}
	if opts.Settings == nil {
		opts.Settings = clickhouse.Settings{}
	}
	opts.Settings["insert_distributed_sync"] = 1
	o := *opts
	o.Auth.Database = cfg.Database
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	conn, err := clickhouse.Open(&o)
	if err != nil {
		closeShards()
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		closeShards()
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	return &DB{conn: conn, shards: shards, database: cfg.Database, cluster: cfg.Cluster, log: log, limits: cfg.Limits.withDefaults()}, nil
}

// checkCluster checks that the server knows the cluster, with as many
// shards as the configuration lists.
func checkCluster(ctx context.Context, conn driver.Conn, cluster string, shards int) error {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(shard_num) FROM system.clusters WHERE cluster = ?", cluster).Scan(&n); err != nil {
		return fmt.Errorf("read system.clusters: %w", err)
	}
	switch {
	case n == 0:
		return fmt.Errorf("the server has no cluster %s in its remote_servers configuration (see deploy/clickhouse-cluster/)", cluster)
	case int(n) != shards:
		return fmt.Errorf("cluster %s has %d shards in the server's remote_servers, and the configuration lists %d (a server of each is needed)", cluster, n, shards)
	}
	return nil
}

// checkNotSingle refuses a database that holds a single-server store: its
// tables have the names the Distributed tables need.
func checkNotSingle(ctx context.Context, conn driver.Conn, database string) error {
	var engine string
	rows, err := conn.Query(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = 'route_events'", database)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&engine); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if engine != "" && engine != "Distributed" {
		return fmt.Errorf("database %s holds a single-server store (route_events is a %s table); a cluster's store needs a database of its own", database, engine)
	}
	return nil
}

// ensureDistributed creates, on one server, the Distributed table of every
// data table over its NAME_local tables of the cluster; one whose columns
// are no longer those of the local table (a migration changed it) is made
// again.
func ensureDistributed(ctx context.Context, conn driver.Conn, cluster, database string, log *slog.Logger) error {
	for _, t := range distributedTables {
		want, err := tableColumns(ctx, conn, database, t.name+LocalSuffix)
		if err != nil {
			return err
		}
		if len(want) == 0 {
			return fmt.Errorf("table %s%s is missing after the migrations", t.name, LocalSuffix)
		}
		have, err := tableColumns(ctx, conn, database, t.name)
		if err != nil {
			return err
		}
		if slices.Equal(have, want) {
			continue
		}
		if len(have) > 0 {
			log.Info("columns of the local table changed; making the Distributed table again", "table", t.name)
			if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+t.name); err != nil {
				return fmt.Errorf("drop %s: %w", t.name, err)
			}
		}
		if err := conn.Exec(ctx, t.ddl(cluster, database)); err != nil {
			return fmt.Errorf("create the Distributed table %s: %w", t.name, err)
		}
	}
	return nil
}

// ddl creates the Distributed table over the shards' local tables.
func (t distributedTable) ddl(cluster, database string) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s AS %s%s ENGINE = Distributed(%s, %s, %s%s, %s)",
		t.name, t.name, LocalSuffix, cluster, database, t.name, LocalSuffix, t.key)
}

// tableColumns returns "name type" of every column of the table, sorted;
// none when it does not exist.
func tableColumns(ctx context.Context, conn driver.Conn, database, table string) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", database, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n, typ string
		if err := rows.Scan(&n, &typ); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		out = append(out, n+" "+typ)
	}
	slices.Sort(out)
	return out, rows.Err()
}

// globalIn is the IN of a subquery over a table of the store: GLOBAL on a
// cluster, where the subquery must read every shard once, on the initiator.
func (db *DB) globalIn() string {
	if db.cluster != "" {
		return "GLOBAL "
	}
	return ""
}

// StartLocalCluster starts a local clickhouse-server for each of cfgs
// (StartServer), each with a remote_servers section that names all of them
// as the shards of the cluster name, one replica each, which log in to one
// another as ServerUser with each one's own password. A store on them is
// Config{Cluster: name, Shards: the servers' DSNs}: for tests and demos of
// a sharded store on one machine. A server already running in one of the
// data directories is reused as it is, with the configuration it started
// with.
func StartLocalCluster(ctx context.Context, name string, cfgs []ServerConfig, log *slog.Logger) ([]*Server, error) {
	if !databaseName.MatchString(name) {
		return nil, fmt.Errorf("cluster %q: want letters, digits and underscores, not starting with a digit", name)
	}
	cluster := &ServerCluster{Name: name}
	for i := range cfgs {
		cfgs[i] = cfgs[i].withDefaults()
		dir, err := filepath.Abs(cfgs[i].DataDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		var pw string
		if err == nil {
			pw, err = loadPassword(dir)
		}
		if err != nil {
			return nil, fmt.Errorf("local cluster %s: %w", name, err)
		}
		cluster.Shards = append(cluster.Shards, ServerShard{Host: "127.0.0.1", Port: cfgs[i].TCPPort, User: ServerUser, Password: pw})
	}
	var out []*Server
	for _, c := range cfgs {
		c.Cluster = cluster
		s, err := StartServer(ctx, c, log)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
