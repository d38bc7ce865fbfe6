package storage

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// WithdrawAbsent applies a RIB dump as the state of its peers at dump
// time: every route of those peers (of collector host) that was current
// before the dump began (from) and is not announced by the dump (whose
// entries are stored with times from from to to) is withdrawn at to. The
// rows are a function of the stored data, so applying the same dump again
// writes the same rows, which the tables collapse.
//
// The dump's own entries must be stored first (a Writer flushed).
func (db *DB) WithdrawAbsent(ctx context.Context, host string, peers []netip.Addr, from, to time.Time) error {
	if len(peers) == 0 {
		return nil
	}
	hexPeers := make([]string, len(peers))
	for i, p := range peers {
		a := schema.AddrTo16(p)
		hexPeers[i] = strings.ToUpper(hex.EncodeToString(a[:]))
	}
	fromUs, toUs := uint64(max(from.UnixMicro(), 0)), uint64(max(to.UnixMicro(), 0))
	// The withdrawals are events at toUs, stored like any others.
	first := map[peerKey16]uint64{}
	for _, p := range peers {
		first[peerKey16{host, schema.AddrTo16(p)}] = toUs
	}
	if err := db.markStalePeers(ctx, first); err != nil {
		return err
	}
	key := "host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id"
	sql := `INSERT INTO route_events (host, peer, peer_asn, ts_us, seq, id, kind, afi, safi, rd, nlri, prefix, prefix_len, path_id)
SELECT host, peer, argMax(peer_asn, ts_us), toUInt64(?), 0,
  concat('rib-absent:', toString(toUInt64(?)), ':', hex(peer), ':', toString(afi), '/', toString(safi), ':', rd, ':', nlri, ':', hex(prefix), '/', toString(prefix_len), ':', toString(path_id)),
  'withdraw', afi, safi, rd, nlri, prefix, prefix_len, path_id
FROM route_events
WHERE host = ? AND has(?, hex(peer)) AND ts_us < ?
GROUP BY ` + key + `
HAVING argMax(kind, ts_us) = 'announce'
  AND (` + key + `) ` + db.globalIn() + `NOT IN (
    SELECT ` + key + ` FROM route_events
    WHERE host = ? AND has(?, hex(peer)) AND ts_us >= ? AND ts_us <= ? AND kind = 'announce')`
	err := db.conn.Exec(ctx, sql, toUs, toUs, host, hexPeers, fromUs, host, hexPeers, fromUs, toUs)
	if err != nil {
		return fmt.Errorf("withdraw the routes absent from the RIB dump of %s at %s: %w", host, to.UTC().Format(time.RFC3339), err)
	}
	return nil
}
