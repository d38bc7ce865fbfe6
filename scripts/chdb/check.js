// Proves that Vantage's SQL runs on a current ClickHouse (chDB, the engine
// in-process), beside the Debian 18.16 server the tests use: every
// statement of schema/*.sql, then the shapes of storage's queries with
// literal values, on a few rows. Run by storage's TestSQLOnCurrentClickHouse:
//   node scripts/chdb/check.js SCHEMA_DIR SCRATCH_DIR
const { Session } = require('chdb');
const fs = require('fs');
const path = require('path');
const [schemaDir, scratch] = process.argv.slice(2);
const s = new Session(scratch);
const q = (sql) => {
  try {
    return s.query(sql, 'TSV');
  } catch (e) {
    console.error('FAILED:\n' + sql + '\n' + e);
    process.exit(1);
  }
};
q('CREATE DATABASE IF NOT EXISTS vt');
q('USE vt');
const p = "toFixedString(unhex('00000000000000000000ffff0a000000'), 16)";
const peer = "toFixedString(unhex('00000000000000000000ffffc0000201'), 16)";
// The migrations in order, as storage applies them: up to version 3 (the
// schema before migrations had a version table), a row in that layout, then
// the rest, which must convert it.
const migrations = fs.readdirSync(schemaDir).filter(f => /^\d{3}_.*\.sql$/.test(f)).sort();
const apply = (files) => {
  for (const f of files) {
    const src = fs.readFileSync(path.join(schemaDir, f), 'utf8').split('\n').filter(l => !l.trim().startsWith('--')).join('\n');
    for (const st of src.split(/;\s*\n/).map(x => x.trim().replace(/;$/, '')).filter(Boolean)) {
      q(st);
    }
  }
};
apply(migrations.filter(f => f < '004'));
q(`INSERT INTO route_events (host, peer, peer_asn, ts, ts_us, seq, id, idx, kind, afi, safi, prefix, prefix_len, as_path, as_path_text, origin_asn, other_attr_flags, other_attr_codes, other_attr_values, raw)
   VALUES ('old', ${peer}, 64500, toDateTime(1600000000), 1600000000000000, 1, 'o', 0, 'announce', 1, 1, ${p}, 8, [64500, 64496], '64500 {64496,64497}', 64496, [192], [99], ['0102'], 'ffff')`);
q(`INSERT INTO peer_events (host, peer, peer_asn, ts, ts_us, seq, id, type, notification_data, raw) VALUES ('old', ${peer}, 64500, toDateTime(1600000000), 1600000000000000, 0, 'n', 'NOTIFICATION', '0a0b', 'ffff')`);
apply(migrations.filter(f => f >= '004'));
const migrated = q(`SELECT as_path, attrs, hex(raw) FROM route_events WHERE host = 'old'`).trim();
if (migrated !== '64500 {64496,64497}\tother=192:99:0102\tFFFF') {
  console.error('route_events after the migrations: ' + JSON.stringify(migrated) + ', want the path text and the bytes of the hex');
  process.exit(1);
}
const migratedCurrent = q(`SELECT as_path, attrs FROM routes_current WHERE host = 'old'`).trim();
if (migratedCurrent !== '64500 {64496,64497}\tother=192:99:0102') {
  console.error('routes_current after the migrations: ' + JSON.stringify(migratedCurrent));
  process.exit(1);
}
const migratedPeer = q(`SELECT hex(notification_data), hex(raw) FROM peer_events WHERE host = 'old'`).trim();
if (migratedPeer !== '0A0B\tFFFF') {
  console.error('peer_events after the migrations: ' + JSON.stringify(migratedPeer));
  process.exit(1);
}
q(`INSERT INTO route_events (host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, as_path, origin_asn, communities, large_communities)
   VALUES ('h', ${peer}, 64500, 1700000000000000, 1, 'a', 'announce', 1, 1, ${p}, 8, '64500 64496', 64496, [4226809956], ['64500:1:2'])`);
