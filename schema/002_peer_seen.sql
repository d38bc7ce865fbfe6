-- When the store last heard of each peer of each collector: the time of
-- its latest event of any type, KEEPALIVEs included (which route_events and
-- peer_events do not keep). A session whose last state is "connected" but
-- of which nothing was heard for longer than its hold time belongs to a
-- collector that died (or lost its log): the looking glass shows it as
-- stale, never as up. One row per (host, peer) once parts merge; queries
-- take max(last_us).

CREATE TABLE IF NOT EXISTS peer_seen
(
    host String,
    peer FixedString(16),
    last_us UInt64
)
ENGINE = ReplacingMergeTree(last_us)
ORDER BY (host, peer);
