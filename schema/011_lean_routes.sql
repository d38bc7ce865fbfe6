-- Lean route tables: every column a route table has is written, sorted
-- and compressed on every insert and again on every merge, and that work
-- grows with the number of columns more than with their bytes (an INSERT
-- into route_events cost about 2.7x what one of these lean columns does,
-- scripts/bench-lg.sh -only bytes). So:
--  * the attributes without a query of their own (MED, LOCAL_PREF,
--    ATOMIC_AGGREGATE, AGGREGATOR, ORIGINATOR_ID, CLUSTER_LIST, OTC, AIGP,
--    extended communities, the other attributes, and the route's link-local
--    next hop and labels) are one text column, attrs: space-separated
--    tokens (storage/attrtext.go), "" when there are none, e.g.
--    "med=10 agg=64500:192.0.2.1 ext=rt:64500:1,soo:64500:2 nhll=fe80::1";
--  * ts is an ALIAS of ts_us (partitions by ts_us), idx is gone (the raw
--    message stays on the first row of its event, the others have "");
--  * routes_by_origin keeps only what the origin search reads: the key,
--    the time and the origin; the routes' attributes come from
--    routes_current.
-- The tables are made again and their rows copied.

DROP TABLE IF EXISTS routes_current_mv;

DROP TABLE IF EXISTS routes_by_origin_mv;

DROP TABLE IF EXISTS route_events_v11;

