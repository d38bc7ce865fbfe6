-- Per-peer route counts kept as the state changes, so that listing the
-- peers with their counts reads a row per (peer, family) instead of every
-- route: the collector's sessions count their peers' routes (an Adj-RIB-In)
-- and put the counts on their events (schema.Event.Routes); the writer
-- stores the latest per family, versioned by the peer's event sequence.
-- Counts of archive peers (MRT imports, which carry none) are counted once
-- when an import ends (storage.RecountPeers).

CREATE TABLE IF NOT EXISTS peer_routes
(
    host String,
    peer FixedString(16),
    afi UInt16,
    safi UInt8,
    seq UInt64,
    ts_us UInt64,
    routes UInt64
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (host, peer, afi, safi);

-- When each peer last sent an UPDATE, and its ASN then; one row per peer
-- once parts merge.

CREATE TABLE IF NOT EXISTS peer_updates
(
    host String,
    peer FixedString(16),
    peer_asn UInt32,
    last_us UInt64
)
ENGINE = ReplacingMergeTree(last_us)
ORDER BY (host, peer);

INSERT INTO peer_updates
SELECT host, peer, argMax(peer_asn, ts_us), max(ts_us)
FROM route_events
GROUP BY host, peer;
