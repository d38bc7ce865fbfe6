package storage

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vantage-bgp/vantage/internal/testenv"
	"github.com/vantage-bgp/vantage/schema"
)

// TestLocalMigrations: on a cluster's shards every table of the schema is
// NAME_local, in every statement; the view reads and writes local tables.
func TestLocalMigrations(t *testing.T) {
	migs := localMigrations()
	if len(migs) != len(schema.Migrations()) {
		t.Fatalf("%d migrations, want %d", len(migs), len(schema.Migrations()))
	}
	var all []string
	for _, m := range migs {
		for _, st := range m.Statements {
			all = append(all, st.SQL)
		}
	}
	text := strings.Join(all, ";\n")
	for _, tb := range distributedTables {
		if m := regexp.MustCompile(`\b` + tb.name + `\b`).FindStringIndex(text); m != nil {
			t.Errorf("%s is not renamed: ...%s...", tb.name, text[max(m[0]-80, 0):min(m[1]+40, len(text))])
		}
		if !strings.Contains(text, "CREATE TABLE IF NOT EXISTS "+tb.name+"_local") {
			t.Errorf("no CREATE TABLE IF NOT EXISTS %s_local", tb.name)
		}
	}
	mv := regexp.MustCompile(`(?s)CREATE MATERIALIZED VIEW routes_current_mv_local TO routes_current_local AS.*FROM route_events_local$`)
	found := false
	for _, s := range all {
		found = found || mv.MatchString(s)
	}
	if !found {
		t.Error("the materialized view does not read route_events_local into routes_current_local")
	}
	// The names of the statements are those of the single-server schema:
	// schema_migrations records the same steps.
	for i, m := range schema.Migrations() {
		for j, st := range m.Statements {
			if migs[i].Statements[j].Name != st.Name {
				t.Errorf("statement %s is named %s on a shard", st.Name, migs[i].Statements[j].Name)
			}
		}
	}
}

func TestClusterConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Cluster: "c"}, "shards: empty"},
		{Config{Shards: []string{"clickhouse://a:9000"}}, "shards: set without a cluster"},
		{Config{Cluster: "bad-name", Shards: []string{"clickhouse://a:9000"}}, `cluster "bad-name"`},
		{Config{Cluster: "c", Shards: []string{"clickhouse://a:9000", "clickhouse://b:9000?dial_timeout=x"}}, "shards[1]"},
		{Config{Cluster: "c", Shards: []string{"clickhouse://a:9000", "clickhouse://b:9000"}}, ""},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// testClusterName is the cluster of startTestCluster's servers.
const testClusterName = "vantage_test"

