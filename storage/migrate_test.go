package storage

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vantage-bgp/vantage/schema"
)

// oldStore makes a database in the layout of schema version v as Vantage
// made it before schema_migrations existed: the statements of migrations 1
// to v run directly, nothing recorded. It returns the database's name and
// a connection to it.
func oldStore(t *testing.T, v int) (string, driver.Conn) {
	t.Helper()
	if testServer == nil {
		db := testDB(t) // skips with the reason
		_ = db
	}
	name := fmt.Sprintf("test_%d_old_v%d", testDBNumber.Add(1), v)
	o := *testOptions()
	boot, err := clickhouse.Open(&o)
	if err != nil {
		t.Fatal(err)
	}
	defer boot.Close()
	if err := boot.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	o.Auth.Database = name
	conn, err := clickhouse.Open(&o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name)
		conn.Close()
	})
	for _, m := range schema.Migrations()[:v] {
		for _, st := range m.Statements {
			if err := conn.Exec(t.Context(), st.SQL); err != nil {
				t.Fatalf("%s: %v", st.Name, err)
			}
		}
	}
	return name, conn
}

// fillOldLayout stores, in the layout of versions 1 to 3 (hex text for
// bytes, the AS path twice), what the writer of that time wrote for: a
// session up at t0+1, an UPDATE announcing 198.51.100.0/24 with a set in
// its path and an unknown attribute, a withdrawal of 203.0.113.0/24
// announced before, and a NOTIFICATION.
func fillOldLayout(t *testing.T, conn driver.Conn) {
	t.Helper()
	peer := "toFixedString(unhex('00000000000000000000ffffc0000201'), 16)"
	p1 := "toFixedString(unhex('00000000000000000000ffffc6336400'), 16)" // 198.51.100.0
	p2 := "toFixedString(unhex('00000000000000000000ffffcb007100'), 16)" // 203.0.113.0
	us := func(sec int) string { return fmt.Sprint(uint64(t0.Unix()+int64(sec)) * 1e6) }
	dt := func(sec int) string { return fmt.Sprintf("toDateTime(%d)", t0.Unix()+int64(sec)) }
	for _, sql := range []string{
		`INSERT INTO peer_events (host, peer, peer_asn, ts, ts_us, seq, id, type, state)
		 SELECT 'rrc-old', ` + peer + `, 64500, ` + dt(1) + `, ` + us(1) + `, 1, 'a-1', 'RIS_PEER_STATE', 'connected'`,
		`INSERT INTO route_events (host, peer, peer_asn, ts, ts_us, seq, id, idx, kind, afi, safi, prefix, prefix_len,
		   next_hop, as_path, as_path_text, origin_asn, origin, other_attr_flags, other_attr_codes, other_attr_values, raw)
		 SELECT 'rrc-old', ` + peer + `, 64500, ` + dt(2) + `, ` + us(2) + `, 2, 'a-2', 0, 'announce', 1, 1, ` + p1 + `, 24,
		   toFixedString(unhex('00000000000000000000ffffc00002fe'), 16), [64500, 64496, 64497], '64500 {64496,64497}', 0, 'IGP',
		   [192], [99], ['0102'], 'ffffffffffffffffffffffffffffffff001702'
		 UNION ALL
		 SELECT 'rrc-old', ` + peer + `, 64500, ` + dt(2) + `, ` + us(2) + `, 2, 'a-2', 1, 'announce', 1, 1, ` + p2 + `, 24,
		   toFixedString(unhex('00000000000000000000ffffc00002fe'), 16), [64500, 64496, 64497], '64500 {64496,64497}', 0, 'IGP',
		   [192], [99], ['0102'], ''`,
		`INSERT INTO route_events (host, peer, peer_asn, ts, ts_us, seq, id, idx, kind, afi, safi, prefix, prefix_len, raw)
		 SELECT 'rrc-old', ` + peer + `, 64500, ` + dt(3) + `, ` + us(3) + `, 3, 'a-3', 0, 'withdraw', 1, 1, ` + p2 + `, 24, 'ABCD'`,
		`INSERT INTO peer_events (host, peer, peer_asn, ts, ts_us, seq, id, type, has_notification, notification_code,
		   notification_subcode, notification_data, reason, raw)
		 SELECT 'rrc-old', ` + peer + `, 64500, ` + dt(4) + `, ` + us(4) + `, 4, 'a-4', 'NOTIFICATION', 1, 6, 2, '0a0b', 'cease', 'ffff'`,
	} {
		if err := conn.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
}

// checkMigrated checks that what fillOldLayout stored reads back the same
// after the migrations, and that the bytes are bytes now.
func checkMigrated(t *testing.T, db *DB) {
	t.Helper()
	ctx := t.Context()
	routes, err := db.Routes(ctx, RoutesQuery{Prefix: netip.MustParsePrefix("198.51.0.0/16"), Match: MatchMore})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 1 {
		t.Fatalf("current routes after the migration: %v, want 198.51.100.0/24 only", summary(routes))
	}
	r := routes[0]
	if r.Prefix != netip.MustParsePrefix("198.51.100.0/24") || r.Path.String() != "64500 {64496,64497}" ||
		len(r.OtherAttrs) != 1 || r.OtherAttrs[0] != (schema.RawAttribute{Flags: 192, Code: 99, Value: "0102"}) {
		t.Errorf("route after the migration: %v path %q other %+v", r.Prefix, r.Path, r.OtherAttrs)
	}
	if gone, err := db.Routes(ctx, RoutesQuery{Prefix: netip.MustParsePrefix("203.0.113.0/24")}); err != nil || len(gone) != 0 {
		t.Errorf("withdrawn route after the migration: %v, %v; want none", summary(gone), err)
	}
	var raws []string
	rows, err := db.conn.Query(ctx, "SELECT hex(raw) FROM route_events WHERE raw != '' ORDER BY ts_us")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		raws = append(raws, s)
	}
	rows.Close()
	if fmt.Sprint(raws) != "[FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF001702 ABCD]" {
		t.Errorf("raw messages after the migration: %v, want the bytes of the hex", raws)
	}
	var data, raw string
	if err := db.conn.QueryRow(ctx, "SELECT hex(notification_data), hex(raw) FROM peer_events WHERE type = 'NOTIFICATION'").Scan(&data, &raw); err != nil {
		t.Fatal(err)
	}
	if data != "0A0B" || raw != "FFFF" {
		t.Errorf("NOTIFICATION after the migration: data %s raw %s, want 0A0B FFFF", data, raw)
	}
	if n := migrationSteps(t, db); n != uint64(allSteps()) {
		t.Errorf("schema_migrations holds %d steps, want %d", n, allSteps())
	}
}

