// Proves that the SQL of a store on a ClickHouse cluster (storage/cluster.go)
// runs on a current ClickHouse (chDB, in-process): the migrations with the
// tables renamed NAME_local and the Distributed tables over them, as storage
// writes them into DDL_FILE (statements separated by lines holding ";"),
// then the query shapes that differ on Distributed tables, through them.
// chDB serves no network port, so the cluster is one shard that is this
// process itself (a replica on the configured tcp_port counts as local);
// the real two-shard cluster runs on 18.16 in storage's TestCluster. Run by
// storage's TestClusterSQLOnCurrentClickHouse:
//   node scripts/chdb/check-cluster.js DDL_FILE SCRATCH_DIR
const { Session } = require('chdb');
const fs = require('fs');
const path = require('path');
const [ddlFile, scratch] = process.argv.slice(2);
fs.mkdirSync(scratch, { recursive: true });
const configFile = path.join(scratch, 'cluster.xml');
fs.writeFileSync(configFile, `<clickhouse>
    <tcp_port>9000</tcp_port>
    <remote_servers>
        <vantage><shard><replica><host>127.0.0.1</host><port>9000</port></replica></shard></vantage>
    </remote_servers>
</clickhouse>
`);
const s = new Session(path.join(scratch, 'data'), { connectionArgs: ['--config-file=' + configFile] });
const q = (sql) => {
  try {
    return s.query(sql, 'TSV');
  } catch (e) {
    console.error('FAILED:\n' + sql + '\n' + e);
    process.exit(1);
  }
};
const want = (what, got, expected) => {
  if (got.trim() !== expected) {
    console.error(what + ': ' + JSON.stringify(got.trim()) + ', want ' + JSON.stringify(expected));
    process.exit(1);
  }
};
if (q("SELECT count() FROM system.clusters WHERE cluster = 'vantage' AND is_local").trim() !== '1') {
  console.error('chDB did not take the cluster of ' + configFile + ' as local');
  process.exit(1);
}
q('CREATE DATABASE IF NOT EXISTS vt');
q('USE vt');
for (const st of fs.readFileSync(ddlFile, 'utf8').split(/\n;\n/).map(x => x.trim()).filter(Boolean)) {
  q(st);
}
// storage.checkCluster, checkNotSingle, tableColumns.
want('shards', q("SELECT uniqExact(shard_num) FROM system.clusters WHERE cluster = 'vantage'"), '1');
want('engine of route_events', q("SELECT engine FROM system.tables WHERE database = 'vt' AND name = 'route_events'"), 'Distributed');
q("SELECT name, type FROM system.columns WHERE database = 'vt' AND table = 'route_events_local'");
const p = "toFixedString(unhex('00000000000000000000ffff0a000000'), 16)";
const p2 = "toFixedString(unhex('00000000000000000000ffff0b000000'), 16)";
const peer = "toFixedString(unhex('00000000000000000000ffffc0000201'), 16)";
const sync = ' SETTINGS insert_distributed_sync = 1';
// The writer's inserts (column lists, into the Distributed tables), which
// the materialized view of the shard copies into routes_current_local.
q(`INSERT INTO route_events (host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, as_path, origin_asn)${sync}
   VALUES ('h', ${peer}, 64500, 1700000000000000, 1, 'a', 'announce', 1, 1, ${p}, 8, '64500 64496', 64496),
          ('h', ${peer}, 64500, 1700000000000000, 1, 'a', 'announce', 1, 1, ${p2}, 8, '64500 64496', 64496)`);
q(`INSERT INTO peer_events (host, peer, peer_asn, ts, ts_us, seq, id, type, state, hold_time)${sync}
   VALUES ('h', ${peer}, 64500, toDateTime(1700000000), 1699999999000000, 0, 's', 'RIS_PEER_STATE', 'connected', 90)`);
q(`INSERT INTO peer_seen (host, peer, last_us)${sync} VALUES ('h', ${peer}, 1700000000000000)`);
want('routes_current through the Distributed table', q("SELECT count() FROM routes_current WHERE host = 'h'"), '2');
want('routes_current_local', q("SELECT count() FROM routes_current_local WHERE host = 'h'"), '2');
// Peers' join of two subqueries over Distributed tables.
q(`SELECT s.host, s.peer, s.last_us, h.hold
   FROM (SELECT host, peer, max(last_us) AS last_us FROM peer_seen GROUP BY host, peer) AS s
   ANY LEFT JOIN (
     SELECT host, peer, min(hold_time) AS hold
     FROM (SELECT host, peer, sent, argMax(hold_time, ts_us) AS hold_time FROM peer_events WHERE type = 'OPEN' GROUP BY host, peer, sent)
     GROUP BY host, peer
   ) AS h USING (host, peer)`);
