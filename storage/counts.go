package storage

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// peerStats is what a batch of events says of its peers beyond their
// rows: the latest route counts per (host, peer, family), for peer_routes,
// and each peer's latest UPDATE time and ASN, for peer_updates.
type peerStats struct {
	counts  map[famKey]famCount
	updates map[peerKey]peerUpdate
}

type famKey struct {
	peerKey
	family schema.Family
}

type famCount struct{ seq, us, routes uint64 }

type peerUpdate struct {
	asn uint32
	us  uint64
}

func (s *peerStats) empty() bool { return len(s.counts) == 0 && len(s.updates) == 0 }

func (s *peerStats) addCount(k famKey, c famCount) {
	if old, ok := s.counts[k]; !ok || c.seq >= old.seq {
		if s.counts == nil {
			s.counts = map[famKey]famCount{}
		}
		s.counts[k] = c
	}
}

func (s *peerStats) addUpdate(k peerKey, u peerUpdate) {
	if old, ok := s.updates[k]; !ok || u.us >= old.us {
		if s.updates == nil {
			s.updates = map[peerKey]peerUpdate{}
		}
		s.updates[k] = u
	}
}

// add takes in the events.
func (s *peerStats) add(events []schema.Event) {
	for i := range events {
		e := &events[i]
		if !e.Peer.IsValid() {
			continue
		}
		us := uint64(max(e.Timestamp*1e6+0.5, 0))
		for _, fc := range e.Routes {
			s.addCount(famKey{peerKey{e.Host, e.Peer}, fc.Family}, famCount{e.Seq, us, fc.Routes})
		}
		if e.Type == schema.TypeUpdate {
			s.addUpdate(peerKey{e.Host, e.Peer}, peerUpdate{e.PeerASN, us})
		}
	}
}

// merge takes in o.
func (s *peerStats) merge(o *peerStats) {
	for k, c := range o.counts {
		s.addCount(k, c)
	}
	for k, u := range o.updates {
		s.addUpdate(k, u)
	}
}

// insertStats stores s in peer_routes and peer_updates.
func (db *DB) insertStats(ctx context.Context, s *peerStats) error {
	if len(s.counts) > 0 {
		b, err := db.conn.PrepareBatch(ctx, "INSERT INTO peer_routes (host, peer, afi, safi, seq, ts_us, routes)")
		if err != nil {
			return fmt.Errorf("prepare peer_routes batch: %w", err)
		}
		defer b.Abort()
		for k, c := range s.counts {
			p := schema.AddrTo16(k.peer)
			if err := b.Append(k.host, p[:], k.family.AFI, k.family.SAFI, c.seq, c.us, c.routes); err != nil {
				return fmt.Errorf("peer_routes: %w", err)
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("send %d peer_routes rows: %w", len(s.counts), err)
		}
	}
	if len(s.updates) > 0 {
		b, err := db.conn.PrepareBatch(ctx, "INSERT INTO peer_updates (host, peer, peer_asn, last_us)")
		if err != nil {
			return fmt.Errorf("prepare peer_updates batch: %w", err)
		}
		defer b.Abort()
		for k, u := range s.updates {
			p := schema.AddrTo16(k.peer)
			if err := b.Append(k.host, p[:], u.asn, u.us); err != nil {
				return fmt.Errorf("peer_updates: %w", err)
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("send %d peer_updates rows: %w", len(s.updates), err)
		}
	}
	return nil
}

// RecountPeers counts the current routes of every peer of collector host
// by reading them (routes_current) and stores the counts as of now: for
// archive peers, whose imported events carry no counts, after an import.
// It reads every current route of host once.
func (db *DB) RecountPeers(ctx context.Context, host string) error {
	downs, err := db.lastDowns(ctx, time.Time{}, netip.Addr{}, host)
	if err != nil {
		return err
	}
	current := "last_kind = 'announce'"
	var args []any
	if c, a := downs.condition(); c != "" {
		current += " AND last_us > " + c
		args = a
	}
	now := uint64(time.Now().UnixMicro())
	// seq: above any a live session could have stored, so that these
	// counts win over older ones.
	sql := `INSERT INTO peer_routes (host, peer, afi, safi, seq, ts_us, routes)
SELECT host, peer, afi, safi, toUInt64(?), toUInt64(?), countIf(` + current + `)
FROM (
  SELECT host, peer, afi, safi, argMax(kind, ts_us) AS last_kind, max(ts_us) AS last_us
  FROM routes_current WHERE host = ?
  GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id
)
GROUP BY host, peer, afi, safi`
	if err := db.conn.Exec(ctx, sql, append(append([]any{now, now}, args...), host)...); err != nil {
		return fmt.Errorf("count the routes of %s's peers: %w", host, err)
	}
	return nil
}
