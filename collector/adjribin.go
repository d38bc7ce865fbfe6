package collector

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/vantage-bgp/vantage/schema"
)

// adjRIBIn holds the routes a peer has announced on one session and not
// withdrawn: a presence set, counted per family as the session's UPDATEs
// are applied, so that the session's events can say how many routes the
// peer has (schema.Event.Routes) without anyone scanning a table. It is
// the seed of the session's Adj-RIB-In; route attributes and graceful
// restart's stale marks are for later.
//
// A route is what storage keys a route by: its family, RD, prefix (or
// NLRI text, for families that are not IP prefixes) and ADD-PATH path
// id; labels are not part of it. Routes are read from the event the
// UPDATE became (after FillUpdate), so the set and the stored history
// agree on what an UPDATE announced and withdrew, treat-as-withdraw
// included. Withdrawals are applied before announcements, as RFC 4271
// orders the fields of an UPDATE. Announcing a route that is present and
// withdrawing one that is absent change nothing.
//
// An IP prefix without an RD (unicast, multicast, labeled) is keyed by a
// fixed-size array: a tag byte (IPv4 or IPv6, and the prefix length),
// the prefix's significant bytes and, when it is not 0, the path id,
// zero-padded to the first of 4, 8, 12, 16 or 21 bytes that holds it:
// an IPv4 prefix up to /24 without a path id takes 4 bytes, one with a
// path id 8, an IPv6 /48 8. Each size has its own map, with an empty
// value. Routes with an RD, and NLRI that are not prefixes (FlowSpec,
// EVPN, VPLS, BGP-LS), fall back to string keys.
//
// Memory (TestAdjRIBInBytesPerRoute: live heap after 1,000,000 distinct
// routes of one family, Go 1.26 maps, amd64): 12.6 bytes per route for
// IPv4 /24s without path ids (4-byte keys), 21.0 for IPv4 /24s with path
// ids and for IPv6 /48s without (8-byte keys). The figure moves with
// the number of routes as the maps' tables fill and split: from 300,000
// to 1,600,000 routes it stays within 7.9-12.6 and 13.2-21.0. Maps do
// not shrink when routes are withdrawn; the whole set goes when the
// session ends.
//
// Time: each route of an UPDATE is one map lookup (and an insert or
// delete when it changes the set). On the UPDATEs of a RIS file (about 3
// routes each) apply runs about 650 instructions per UPDATE (valgrind's
// cachegrind on BenchmarkAdjRIBIn), 40% of them in the maps; its time
// is as much that of reaching the maps' memory (see BenchmarkAdjRIBIn).
//
// Only the session's goroutine uses it; the zero value is empty.
type adjRIBIn struct {
	fams  []familyRoutes // sorted by AFI, then SAFI
	epoch uint64         // counts apply calls, to mark the families an UPDATE touched
	// free is room for the counts of the next events: one allocation
	// serves many events, each taking a part that it alone holds.
	free schema.RouteCounts
}

// familyRoutes are the routes of one family.
type familyRoutes struct {
	family  schema.Family
	n       int    // routes held
	touched uint64 // the epoch of the last UPDATE that named the family

	k4  map[[4]byte]struct{}
	k8  map[[8]byte]struct{}
	k12 map[[12]byte]struct{}
	k16 map[[16]byte]struct{}
	k21 map[[21]byte]struct{}
	rd  map[string]struct{} // prefixes with an RD: prefixKey after the RD's text and a 0 byte
	txt map[string]struct{} // NLRI that are not prefixes, by their text (which holds the path id)
}

// apply applies the routes an UPDATE's event announces and withdraws,
// and sets its Routes to the counts, after the UPDATE, of the families
// it announced or withdrew in or whose End-of-RIB marker it is.
func (r *adjRIBIn) apply(ev *schema.Event) {
	r.epoch++
	touched := 0
	// last is the family looked up last. When one family is touched,
	// no other was looked up, so none was added and last still points
	// into r.fams.
	var last *familyRoutes
	for i := range ev.Withdrawn {
		s := &ev.Withdrawn[i]
		last = r.family(s.Family)
		touched += last.update(s, false, r.epoch)
	}
	for i := range ev.Announcements {
		s := &ev.Announcements[i].NLRISet
		last = r.family(s.Family)
		touched += last.update(s, true, r.epoch)
	}
	if !ev.EndOfRIB.IsZero() {
		last = r.family(ev.EndOfRIB)
		touched += last.touch(r.epoch)
	}
	switch touched {
	case 0:
		return
	case 1:
		ev.Routes = append(r.alloc(1), schema.FamilyCount{Family: last.family, Routes: uint64(last.n)})
		return
	}
	out := r.alloc(touched)
	for i := range r.fams {
		if f := &r.fams[i]; f.touched == r.epoch {
			out = append(out, schema.FamilyCount{Family: f.family, Routes: uint64(f.n)})
		}
	}
	ev.Routes = out
}

// counts returns the count of every family the session has had routes
// or an End-of-RIB in (nil when none), for a KEEPALIVE.
func (r *adjRIBIn) counts() schema.RouteCounts {
	if len(r.fams) == 0 {
		return nil
	}
	out := r.alloc(len(r.fams))
	for i := range r.fams {
		out = append(out, schema.FamilyCount{Family: r.fams[i].family, Routes: uint64(r.fams[i].n)})
	}
	return out
}

// down empties the set, as the session ends, and returns the counts of
// its families, all 0 (nil when it had none), for the down event.
func (r *adjRIBIn) down() schema.RouteCounts {
	var out schema.RouteCounts
	if len(r.fams) > 0 {
		out = make(schema.RouteCounts, len(r.fams))
		for i := range r.fams {
			out[i].Family = r.fams[i].family
		}
	}
	*r = adjRIBIn{}
	return out
}

