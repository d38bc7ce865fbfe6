package storage

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// This file owns LiveRIB: the routes of IP prefixes current now, held in
// memory by the looking glass, so that the questions about now (the routes
// of a prefix, the longest match of an address, the less-specifics) are
// answered without a query, whatever the store is busy with. It is loaded
// from the current state (CurrentRoutes) and then kept current by the
// events of the log, applied in the log's order: those the store already
// holds as well as the later ones, so that it ends up with what the store
// will hold, sooner.

// LiveRIB is an in-memory copy of the routes of IP prefixes current now:
// for each route its latest announcement, by the rule of Routes (a
// withdrawn route, and a route announced before its peer's last down
// state, is not current). It answers the RoutesQuery of Routes that ask
// about now without a filter, with the same routes in the same order. Its
// methods may be called concurrently.
type LiveRIB struct {
	ready atomic.Bool

	mu       sync.RWMutex
	prefixes map[netip.Prefix][]liveRoute // each sorted by liveRoute.cmp
	peers    []livePeer
	peerIdx  map[peerKey]uint32
	attrs    []liveAttrs                       // the attribute sets, by index
	byOrigin map[uint32]map[netip.Prefix]int32 // routes per origin ASN and prefix
	attrIdx  map[string]uint32                 // by their key
	freeAttr []uint32                          // indexes of attrs free for reuse
	ids      []liveID
	idIdx    map[string]uint32
	kinds    []liveKind
	kindIdx  map[liveKind]uint32
	facts    peerTable // what Peers answers from
	addBuf   struct {  // Add's scratch
		large     []string
		comms     []uint32
		text, key []byte
	}
	routes int // entries in prefixes, stale ones included
	stale  int // entries of routes announced before their peer's last down (an upper bound)
}

// livePeer is a peer (of a collector) the RIB has routes of.
type livePeer struct {
	host   string
	addr   netip.Addr
	addr16 [16]byte
	downUs uint64 // its last down state; its routes announced before it are not current
	routes int    // entries of its routes held
}

// liveAttrs is the part of a route shared by the routes of an UPDATE:
// the peer's ASN, the NLRI's next hop, link-local next hop and labels, and
// the path attributes, in their stored form (key, made by
// appendStoredAttrs), parsed again as scanRoute reads them when a route is
// handed out: a few µs per route, and memory for what is stored only.
type liveAttrs struct {
	key    string
	refs   int32
	origin uint32 // the AS path's origin ASN (origin_asn)
}

// liveKind is a route's family and RD.
type liveKind struct {
	family schema.Family
	rd     string
}

// liveID is what a route's event ID is made of: the ID itself, or its
// part before "-SEQ" (the collector's IDs: host-start-peer-seq).
type liveID struct {
	s         string
	appendSeq bool
}

// liveRoute is one current route of a prefix (40 bytes, no pointers: the
// garbage collector has nothing to scan in the routes, whatever their
// number).
type liveRoute struct {
	attrs  uint32 // index in attrs
	tsUs   uint64
	seq    uint64
	peer   uint32 // index in peers
	id     uint32 // index in ids
	pathID uint32
	kind   uint32 // index in kinds
}

// NewLiveRIB returns an empty LiveRIB, not ready.
func NewLiveRIB() *LiveRIB {
	return &LiveRIB{
		prefixes: map[netip.Prefix][]liveRoute{},
		peerIdx:  map[peerKey]uint32{},
		attrIdx:  map[string]uint32{},
		byOrigin: map[uint32]map[netip.Prefix]int32{},
		idIdx:    map[string]uint32{},
		kindIdx:  map[liveKind]uint32{},
		facts:    peerTable{},
	}
}

// SetReady says the RIB holds the current state (loaded and caught up
// with the log): from then on Routes answers from it.
func (l *LiveRIB) SetReady(ready bool) { l.ready.Store(ready) }

// Ready reports whether Routes answers from the RIB.
func (l *LiveRIB) Ready() bool { return l != nil && l.ready.Load() }

