-- Column types that fit the data: raw messages, NOTIFICATION data and the
-- values of attributes without a column of their own are stored as bytes
-- (String holds any bytes), no longer as hex text; and the AS path is
-- stored once, as its bgpdump text form (as_path, formerly as_path_text:
-- sets in braces, confederation segments in parentheses/brackets), no
-- longer beside a flat Array(UInt32) copy of its ASNs. origin_asn stays a
-- column of its own for searches by origin.
--
-- Each table is rebuilt: a new table with the new layout is filled from the
-- old one, converting, and takes its name (RENAME of both at once). The
-- view that fills routes_current is dropped first and created again last.
-- On a large store this copies the whole history once; the writers wait
-- (storage runs migrations before it writes).

DROP TABLE IF EXISTS routes_current_mv;

DROP TABLE IF EXISTS route_events_v4;

CREATE TABLE route_events_v4
(
    host String,
    peer FixedString(16),
    peer_asn UInt32,
    ts DateTime,
    ts_us UInt64,
    seq UInt64,
    id String,
    -- position of this row among the rows of its event
    idx UInt32,
    kind Enum8('announce' = 1, 'withdraw' = 2),
    afi UInt16,
    safi UInt8,
    prefix FixedString(16),
    prefix_len UInt8,
    path_id UInt32,
    -- route distinguisher and labels (VPN, labeled unicast)
    rd String,
    labels Array(UInt32),
    -- NLRI of families that are not IP prefixes (FlowSpec, EVPN, ...), text
    nlri String,
    next_hop FixedString(16),
    next_hop_ll FixedString(16),
    -- the bgpdump text form of the path: "64500 3333 {1,2}"
    as_path String,
    origin_asn UInt32,
    origin Enum8('absent' = 0, 'IGP' = 1, 'EGP' = 2, 'INCOMPLETE' = 3),
    med UInt32,
    has_med UInt8,
    local_pref UInt32,
    has_local_pref UInt8,
    -- standard communities as ASN<<16 | value
    communities Array(UInt32),
    -- large communities as "global:local1:local2"
    large_communities Array(String),
    -- extended communities in schema.ExtCommunity text form
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
    -- attributes without a column of their own, as on the wire (value bytes)
    other_attr_flags Array(UInt8),
    other_attr_codes Array(UInt8),
    other_attr_values Array(String),
    -- the whole BGP message as received, on the event's first row (idx = 0)
    raw String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (prefix, prefix_len, host, peer, ts_us, afi, safi, rd, nlri, path_id, kind);

INSERT INTO route_events_v4
SELECT host, peer, peer_asn, ts, ts_us, seq, id, idx, kind, afi, safi, prefix, prefix_len, path_id, rd, labels, nlri,
    next_hop, next_hop_ll, as_path_text, origin_asn, origin, med, has_med, local_pref, has_local_pref,
    communities, large_communities, ext_communities, atomic_aggregate, has_aggregator, aggregator_asn,
    aggregator_addr, originator_id, cluster_list, otc, has_otc, aigp, has_aigp,
    other_attr_flags, other_attr_codes, arrayMap(v -> unhex(v), other_attr_values), unhex(raw)
FROM route_events;

RENAME TABLE route_events TO route_events_v3, route_events_v4 TO route_events;

DROP TABLE route_events_v3;

DROP TABLE IF EXISTS routes_current_v4;

CREATE TABLE routes_current_v4
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
    as_path String,
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

INSERT INTO routes_current_v4
SELECT host, peer, peer_asn, ts, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, labels, nlri,
    next_hop, next_hop_ll, as_path_text, origin_asn, origin, med, has_med, local_pref, has_local_pref,
    communities, large_communities, ext_communities, atomic_aggregate, has_aggregator, aggregator_asn,
    aggregator_addr, originator_id, cluster_list, otc, has_otc, aigp, has_aigp,
    other_attr_flags, other_attr_codes, arrayMap(v -> unhex(v), other_attr_values)
FROM routes_current;

RENAME TABLE routes_current TO routes_current_v3, routes_current_v4 TO routes_current;

DROP TABLE routes_current_v3;

CREATE MATERIALIZED VIEW routes_current_mv TO routes_current AS
SELECT host, peer, peer_asn, ts, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, labels, nlri,
    next_hop, next_hop_ll, as_path, origin_asn, origin, med, has_med, local_pref, has_local_pref,
    communities, large_communities, ext_communities, atomic_aggregate, has_aggregator, aggregator_asn,
    aggregator_addr, originator_id, cluster_list, otc, has_otc, aigp, has_aigp,
    other_attr_flags, other_attr_codes, other_attr_values
FROM route_events;

DROP TABLE IF EXISTS peer_events_v4;

CREATE TABLE peer_events_v4
(
    host String,
    peer FixedString(16),
    peer_asn UInt32,
    ts DateTime,
    ts_us UInt64,
    seq UInt64,
    id String,
    type Enum8('RIS_PEER_STATE' = 1, 'OPEN' = 2, 'NOTIFICATION' = 3),
    -- set on RIS_PEER_STATE rows
    state Enum8('none' = 0, 'connected' = 1, 'down' = 2),
    -- why: the NOTIFICATION's reason text, when there is one
    reason String,
    -- NOTIFICATION (also on a "down" caused by one); data as bytes
    has_notification UInt8,
    notification_code UInt8,
    notification_subcode UInt8,
    notification_data String,
    -- 1 when the collector sent the OPEN/NOTIFICATION, 0 when the peer did
    sent UInt8,
    -- OPEN
    open_version UInt8,
    open_asn UInt32,
    hold_time UInt16,
    router_id FixedString(16),
    capabilities Array(String),
    -- the whole BGP message as received or sent
    raw String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (host, peer, ts_us, type);

INSERT INTO peer_events_v4
SELECT host, peer, peer_asn, ts, ts_us, seq, id, type, state, reason, has_notification, notification_code,
    notification_subcode, unhex(notification_data), sent, open_version, open_asn, hold_time, router_id, capabilities,
    unhex(raw)
FROM peer_events;

RENAME TABLE peer_events TO peer_events_v3, peer_events_v4 TO peer_events;

DROP TABLE peer_events_v3;