q(`INSERT INTO peer_events (host, peer, peer_asn, ts, ts_us, seq, id, type, state, hold_time) VALUES ('h', ${peer}, 64500, toDateTime(1700000000), 1699999999000000, 0, 's', 'RIS_PEER_STATE', 'connected', 90)`);
q(`INSERT INTO peer_seen (host, peer, last_us) VALUES ('h', ${peer}, 1700000000000000)`);
const current = q("SELECT count() FROM routes_current WHERE host = 'h'").trim();
if (current !== '1') {
  console.error('routes_current holds ' + current + ' rows after one INSERT into route_events, want 1');
  process.exit(1);
}
// Routes (grouped, HAVING with a filter, candidate prefixes by IN, cursor
// as a tuple comparison; the peers' last downs joined).
q(`SELECT host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, last_us, last_kind, last_as_path, last_communities
   FROM (
     SELECT host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, max(ts_us) AS last_us, argMax(kind, ts_us) AS last_kind,
       argMax(as_path, ts_us) AS last_as_path, argMax(communities, ts_us) AS last_communities
     FROM routes_current
     WHERE prefix >= ${p} AND prefix_len >= 8 AND nlri = '' AND afi IN (1, 2) AND host = 'h'
       AND (prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id) > (toFixedString(unhex('00'), 16), toUInt8(0), '', ${peer}, toUInt16(0), toUInt8(0), '', '', toUInt32(0))
       AND (prefix, prefix_len) IN (SELECT prefix, prefix_len FROM routes_current WHERE nlri = '' AND origin_asn = toUInt32(64496) AND has(communities, toUInt32(4226809956)))
     GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id
     HAVING last_kind = 'announce'
       AND argMax(origin_asn, ts_us) = toUInt32(64496) AND match(argMax(as_path, ts_us), '(?:^|$|[ {},()\\[\\]])64496$')
       AND has(argMax(communities, ts_us), toUInt32(4226809956)) AND has(argMax(large_communities, ts_us), '64500:1:2')
   ) AS routes ANY LEFT JOIN (
     SELECT host, peer, max(ts_us) AS down_us FROM peer_events WHERE type = 'RIS_PEER_STATE' AND state = 'down' AND host = 'h' GROUP BY host, peer
   ) AS downs USING (host, peer)
   WHERE last_us > down_us
   ORDER BY prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id LIMIT 10
   SETTINGS max_execution_time = 10, max_rows_to_read = 100000000, max_result_rows = 1000000`);
// History (DISTINCT, window, cursor with the kind as a number).
q(`SELECT DISTINCT host, peer, ts_us, toInt8(kind) FROM route_events
   WHERE prefix = ${p} AND prefix_len = 8 AND ts >= toDateTime(1699999999) AND ts <= toDateTime(1700000001)
     AND (ts_us, host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, toInt8(kind)) > (toUInt64(1), 'h', ${peer}, toUInt16(1), toUInt8(1), '', '', ${p}, toUInt8(8), toUInt32(0), toInt8(1))
   ORDER BY ts_us`);
// Peers: states, last downs, last seen with the hold time.
q(`SELECT host, peer, argMax(peer_asn, ts_us), argMaxIf(state, ts_us, type = 'RIS_PEER_STATE'), maxIf(ts_us, type = 'RIS_PEER_STATE') FROM peer_events GROUP BY host, peer`);
q(`SELECT host, hex(peer), max(ts_us) FROM peer_events WHERE type = 'RIS_PEER_STATE' AND state = 'down' GROUP BY host, peer`);
q(`SELECT s.host, s.peer, s.last_us, h.hold
   FROM (SELECT host, peer, max(last_us) AS last_us FROM peer_seen GROUP BY host, peer) AS s
   ANY LEFT JOIN (
     SELECT host, peer, min(hold_time) AS hold
     FROM (SELECT host, peer, sent, argMax(hold_time, ts_us) AS hold_time FROM peer_events WHERE type = 'OPEN' GROUP BY host, peer, sent)
     GROUP BY host, peer
   ) AS h USING (host, peer)`);
q(`SELECT host, peer, argMax(asn, last_us), max(last_us), countIf(afi = 1 AND last_kind = 'announce'), countIf(afi = 2 AND last_kind = 'announce')
   FROM (SELECT host, peer, afi, argMax(kind, ts_us) AS last_kind, max(ts_us) AS last_us, argMax(peer_asn, ts_us) AS asn
         FROM routes_current GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id)
   GROUP BY host, peer`);
// A RIB dump applied as a snapshot (storage.WithdrawAbsent).
q(`INSERT INTO route_events (host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, rd, nlri, prefix, prefix_len, path_id)
   SELECT host, peer, argMax(peer_asn, ts_us), toUInt64(1700000100000000), 0,
     concat('rib-absent:', toString(toUInt64(1700000100000000)), ':', hex(peer), ':', toString(afi), '/', toString(safi), ':', rd, ':', nlri, ':', hex(prefix), '/', toString(prefix_len), ':', toString(path_id)),
     'withdraw', afi, safi, rd, nlri, prefix, prefix_len, path_id
   FROM route_events
   WHERE host = 'h' AND has(['00000000000000000000FFFFC0000201'], hex(peer)) AND ts_us < 1700000100000000
   GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id
   HAVING argMax(kind, ts_us) = 'announce'
     AND (host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id) NOT IN (
       SELECT host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id FROM route_events
       WHERE host = 'h' AND has(['00000000000000000000FFFFC0000201'], hex(peer)) AND ts_us >= 1700000100000000 AND ts_us <= 1700000100000000 AND kind = 'announce')`);
