package storage

import (
	"cmp"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// This file owns Peers and what it is made of: per (host, peer), the
// facts of peer_events (ASN, last state, OPENs' hold times), peer_seen
// (last heard of), peer_updates (last UPDATE) and peer_routes (route
// counts). DB.Peers reads them from the store; a LiveRIB keeps them
// current from the log, by the same rules as the writer, and answers the
// same.

// peerFacts is what the store says of one peer.
type peerFacts struct {
	hasEvents  bool   // rows in peer_events
	asn        uint32 // of its latest peer_events row,
	asnUs      uint64 // at this time
	state      schema.PeerState
	since      uint64 // time of its latest RIS_PEER_STATE; 0: none
	hasSeen    bool
	seenUs     uint64
	hold       [2]holdFact // its latest received and sent OPEN's
	hasDown    bool        // its last down state: time and reason
	downUs     uint64
	downReason string
	hasUpdate  bool
	updateASN  uint32
	updateUs   uint64
	counts     map[schema.Family]famCount
}

type holdFact struct {
	set     bool
	us      uint64
	seconds uint16
}

// peerTable holds the facts of every peer.
type peerTable map[peerKey]*peerFacts

func (t peerTable) get(host string, peer netip.Addr) *peerFacts {
	k := peerKey{host, peer.Unmap()}
	f := t[k]
	if f == nil {
		f = &peerFacts{}
		t[k] = f
	}
	return f
}

// apply takes in an event as the writer stores it: us is the time of its
// rows.
func (t peerTable) apply(e *schema.Event, us uint64) {
	if !e.Peer.IsValid() {
		return
	}
	f := t.get(e.Host, e.Peer)
	raw := uint64(max(e.Timestamp*1e6+0.5, 0))
	if !e.Imported {
		f.hasSeen, f.seenUs = true, max(f.seenUs, uint64(e.Timestamp*1e6+0.5))
	}
	for _, fc := range e.Routes {
		if old, ok := f.counts[fc.Family]; !ok || e.Seq >= old.seq {
			if f.counts == nil {
				f.counts = map[schema.Family]famCount{}
			}
			f.counts[fc.Family] = famCount{e.Seq, raw, fc.Routes}
		}
	}
	switch e.Type {
	case schema.TypeUpdate:
		if !f.hasUpdate || raw >= f.updateUs {
			f.hasUpdate, f.updateASN, f.updateUs = true, e.PeerASN, raw
		}
	case schema.TypePeerState, schema.TypeOpen, schema.TypeNotification:
		if !f.hasEvents || us >= f.asnUs {
			f.hasEvents, f.asn, f.asnUs = true, e.PeerASN, us
		}
		if e.Type == schema.TypePeerState && us >= f.since {
			f.state, f.since = e.State, us
		}
		if e.Type == schema.TypePeerState && e.State == schema.StateDown && (!f.hasDown || us >= f.downUs) {
			f.hasDown, f.downUs, f.downReason = true, us, eventReason(e)
		}
		if o := e.Open; e.Type == schema.TypeOpen {
			var h holdFact
			sent := 0
			if o != nil {
				h.seconds = o.HoldTime
				if o.Sent {
					sent = 1
				}
			}
			if old := f.hold[sent]; !old.set || us >= old.us {
				h.set, h.us = true, us
				f.hold[sent] = h
			}
		}
	}
}

// peers makes the peers of the table, as at now, ordered by host and
// address.
func (t peerTable) peers(now time.Time) []Peer {
	out := make([]Peer, 0, len(t))
	for k, f := range t {
		p := Peer{Host: k.host, Address: k.peer}
		if f.hasEvents {
			p.ASN = f.asn
			if f.since > 0 {
				p.State, p.Since = f.state, usTime(f.since)
			}
		}
		if f.hasSeen {
			p.LastSeen = usTime(f.seenUs)
			// The smaller hold time of the two OPENs'. A hold time of 0 (no
			// OPEN stored, or none negotiated) means no KEEPALIVEs to
			// expect: silence says nothing then.
			var hold time.Duration
			if f.hold[0].set || f.hold[1].set {
				s := uint16(0xffff)
				for _, h := range f.hold {
					if h.set {
						s = min(s, h.seconds)
					}
				}
				hold = time.Duration(s) * time.Second
			}
			p.Stale = hold > 0 && p.State == schema.StateConnected && now.Sub(p.LastSeen) > hold+staleMargin
		}
		if f.hasUpdate {
			if p.ASN == 0 {
				p.ASN = f.updateASN
			}
			p.LastUpdate = usTime(f.updateUs)
		}
		for fam, c := range f.counts {
			// Counts from before the session's last state change are not
			// the current ones (a session that went down holds no routes;
			// one lost in a collector crash had its counts from before).
			if p.State == schema.StateDown || p.State == schema.StateConnected && usTime(c.us).Before(p.Since) {
				continue
			}
			p.Routes = append(p.Routes, schema.FamilyCount{Family: fam, Routes: c.routes})
			switch fam.AFI {
			case 1:
				p.IPv4Routes += c.routes
			case 2:
				p.IPv6Routes += c.routes
			}
		}
		slices.SortFunc(p.Routes, func(a, b schema.FamilyCount) int {
			return cmp.Or(cmp.Compare(a.Family.AFI, b.Family.AFI), cmp.Compare(a.Family.SAFI, b.Family.SAFI))
		})
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Peer) int {
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		return a.Address.Compare(b.Address)
	})
	return out
}

