package storage

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// PeerDown is the last time a peer's session went down, and why.
type PeerDown struct {
	Host    string
	Address netip.Addr
	Time    time.Time
	// Reason is the NOTIFICATION's text or the collector's reason ("hold
	// timer expired", "connection reset"); empty when none was stored.
	Reason string
}

const peerDownsSQL = `SELECT host, peer, max(ts_us), argMax(reason, ts_us)
FROM peer_events WHERE type = 'RIS_PEER_STATE' AND state = 'down' GROUP BY host, peer`

// PeerDowns returns, for every peer that ever went down, its last down
// state change, in no particular order. The looking glass shows it beside
// Peers (which it leaves alone: one more grouped read of peer_events).
func (db *DB) PeerDowns(ctx context.Context) ([]PeerDown, error) {
	rows, err := db.conn.Query(db.bounded(ctx), peerDownsSQL)
	if err != nil {
		return nil, fmt.Errorf("peer downs: %w", db.limited(err))
	}
	defer rows.Close()
	var out []PeerDown
	for rows.Next() {
		var d PeerDown
		var peer []byte
		var us uint64
		if err := rows.Scan(&d.Host, &peer, &us, &d.Reason); err != nil {
			return nil, fmt.Errorf("peer downs: scan: %w", err)
		}
		d.Address, d.Time = addrFrom(peer), usTime(us)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("peer downs: %w", db.limited(err))
	}
	return out, nil
}