// count returns the number of routes of family f.
func (r *adjRIBIn) count(f schema.Family) int {
	for i := range r.fams {
		if r.fams[i].family == f {
			return r.fams[i].n
		}
	}
	return 0
}

// family returns the routes of family f, adding the family if it is new.
// The pointer is good until the next call.
func (r *adjRIBIn) family(f schema.Family) *familyRoutes {
	for i := range r.fams {
		if r.fams[i].family == f {
			return &r.fams[i]
		}
	}
	i, _ := slices.BinarySearchFunc(r.fams, f, func(fr familyRoutes, f schema.Family) int {
		if fr.family.AFI != f.AFI {
			return int(fr.family.AFI) - int(f.AFI)
		}
		return int(fr.family.SAFI) - int(f.SAFI)
	})
	r.fams = slices.Insert(r.fams, i, familyRoutes{family: f})
	return &r.fams[i]
}

// alloc returns an empty slice with room for n counts.
func (r *adjRIBIn) alloc(n int) schema.RouteCounts {
	if cap(r.free)-len(r.free) < n {
		r.free = make(schema.RouteCounts, 0, max(n, 32))
	}
	at := len(r.free)
	r.free = r.free[:at+n]
	return r.free[at : at : at+n]
}

// touch marks the family touched by the UPDATE of epoch, and returns 1
// the first time.
func (f *familyRoutes) touch(epoch uint64) int {
	if f.touched == epoch {
		return 0
	}
	f.touched = epoch
	return 1
}

// update adds (announce) or removes the routes of s, and marks the
// family touched (see touch).
func (f *familyRoutes) update(s *schema.NLRISet, announce bool, epoch uint64) int {
	for i := range s.Prefixes {
		p := &s.Prefixes[i]
		var id uint32
		if i < len(s.PathIDs) {
			id = s.PathIDs[i]
		}
		if id == 0 && len(s.RDs) == 0 && p.Addr().Is4() && p.IsValid() {
			// Most routes: IPv4 without a path id, a key of 4 or 8
			// bytes made here, equal to prefixKey's.
			bits := p.Bits()
			a := p.Addr().As4()
			x := binary.BigEndian.Uint32(a[:]) &^ (0xffffffff >> bits)
			if bits <= 24 {
				f.n += setUpdate(&f.k4, [4]byte{byte(129 + bits), byte(x >> 24), byte(x >> 16), byte(x >> 8)}, announce)
			} else {
				f.n += setUpdate(&f.k8, [8]byte{byte(129 + bits), byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}, announce)
			}
			continue
		}
		k, n := prefixKey(*p, id)
		if n == 0 {
			continue
		}
		if len(s.RDs) > 0 {
			var rd string
			if i < len(s.RDs) {
				rd = s.RDs[i]
			}
			b := make([]byte, 0, len(rd)+1+n)
			b = append(append(append(b, rd...), 0), k[:n]...)
			f.n += setUpdate(&f.rd, string(b), announce)
			continue
		}
		switch {
		case n <= 4:
			f.n += setUpdate(&f.k4, [4]byte(k[:4]), announce)
		case n <= 8:
			f.n += setUpdate(&f.k8, [8]byte(k[:8]), announce)
		case n <= 12:
			f.n += setUpdate(&f.k12, [12]byte(k[:12]), announce)
		case n <= 16:
			f.n += setUpdate(&f.k16, [16]byte(k[:16]), announce)
		default:
			f.n += setUpdate(&f.k21, k, announce)
		}
	}
	for _, t := range s.NLRI {
		f.n += setUpdate(&f.txt, t, announce)
	}
	return f.touch(epoch)
}

// setUpdate adds k to the set *m (made when nil) or removes it, and
// returns the change in its size: 1, -1 or 0. A route announced again
// (most announcements, once a peer has sent its table) costs a lookup,
// which is cheaper than an assignment.
func setUpdate[K comparable](m *map[K]struct{}, k K, add bool) int {
	_, had := (*m)[k]
	switch {
	case add && !had:
		if *m == nil {
			*m = make(map[K]struct{})
		}
		(*m)[k] = struct{}{}
		return 1
	case !add && had:
		delete(*m, k)
		return -1
	}
	return 0
}

// prefixKey returns the key of a prefix with path id id in its first n
// bytes (0 for an invalid prefix): the tag (the length for IPv6, 129 plus
// the length for IPv4), the bytes of the address that the length covers,
// its host bits cleared, and the path id (big-endian) when it is not 0.
// The bytes after n are zero. Keys of one length with and without a path
// id differ, as a path id that is not 0 has a byte that is not.
func prefixKey(p netip.Prefix, id uint32) (k [21]byte, n int) {
	bits := p.Bits()
	if bits < 0 {
		return k, 0
	}
	// The whole address goes in, masked: the bytes past the length are
	// zero.
	a := p.Addr()
	if a.Is4() {
		k[0] = byte(129 + bits)
		a4 := a.As4()
		binary.BigEndian.PutUint32(k[1:], binary.BigEndian.Uint32(a4[:])&^(0xffffffff>>bits))
	} else {
		k[0] = byte(bits)
		a16 := a.As16()
		hi, lo := binary.BigEndian.Uint64(a16[:8]), binary.BigEndian.Uint64(a16[8:])
		if bits <= 64 {
			hi &^= 0xffffffffffffffff >> bits
			lo = 0
		} else {
			lo &^= 0xffffffffffffffff >> (bits - 64)
		}
		binary.BigEndian.PutUint64(k[1:], hi)
		binary.BigEndian.PutUint64(k[9:], lo)
	}
	n = 1 + (bits+7)/8
	if id != 0 {
		binary.BigEndian.PutUint32(k[n:], id)
		n += 4
	}
	return k, n
}
