-- The collector's address of a live session's TCP connection, on its OPEN
-- and RIS_PEER_STATE rows (all zeros: not known, as on imported history
-- and on rows stored before this column): the local address of the
-- BGP4MP records of an MRT export.

ALTER TABLE peer_events ADD COLUMN local_addr FixedString(16);
