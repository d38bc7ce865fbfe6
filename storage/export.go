package storage

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vantage-bgp/vantage/schema"
)

// Reading the stored history for MRT export: the messages and session
// changes of a time window in time order (Updates), and the routes current
// at a time in prefix order with the peers known then (RIBPeers, RIB).
// Both stream: rows are handed to a callback as ClickHouse sends them,
// never gathered, so an export of any length runs in constant memory on
// this side. Exports are not bounded by the looking glass's QueryLimits.

// DefaultExportChunk is the length of the time ranges that Updates reads
// one query at a time.
const DefaultExportChunk = 15 * time.Minute

// UpdatesQuery selects the stored messages and session changes of a window.
type UpdatesQuery struct {
	// From and To bound the window: From <= time < To (as RIS's
	// updates.HHMM files, which hold [HHMM, HHMM+5min)).
	From, To time.Time
	// Peers, when set, keeps the events of these peer addresses; Host, when
	// set, those of this collector.
	Peers []netip.Addr
	Host  string
	// Chunk is the length of the time ranges read one query at a time, which
	// bounds what ClickHouse sorts at once (0: DefaultExportChunk).
	Chunk time.Duration
}

// Validate checks the window.
func (q UpdatesQuery) Validate() error {
	if q.From.IsZero() || q.To.IsZero() {
		return fmt.Errorf("%w: from and to: both must be set", ErrBadQuery)
	}
	if !q.From.Before(q.To) {
		return fmt.Errorf("%w: from %s is not before to %s", ErrBadQuery, q.From.UTC().Format(time.RFC3339Nano), q.To.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// StillWritten reports whether events of the window may still be on their
// way to the store at now: its end is later than now minus lag, the time
// an event takes to be stored (the writers' flush interval plus the
// collector's publishing; a few seconds). An export of such a window may
// lack events that a later export of the same window has.
func (q UpdatesQuery) StillWritten(now time.Time, lag time.Duration) bool {
	return q.To.After(now.Add(-lag))
}

// ExportKind says what an ExportEvent is.
type ExportKind uint8

// Export event kinds.
const (
	// ExportMessage is a BGP message: an UPDATE from route_events, or an
	// OPEN or NOTIFICATION from peer_events.
	ExportMessage ExportKind = iota + 1
	// ExportState is a session state change (RIS_PEER_STATE).
	ExportState
)

// ExportEvent is one stored message or session change. It is valid only
// during the callback that gets it: Raw points into a reused buffer.
type ExportEvent struct {
	Kind    ExportKind
	Host    string
	Peer    netip.Addr
	PeerASN uint32
	// TimeUs is the stored time, in Unix microseconds.
	TimeUs uint64
	// Raw is the whole BGP message (header included), as received or sent.
	Raw []byte
	// Sent marks a message the collector sent (its OPEN, a NOTIFICATION).
	Sent bool
	// State is the new state of an ExportState.
	State schema.PeerState
	// LocalAddr is the collector's address of the session's connection,
	// on session changes and OPENs of live sessions (invalid when not
	// stored).
	LocalAddr netip.Addr
	// PathID is the path identifier of an UPDATE's first stored route (not
	// 0 only when the session used ADD-PATH); ASPath is the AS_PATH text of
	// its announcement ("" for a withdrawal).
	PathID uint32
	ASPath string
}

// peerCondition adds the host and peer-list conditions.
func peerCondition(where []string, args []any, host string, peers []netip.Addr) ([]string, []any) {
	if host != "" {
		where = append(where, "host = ?")
		args = append(args, host)
	}
	if len(peers) > 0 {
		hexPeers := make([]string, len(peers))
		for i, p := range peers {
			a := schema.AddrTo16(p)
			hexPeers[i] = strings.ToUpper(hex.EncodeToString(a[:]))
		}
		where = append(where, "has(CAST(? AS Array(String)), hex(peer))")
		args = append(args, hexPeers)
	}
	return where, args
}

// timeRange adds from <= ts_us < to, with the second-resolution ts
// conditions that prune partitions.
func timeRange(where []string, args []any, from, to uint64) ([]string, []any) {
	where = append(where, "ts >= toDateTime(toUInt32(?))", "ts_us >= toUInt64(?)", "ts_us < toUInt64(?)")
	args = append(args, uint32(min(from/1e6, math.MaxUint32)), from, to)
	if to/1e6 < math.MaxUint32 {
		where = append(where, "ts <= toDateTime(toUInt32(?))")
		args = append(args, uint32(to/1e6))
	}
	return where, args
}

// Updates calls fn for every stored message and session change of the
// window, in time order (ts_us, then host and peer): the UPDATEs whose raw
// message is stored, the OPENs and NOTIFICATIONs with theirs, and the
// RIS_PEER_STATE changes. The window is read a chunk at a time, each
// chunk as two streamed queries merged here. Rows stored twice (a batch
// sent again, a file imported again, before ClickHouse merges the parts)
// are passed once. Rows without a raw message (the withdrawals that
// applying a RIB dump writes) are not messages and are left out.
func (db *DB) Updates(ctx context.Context, q UpdatesQuery, fn func(*ExportEvent) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	chunk := q.Chunk
	if chunk <= 0 {
		chunk = DefaultExportChunk
	}
	from, to := uint64(max(q.From.UnixMicro(), 0)), uint64(max(q.To.UnixMicro(), 0))
	step := uint64(chunk.Microseconds())
	var last ExportEvent // the previous event, to skip duplicates
	for lo := from; lo < to; lo += step {
		hi := min(lo+step, to)
		if err := db.updatesChunk(ctx, q, lo, hi, &last, fn); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// eventRows is one of the two streams of a chunk.
type eventRows struct {
	rows driver.Rows
	ev   ExportEvent
	raw  string
	ok   bool
	scan func(r *eventRows) error
}

func (r *eventRows) next() error {
	r.ok = r.rows.Next()
	if !r.ok {
		return r.rows.Err()
	}
	return r.scan(r)
}

func (db *DB) updatesChunk(ctx context.Context, q UpdatesQuery, lo, hi uint64, last *ExportEvent, fn func(*ExportEvent) error) error {
	where, args := timeRange([]string{"raw != ''"}, nil, lo, hi)
	where, args = peerCondition(where, args, q.Host, q.Peers)
	routes, err := db.conn.Query(ctx, "SELECT host, peer, peer_asn, ts_us, raw, path_id, as_path FROM route_events WHERE "+
		strings.Join(where, " AND ")+" ORDER BY ts_us, host, peer", args...)
	if err != nil {
		return fmt.Errorf("updates: %w", err)
	}
	defer routes.Close()
	where, args = timeRange([]string{"(type = 'RIS_PEER_STATE' AND state != 'none' OR type != 'RIS_PEER_STATE' AND raw != '')"}, nil, lo, hi)
	where, args = peerCondition(where, args, q.Host, q.Peers)
	peers, err := db.conn.Query(ctx, "SELECT host, peer, peer_asn, ts_us, toString(type), toString(state), sent, raw, local_addr FROM peer_events WHERE "+
		strings.Join(where, " AND ")+" ORDER BY ts_us, host, peer, type", args...)
	if err != nil {
		return fmt.Errorf("updates: session events: %w", err)
	}
	defer peers.Close()

	var peer, local []byte
	re := &eventRows{rows: routes, scan: func(r *eventRows) error {
		e := &r.ev
		*e = ExportEvent{Kind: ExportMessage}
		if err := r.rows.Scan(&e.Host, &peer, &e.PeerASN, &e.TimeUs, &r.raw, &e.PathID, &e.ASPath); err != nil {
			return fmt.Errorf("updates: scan: %w", err)
		}
		e.Peer = addrFrom(peer)
		e.Raw = append(e.Raw[:0], r.raw...)
		return nil
	}}
	var typ, state string
	var sent uint8
	pe := &eventRows{rows: peers, scan: func(r *eventRows) error {
		e := &r.ev
		raw := e.Raw
		*e = ExportEvent{}
		if err := r.rows.Scan(&e.Host, &peer, &e.PeerASN, &e.TimeUs, &typ, &state, &sent, &r.raw, &local); err != nil {
			return fmt.Errorf("updates: session events: scan: %w", err)
		}
		e.Peer, e.LocalAddr = addrFrom(peer), addrFrom(local)
		e.Sent = sent != 0
		if typ == "RIS_PEER_STATE" {
			e.Kind = ExportState
			if err := e.State.UnmarshalText([]byte(state)); err != nil {
				return fmt.Errorf("updates: session events: %w", err)
			}
		} else {
			e.Kind = ExportMessage
			e.Raw = append(raw[:0], r.raw...)
		}
		return nil
	}}
	for _, s := range []*eventRows{re, pe} {
		if err := s.next(); err != nil {
			return err
		}
	}
	for re.ok || pe.ok {
		s := re
		if !re.ok || pe.ok && before(&pe.ev, &re.ev) {
			s = pe
		}
		e := &s.ev
		dup := e.TimeUs == last.TimeUs && e.Kind == last.Kind && e.Peer == last.Peer && e.Host == last.Host &&
			e.State == last.State && string(e.Raw) == string(last.Raw)
		if !dup {
			if err := fn(e); err != nil {
				return err
			}
			last.Kind, last.TimeUs, last.Peer, last.Host, last.State = e.Kind, e.TimeUs, e.Peer, e.Host, e.State
			last.Raw = append(last.Raw[:0], e.Raw...)
		}
		if err := s.next(); err != nil {
			return err
		}
	}
	return nil
}

// before orders events by time, host and peer, session changes first.
func before(a, b *ExportEvent) bool {
	if a.TimeUs != b.TimeUs {
		return a.TimeUs < b.TimeUs
	}
	if a.Host != b.Host {
		return a.Host < b.Host
	}
	if c := a.Peer.Compare(b.Peer); c != 0 {
		return c < 0
	}
	return a.Kind == ExportState && b.Kind != ExportState
}

// StoredOpen is the latest OPEN a session exchanged before a time: the
// peer's (Sent false) or the collector's own (Sent true).
type StoredOpen struct {
	Host     string
	Peer     netip.Addr
	Sent     bool
	ASN      uint32
	RouterID netip.Addr
	TimeUs   uint64
	// Raw is the whole OPEN message.
	Raw []byte
	// LocalAddr is the collector's address of the session's connection
	// (invalid when not stored).
	LocalAddr netip.Addr
}

// OpensBefore returns, per (host, peer) of q and direction, the latest
// stored OPEN before t: what a reader of the messages after t needs to know
// of their sessions (4-octet ASNs, ADD-PATH, the collector's AS and BGP
// identifier). Sessions imported from MRT have none.
func (db *DB) OpensBefore(ctx context.Context, host string, peers []netip.Addr, t time.Time) ([]StoredOpen, error) {
	where := []string{"type = 'OPEN'", "ts_us < toUInt64(?)"}
	args := []any{uint64(max(t.UnixMicro(), 0))}
	where, args = peerCondition(where, args, host, peers)
	rows, err := db.conn.Query(ctx, "SELECT host, peer, sent, argMax(open_asn, ts_us), argMax(router_id, ts_us), max(ts_us), argMax(raw, ts_us), argMax(local_addr, ts_us) FROM peer_events WHERE "+
		strings.Join(where, " AND ")+" GROUP BY host, peer, sent ORDER BY host, peer, sent", args...)
	if err != nil {
		return nil, fmt.Errorf("opens: %w", err)
	}
	defer rows.Close()
	var out []StoredOpen
	for rows.Next() {
		var o StoredOpen
		var peer, rid, local []byte
		var sent uint8
		var raw string
		if err := rows.Scan(&o.Host, &peer, &sent, &o.ASN, &rid, &o.TimeUs, &raw, &local); err != nil {
			return nil, fmt.Errorf("opens: scan: %w", err)
		}
		o.Peer, o.RouterID, o.Sent, o.Raw, o.LocalAddr = addrFrom(peer), addrFrom(rid), sent != 0, []byte(raw), addrFrom(local)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("opens: %w", err)
	}
	return out, nil
}

// RIBQuery selects the routes of a RIB export.
type RIBQuery struct {
	// At is the time the routes were current at (required).
	At time.Time
	// Peers and Host, when set, keep the routes of these peer addresses
	// and of this collector.
	Peers []netip.Addr
	Host  string
}

// RIBPeer is a peer of a RIB export.
type RIBPeer struct {
	Host    string
	Addr    netip.Addr
	ASN     uint32
	BGPID   netip.Addr // from its latest OPEN at or before At; invalid when none is stored
	LocalID netip.Addr // the collector's BGP identifier on that session; invalid when unknown
}

// where is the scope of a RIB export: routes at or before At of IPv4
// and IPv6 unicast and multicast (the families of TABLE_DUMP_V2's
// RIB_IPV4/IPV6 records) and labeled unicast, VPN and multicast VPN
// (RIB_GENERIC records: their NLRI is made of the stored prefix, labels
// and RD). The families stored as NLRI text (FlowSpec, EVPN, ...) are
// left out: their NLRI bytes are not stored.
func (q RIBQuery) where() ([]string, []any, error) {
	if q.At.IsZero() {
		return nil, nil, fmt.Errorf("%w: at: not set", ErrBadQuery)
	}
	// IP routes of the families a TABLE_DUMP_V2 RIB holds, and the routes
	// of families without IP prefixes (FlowSpec, EVPN, VPLS, BGP-LS), for
	// RIB_GENERIC.
	where := []string{"(nlri = '' AND afi IN (1, 2) AND safi IN (1, 2, 4, 128, 129) OR nlri != '')", "ts_us <= toUInt64(?)"}
	us := uint64(max(q.At.UnixMicro(), 0))
	args := []any{us}
	if sec := q.At.Unix(); sec < math.MaxUint32 {
		where = append(where, "ts <= toDateTime(toUInt32(?))")
		args = append(args, uint32(max(sec, 0)))
	}
	where, args = peerCondition(where, args, q.Host, q.Peers)
	return where, args, nil
}

// RIBPeers returns the peers of q as they were at q.At, ordered by host and
// address: those with route events at or before At (the latest snapshot
// and the events since) and those with session events by then, with their
// ASN then.
func (db *DB) RIBPeers(ctx context.Context, q RIBQuery) ([]RIBPeer, error) {
	where, args, err := q.where()
	if err != nil {
		return nil, err
	}
	snap, err := db.snapshotAt(ctx, uint64(max(q.At.UnixMicro(), 0)), false)
	if err != nil {
		return nil, err
	}
	src, args := routeSource(snap, where, args)
	type key struct {
		host string
		peer netip.Addr
	}
	type seen struct {
		RIBPeer
		us uint64
	}
	byKey := map[key]*seen{}
	add := func(host string, peer []byte, asn uint32, us uint64) *seen {
		k := key{host, addrFrom(peer)}
		p := byKey[k]
		if p == nil {
			p = &seen{RIBPeer: RIBPeer{Host: host, Addr: k.peer}}
			byKey[k] = p
		}
		if us >= p.us {
			p.ASN, p.us = asn, us
		}
		return p
	}
	rows, err := db.conn.Query(ctx, "SELECT host, peer, argMax(peer_asn, ts_us), max(ts_us) FROM "+src+" AS r GROUP BY host, peer", args...)
	if err != nil {
		return nil, fmt.Errorf("rib peers: %w", err)
	}
	for rows.Next() {
		var host string
		var peer []byte
		var asn uint32
		var us uint64
		if err := rows.Scan(&host, &peer, &asn, &us); err != nil {
			rows.Close()
			return nil, fmt.Errorf("rib peers: scan: %w", err)
		}
		add(host, peer, asn, us)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rib peers: %w", err)
	}
	where, args = []string{"ts_us <= toUInt64(?)"}, []any{uint64(max(q.At.UnixMicro(), 0))}
	where, args = peerCondition(where, args, q.Host, q.Peers)
	rows, err = db.conn.Query(ctx, `SELECT host, peer, argMax(peer_asn, ts_us), max(ts_us),
  argMaxIf(router_id, ts_us, type = 'OPEN' AND sent = 0), argMaxIf(router_id, ts_us, type = 'OPEN' AND sent = 1)
FROM peer_events WHERE `+strings.Join(where, " AND ")+" GROUP BY host, peer", args...)
	if err != nil {
		return nil, fmt.Errorf("rib peers: session events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var host string
		var peer, id, local []byte
		var asn uint32
		var us uint64
		if err := rows.Scan(&host, &peer, &asn, &us, &id, &local); err != nil {
			return nil, fmt.Errorf("rib peers: session events: scan: %w", err)
		}
		p := add(host, peer, asn, us)
		if a := addrFrom(id); a.IsValid() && !a.IsUnspecified() {
			p.BGPID = a
		}
		if a := addrFrom(local); a.IsValid() && !a.IsUnspecified() {
			p.LocalID = a
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rib peers: session events: %w", err)
	}
	out := make([]RIBPeer, 0, len(byKey))
	for _, p := range byKey {
		out = append(out, p.RIBPeer)
	}
	slices.SortFunc(out, func(a, b RIBPeer) int {
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		return a.Addr.Compare(b.Addr)
	})
	return out, nil
}

// ErrStop may be returned by a callback of RIB or Updates to end the
// reading early without an error.
var ErrStop = errors.New("stop")