// downs returns the last down state of every peer that went down, ordered
// by host and address.
func (t peerTable) downs() []PeerDown {
	var out []PeerDown
	for k, f := range t {
		if f.hasDown {
			out = append(out, PeerDown{Host: k.host, Address: k.peer, Time: usTime(f.downUs), Reason: f.downReason})
		}
	}
	slices.SortFunc(out, func(a, b PeerDown) int {
		return cmp.Or(strings.Compare(a.Host, b.Host), a.Address.Compare(b.Address))
	})
	return out
}

// Peers returns every peer seen in the store, ordered by host and address.
// Its five queries (states, last seen, hold times, last updates, route
// counts) run at once, each on a connection of its own, so that it takes
// about as long as the slowest.
func (db *DB) Peers(ctx context.Context) ([]Peer, error) {
	t, err := db.peerTable(ctx, false)
	if err != nil {
		return nil, err
	}
	return t.peers(time.Now()), nil
}

// peerTable reads the facts of every peer; withDowns adds their last down
// states (PeerDowns).
func (db *DB) peerTable(ctx context.Context, withDowns bool) (peerTable, error) {
	t := peerTable{}
	var mu sync.Mutex // the scans run at once
	scan := func(fn func(rows rowScanner, f func(host string, peer []byte) *peerFacts) error) func(rowScanner) error {
		return func(rows rowScanner) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(rows, func(host string, peer []byte) *peerFacts { return t.get(host, addrFrom(peer)) })
		}
	}
	queries := []struct {
		what, sql string
		scan      func(rowScanner) error
	}{
		{"peers", `SELECT host, peer, argMax(peer_asn, ts_us), max(ts_us),
  argMaxIf(state, ts_us, type = 'RIS_PEER_STATE'), maxIf(ts_us, type = 'RIS_PEER_STATE')
FROM peer_events GROUP BY host, peer`, scan(func(rows rowScanner, get func(string, []byte) *peerFacts) error {
			var host, state string
			var peer []byte
			var asn uint32
			var asnUs, since uint64
			if err := rows.Scan(&host, &peer, &asn, &asnUs, &state, &since); err != nil {
				return err
			}
			f := get(host, peer)
			f.hasEvents, f.asn, f.asnUs, f.since = true, asn, asnUs, since
			if since > 0 {
				_ = f.state.UnmarshalText([]byte(strings.TrimPrefix(state, "none")))
			}
			return nil
		})},
		// When each peer was last heard of.
		{"peers: last seen", "SELECT host, peer, max(last_us) FROM peer_seen GROUP BY host, peer", scan(func(rows rowScanner, get func(string, []byte) *peerFacts) error {
			var host string
			var peer []byte
			var us uint64
			if err := rows.Scan(&host, &peer, &us); err != nil {
				return err
			}
			f := get(host, peer)
			f.hasSeen, f.seenUs = true, us
			return nil
		})},
		// The hold time of each peer's latest OPEN each way.
		{"peers: hold times", "SELECT host, peer, sent, argMax(hold_time, ts_us), max(ts_us) FROM peer_events WHERE type = 'OPEN' GROUP BY host, peer, sent",
			scan(func(rows rowScanner, get func(string, []byte) *peerFacts) error {
				var host string
				var peer []byte
				var sent uint8
				var h holdFact
				if err := rows.Scan(&host, &peer, &sent, &h.seconds, &h.us); err != nil {
					return err
				}
				h.set = true
				get(host, peer).hold[min(sent, 1)] = h
				return nil
			})},
		// The ASN and time of each peer's latest UPDATE (archive peers have
		// no peer_events: their ASN comes from here).
		{"peers: last updates", "SELECT host, peer, argMax(peer_asn, last_us), max(last_us) FROM peer_updates GROUP BY host, peer", scan(func(rows rowScanner, get func(string, []byte) *peerFacts) error {
			var host string
			var peer []byte
			var asn uint32
			var us uint64
			if err := rows.Scan(&host, &peer, &asn, &us); err != nil {
				return err
			}
			f := get(host, peer)
			f.hasUpdate, f.updateASN, f.updateUs = true, asn, us
			return nil
		})},
		// Route counts as the sessions keep them: a row per peer and family.
		{"peers: route counts", "SELECT host, peer, afi, safi, argMax(seq, seq), argMax(routes, seq), argMax(ts_us, seq) FROM peer_routes GROUP BY host, peer, afi, safi",
			scan(func(rows rowScanner, get func(string, []byte) *peerFacts) error {
				var host string
				var peer []byte
				var fam schema.Family
				var c famCount
				if err := rows.Scan(&host, &peer, &fam.AFI, &fam.SAFI, &c.seq, &c.routes, &c.us); err != nil {
					return err
				}
				f := get(host, peer)
				if f.counts == nil {
					f.counts = map[schema.Family]famCount{}
				}
				f.counts[fam] = c
				return nil
			})},
	}
	if withDowns {
		queries = append(queries, struct {
			what, sql string
			scan      func(rowScanner) error
		}{"peer downs", peerDownsSQL, scan(func(rows rowScanner, get func(string, []byte) *peerFacts) error {
			var host, reason string
			var peer []byte
			var us uint64
			if err := rows.Scan(&host, &peer, &us, &reason); err != nil {
				return err
			}
			f := get(host, peer)
			f.hasDown, f.downUs, f.downReason = true, us, reason
			return nil
		})})
	}
	errs := make([]error, len(queries))
	var wg sync.WaitGroup
	for i, q := range queries {
		wg.Go(func() { errs[i] = db.queryEach(ctx, q.what, q.sql, q.scan) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}