// LiveRIBStats count what a LiveRIB holds.
type LiveRIBStats struct {
	Prefixes int // prefixes with routes
	Routes   int // routes held, those of peers that went down since included
	Peers    int
	AttrSets int // distinct attribute sets the routes share
}

// Stats counts what the RIB holds.
func (l *LiveRIB) Stats() LiveRIBStats {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return LiveRIBStats{Prefixes: len(l.prefixes), Routes: l.routes, Peers: len(l.peers), AttrSets: len(l.attrIdx)}
}

// Add puts route r (as Routes or CurrentRoutes return it) in the RIB as
// current, replacing the route of the same key. Routes of families without
// IP prefixes are left out.
func (l *LiveRIB) Add(r *Route) {
	if r.NLRI != "" || !r.Prefix.IsValid() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	peer := l.peer(r.Host, r.Peer)
	b := &l.addBuf
	b.large = b.large[:0]
	for _, c := range r.LargeCommunity {
		b.large = append(b.large, c.String())
	}
	b.comms = b.comms[:0]
	for _, c := range r.Community {
		b.comms = append(b.comms, c.Uint32())
	}
	b.text = appendRouteAttrText(appendRouteTextAttrs(b.text[:0], r), r.NextHopLinkLocal, r.Labels)
	b.key = appendStoredAttrs(b.key[:0], r.PeerASN, r.NextHop, r.Origin, r.Path.String(), b.comms, b.large, b.text)
	l.put(r.Prefix, liveRoute{attrs: l.intern(b.key, r.Path.OriginASN()), tsUs: uint64(r.Time.UnixMicro()), seq: r.Seq, peer: peer,
		id: l.id(r.ID, r.Seq), pathID: r.PathID, kind: l.kind(r.Family, r.RD)})
}

// Apply applies an event of the log: an UPDATE's announcements and
// withdrawals of IP prefixes, and a peer's down state. Events must come in
// the log's order (per peer, as they were received).
func (l *LiveRIB) Apply(e *schema.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Times as the store consumer stores them (DB.Insert: as they are).
	us := clock(nil).next(e.Host, e.Peer, e.Timestamp)
	if e.Type == schema.TypeUpdate && len(e.Announcements) == 0 && len(e.Withdrawals) == 0 && len(e.Withdrawn) == 0 {
		l.facts.apply(e, us)
		return
	}
	l.facts.apply(e, us)
	if e.Type == schema.TypePeerState && e.State == schema.StateDown {
		peer := l.peer(e.Host, e.Peer)
		l.peers[peer].downUs = us
		l.stale += l.peers[peer].routes
		l.sweepIfStale()
	}
	if e.Type != schema.TypeUpdate {
		return
	}
	peer := l.peer(e.Host, e.Peer)
	remove := func(f schema.Family, p netip.Prefix, pathID uint32, rd string) {
		if kind, ok := l.kindIdx[liveKind{f, rd}]; ok { // else it has no route
			l.delete(p.Masked(), liveRoute{peer: peer, pathID: pathID, kind: kind})
		}
	}
	if len(e.Withdrawn) > 0 {
		for i := range e.Withdrawn {
			s := &e.Withdrawn[i]
			for j, p := range s.Prefixes {
				f := s.Family
				if f.IsZero() {
					f = familyOf(p.Addr())
				}
				remove(f, p, nth(s.PathIDs, j), nth(s.RDs, j))
			}
		}
	} else {
		for _, p := range e.Withdrawals {
			remove(familyOf(p.Addr()), p, 0, "")
		}
	}
	if len(e.Announcements) == 0 {
		return
	}
	// The attributes in their stored form, as the writer makes it.
	stored := attrsOf(e)
	comms, _ := stored.communities.([]uint32)
	large, _ := stored.large.([]string)
	id := l.id(e.ID, e.Seq)
	var key, text []byte
	for i := range e.Announcements {
		an := &e.Announcements[i]
		for j, p := range an.Prefixes {
			if !p.IsValid() {
				continue
			}
			text = appendRouteAttrText(append(text[:0], stored.text...), an.NextHopLinkLocal, nthSlice(an.Labels, j))
			key = appendStoredAttrs(key[:0], e.PeerASN, an.NextHop, e.Origin, stored.asPath, comms, large, text)
			f := an.Family
			if f.IsZero() {
				f = familyOf(p.Addr())
			}
			l.put(p.Masked(), liveRoute{attrs: l.intern(key, stored.originASN), tsUs: us, seq: e.Seq, peer: peer, id: id,
				pathID: nth(an.PathIDs, j), kind: l.kind(f, nth(an.RDs, j))})
		}
	}
}

