package collector

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/vantage-bgp/vantage/schema"
)

// adjRIBIn holds the routes a peer has announced on one session and not
// withdrawn, each with a 32-bit word: a 31-bit hash of its path
// (attributes and next hop) and a bit that says whether the path carries
// NO_LLGR (pathHashes; long-lived graceful restart withdraws those
// routes, llgr.go), counted per family as the session's UPDATEs are
// applied, so that the session's events can say how many routes the
// peer has (schema.Event.Routes) without anyone scanning a table, and
// which announced routes repeat one the peer had (a duplicate: same
// hash) or replace it (an implicit withdrawal: another hash;
// schema.Event.Duplicates and ImplicitWithdrawals). A restarting peer's
// stale routes (graceful restart, enhanced route refresh) are an
// adjRIBIn of their own (adjribin_stale.go).
//
// A route is what storage keys a route by: its family, RD, prefix (or
// NLRI text, for families that are not IP prefixes) and ADD-PATH path
// id; labels are not part of it. Routes are read from the event the
// UPDATE became (after FillUpdate), so the set and the stored history
// agree on what an UPDATE announced and withdrew, treat-as-withdraw
// included. Withdrawals are applied before announcements, as RFC 4271
// orders the fields of an UPDATE. Withdrawing a route that is absent
// changes nothing.
//
// An IP prefix without an RD (unicast, multicast, labeled) is keyed by a
// fixed-size array: a tag byte (IPv4 or IPv6, and the prefix length),
// the prefix's significant bytes and, when it is not 0, the path id,
// zero-padded to the first of 4, 8, 12, 16 or 21 bytes that holds it:
// an IPv4 prefix up to /24 without a path id takes 4 bytes, one with a
// path id 8, an IPv6 /48 8. Each size has its own map, whose value is
// the path hash. Routes with an RD, and NLRI that are not prefixes
// (FlowSpec, EVPN, VPLS, BGP-LS), fall back to string keys.
//
// Memory (TestAdjRIBInBytesPerRoute: live heap after 1,000,000 distinct
// routes of one family, Go 1.26 maps, amd64): 19.4 bytes per route for
// IPv4 /24s without path ids (4-byte keys), 27.8 for IPv4 /24s with
// path ids and for IPv6 /48s without (8-byte keys); the path hashes
// added 6.8 to the 12.6 and 21.0 of the presence set they replaced.
// Maps do not shrink when routes are withdrawn; the whole set goes when
// the session ends.
//
// Time: each route of an UPDATE is one map lookup (and an insert or
// delete when it changes the set). Before the path hashes, on the
// UPDATEs of a RIS file (about 3 routes each), apply ran about 650
// instructions per UPDATE (valgrind's cachegrind on BenchmarkAdjRIBIn),
// 40% of them in the maps; its time is as much that of reaching the
// maps' memory (see BenchmarkAdjRIBIn).
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

	k4  map[[4]byte]uint32
	k8  map[[8]byte]uint32
	k12 map[[12]byte]uint32
	k16 map[[16]byte]uint32
	k21 map[[21]byte]uint32
	rd  map[string]uint32 // prefixes with an RD: prefixKey after the RD's text and a 0 byte
	txt map[string]uint32 // NLRI that are not prefixes, by their text (which holds the path id)
}

// apply applies the routes an UPDATE's event announces and withdraws,
// and sets its Routes to the counts, after the UPDATE, of the families
// it announced or withdrew in or whose End-of-RIB marker it is.
//
// hashes[i], when given, identifies the path (attributes and next hop)
// of ev.Announcements[i] (pathHash): an announced route the set holds
// with the same hash is counted in ev.Duplicates, one with another in
// ev.ImplicitWithdrawals (and takes the new hash).
func (r *adjRIBIn) apply(ev *schema.Event, hashes []uint32) {
	r.epoch++
	touched := 0
	var t tally
	// last is the family looked up last. When one family is touched,
	// no other was looked up, so none was added and last still points
	// into r.fams.
	var last *familyRoutes
	for i := range ev.Withdrawn {
		s := &ev.Withdrawn[i]
		last = r.family(s.Family)
		touched += last.update(s, opWithdraw, 0, r.epoch, &t)
	}
	for i := range ev.Announcements {
		s := &ev.Announcements[i].NLRISet
		var h uint32
		if i < len(hashes) {
			h = hashes[i]
		}
		last = r.family(s.Family)
		touched += last.update(s, opAnnounce, h, r.epoch, &t)
	}
	ev.Duplicates, ev.ImplicitWithdrawals = t.duplicates, t.implicit
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

// tally counts the announced routes that were in the set already.
type tally struct {
	duplicates, implicit uint32
}

// setOp is what update does with each route.
type setOp uint8

const (
	opAnnounce setOp = iota // add with the path hash, or count it as there already
	opWithdraw              // remove
	opForget                // remove, counting it (against the path hash) when there
)

// update applies op to the routes of s, with path hash h, counting in t
// the announced (or forgotten) ones that were there, and marks the
// family touched (see touch).
func (f *familyRoutes) update(s *schema.NLRISet, op setOp, h uint32, epoch uint64, t *tally) int {
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
				f.n += setUpdate(&f.k4, [4]byte{byte(129 + bits), byte(x >> 24), byte(x >> 16), byte(x >> 8)}, op, h, t)
			} else {
				f.n += setUpdate(&f.k8, [8]byte{byte(129 + bits), byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}, op, h, t)
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
			f.n += setUpdate(&f.rd, string(b), op, h, t)
			continue
		}
		switch {
		case n <= 4:
			f.n += setUpdate(&f.k4, [4]byte(k[:4]), op, h, t)
		case n <= 8:
			f.n += setUpdate(&f.k8, [8]byte(k[:8]), op, h, t)
		case n <= 12:
			f.n += setUpdate(&f.k12, [12]byte(k[:12]), op, h, t)
		case n <= 16:
			f.n += setUpdate(&f.k16, [16]byte(k[:16]), op, h, t)
		default:
			f.n += setUpdate(&f.k21, k, op, h, t)
		}
	}
	for _, x := range s.NLRI {
		f.n += setUpdate(&f.txt, x, op, h, t)
	}
	return f.touch(epoch)
}

// setUpdate applies op to k in the set *m (made when nil) and returns
// the change in its size: 1, -1 or 0. A route announced again is
// counted in t (when not nil): a duplicate when its path hash is h, else
// an implicit withdrawal, and takes h; so is a route opForget removes. A
// route announced again (most announcements, once a peer has sent its
// table) costs a lookup, which is cheaper than an assignment.
func setUpdate[K comparable](m *map[K]uint32, k K, op setOp, h uint32, t *tally) int {
	old, had := (*m)[k]
	if had && op != opWithdraw && t != nil {
		if old == h {
			t.duplicates++
		} else {
			t.implicit++
		}
	}
	switch {
	case op == opAnnounce && !had:
		if *m == nil {
			*m = make(map[K]uint32)
		}
		(*m)[k] = h
		return 1
	case op == opAnnounce:
		if old != h {
			(*m)[k] = h
		}
	case had:
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
