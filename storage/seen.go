package storage

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/vantage-bgp/vantage/schema"
)

// insertSeen records, per (host, peer) of the events, the time of the
// latest one (table peer_seen), so that a session is known to be alive
// while its KEEPALIVEs arrive.
func (db *DB) insertSeen(ctx context.Context, events []schema.Event) error {
	type key struct {
		host string
		peer netip.Addr
	}
	last := map[key]uint64{}
	for i := range events {
		e := &events[i]
		if !e.Peer.IsValid() || e.Imported {
			continue
		}
		k := key{e.Host, e.Peer}
		if us := uint64(e.Timestamp*1e6 + 0.5); us > last[k] {
			last[k] = us
		}
	}
	if len(last) == 0 {
		return nil
	}
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO peer_seen (host, peer, last_us)")
	if err != nil {
		return fmt.Errorf("prepare peer_seen batch: %w", err)
	}
	defer b.Abort()
	for k, us := range last {
		p := schema.AddrTo16(k.peer)
		if err := b.Append(k.host, p[:], us); err != nil {
			return fmt.Errorf("peer_seen: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send %d peer_seen rows: %w", len(last), err)
	}
	return nil
}