// storage.WithdrawAbsent on a cluster: GLOBAL NOT IN in HAVING. A dump at
// 1700000100 that announces 11.0.0.0/8 only: 10.0.0.0/8 is withdrawn.
q(`INSERT INTO route_events (host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, as_path, origin_asn)${sync}
   VALUES ('h', ${peer}, 64500, 1700000100000000, 2, 'b', 'announce', 1, 1, ${p2}, 8, '64500 64496', 64496)`);
q(`INSERT INTO route_events (host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, rd, nlri, prefix, prefix_len, path_id)
   SELECT host, peer, argMax(peer_asn, ts_us), toUInt64(1700000100000000), 0,
     concat('rib-absent:', toString(toUInt64(1700000100000000)), ':', hex(peer), ':', toString(afi), '/', toString(safi), ':', rd, ':', nlri, ':', hex(prefix), '/', toString(prefix_len), ':', toString(path_id)),
     'withdraw', afi, safi, rd, nlri, prefix, prefix_len, path_id
   FROM route_events
   WHERE host = 'h' AND has(['00000000000000000000FFFFC0000201'], hex(peer)) AND ts_us < 1700000100000000
   GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id
   HAVING argMax(kind, ts_us) = 'announce'
     AND (host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id) GLOBAL NOT IN (
       SELECT host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id FROM route_events
       WHERE host = 'h' AND has(['00000000000000000000FFFFC0000201'], hex(peer)) AND ts_us >= 1700000100000000 AND ts_us <= 1700000100000000 AND kind = 'announce')${sync}`);
want('withdrawn by the RIB dump', q("SELECT hex(prefix) FROM route_events WHERE host = 'h' AND kind = 'withdraw'"), '00000000000000000000FFFF0A000000');
// Snapshots: INSERT ... SELECT into Distributed tables, FINAL through one.
q(`INSERT INTO rib_snapshot_runs (snap_us, made_us, complete, routes) SELECT toUInt64(1700000050000000), toUInt64(1), 0, 0${sync}`);
q(`INSERT INTO rib_snapshots (snap_us, host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, ts_us, origin_asn, as_path)
   SELECT toUInt64(1700000050000000), host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, max(ts_us), argMax(origin_asn, ts_us), argMax(as_path, ts_us)
   FROM (SELECT host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, ts, ts_us, kind, origin_asn, as_path FROM route_events
         WHERE ts_us <= toUInt64(1700000050000000) AND ts <= toDateTime(toUInt32(1700000050)))
   GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id
   HAVING argMax(kind, ts_us) = 'announce'${sync}`);
want('snapshot FINAL', q('SELECT count() FROM rib_snapshots FINAL WHERE snap_us = toUInt64(1700000050000000)'), '2');
q(`INSERT INTO rib_snapshot_runs (snap_us, made_us, complete, routes) SELECT toUInt64(1700000050000000), toUInt64(2), 1, toUInt64(2)${sync}`);
want('latest snapshot', q(`SELECT snap_us FROM rib_snapshot_runs WHERE snap_us <= toUInt64(1700000060000000) GROUP BY snap_us HAVING max(complete) = 1 ORDER BY snap_us DESC LIMIT 1`), '1700000050000000');
q(`INSERT INTO rib_snapshot_stale (snap_us, host, peer) SELECT DISTINCT snap_us, 'h', ${peer} FROM rib_snapshot_runs WHERE snap_us >= toUInt64(1)${sync}`);
// Routes now: grouped and ordered through the Distributed table.
want('routes now', q(`SELECT hex(prefix), argMax(kind, ts_us) AS last_kind FROM routes_current WHERE host = 'h'
   GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id HAVING last_kind = 'announce'
   ORDER BY prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id
   SETTINGS max_execution_time = 10, max_rows_to_read = 100000000, max_result_rows = 1000000`), '00000000000000000000FFFF0B000000\tannounce');
console.log('ok: ' + q('SELECT version()').trim());
