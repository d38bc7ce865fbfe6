-- The routes by origin AS, for searches by origin: routes_current's rows
-- again, ordered by origin_asn first, so that "who originates AS X" reads
-- X's rows instead of the origin of every route. Filled like
-- routes_current, by a view over route_events (announcements only: a
-- withdrawal has no origin). A route whose origin changed keeps a row under
-- its former origin; searches take the prefixes found here as candidates
-- and check them against routes_current (storage.Routes), so such rows
-- select nothing.

CREATE TABLE IF NOT EXISTS routes_by_origin AS routes_current
ENGINE = ReplacingMergeTree(ts_us)
ORDER BY (origin_asn, prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS routes_by_origin_mv TO routes_by_origin AS
SELECT host, peer, peer_asn, ts, ts_us, seq, id, kind, afi, safi, prefix, prefix_len, path_id, rd, labels, nlri,
    next_hop, next_hop_ll, as_path, origin_asn, origin, med, has_med, local_pref, has_local_pref,
    communities, large_communities, ext_communities, atomic_aggregate, has_aggregator, aggregator_asn,
    aggregator_addr, originator_id, cluster_list, otc, has_otc, aigp, has_aigp,
    other_attr_flags, other_attr_codes, other_attr_values
FROM route_events
WHERE kind = 'announce';

INSERT INTO routes_by_origin SELECT * FROM routes_current WHERE kind = 'announce';