// appendStoredAttrs appends the key of a liveAttrs: the fields in their
// stored form, each after its length.
func appendStoredAttrs(dst []byte, peerASN uint32, nextHop netip.Addr, origin schema.Origin, asPath string, comms []uint32, large []string, text []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, peerASN)
	nh := schema.AddrTo16(nextHop)
	dst = append(dst, nh[:]...)
	if origin.String() == "" {
		origin = schema.OriginAbsent // as originName stores it
	}
	dst = append(dst, byte(origin))
	dst = binary.AppendUvarint(dst, uint64(len(asPath)))
	dst = append(dst, asPath...)
	dst = binary.AppendUvarint(dst, uint64(len(comms)))
	for _, c := range comms {
		dst = binary.BigEndian.AppendUint32(dst, c)
	}
	dst = binary.AppendUvarint(dst, uint64(len(large)))
	for _, c := range large {
		dst = binary.AppendUvarint(dst, uint64(len(c)))
		dst = append(dst, c...)
	}
	return append(dst, text...)
}

// readStoredAttrs sets r's attribute fields from a liveAttrs key, as
// scanRoute reads them from their stored form.
func readStoredAttrs(r *Route, key string) error {
	b := []byte(key)
	if len(b) < 21 {
		return fmt.Errorf("attribute key of %d bytes", len(b))
	}
	r.PeerASN = binary.BigEndian.Uint32(b)
	r.NextHop = schema.AddrFrom16([16]byte(b[4:20]))
	r.Origin = schema.Origin(b[20])
	b = b[21:]
	field := func() []byte {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			b = nil
			return nil
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v
	}
	var err error
	if r.Path, err = parseASPath(string(field())); err != nil {
		return err
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n*4 > uint64(len(b)-k) {
		return fmt.Errorf("attribute key: communities")
	}
	b = b[k:]
	for range n {
		r.Community = append(r.Community, schema.CommunityFromUint32(binary.BigEndian.Uint32(b)))
		b = b[4:]
	}
	n, k = binary.Uvarint(b)
	if k <= 0 {
		return fmt.Errorf("attribute key: large communities")
	}
	b = b[k:]
	for range n {
		c, err := parseLarge(string(field()))
		if err != nil {
			return err
		}
		r.LargeCommunity = append(r.LargeCommunity, c)
	}
	return parseAttrText(b, r, new(attrScratch))
}

// intern returns the index of the liveAttrs of key, added when new.
func (l *LiveRIB) intern(key []byte, origin uint32) uint32 {
	if i, ok := l.attrIdx[string(key)]; ok {
		return i
	}
	a := liveAttrs{key: string(key), origin: origin}
	var i uint32
	if n := len(l.freeAttr); n > 0 {
		i = l.freeAttr[n-1]
		l.freeAttr = l.freeAttr[:n-1]
		l.attrs[i] = a
	} else {
		i = uint32(len(l.attrs))
		l.attrs = append(l.attrs, a)
	}
	l.attrIdx[a.key] = i
	return i
}

// kind returns the index of a family and RD, added when new.
func (l *LiveRIB) kind(f schema.Family, rd string) uint32 {
	k := liveKind{f, rd}
	if i, ok := l.kindIdx[k]; ok {
		return i
	}
	i := uint32(len(l.kinds))
	l.kinds = append(l.kinds, k)
	l.kindIdx[k] = i
	return i
}

func nth[T any](s []T, i int) T {
	var zero T
	if i < len(s) {
		return s[i]
	}
	return zero
}

func nthSlice[T any](s [][]T, i int) []T {
	if i < len(s) {
		return s[i]
	}
	return nil
}

// appendRouteTextAttrs appends the attrs column's tokens of the UPDATE
// attributes r has.
func appendRouteTextAttrs(dst []byte, r *Route) []byte {
	e := schema.Event{MED: r.MED, LocalPref: r.LocalPref, AtomicAggregate: r.AtomicAggregate, Aggregator: r.Aggregator,
		OriginatorID: r.OriginatorID, ClusterList: r.ClusterList, OTC: r.OTC, AIGP: r.AIGP, ExtCommunity: r.ExtCommunity,
		OtherAttrs: r.OtherAttrs}
	return appendUpdateAttrText(dst, &e)
}

// peer returns the index of a peer, added when new.
func (l *LiveRIB) peer(host string, addr netip.Addr) uint32 {
	addr = addr.Unmap()
	k := peerKey{host, addr}
	if i, ok := l.peerIdx[k]; ok {
		return i
	}
	i := uint32(len(l.peers))
	l.peers = append(l.peers, livePeer{host: host, addr: addr, addr16: schema.AddrTo16(addr)})
	l.peerIdx[k] = i
	return i
}

// id returns the index of what event ID id is made of.
func (l *LiveRIB) id(id string, seq uint64) uint32 {
	e := liveID{s: id}
	var buf [21]byte
	if suffix := strconv.AppendUint(append(buf[:0], '-'), seq, 10); strings.HasSuffix(id, string(suffix)) {
		e = liveID{s: id[:len(id)-len(suffix)], appendSeq: true}
	}
	k := e.s
	if !e.appendSeq {
		k = "\x00" + k
	}
	if i, ok := l.idIdx[k]; ok {
		return i
	}
	i := uint32(len(l.ids))
	l.ids = append(l.ids, e)
	l.idIdx[k] = i
	return i
}

// cmp orders the routes of one prefix as Routes does: by host, peer,
// family, RD and path ID.
func (l *LiveRIB) cmp(a, b *liveRoute) int {
	if a.peer != b.peer {
		pa, pb := &l.peers[a.peer], &l.peers[b.peer]
		if c := strings.Compare(pa.host, pb.host); c != 0 {
			return c
		}
		if c := bytes.Compare(pa.addr16[:], pb.addr16[:]); c != 0 {
			return c
		}
	}
	if a.kind != b.kind {
		ka, kb := &l.kinds[a.kind], &l.kinds[b.kind]
		if c := cmp.Or(cmp.Compare(ka.family.AFI, kb.family.AFI), cmp.Compare(ka.family.SAFI, kb.family.SAFI), strings.Compare(ka.rd, kb.rd)); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.pathID, b.pathID)
}

// put adds or replaces a route of prefix p.
func (l *LiveRIB) put(p netip.Prefix, r liveRoute) {
	rs := l.prefixes[p]
	i, found := slices.BinarySearchFunc(rs, &r, func(x liveRoute, y *liveRoute) int { return l.cmp(&x, y) })
	l.attrs[r.attrs].refs++ // first: the route may have had the same
	origin := l.attrs[r.attrs].origin
	if found {
		if old := l.attrs[rs[i].attrs].origin; old != origin {
			l.countOrigin(old, p, -1)
			l.countOrigin(origin, p, 1)
		}
		l.release(rs[i].attrs)
		rs[i] = r
	} else {
		rs = slices.Insert(rs, i, r)
		l.prefixes[p] = rs
		l.routes++
		l.peers[r.peer].routes++
		l.countOrigin(origin, p, 1)
	}
}

// countOrigin adds n to the routes of prefix p with origin ASN origin.
func (l *LiveRIB) countOrigin(origin uint32, p netip.Prefix, n int32) {
	m := l.byOrigin[origin]
	if m == nil {
		m = map[netip.Prefix]int32{}
		l.byOrigin[origin] = m
	}
	if m[p] += n; m[p] <= 0 {
		delete(m, p)
		if len(m) == 0 {
			delete(l.byOrigin, origin)
		}
	}
}

// delete removes the route of prefix p with r's key, if there is one.
func (l *LiveRIB) delete(p netip.Prefix, r liveRoute) {
	rs := l.prefixes[p]
	i, found := slices.BinarySearchFunc(rs, &r, func(x liveRoute, y *liveRoute) int { return l.cmp(&x, y) })
	if !found {
		return
	}
	l.countOrigin(l.attrs[rs[i].attrs].origin, p, -1)
	l.release(rs[i].attrs)
	rs = slices.Delete(rs, i, i+1)
	l.routes--
	l.peers[r.peer].routes--
	if len(rs) == 0 {
		delete(l.prefixes, p)
	} else {
		l.prefixes[p] = rs
	}
}

func (l *LiveRIB) release(i uint32) {
	a := &l.attrs[i]
	if a.refs--; a.refs <= 0 {
		delete(l.attrIdx, a.key)
		*a = liveAttrs{}
		l.freeAttr = append(l.freeAttr, i)
	}
}

// sweepIfStale drops the routes of peers that went down since they were
// announced, once they may be a quarter of what the RIB holds (until then
// lookups skip them). Holding the lock, it makes lookups wait: a pass over
// every prefix, rare (peers going down with large tables).
func (l *LiveRIB) sweepIfStale() {
	if l.stale < 100_000 || l.stale < l.routes/4 {
		return
	}
	for p, rs := range l.prefixes {
		kept := rs[:0]
		for i := range rs {
			if rs[i].tsUs > l.peers[rs[i].peer].downUs {
				kept = append(kept, rs[i])
				continue
			}
			l.countOrigin(l.attrs[rs[i].attrs].origin, p, -1)
			l.release(rs[i].attrs)
			l.routes--
			l.peers[rs[i].peer].routes--
		}
		clear(rs[len(kept):])
		if len(kept) == 0 {
			delete(l.prefixes, p)
		} else {
			l.prefixes[p] = kept
		}
	}
	l.stale = 0
}

// Routes answers q from the RIB when it can: a query about now, without a
// filter, of one prefix (exact), its longest match or its less-specifics;
// ok is false for the others and while the RIB is not ready. The routes
// and their order are those of DB.Routes, Limit and After included.
func (l *LiveRIB) Routes(q RoutesQuery) (routes []Route, ok bool) {
	if !l.Ready() || !q.At.IsZero() {
		return nil, false
	}
	if !q.Prefix.IsValid() && q.Filter.OriginASN != 0 && q.Filter == (RouteFilter{OriginASN: q.Filter.OriginASN}) {
		return l.byOriginASN(q), true
	}
	if !q.Filter.empty() || !q.Prefix.IsValid() {
		return nil, false
	}
	p := q.Prefix.Masked()
	var candidates []netip.Prefix
	switch q.Match {
	case MatchExact:
		candidates = []netip.Prefix{p}
	case MatchLongest:
		if q.After.Prefix.IsValid() {
			candidates = []netip.Prefix{q.After.Prefix}
		} else {
			candidates = covering(p)
		}
	case MatchLess:
		candidates = covering(p)
		slices.Reverse(candidates) // shortest first: the order of Routes
	default:
		return nil, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []Route
	for _, c := range candidates {
		if q.Match == MatchLongest && len(out) > 0 {
			break
		}
		if out = l.appendRoutes(out, c, q, false); q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out, true
}

// byOriginASN answers a query of every prefix by origin ASN: the routes
// whose announcement has it, in RouteKey order.
func (l *LiveRIB) byOriginASN(q RoutesQuery) []Route {
	l.mu.RLock()
	defer l.mu.RUnlock()
	prefixes := make([]netip.Prefix, 0, len(l.byOrigin[q.Filter.OriginASN]))
	for p := range l.byOrigin[q.Filter.OriginASN] {
		if !q.After.Prefix.IsValid() || compareKeys(RouteKey{Prefix: p}, RouteKey{Prefix: q.After.Prefix}) >= 0 {
			prefixes = append(prefixes, p)
		}
	}
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int { return compareKeys(RouteKey{Prefix: a}, RouteKey{Prefix: b}) })
	var out []Route
	for _, p := range prefixes {
		if out = l.appendRoutes(out, p, q, true); q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out
}

// appendRoutes appends the current routes of prefix c that q selects
// (its peer, collector and cursor; with byOrigin, its origin ASN), up to
// q.Limit in all.
func (l *LiveRIB) appendRoutes(out []Route, c netip.Prefix, q RoutesQuery, byOrigin bool) []Route {
	for i := range l.prefixes[c] {
		r := &l.prefixes[c][i]
		peer := &l.peers[r.peer]
		if r.tsUs <= peer.downUs || q.Host != "" && peer.host != q.Host || q.Peer.IsValid() && peer.addr != q.Peer {
			continue
		}
		if byOrigin && l.attrs[r.attrs].origin != q.Filter.OriginASN {
			continue
		}
		if q.After.Prefix.IsValid() {
			k := &l.kinds[r.kind]
			key := RouteKey{Prefix: c, Host: peer.host, Peer: peer.addr, Family: k.family, RD: k.rd, PathID: r.pathID}
			if compareKeys(key, q.After) <= 0 {
				continue
			}
		}
		route, err := l.route(c, r)
		if err != nil {
			continue // as stored: unreadable (DB.Routes fails on it)
		}
		out = append(out, route)
		if q.Limit > 0 && len(out) == q.Limit {
			return out
		}
	}
	return out
}

// route makes the Route of r, a route of prefix p.
func (l *LiveRIB) route(p netip.Prefix, r *liveRoute) (Route, error) {
	var out Route
	if err := readStoredAttrs(&out, l.attrs[r.attrs].key); err != nil {
		return out, err
	}
	peer := &l.peers[r.peer]
	k := &l.kinds[r.kind]
	out.Host, out.Peer = peer.host, peer.addr
	out.Family, out.Prefix, out.PathID, out.RD = k.family, p, r.pathID, k.rd
	out.Time, out.Seq = usTime(r.tsUs), r.seq
	id := l.ids[r.id]
	out.ID = id.s
	if id.appendSeq {
		out.ID = id.s + "-" + strconv.FormatUint(r.seq, 10)
	}
	return out, nil
}

// compareKeys orders route keys as Routes does (stored prefix bytes and
// length first).
func compareKeys(a, b RouteKey) int {
	pa, pb := schema.AddrTo16(a.Prefix.Addr()), schema.AddrTo16(b.Prefix.Addr())
	ma, mb := schema.AddrTo16(a.Peer), schema.AddrTo16(b.Peer)
	return cmp.Or(bytes.Compare(pa[:], pb[:]), cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()),
		strings.Compare(a.Host, b.Host), bytes.Compare(ma[:], mb[:]),
		cmp.Compare(a.Family.AFI, b.Family.AFI), cmp.Compare(a.Family.SAFI, b.Family.SAFI),
		strings.Compare(a.RD, b.RD), strings.Compare(a.NLRI, b.NLRI), cmp.Compare(a.PathID, b.PathID))
}

// Peers answers as DB.Peers does, from memory; ok is false while the RIB
// is not ready.
func (l *LiveRIB) Peers() (peers []Peer, ok bool) {
	if !l.Ready() {
		return nil, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.facts.peers(time.Now()), true
}

// PeerDowns answers as DB.PeerDowns does (ordered by host and address),
// from memory; ok is false while the RIB is not ready.
func (l *LiveRIB) PeerDowns() (downs []PeerDown, ok bool) {
	if !l.Ready() {
		return nil, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.facts.downs(), true
}

// Load empties the RIB and loads it from db: the current routes
// (CurrentRoutes) and what Peers answers. It leaves the RIB not ready:
// its owner applies the log's events the store may lack, then says so
// (SetReady).
func (l *LiveRIB) Load(ctx context.Context, db *DB) error {
	l.Reset()
	facts, err := db.peerTable(ctx, true)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.facts = facts
	l.mu.Unlock()
	return db.CurrentRoutes(ctx, func(r *Route) error {
		l.Add(r)
		return nil
	})
}

// CurrentRoutes calls fn with every route of an IP prefix current now (by
// the rule of Routes), one range of prefixes at a time (as snapshots are
// built: the grouping of a range fits in memory whatever the RIB's size),
// ordered by RouteKey within a range. It is what a LiveRIB is loaded
// from. The route passed to fn is valid only during the call.
func (db *DB) CurrentRoutes(ctx context.Context, fn func(*Route) error) error {
	bounds, err := snapshotBounds(ctx, db.conn, "", snapshotRangeRows)
	if err != nil {
		return fmt.Errorf("current routes: %w", err)
	}
	for i := 0; i <= len(bounds); i++ {
		where, args := prefixRange(bounds, i)
		where = append(where, "nlri = ''", "afi IN (1, 2)")
		from := "routes_current WHERE " + strings.Join(where, " AND ")
		// Unbounded by lg's query limits: a load reads every route.
		if err := db.groupRoutes(ctx, from, args, "last_kind = 'announce'", nil, time.Time{}, netip.Addr{}, "", "", fn); err != nil {
			return fmt.Errorf("current routes: %w", err)
		}
	}
	return nil
}

// Reset empties the RIB and makes it not ready, for a load from scratch.
func (l *LiveRIB) Reset() {
	l.SetReady(false)
	l.mu.Lock()
	defer l.mu.Unlock()
	fresh := NewLiveRIB()
	l.prefixes, l.peers, l.peerIdx, l.ids, l.idIdx = fresh.prefixes, nil, fresh.peerIdx, nil, fresh.idIdx
	l.attrs, l.attrIdx, l.freeAttr, l.byOrigin = nil, fresh.attrIdx, nil, fresh.byOrigin
	l.kinds, l.kindIdx = nil, fresh.kindIdx
	l.facts = fresh.facts
	l.routes, l.stale = 0, 0
}

// importMargin is how much later than the RIB's a peer's last UPDATE in
// the store must be for ChangedOutsideLog to report it: more than the
// log's delay to the RIB, so that an UPDATE stored before the RIB applied
// it is not taken for one written around the log.
const importMargin = time.Minute

// ChangedOutsideLog reports whether the store holds UPDATEs the RIB has
// not seen: a peer it does not know, or one whose last stored UPDATE is
// later than the last it applied (by more than the log's delay), as
// `collector mrt import` writes them straight to the store. The RIB must
// then be loaded again. It reads peer_updates (a row per peer).
func (l *LiveRIB) ChangedOutsideLog(ctx context.Context, db *DB) (bool, string, error) {
	type last struct {
		host string
		peer netip.Addr
		us   uint64
	}
	var stored []last
	err := db.queryEach(ctx, "peers: last updates", "SELECT host, peer, max(last_us) FROM peer_updates GROUP BY host, peer", func(rows rowScanner) error {
		var r last
		var peer []byte
		err := rows.Scan(&r.host, &peer, &r.us)
		r.peer = addrFrom(peer)
		stored = append(stored, r)
		return err
	})
	if err != nil {
		return false, "", err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, r := range stored {
		f := l.facts[peerKey{r.host, r.peer}]
		switch {
		case f == nil || !f.hasUpdate:
			return true, fmt.Sprintf("%s %s: UPDATEs stored, none seen", r.host, r.peer), nil
		case r.us > f.updateUs+uint64(importMargin.Microseconds()):
			return true, fmt.Sprintf("%s %s: an UPDATE stored at %s, the last seen at %s", r.host, r.peer,
				usTime(r.us).Format(time.RFC3339), usTime(f.updateUs).Format(time.RFC3339)), nil
		}
	}
	return false, "", nil
}