const withdrawn = q("SELECT count() FROM route_events WHERE host = 'h' AND kind = 'withdraw'").trim();
if (withdrawn !== '1') {
  console.error('the RIB snapshot withdrew ' + withdrawn + ' routes, want 1');
  process.exit(1);
}
// RIB snapshots (storage.Snapshot and the state at a past time): build
// from the events, then read a snapshot plus the events after it.
q(`INSERT INTO rib_snapshot_runs (snap_us, made_us, complete, routes) SELECT toUInt64(1700000050000000), toUInt64(1), 0, 0`);
q(`INSERT INTO rib_snapshots (snap_us, host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, ts_us, origin_asn, as_path, communities)
   SELECT toUInt64(1700000050000000), host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, max(ts_us), argMax(origin_asn, ts_us),
     argMax(as_path, ts_us), argMax(communities, ts_us)
   FROM (SELECT host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, ts, ts_us, kind, origin_asn, as_path, communities FROM route_events
         WHERE ts_us <= toUInt64(1700000050000000) AND ts <= toDateTime(toUInt32(1700000050)) AND host = 'h')
   GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id
   HAVING argMax(kind, ts_us) = 'announce'
     AND max(ts_us) > arrayElement(CAST([1] AS Array(UInt64)), indexOf(CAST(['h|00'] AS Array(String)), concat(host, '|', hex(peer))))`);
q(`INSERT INTO rib_snapshot_runs (snap_us, made_us, complete, routes) SELECT toUInt64(1700000050000000), toUInt64(2), 1, toUInt64(1)`);
const snapped = q('SELECT count() FROM rib_snapshots FINAL WHERE snap_us = toUInt64(1700000050000000)').trim();
if (snapped !== '1') {
  console.error('the snapshot holds ' + snapped + ' routes, want 1');
  process.exit(1);
}
const snapshotAt = () => q(`SELECT snap_us, stale FROM (
     SELECT snap_us FROM rib_snapshot_runs WHERE snap_us <= toUInt64(1700000060000000)
     GROUP BY snap_us HAVING max(complete) = 1 ORDER BY snap_us DESC LIMIT 1
   ) AS runs ANY LEFT JOIN (
     SELECT snap_us, groupUniqArray(concat(host, '|', hex(peer))) AS stale FROM rib_snapshot_stale WHERE snap_us <= toUInt64(1700000060000000) GROUP BY snap_us
   ) AS stale USING (snap_us)`);
if (!snapshotAt().startsWith('1700000050000000\t[]')) {
  console.error('latest snapshot before any is stale: ' + JSON.stringify(snapshotAt()) + ', want 1700000050000000 and no stale peers');
  process.exit(1);
}
q(`INSERT INTO rib_snapshot_stale (snap_us, host, peer) SELECT DISTINCT snap_us, 'h', ${peer} FROM rib_snapshot_runs WHERE snap_us >= toUInt64(1)`);
if (!snapshotAt().startsWith("1700000050000000\t['h|")) {
  console.error('latest snapshot once stale: ' + JSON.stringify(snapshotAt()) + ', want 1700000050000000 stale for h');
  process.exit(1);
}
const atT = q(`SELECT host, peer, prefix, prefix_len, max(ts_us) AS last_us, argMax(kind, ts_us) AS last_kind, argMax(as_path, ts_us)
   FROM (SELECT host, peer, prefix, prefix_len, afi, safi, rd, nlri, path_id, ts, ts_us, CAST('announce' AS Enum8('announce' = 1, 'withdraw' = 2)) AS kind, as_path
         FROM rib_snapshots WHERE prefix_len >= toUInt8(0) AND snap_us = toUInt64(1700000050000000) AND NOT has(CAST(['x|00'] AS Array(String)), concat(host, '|', hex(peer)))
         UNION ALL
         SELECT host, peer, prefix, prefix_len, afi, safi, rd, nlri, path_id, ts, ts_us, kind, as_path
         FROM route_events WHERE prefix_len >= toUInt8(0) AND (ts_us > toUInt64(1700000050000000) OR has(CAST(['x|00'] AS Array(String)), concat(host, '|', hex(peer))))) AS r
   GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id
   HAVING last_kind = 'announce' AND host = 'h'`).trim();
