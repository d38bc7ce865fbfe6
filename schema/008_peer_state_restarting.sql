-- The "restarting" peer state (graceful restart, RFC 4724): the peer's
-- session ended and its routes are kept, stale, until it comes back and
-- sends its End-of-RIB or its restart time runs out (a "down" then). A
-- route stays current through "restarting", as it ends only at "down".
-- Adding a value to an Enum8 changes no data.

ALTER TABLE peer_events MODIFY COLUMN state Enum8('none' = 0, 'connected' = 1, 'down' = 2, 'restarting' = 3);