func allSteps() int {
	n := 0
	for _, m := range schema.Migrations() {
		n += len(m.Statements)
	}
	return n
}

// TestMigrateFromVersion3 migrates a populated store in the layout that
// Vantage wrote before schema_migrations existed (version 3, with
// routes_current).
func TestMigrateFromVersion3(t *testing.T) {
	name, conn := oldStore(t, 3)
	fillOldLayout(t, conn)
	db, err := open(t.Context(), testOptions(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkMigrated(t, db)
}

// TestMigrateFromVersion2: a store from before routes_current gets it,
// filled from its history.
func TestMigrateFromVersion2(t *testing.T) {
	name, conn := oldStore(t, 2)
	fillOldLayout(t, conn)
	db, err := open(t.Context(), testOptions(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkMigrated(t, db)
}

// TestMigrateResumes: a migration stopped after some of its statements (a
// crash) carries on with the next one when the store is opened again.
func TestMigrateResumes(t *testing.T) {
	name, conn := oldStore(t, 3)
	fillOldLayout(t, conn)
	if err := conn.Exec(t.Context(), migrationsDDL); err != nil {
		t.Fatal(err)
	}
	// Versions 1 to 3 adopted, then version 4 run up to its copy of
	// route_events into the new table, and no further.
	ms := schema.Migrations()
	for _, m := range ms[:3] {
		for i, st := range m.Statements {
			if err := recordStep(t.Context(), conn, step{m.Version, i + 1, st}); err != nil {
				t.Fatal(err)
			}
		}
	}
	m4 := ms[3]
	copied := 0
	for i, st := range m4.Statements {
		if err := conn.Exec(t.Context(), st.SQL); err != nil {
			t.Fatalf("%s: %v", st.Name, err)
		}
		if err := recordStep(t.Context(), conn, step{m4.Version, i + 1, st}); err != nil {
			t.Fatal(err)
		}
		if len(st.SQL) > 25 && st.SQL[:25] == "INSERT INTO route_events_" {
			copied = i + 1
			break
		}
	}
	if copied == 0 {
		t.Fatalf("%s has no INSERT INTO route_events_...: the test stops at the wrong place", m4.Name)
	}
	db, err := open(t.Context(), testOptions(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkMigrated(t, db)
}

// TestMigrateConcurrently: processes opening an old store at the same time
// (collector and lg started together) migrate it once; all of them open.
func TestMigrateConcurrently(t *testing.T) {
	name, conn := oldStore(t, 3)
	fillOldLayout(t, conn)
	var wg sync.WaitGroup
	dbs := make([]*DB, 3)
	errs := make([]error, 3)
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = open(t.Context(), testOptions(), name) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	checkMigrated(t, dbs[0])
	var lock uint8
	if err := conn.QueryRow(t.Context(), "EXISTS TABLE "+migrationLock).Scan(&lock); err != nil || lock != 0 {
		t.Errorf("the migration lock is still there (%d, %v)", lock, err)
	}
}

// TestMigrateLeanRoutes migrates a store of schema version 10 (recorded in
// schema_migrations, as a running store has it) holding a route with
// every attribute that version 11 moves into the attrs text, a withdrawn
// one, and a snapshot row: the routes read back the same, from the
// current state, the history, the snapshot and the origin search.
func TestMigrateLeanRoutes(t *testing.T) {
	name, conn := oldStore(t, 10)
	if err := conn.Exec(t.Context(), migrationsDDL); err != nil {
		t.Fatal(err)
	}
	for _, m := range schema.Migrations()[:10] {
		for i, st := range m.Statements {
			if err := recordStep(t.Context(), conn, step{m.Version, i + 1, st}); err != nil {
				t.Fatal(err)
			}
		}
	}
	peer := "toFixedString(unhex('00000000000000000000ffffc0000201'), 16)"
	addr := func(s string) string {
		a := schema.AddrTo16(netip.MustParseAddr(s))
		return fmt.Sprintf("toFixedString(unhex('%x'), 16)", a[:])
	}
	full := `'rrc-v10', ` + peer + `, 64500, toDateTime(%d), %d, 2, 'v10-2', 'announce', 2, 4, ` + addr("2001:db8:100::") + `, 48,
	   [1000, 1001], ` + addr("2001:db8::fe") + `, ` + addr("fe80::1") + `, '64500 64496', 64496, 'IGP',
	   10, 1, 200, 1, [4227136001], ['64500:1:2'], ['rt:64500:7', 'soo:192.0.2.1:9'], 1, 1, 64499, ` + addr("192.0.2.77") + `,
	   ` + addr("192.0.2.9") + `, [` + addr("192.0.2.10") + `, ` + addr("2001:db8::a") + `], 64501, 1, 77, 1,
	   [192], [99], [unhex('0102')]`
	cols := `host, peer, peer_asn, ts, ts_us, seq, id, kind, afi, safi, prefix, prefix_len,
	   labels, next_hop, next_hop_ll, as_path, origin_asn, origin, med, has_med, local_pref, has_local_pref,
	   communities, large_communities, ext_communities, atomic_aggregate, has_aggregator, aggregator_asn, aggregator_addr,
	   originator_id, cluster_list, otc, has_otc, aigp, has_aigp, other_attr_flags, other_attr_codes, other_attr_values`
	snapCols := strings.Replace(cols, "kind, ", "", 1)
	snapRow := strings.Replace(fmt.Sprintf(full, t0.Unix()+2, (t0.Unix()+2)*1e6), "'announce', ", "", 1)
	for _, sql := range []string{
		`INSERT INTO route_events (` + cols + `, raw) SELECT ` + fmt.Sprintf(full, t0.Unix()+2, (t0.Unix()+2)*1e6) + `, 'RAW'`,
		`INSERT INTO route_events (host, peer, peer_asn, ts, ts_us, seq, id, idx, kind, afi, safi, prefix, prefix_len, raw)
		 SELECT 'rrc-v10', ` + peer + `, 64500, toDateTime(` + fmt.Sprint(t0.Unix()+3) + `), ` + fmt.Sprint((t0.Unix()+3)*1e6) + `, 3, 'v10-3', 0, 'withdraw', 1, 1, ` + addr("203.0.113.0") + `, 24, 'W'`,
		`INSERT INTO rib_snapshots (snap_us, ` + snapCols + `) SELECT ` + fmt.Sprint((t0.Unix()+5)*1e6) + `, ` + snapRow,
		`INSERT INTO rib_snapshot_runs (snap_us, made_us, complete, routes) SELECT ` + fmt.Sprint((t0.Unix()+5)*1e6) + `, 1, 1, 1`,
	} {
		if err := conn.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%v\n%s", err, sql)
		}
	}
	db, err := open(t.Context(), testOptions(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u32 := func(v uint32) *uint32 { return &v }
	aigp := uint64(77)
	want := Route{
		Host: "rrc-v10", Peer: netip.MustParseAddr("192.0.2.1"), PeerASN: 64500, Family: schema.Family{AFI: 2, SAFI: 4},
		Prefix: netip.MustParsePrefix("2001:db8:100::/48"), Labels: []uint32{1000, 1001}, Seq: 2, ID: "v10-2",
		NextHop: netip.MustParseAddr("2001:db8::fe"), NextHopLinkLocal: netip.MustParseAddr("fe80::1"),
		Path: schema.ASPath{{Type: schema.SegmentSequence, ASNs: []uint32{64500, 64496}}}, Origin: schema.OriginIGP,
		MED: u32(10), LocalPref: u32(200), Community: []schema.Community{schema.CommunityFromUint32(4227136001)},
		LargeCommunity:  []schema.LargeCommunity{{64500, 1, 2}},
		AtomicAggregate: true, Aggregator: &schema.Aggregator{ASN: 64499, Address: netip.MustParseAddr("192.0.2.77")},
		OriginatorID: netip.MustParseAddr("192.0.2.9"),
		ClusterList:  []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::a")},
		OTC:          u32(64501), AIGP: &aigp,
		OtherAttrs: []schema.RawAttribute{{Flags: 192, Code: 99, Value: "0102"}},
		Time:       t0.Add(2 * time.Second).UTC(),
	}
	var ext []schema.ExtCommunity
	for _, s := range []string{"rt:64500:7", "soo:192.0.2.1:9"} {
		var c schema.ExtCommunity
		if err := c.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		ext = append(ext, c)
	}
	want.ExtCommunity = ext
	check := func(what string, got []Route, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("%s after the migration:\n got %+v\nwant %+v", what, got, want)
		}
	}
	p := netip.MustParsePrefix("2001:db8:100::/48")
	got, err := db.Routes(t.Context(), RoutesQuery{Prefix: p})
	check("current route", got, err)
	got, err = db.Routes(t.Context(), RoutesQuery{Prefix: p, At: t0.Add(6 * time.Second)})
	check("route from the snapshot", got, err)
	got, err = db.Routes(t.Context(), RoutesQuery{Filter: RouteFilter{OriginASN: 64496}})
	check("origin search", got, err)
	hist, err := db.History(t.Context(), HistoryQuery{Prefix: p, From: t0, To: t0.Add(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || !reflect.DeepEqual(hist[0].Route, want) {
		t.Errorf("history after the migration: %+v", hist)
	}
	if gone, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("203.0.113.0/24")}); err != nil || len(gone) != 0 {
		t.Errorf("withdrawn route after the migration: %v, %v; want none", summary(gone), err)
	}
	var raws []string
	rows, err := db.conn.Query(t.Context(), "SELECT raw FROM route_events ORDER BY ts_us")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		raws = append(raws, s)
	}
	rows.Close()
	if fmt.Sprint(raws) != "[RAW W]" {
		t.Errorf("raw messages after the migration: %q", raws)
	}
}