CREATE TABLE route_events_v11
(
    host String,
    peer FixedString(16),
    peer_asn UInt32,
    ts DateTime ALIAS toDateTime(intDiv(ts_us, 1000000)),
    ts_us UInt64,
    seq UInt64,
    id String,
    kind Enum8('announce' = 1, 'withdraw' = 2),
    afi UInt16,
    safi UInt8,
    prefix FixedString(16),
    prefix_len UInt8,
    path_id UInt32,
    rd String,
    nlri String,
    next_hop FixedString(16),
    as_path String,
    origin_asn UInt32,
    origin Enum8('absent' = 0, 'IGP' = 1, 'EGP' = 2, 'INCOMPLETE' = 3),
    communities Array(UInt32),
    large_communities Array(String),
    attrs String,
    raw String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(toDateTime(intDiv(ts_us, 1000000)))
ORDER BY (prefix, prefix_len, host, peer, ts_us, afi, safi, rd, nlri, path_id, kind)
SETTINGS index_granularity = 1024;

INSERT INTO route_events_v11 (host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, nlri,
    next_hop, as_path, origin_asn, origin, communities, large_communities, attrs, raw)
SELECT host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, nlri,
    next_hop, as_path, origin_asn, origin, communities, large_communities,
    arrayStringConcat(arrayFilter(x -> x != '', [
        if(has_med = 1, concat('med=', toString(med)), ''),
        if(has_local_pref = 1, concat('lp=', toString(local_pref)), ''),
        if(atomic_aggregate = 1, 'atomic', ''),
        if(has_aggregator = 1, concat('agg=', toString(aggregator_asn), ':', IPv6NumToString(aggregator_addr)), ''),
        if(hex(originator_id) != '00000000000000000000000000000000', concat('orig=', IPv6NumToString(originator_id)), ''),
        if(notEmpty(cluster_list), concat('cluster=', arrayStringConcat(arrayMap(x -> IPv6NumToString(x), cluster_list), ',')), ''),
        if(has_otc = 1, concat('otc=', toString(otc)), ''),
        if(has_aigp = 1, concat('aigp=', toString(aigp)), ''),
        if(notEmpty(ext_communities), concat('ext=', arrayStringConcat(ext_communities, ',')), ''),
        if(notEmpty(other_attr_codes), concat('other=', arrayStringConcat(arrayMap((f, c, v) -> concat(toString(f), ':', toString(c), ':', lower(hex(v))), other_attr_flags, other_attr_codes, other_attr_values), ',')), ''),
        if(hex(next_hop_ll) != '00000000000000000000000000000000', concat('nhll=', IPv6NumToString(next_hop_ll)), ''),
        if(notEmpty(labels), concat('labels=', arrayStringConcat(arrayMap(x -> toString(x), labels), ',')), '')
    ]), ' '),
    raw
FROM route_events;

RENAME TABLE route_events TO route_events_v10, route_events_v11 TO route_events;

DROP TABLE route_events_v10;

DROP TABLE IF EXISTS routes_current_v11;

CREATE TABLE routes_current_v11
(
    host String,
    peer FixedString(16),
    peer_asn UInt32,
    ts DateTime ALIAS toDateTime(intDiv(ts_us, 1000000)),
    ts_us UInt64,
    seq UInt64,
    id String,
    kind Enum8('announce' = 1, 'withdraw' = 2),
    afi UInt16,
    safi UInt8,
    prefix FixedString(16),
    prefix_len UInt8,
    path_id UInt32,
    rd String,
    nlri String,
    next_hop FixedString(16),
    as_path String,
    origin_asn UInt32,
    origin Enum8('absent' = 0, 'IGP' = 1, 'EGP' = 2, 'INCOMPLETE' = 3),
    communities Array(UInt32),
    large_communities Array(String),
    attrs String
)
ENGINE = ReplacingMergeTree(ts_us)
ORDER BY (prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id)
SETTINGS index_granularity = 1024;

INSERT INTO routes_current_v11 (host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, nlri,
    next_hop, as_path, origin_asn, origin, communities, large_communities, attrs)
SELECT host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, nlri,
    next_hop, as_path, origin_asn, origin, communities, large_communities,
    arrayStringConcat(arrayFilter(x -> x != '', [
        if(has_med = 1, concat('med=', toString(med)), ''),
        if(has_local_pref = 1, concat('lp=', toString(local_pref)), ''),
        if(atomic_aggregate = 1, 'atomic', ''),
        if(has_aggregator = 1, concat('agg=', toString(aggregator_asn), ':', IPv6NumToString(aggregator_addr)), ''),
        if(hex(originator_id) != '00000000000000000000000000000000', concat('orig=', IPv6NumToString(originator_id)), ''),
        if(notEmpty(cluster_list), concat('cluster=', arrayStringConcat(arrayMap(x -> IPv6NumToString(x), cluster_list), ',')), ''),
        if(has_otc = 1, concat('otc=', toString(otc)), ''),
        if(has_aigp = 1, concat('aigp=', toString(aigp)), ''),
        if(notEmpty(ext_communities), concat('ext=', arrayStringConcat(ext_communities, ',')), ''),
        if(notEmpty(other_attr_codes), concat('other=', arrayStringConcat(arrayMap((f, c, v) -> concat(toString(f), ':', toString(c), ':', lower(hex(v))), other_attr_flags, other_attr_codes, other_attr_values), ',')), ''),
        if(hex(next_hop_ll) != '00000000000000000000000000000000', concat('nhll=', IPv6NumToString(next_hop_ll)), ''),
        if(notEmpty(labels), concat('labels=', arrayStringConcat(arrayMap(x -> toString(x), labels), ',')), '')
    ]), ' ')
FROM routes_current;

RENAME TABLE routes_current TO routes_current_v10, routes_current_v11 TO routes_current;

DROP TABLE routes_current_v10;

DROP TABLE IF EXISTS routes_by_origin;

CREATE TABLE routes_by_origin
(
    origin_asn UInt32,
    prefix FixedString(16),
    prefix_len UInt8,
    host String,
    peer FixedString(16),
    afi UInt16,
    safi UInt8,
    rd String,
    nlri String,
    path_id UInt32,
    ts_us UInt64
)
ENGINE = ReplacingMergeTree(ts_us)
ORDER BY (origin_asn, prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id)
SETTINGS index_granularity = 1024;

INSERT INTO routes_by_origin
SELECT origin_asn, prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id, ts_us
FROM routes_current WHERE kind = 'announce';

CREATE MATERIALIZED VIEW routes_current_mv TO routes_current AS
SELECT host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, nlri,
    next_hop, as_path, origin_asn, origin, communities, large_communities, attrs
FROM route_events;

CREATE MATERIALIZED VIEW routes_by_origin_mv TO routes_by_origin AS
SELECT origin_asn, prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id, ts_us
FROM route_events
WHERE kind = 'announce';

DROP TABLE IF EXISTS rib_snapshots_v11;

CREATE TABLE rib_snapshots_v11
(
    snap_us UInt64,
    host String,
    peer FixedString(16),
    peer_asn UInt32,
    ts DateTime ALIAS toDateTime(intDiv(ts_us, 1000000)),
    ts_us UInt64,
    seq UInt64,
    id String,
    afi UInt16,
    safi UInt8,
    prefix FixedString(16),
    prefix_len UInt8,
    path_id UInt32,
    rd String,
    nlri String,
    next_hop FixedString(16),
    as_path String,
    origin_asn UInt32,
    origin Enum8('absent' = 0, 'IGP' = 1, 'EGP' = 2, 'INCOMPLETE' = 3),
    communities Array(UInt32),
    large_communities Array(String),
    attrs String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(toDateTime(intDiv(snap_us, 1000000)))
ORDER BY (snap_us, prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id)
SETTINGS index_granularity = 1024;

INSERT INTO rib_snapshots_v11 (snap_us, host, peer, peer_asn, ts_us, seq, id, afi, safi, prefix, prefix_len, path_id, rd, nlri,
    next_hop, as_path, origin_asn, origin, communities, large_communities, attrs)
SELECT snap_us, host, peer, peer_asn, ts_us, seq, id, afi, safi, prefix, prefix_len, path_id, rd, nlri,
    next_hop, as_path, origin_asn, origin, communities, large_communities,
    arrayStringConcat(arrayFilter(x -> x != '', [
        if(has_med = 1, concat('med=', toString(med)), ''),
        if(has_local_pref = 1, concat('lp=', toString(local_pref)), ''),
        if(atomic_aggregate = 1, 'atomic', ''),
        if(has_aggregator = 1, concat('agg=', toString(aggregator_asn), ':', IPv6NumToString(aggregator_addr)), ''),
        if(hex(originator_id) != '00000000000000000000000000000000', concat('orig=', IPv6NumToString(originator_id)), ''),
        if(notEmpty(cluster_list), concat('cluster=', arrayStringConcat(arrayMap(x -> IPv6NumToString(x), cluster_list), ',')), ''),
        if(has_otc = 1, concat('otc=', toString(otc)), ''),
        if(has_aigp = 1, concat('aigp=', toString(aigp)), ''),
        if(notEmpty(ext_communities), concat('ext=', arrayStringConcat(ext_communities, ',')), ''),
        if(notEmpty(other_attr_codes), concat('other=', arrayStringConcat(arrayMap((f, c, v) -> concat(toString(f), ':', toString(c), ':', lower(hex(v))), other_attr_flags, other_attr_codes, other_attr_values), ',')), ''),
        if(hex(next_hop_ll) != '00000000000000000000000000000000', concat('nhll=', IPv6NumToString(next_hop_ll)), ''),
        if(notEmpty(labels), concat('labels=', arrayStringConcat(arrayMap(x -> toString(x), labels), ',')), '')
    ]), ' ')
FROM rib_snapshots;

RENAME TABLE rib_snapshots TO rib_snapshots_v10, rib_snapshots_v11 TO rib_snapshots;

DROP TABLE rib_snapshots_v10;