// startTestCluster starts two clickhouse-servers that each know both as
// the shards of the cluster testClusterName, and returns their DSNs.
func startTestCluster(t *testing.T) []string {
	t.Helper()
	if testServer == nil {
		testenv.Skip(t, testSkip)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var cfgs []ServerConfig
	for range 2 {
		cfgs = append(cfgs, ServerConfig{DataDir: t.TempDir(), TCPPort: freePort(), HTTPPort: freePort(), ExitWithStarter: true})
	}
	servers, err := StartLocalCluster(ctx, testClusterName, cfgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var dsns []string
	for _, s := range servers {
		t.Cleanup(func() { s.Close() })
		dsns = append(dsns, s.DSN())
	}
	return dsns
}

// TestCluster stores the same events in a single server and in a store
// sharded over two servers, through the writer and Insert, with a
// snapshot, a late event that makes it stale, a RIB dump's withdrawals and
// a recount, and checks that every query answers the same on both and
// that the rows are spread over both shards.
func TestCluster(t *testing.T) {
	dsns := startTestCluster(t)
	single := testDB(t)
	name := fmt.Sprintf("test_%d_cluster", testDBNumber.Add(1))
	cfg := Config{Cluster: testClusterName, Shards: dsns, Database: name}
	cl, err := Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if cl.Cluster() != testClusterName {
		t.Errorf("Cluster() = %q", cl.Cluster())
	}

	peerC := netip.MustParseAddr("192.0.2.3")
	withComm := func(e schema.Event, c schema.Community) schema.Event {
		e.Community = []schema.Community{c}
		e.LargeCommunity = []schema.LargeCommunity{{64500, 1, 2}}
		return e
	}
	open := func(sec float64, peer netip.Addr, asn uint32) schema.Event {
		return schema.Event{Timestamp: ts(sec), Peer: peer, PeerASN: asn, Host: "rrc-test", Type: schema.TypeOpen, Open: &schema.Open{Version: 4, ASN: asn, HoldTime: 90, RouterID: peer},
			Routes: schema.RouteCounts{{Family: schema.Family{AFI: 1, SAFI: 1}, Routes: 0}}}
	}
	var prefixes []string
	for i := range 40 {
		prefixes = append(prefixes, fmt.Sprintf("10.%d.0.0/16", i))
	}
	before := []schema.Event{
		state(1, peerA, 64500, schema.StateConnected),
		open(1, peerA, 64500),
		state(1, peerB, 64501, schema.StateConnected),
		withComm(announce(2, peerA, 64500, []uint32{64500, 64496}, append([]string{"10.0.0.0/8", "192.0.2.0/24"}, prefixes...)...), schema.Community{64500, 100}),
		announce(3, peerB, 64501, []uint32{64501, 64497, 64496}, "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "2001:db8::/32", "2001:db8:1::/48"),
		announce(4, peerC, 64502, []uint32{64502, 64499}, "10.1.0.0/16", "10.2.0.0/16"),
		announce(100, peerA, 64500, []uint32{64500, 64499}, "10.1.0.0/16", "10.3.0.0/16"),
		withdraw(200, peerA, 64500, "10.4.0.0/16", "10.5.0.0/16"),
		state(300, peerC, 64502, schema.StateDown),
		withdraw(400, peerB, 64501, "2001:db8:1::/48"),
	}
	// Raw messages, for the MRT export of updates.
	before[3].Raw = "ffffffffffffffffffffffffffffffff001702"
	before[4].Raw = "ffffffffffffffffffffffffffffffff001703"
	after := []schema.Event{
		// Late: before the snapshot at 500, which it makes stale for peer B.
		announce(450, peerB, 64501, []uint32{64501, 64510}, "10.7.0.0/16"),
		announce(600, peerA, 64500, []uint32{64500, 64511}, "10.8.0.0/16", "10.9.0.0/16"),
		withdraw(700, peerB, 64501, "10.1.2.0/24"),
		state(800, peerC, 64502, schema.StateConnected),
		announce(801, peerC, 64502, []uint32{64502, 64498}, "10.2.0.0/16", "10.6.0.0/16"),
	}
	for _, db := range []*DB{single, cl} {
		store(t, db, before...)
		if _, err := db.Snapshot(t.Context(), at(500)); err != nil {
			t.Fatalf("cluster %q: %v", db.cluster, err)
		}
		if err := db.Insert(t.Context(), after); err != nil {
			t.Fatalf("cluster %q: %v", db.cluster, err)
		}
		// A RIB dump of peer C at 900 that lacks 10.1.0.0/16.
		if err := db.Insert(t.Context(), []schema.Event{announce(900, peerC, 64502, []uint32{64502, 64498}, "10.2.0.0/16", "10.6.0.0/16")}); err != nil {
			t.Fatal(err)
		}
		if err := db.WithdrawAbsent(t.Context(), "rrc-test", []netip.Addr{peerC}, at(900), at(900)); err != nil {
			t.Fatalf("cluster %q: %v", db.cluster, err)
		}
		if _, err := db.Snapshot(t.Context(), at(1000)); err != nil {
			t.Fatalf("cluster %q: %v", db.cluster, err)
		}
		if err := db.RecountPeers(t.Context(), "rrc-test"); err != nil {
			t.Fatalf("cluster %q: %v", db.cluster, err)
		}
	}

	same := func(what string, get func(db *DB) (any, error)) {
		t.Helper()
		want, err := get(single)
		if err != nil {
			t.Fatalf("%s, single server: %v", what, err)
		}
		got, err := get(cl)
		if err != nil {
			t.Errorf("%s, cluster: %v", what, err)
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the cluster answers\n%+v\nthe single server\n%+v", what, got, want)
		}
		if reflect.ValueOf(want).Len() == 0 {
			t.Errorf("%s: no answer to compare", what)
		}
	}
	for _, q := range []RoutesQuery{
		{Prefix: netip.MustParsePrefix("10.1.0.0/16")},
		{Prefix: netip.MustParsePrefix("10.1.2.3/32"), Match: MatchLongest},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Match: MatchMore},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Match: MatchMore, Limit: 7, After: RouteKey{Host: "rrc-test", Peer: peerA, Family: schema.Family{AFI: 1, SAFI: 1}, Prefix: netip.MustParsePrefix("10.12.0.0/16")}},
		{Prefix: netip.MustParsePrefix("10.1.2.0/24"), Match: MatchLess},
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), Match: MatchMore},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Match: MatchMore, Peer: peerB},
		{Filter: RouteFilter{OriginASN: 64496}},
		{Filter: RouteFilter{ASPath: "^64500_", Community: &schema.Community{64500, 100}}},
	} {
		for _, sec := range []float64{0, 250, 550, 850, 950, 2000} {
			q := q
			if sec > 0 {
				q.At = at(sec)
			}
			same(fmt.Sprintf("routes %v %v at %v peer %v filter %+v", q.Prefix, q.Match, sec, q.Peer, q.Filter), func(db *DB) (any, error) {
				r, err := db.Routes(t.Context(), q)
				return r, err
			})
		}
	}
	for _, q := range []HistoryQuery{
		{Prefix: netip.MustParsePrefix("10.1.0.0/16"), From: at(0), To: at(1000)},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MoreSpecific: true, From: at(0), To: at(1000)},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), MoreSpecific: true, From: at(50), To: at(1000), Limit: 5,
			After: HistoryKey{TimeMicros: uint64(at(100).UnixMicro()), Route: RouteKey{Host: "rrc-test", Peer: peerA, Family: schema.Family{AFI: 1, SAFI: 1}, Prefix: netip.MustParsePrefix("10.1.0.0/16")}}},
	} {
		same(fmt.Sprintf("history %v more %v", q.Prefix, q.MoreSpecific), func(db *DB) (any, error) {
			h, err := db.History(t.Context(), q)
			return h, err
		})
	}
	same("peers", func(db *DB) (any, error) {
		p, err := db.Peers(t.Context())
		return p, err
	})
	// The MRT export's reads.
	for _, sec := range []float64{250, 550, 2000} {
		q := RIBQuery{At: at(sec)}
		same(fmt.Sprintf("rib at %v", sec), func(db *DB) (any, error) {
			var out []Route
			err := db.RIB(t.Context(), q, func(r *Route) error {
				out = append(out, *r)
				return nil
			})
			return out, err
		})
		same(fmt.Sprintf("rib peers at %v", sec), func(db *DB) (any, error) {
			p, err := db.RIBPeers(t.Context(), q)
			return p, err
		})
	}
	same("updates", func(db *DB) (any, error) {
		var out []ExportEvent
		err := db.Updates(t.Context(), UpdatesQuery{From: at(0), To: at(1000), Chunk: 5 * time.Minute}, func(e *ExportEvent) error {
			c := *e
			c.Raw = slices.Clone(e.Raw)
			out = append(out, c)
			return nil
		})
		return out, err
	})
	same("opens", func(db *DB) (any, error) {
		o, err := db.OpensBefore(t.Context(), "rrc-test", nil, at(1000))
		return o, err
	})

	// The rows are spread over both shards, and each is stored once.
	for _, table := range []string{"route_events", "routes_current", "rib_snapshots", "peer_events"} {
		var total uint64
		if err := cl.conn.QueryRow(t.Context(), "SELECT count() FROM "+table).Scan(&total); err != nil {
			t.Fatal(err)
		}
		var sum uint64
		var per []uint64
		for i, dsn := range dsns {
			n := countOnShard(t, dsn, name, table+LocalSuffix)
			per = append(per, n)
			if n == 0 && table != "peer_events" {
				t.Errorf("shard %d holds no row of %s (of %d)", i+1, table, total)
			}
			sum += n
		}
		t.Logf("%s: %d rows, per shard %v", table, total, per)
		if sum != total || total == 0 {
			t.Errorf("%s: %d rows over the shards, %d through the Distributed table", table, sum, total)
		}
	}

	// Opening again runs no migration and leaves the tables as they are.
	steps := func() (n uint64) {
		for _, dsn := range dsns {
			n += countOnShard(t, dsn, name, "schema_migrations")
		}
		return n
	}
	stepsBefore := steps()
	again, err := Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	if after := steps(); after != stepsBefore {
		t.Errorf("opening again ran %d more migration steps", after-stepsBefore)
	}

	// A migration that changes a local table's columns: the next Open
	// makes its Distributed table again, with them.
	for _, dsn := range dsns {
		execOnShard(t, dsn, name, "ALTER TABLE peer_seen_local ADD COLUMN note String")
	}
	again, err = Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if cols, err := tableColumns(t.Context(), again.conn, name, "peer_seen"); err != nil || !slices.Contains(cols, "note String") {
		t.Errorf("peer_seen after its local table got a column: %v, %v", cols, err)
	}
	if _, err := again.Peers(t.Context()); err != nil {
		t.Error(err)
	}

	// Every table of the shards has its Distributed table: a migration
	// that adds a table must add it to distributedTables too.
	o, err := clickhouse.ParseDSN(dsns[0])
	if err != nil {
		t.Fatal(err)
	}
	shard, err := clickhouse.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer shard.Close()
	rows, err := shard.Query(t.Context(), "SELECT name, engine FROM system.tables WHERE database = ?", name)
	if err != nil {
		t.Fatal(err)
	}
	engines := map[string]string{}
	for rows.Next() {
		var n, e string
		if err := rows.Scan(&n, &e); err != nil {
			t.Fatal(err)
		}
		engines[n] = e
	}
	rows.Close()
	for n, e := range engines {
		base, local := strings.CutSuffix(n, LocalSuffix)
		switch {
		case local && e != "MaterializedView" && engines[base] != "Distributed":
			t.Errorf("%s (%s) has no Distributed table %s", n, e, base)
		case !local && e != "Distributed" && n != "schema_migrations":
			t.Errorf("table %s (%s) on a shard is neither local nor Distributed", n, e)
		}
	}

	// The query limits hold on a cluster, and say so.
	limited := cfg
	limited.Limits = QueryLimits{MaxRowsToRead: 5}
	ldb, err := Open(t.Context(), limited, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ldb.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("0.0.0.0/0"), Match: MatchMore})
	ldb.Close()
	if !errors.Is(err, ErrQueryTooExpensive) {
		t.Errorf("a query over the limit on a cluster: %v, want ErrQueryTooExpensive", err)
	}

	// A cluster the servers do not know, or with another number of shards.
	for _, c := range []Config{
		{Cluster: "nowhere", Shards: dsns, Database: name},
		{Cluster: testClusterName, Shards: dsns[:1], Database: name},
	} {
		if _, err := Open(t.Context(), c, nil); err == nil || !strings.Contains(err.Error(), "remote_servers") {
			t.Errorf("cluster %s with %d shards: %v", c.Cluster, len(c.Shards), err)
		}
	}

	// A single-server store cannot be opened as a cluster's.
	_, err = Open(t.Context(), Config{Cluster: testClusterName, Shards: []string{testServer.DSN()}, Database: single.database}, nil)
	if err == nil || !strings.Contains(err.Error(), "single-server store") {
		t.Errorf("a single-server store opened as a cluster's: %v", err)
	}
}

func execOnShard(t *testing.T, dsn, database, sql string) {
	t.Helper()
	o, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	o.Auth.Database = database
	conn, err := clickhouse.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatal(err)
	}
}

func countOnShard(t *testing.T, dsn, database, table string) uint64 {
	t.Helper()
	o, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	o.Auth.Database = database
	conn, err := clickhouse.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
