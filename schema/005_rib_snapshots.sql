-- RIB snapshots, as RIS's bviews: at every snapshot time (a multiple of
-- clickhouse.snapshot_interval, 8 h by default) the routes current then,
-- one row each, with the attributes of the announcement that made them
-- current (its ts_us). The state at a time T is then the latest complete
-- snapshot at or before T plus the events after it: bounded work whatever
-- the length of the history. A snapshot is built from the one before it
-- plus the events between them.
--
-- Written by INSERT ... SELECT, so writers that build the same snapshot
-- write identical rows (the table collapses them).

CREATE TABLE IF NOT EXISTS rib_snapshots
(
    snap_us UInt64,
    host String,
    peer FixedString(16),
    peer_asn UInt32,
    ts DateTime,
    ts_us UInt64,
    seq UInt64,
    id String,
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
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(toDateTime(intDiv(snap_us, 1000000)))
ORDER BY (snap_us, prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id);

-- One row per snapshot time when its building began (complete = 0) and one
-- when it ended (complete = 1, with the number of routes); queries use
-- complete snapshots only. A writer that stores an event at or before a
-- snapshot time that has begun (an old MRT file imported, a writer far
-- behind) marks that snapshot stale for the event's peer: queries and the
-- next snapshot then read that peer's whole history instead.

CREATE TABLE IF NOT EXISTS rib_snapshot_runs
(
    snap_us UInt64,
    made_us UInt64,
    complete UInt8,
    routes UInt64
)
ENGINE = ReplacingMergeTree(made_us)
ORDER BY (snap_us, complete);

CREATE TABLE IF NOT EXISTS rib_snapshot_stale
(
    snap_us UInt64,
    host String,
    peer FixedString(16)
)
ENGINE = ReplacingMergeTree()
ORDER BY (snap_us, host, peer);
