-- The current state of every route: one row per (host, peer, family, RD,
-- NLRI, prefix, path id) once parts merge, its latest event (an
-- announcement with its attributes, or a withdrawal), versioned by ts_us.
-- A materialized view fills it from every INSERT into route_events, so the
-- writer sends each row once. Queries of "now" read it instead of the whole
-- history: argMax over the few rows a route has before parts merge. A route
-- is current when its latest event is an announcement made after its
-- peer's last "down" (peer_events), as for route_events.
--
-- On a store that already holds route_events, the last statement fills the
-- table once from them (rows the view writes meanwhile are duplicates, which
-- the table collapses).

CREATE TABLE IF NOT EXISTS routes_current
(
    host String,
    peer FixedString(16),
    peer_asn UInt32,
    ts DateTime,
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
    labels Array(UInt32),
    nlri String,
    next_hop FixedString(16),
    next_hop_ll FixedString(16),
    as_path Array(UInt32),
    as_path_text String,
    origin_asn UInt32,
    origin Enum8('absent' = 0, 'IGP' = 1, 'EGP' = 2, 'INCOMPLETE' = 3),
    med UInt32,
    has_med UInt8,
    local_pref UInt32,
    has_local_pref UInt8,
    communities Array(UInt32),
    large_communities Array(String),
    ext_communities Array(String),
    atomic_aggregate UInt8,
    has_aggregator UInt8,
    aggregator_asn UInt32,
    aggregator_addr FixedString(16),
    originator_id FixedString(16),
    cluster_list Array(FixedString(16)),
    otc UInt32,
    has_otc UInt8,
    aigp UInt64,
    has_aigp UInt8,
    other_attr_flags Array(UInt8),
    other_attr_codes Array(UInt8),
    other_attr_values Array(String)
)
ENGINE = ReplacingMergeTree(ts_us)
ORDER BY (prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS routes_current_mv TO routes_current AS
SELECT host, peer, peer_asn, ts, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, labels, nlri,
    next_hop, next_hop_ll, as_path, as_path_text, origin_asn, origin, med, has_med, local_pref, has_local_pref,
    communities, large_communities, ext_communities, atomic_aggregate, has_aggregator, aggregator_asn,
    aggregator_addr, originator_id, cluster_list, otc, has_otc, aigp, has_aigp,
    other_attr_flags, other_attr_codes, other_attr_values
FROM route_events;

INSERT INTO routes_current
SELECT host, peer, peer_asn, ts, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, labels, nlri,
    next_hop, next_hop_ll, as_path, as_path_text, origin_asn, origin, med, has_med, local_pref, has_local_pref,
    communities, large_communities, ext_communities, atomic_aggregate, has_aggregator, aggregator_asn,
    aggregator_addr, originator_id, cluster_list, otc, has_otc, aigp, has_aigp,
    other_attr_flags, other_attr_codes, other_attr_values
FROM route_events;