if (atT.split('\n').length !== 1) {
  console.error('routes at T from a snapshot: ' + JSON.stringify(atT) + ', want 1 row');
  process.exit(1);
}
// Per-peer route counts and last updates (storage.Peers, RecountPeers).
q(`INSERT INTO peer_routes (host, peer, afi, safi, seq, ts_us, routes) SELECT 'h', ${peer}, 1, 1, toUInt64(3), toUInt64(1700000000000000), toUInt64(1)`);
q(`SELECT host, peer, afi, safi, argMax(routes, seq), argMax(ts_us, seq) FROM peer_routes GROUP BY host, peer, afi, safi`);
q(`SELECT host, peer, argMax(peer_asn, last_us), max(last_us) FROM peer_updates GROUP BY host, peer`);
q(`INSERT INTO peer_routes (host, peer, afi, safi, seq, ts_us, routes)
   SELECT host, peer, afi, safi, toUInt64(1), toUInt64(1), countIf(last_kind = 'announce' AND last_us > arrayElement(CAST([1] AS Array(UInt64)), indexOf(CAST(['h|00'] AS Array(String)), concat(host, '|', hex(peer)))))
   FROM (SELECT host, peer, afi, safi, argMax(kind, ts_us) AS last_kind, max(ts_us) AS last_us FROM routes_current WHERE host = 'h'
         GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id)
   GROUP BY host, peer, afi, safi`);
q('OPTIMIZE TABLE routes_current FINAL');
// The RIB export (storage.DB.RIB): rows per /16 and /32, then a range's
// rows without ORDER BY, their arrays and text joined into one column.
q(`INSERT INTO route_events (host, peer, ts_us, kind, afi, safi, prefix, prefix_len, as_path, communities, large_communities, attrs)
   VALUES ('rib', ${peer}, 1700000000000000, 'announce', 1, 1, ${p}, 8, '64500 {1,2}', [4227858433], ['1:2:3'], 'cluster=192.0.2.1 other=192:99:6162')`);
const buckets = q(`SELECT afi, safi, if(afi = 1, substring(prefix, 1, 14), substring(prefix, 1, 4)) AS b, count()
   FROM (SELECT * FROM route_events WHERE host = 'rib' AND nlri = '' AND afi IN (1, 2) AND safi IN (1, 2, 4, 128, 129)) AS r GROUP BY afi, safi, b ORDER BY afi, safi, b`).trim();
if (buckets.split('\n').length !== 1) {
  console.error('RIB export buckets: ' + JSON.stringify(buckets) + ', want 1 row');
  process.exit(1);
}
const ribRow = q(`SELECT prefix, prefix_len, peer, peer_asn, path_id, ts_us, kind, origin, next_hop,
  concat(rd, '\\0', as_path, '\\0', arrayStringConcat(arrayMap(x -> toString(x), communities), ' '),
    '\\0', arrayStringConcat(large_communities, ' '), '\\0', attrs, '\\0', host) AS text
  FROM (SELECT * FROM route_events WHERE host = 'rib' AND afi = toUInt16(1) AND safi = toUInt8(1)
        AND prefix >= toFixedString(unhex('00000000000000000000ffff0a000000'), 16) AND prefix <= toFixedString(unhex('00000000000000000000ffff0a00ffff'), 16)) AS r`).trim();
if (!ribRow.endsWith('\\064500 {1,2}\\04227858433\\01:2:3\\0cluster=192.0.2.1 other=192:99:6162\\0rib')) {
  console.error('RIB export row: ' + JSON.stringify(ribRow));
  process.exit(1);
}
// The collector's address of a session (migration 010), as the updates
// export reads it.
q(`SELECT host, peer, sent, argMax(open_asn, ts_us), argMax(router_id, ts_us), max(ts_us), argMax(raw, ts_us), argMax(local_addr, ts_us)
   FROM peer_events WHERE type = 'OPEN' AND ts_us < toUInt64(1800000000000000) GROUP BY host, peer, sent ORDER BY host, peer, sent`);
q(`SELECT host, peer, peer_asn, ts_us, toString(type), toString(state), sent, raw, local_addr FROM peer_events WHERE ts >= toDateTime(toUInt32(1)) ORDER BY ts_us, host, peer, type`);
console.log('ok: ' + q('SELECT version()').trim());
