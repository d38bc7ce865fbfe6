package collector

import (
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/vantage-bgp/vantage/schema"
)

// What graceful restart needs of an adjRIBIn that holds a restarting
// peer's stale routes: the routes of a family as withdrawals (to flush
// them), the removal of routes the peer announces again, and the union
// with the routes of a session that ended before its End-of-RIB.

// take removes family f from the set and returns its routes.
func (r *adjRIBIn) take(f schema.Family) (familyRoutes, bool) {
	for i := range r.fams {
		if r.fams[i].family == f {
			fr := r.fams[i]
			r.fams = append(r.fams[:i], r.fams[i+1:]...)
			return fr, true
		}
	}
	return familyRoutes{}, false
}

// forget removes from the set the routes an UPDATE's event announces or
// withdraws: the peer has sent them again, so they are not stale. It
// counts the announced ones it held, as apply does (hashes are its
// path hashes).
func (r *adjRIBIn) forget(ev *schema.Event, hashes []uint32) (t tally) {
	r.epoch++
	for i := range ev.Withdrawn {
		if f := r.find(ev.Withdrawn[i].Family); f != nil {
			f.update(&ev.Withdrawn[i], opWithdraw, 0, r.epoch, nil)
		}
	}
	for i := range ev.Announcements {
		var h uint32
		if i < len(hashes) {
			h = hashes[i]
		}
		if f := r.find(ev.Announcements[i].Family); f != nil {
			f.update(&ev.Announcements[i].NLRISet, opForget, h, r.epoch, &t)
		}
	}
	return t
}

// find returns the routes of family f, or nil.
func (r *adjRIBIn) find(f schema.Family) *familyRoutes {
	for i := range r.fams {
		if r.fams[i].family == f {
			return &r.fams[i]
		}
	}
	return nil
}

// adopt adds the routes of one family to r: moved when r has none of
// the family, merged otherwise.
func (r *adjRIBIn) adopt(fr familyRoutes) {
	if r.find(fr.family) == nil {
		*r.family(fr.family) = fr
		return
	}
	r.merge(&adjRIBIn{fams: []familyRoutes{fr}})
}

// merge adds the routes of o to r.
func (r *adjRIBIn) merge(o *adjRIBIn) {
	for i := range o.fams {
		from := &o.fams[i]
		if from.n == 0 {
			continue
		}
		to := r.family(from.family)
		to.n += mergeSet(&to.k4, from.k4)
		to.n += mergeSet(&to.k8, from.k8)
		to.n += mergeSet(&to.k12, from.k12)
		to.n += mergeSet(&to.k16, from.k16)
		to.n += mergeSet(&to.k21, from.k21)
		to.n += mergeSet(&to.rd, from.rd)
		to.n += mergeSet(&to.txt, from.txt)
	}
}

func mergeSet[K comparable](m *map[K]uint32, from map[K]uint32) int {
	n := 0
	for k, h := range from {
		n += setUpdate(m, k, opAnnounce, h, nil)
	}
	return n
}

// takeNoLLGR removes from f the routes whose path carries NO_LLGR (the
// noLLGR bit of their path hash) and returns them, as routes of the same
// family.
func (f *familyRoutes) takeNoLLGR() familyRoutes {
	out := familyRoutes{family: f.family}
	n := moveNoLLGR(&f.k4, &out.k4)
	n += moveNoLLGR(&f.k8, &out.k8)
	n += moveNoLLGR(&f.k12, &out.k12)
	n += moveNoLLGR(&f.k16, &out.k16)
	n += moveNoLLGR(&f.k21, &out.k21)
	n += moveNoLLGR(&f.rd, &out.rd)
	n += moveNoLLGR(&f.txt, &out.txt)
	f.n -= n
	out.n = n
	return out
}

// moveNoLLGR moves the entries of *from with the noLLGR bit to *to (made
// when needed) and returns how many it moved.
func moveNoLLGR[K comparable](from, to *map[K]uint32) int {
	n := 0
	for k, h := range *from {
		if h&noLLGR == 0 {
			continue
		}
		if *to == nil {
			*to = make(map[K]uint32)
		}
		(*to)[k] = h
		delete(*from, k)
		n++
	}
	return n
}

// withdrawals calls fn with the routes of f as withdrawals, at most
// chunk routes at a time. fn may keep the set.
func (f *familyRoutes) withdrawals(chunk int, fn func(schema.NLRISet)) {
	cur := schema.NLRISet{Family: f.family}
	var ids []uint32
	var rds []string
	size := 0
	flush := func() {
		if size == 0 {
			return
		}
		for _, id := range ids {
			if id != 0 {
				cur.PathIDs = ids
				break
			}
		}
		if len(cur.Prefixes) > 0 && len(rds) > 0 {
			cur.RDs = rds
		}
		fn(cur)
		cur, ids, rds, size = schema.NLRISet{Family: f.family}, nil, nil, 0
	}
	add := func(key []byte, rd string, withRD bool) {
		p, id, ok := keyPrefix(key)
		if !ok {
			return
		}
		cur.Prefixes = append(cur.Prefixes, p)
		ids = append(ids, id)
		if withRD {
			rds = append(rds, rd)
		}
		if size++; size == chunk {
			flush()
		}
	}
	// Routes with and without an RD are never in one family's set
	// together (a family's NLRI either have RDs or not), so that RDs
	// stay index-aligned with the prefixes.
	for k := range f.k4 {
		add(k[:], "", false)
	}
	for k := range f.k8 {
		add(k[:], "", false)
	}
	for k := range f.k12 {
		add(k[:], "", false)
	}
	for k := range f.k16 {
		add(k[:], "", false)
	}
	for k := range f.k21 {
		add(k[:], "", false)
	}
	for k := range f.rd {
		rd, key, _ := strings.Cut(k, "\x00")
		add([]byte(key), rd, true)
	}
	flush()
	for k := range f.txt {
		cur.NLRI = append(cur.NLRI, k)
		if size++; size == chunk {
			flush()
		}
	}
	flush()
}

// keyPrefix is prefixKey's inverse: the prefix and path id of a key
// (zero-padded to any length).
func keyPrefix(k []byte) (netip.Prefix, uint32, bool) {
	if len(k) == 0 {
		return netip.Prefix{}, 0, false
	}
	var a netip.Addr
	bits := int(k[0])
	n := 1
	if bits >= 129 {
		bits -= 129
		if bits > 32 {
			return netip.Prefix{}, 0, false
		}
		var b [4]byte
		n += copy(b[:], k[1:min(len(k), 1+(bits+7)/8)])
		a = netip.AddrFrom4(b)
	} else {
		var b [16]byte
		n += copy(b[:], k[1:min(len(k), 1+(bits+7)/8)])
		a = netip.AddrFrom16(b)
	}
	var id uint32
	if len(k) >= n+4 {
		id = binary.BigEndian.Uint32(k[n:])
	}
	return netip.PrefixFrom(a, bits), id, true
}
