-- Route and peer events, one row per (event, prefix) and one row per peer
-- event. Runs unchanged on ClickHouse 18.16 and current releases: no TTL,
-- no IPv4/IPv6 column types, no LowCardinality, no DateTime64, no Map.
--
-- Addresses are FixedString(16): IPv6 as is, IPv4 as IPv4-mapped IPv6
-- (schema.AddrTo16); a prefix is its address plus prefix_len (0-32 for
-- IPv4, 0-128 for IPv6). All-zero bytes mean "absent".
--
-- ts_us (Unix microseconds) orders the events of one (host, peer): the
-- writer makes it strictly increasing per peer across both tables, so
-- "latest event at or before T" is argMax(..., ts_us) and "announced after
-- the peer went down" is a plain comparison.
--
-- ReplacingMergeTree without a version column: the sorting key identifies a
-- row completely, so a batch that is sent twice (a retry after a lost
-- acknowledgement, an MRT file imported again) collapses into one row when
-- parts merge. Queries use argMax/max, which duplicates do not change.

CREATE TABLE IF NOT EXISTS route_events
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
    -- every ASN of the path in order, and the faithful bgpdump text form
    -- (sets in braces, confederation segments in parentheses/brackets)
    as_path Array(UInt32),
    as_path_text String,
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
    -- attributes without a column of their own, as on the wire (value hex)
    other_attr_flags Array(UInt8),
    other_attr_codes Array(UInt8),
    other_attr_values Array(String),
    -- the whole BGP message, hex, on the event's first row (idx = 0) only
    raw String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (prefix, prefix_len, host, peer, ts_us, afi, safi, rd, nlri, path_id, kind);

CREATE TABLE IF NOT EXISTS peer_events
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
    -- NOTIFICATION (also on a "down" caused by one)
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
    raw String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(ts)
ORDER BY (host, peer, ts_us, type);
