package collector

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"reflect"
	"runtime"
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

func fc(f schema.Family, n uint64) schema.FamilyCount {
	return schema.FamilyCount{Family: f, Routes: n}
}

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func announce(f schema.Family, ps ...string) schema.Announcement {
	return schema.Announcement{NLRISet: schema.NLRISet{Family: f, Prefixes: prefixes(ps...)}}
}

func withdrawn(f schema.Family, ps ...string) schema.NLRISet {
	return schema.NLRISet{Family: f, Prefixes: prefixes(ps...)}
}

var (
	v4   = schema.IPv4Unicast
	v6   = schema.IPv6Unicast
	vpn4 = schema.IPv4VPN
	fs4  = schema.IPv4FlowSpec
)

// TestAdjRIBInCounts applies UPDATEs' events one after the other and
// checks the counts each one carries.
func TestAdjRIBInCounts(t *testing.T) {
	var r adjRIBIn
	for _, step := range []struct {
		name string
		ev   schema.Event
		want schema.RouteCounts
	}{
		{"announce", schema.Event{Announcements: []schema.Announcement{announce(v4, "10.0.0.0/24", "10.0.1.0/24", "10.0.0.0/16")}},
			schema.RouteCounts{fc(v4, 3)}},
		{"announce again, one new", schema.Event{Announcements: []schema.Announcement{announce(v4, "10.0.0.0/24", "10.0.2.0/24")}},
			schema.RouteCounts{fc(v4, 4)}},
		{"same address, other length", schema.Event{Announcements: []schema.Announcement{announce(v4, "10.0.0.0/8", "10.0.0.0/32", "0.0.0.0/0")}},
			schema.RouteCounts{fc(v4, 7)}},
		{"host bits are ignored", schema.Event{Announcements: []schema.Announcement{{NLRISet: schema.NLRISet{Family: v4,
			Prefixes: []netip.Prefix{netip.PrefixFrom(netip.MustParseAddr("10.0.1.77"), 24)}}}}},
			schema.RouteCounts{fc(v4, 7)}},
		{"IPv6, IPv4 untouched", schema.Event{Announcements: []schema.Announcement{announce(v6, "2001:db8::/32", "2001:db8:1::/48", "2001:db8::1/128", "::/0")}},
			schema.RouteCounts{fc(v6, 4)}},
		{"withdraw known and unknown", schema.Event{Withdrawn: []schema.NLRISet{withdrawn(v4, "10.0.0.0/24", "192.0.2.0/24", "10.0.0.0/23")}},
			schema.RouteCounts{fc(v4, 6)}},
		{"withdraw only unknown", schema.Event{Withdrawn: []schema.NLRISet{withdrawn(v4, "192.0.2.0/24")}},
			schema.RouteCounts{fc(v4, 6)}},
		{"withdraw in a family never seen", schema.Event{Withdrawn: []schema.NLRISet{withdrawn(schema.IPv4Multicast, "192.0.2.0/24")}},
			schema.RouteCounts{fc(schema.IPv4Multicast, 0)}},
		{"withdrawn then announced in one UPDATE", schema.Event{
			Withdrawn:     []schema.NLRISet{withdrawn(v4, "10.0.1.0/24"), withdrawn(v6, "::/0")},
			Announcements: []schema.Announcement{announce(v4, "10.0.1.0/24"), announce(v6, "2001:db8:2::/48")}},
			schema.RouteCounts{fc(v4, 6), fc(v6, 4)}},
		{"ADD-PATH: each path id is a route", schema.Event{Announcements: []schema.Announcement{{NLRISet: schema.NLRISet{Family: v4,
			Prefixes: prefixes("10.0.0.0/16", "10.0.0.0/16", "10.0.0.0/16", "198.51.100.0/24"), PathIDs: []uint32{1, 2, 0x01000000, 1}}}}},
			schema.RouteCounts{fc(v4, 10)}},
		{"ADD-PATH withdraw one path", schema.Event{Withdrawn: []schema.NLRISet{{Family: v4,
			Prefixes: prefixes("10.0.0.0/16", "10.0.0.0/16"), PathIDs: []uint32{2, 3}}}},
			schema.RouteCounts{fc(v4, 9)}},
		{"VPN: the RD is part of the route, labels are not", schema.Event{Announcements: []schema.Announcement{{NLRISet: schema.NLRISet{Family: vpn4,
			Prefixes: prefixes("10.0.0.0/24", "10.0.0.0/24", "10.0.0.0/24"), RDs: []string{"65000:1", "65000:2", "65000:1"},
			Labels: [][]uint32{{16}, {17}, {18}}}}}},
			schema.RouteCounts{fc(vpn4, 2)}},
		{"VPN withdraw", schema.Event{Withdrawn: []schema.NLRISet{{Family: vpn4,
			Prefixes: prefixes("10.0.0.0/24", "10.0.0.0/24"), RDs: []string{"65000:2", "65000:3"}, Labels: [][]uint32{{0x80000}, {0x80000}}}}},
			schema.RouteCounts{fc(vpn4, 1)}},
		{"FlowSpec by its text", schema.Event{Announcements: []schema.Announcement{{NLRISet: schema.NLRISet{Family: fs4,
			Prefixes: []netip.Prefix{}, NLRI: []string{"dst 10.0.0.0/8", "dst 10.0.0.0/8 proto =6", "dst 10.0.0.0/8"}}}}},
			schema.RouteCounts{fc(fs4, 2)}},
		{"FlowSpec withdraw", schema.Event{Withdrawn: []schema.NLRISet{{Family: fs4, NLRI: []string{"dst 10.0.0.0/8", "dst 11.0.0.0/8"}}}},
			schema.RouteCounts{fc(fs4, 1)}},
		{"End-of-RIB", schema.Event{EndOfRIB: v6}, schema.RouteCounts{fc(v6, 4)}},
		{"End-of-RIB of an empty family", schema.Event{EndOfRIB: schema.L2VPNEVPN}, schema.RouteCounts{fc(schema.L2VPNEVPN, 0)}},
		{"no routes", schema.Event{}, nil},
	} {
		ev := step.ev
		r.apply(&ev, nil)
		if !reflect.DeepEqual(ev.Routes, step.want) {
			t.Fatalf("%s: routes %v, want %v", step.name, ev.Routes, step.want)
		}
	}
	// Every family, in AFI/SAFI order.
	want := schema.RouteCounts{fc(v4, 9), fc(schema.IPv4Multicast, 0), fc(vpn4, 1), fc(fs4, 1), fc(v6, 4), fc(schema.L2VPNEVPN, 0)}
	if got := r.counts(); !reflect.DeepEqual(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	for i := range want {
		want[i].Routes = 0
	}
	if got := r.down(); !reflect.DeepEqual(got, want) {
		t.Errorf("down %v, want %v", got, want)
	}
	if r.counts() != nil || r.down() != nil || r.count(v4) != 0 {
		t.Errorf("after down: counts %v", r.counts())
	}
}

// The counts handed to events never share elements, though they share
// allocations.
func TestAdjRIBInCountsApart(t *testing.T) {
	var r adjRIBIn
	var evs []schema.Event
	for i := range 100 {
		ev := schema.Event{Announcements: []schema.Announcement{announce(v4, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), 0}), 24).String())}}
		if i%3 == 0 {
			ev.Announcements = append(ev.Announcements, announce(v6, "2001:db8::/32"))
		}
		r.apply(&ev, nil)
		evs = append(evs, ev)
	}
	for i := range evs {
		rc := evs[i].Routes
		if n, _ := rc.Get(v4); n != uint64(i+1) {
			t.Fatalf("event %d: %v", i, rc)
		}
		rc = append(rc, schema.FamilyCount{Family: schema.L2VPNEVPN, Routes: 99}) // must not write into the next event's
		_ = rc
	}
	for i := range evs {
		if n, _ := evs[i].Routes.Get(v4); n != uint64(i+1) || len(evs[i].Routes) != 1+btoi(i%3 == 0) {
			t.Fatalf("event %d changed: %v", i, evs[i].Routes)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPrefixKey checks that keys tell routes apart and that equal routes
// have equal keys.
func TestPrefixKey(t *testing.T) {
	type route struct {
		p  string
		id uint32
	}
	routes := []route{
		{"0.0.0.0/0", 0}, {"::/0", 0}, {"0.0.0.0/0", 1}, {"10.0.0.0/8", 0}, {"10.0.0.0/16", 0}, {"10.0.0.0/24", 0},
		{"10.0.0.0/32", 0}, {"10.0.0.0/24", 1}, {"10.0.0.0/24", 256}, {"10.0.0.0/24", 1 << 24}, {"10.0.0.1/32", 0},
		{"10.0.0.0/25", 0}, {"10.0.0.128/25", 0}, {"::a00:0/104", 0}, {"::ffff:10.0.0.0/120", 0},
		{"2001:db8::/32", 0}, {"2001:db8::/48", 0}, {"2001:db8::/32", 1}, {"2001:db8::1/128", 0},
		{"2001:db8::1/128", 4294967295}, {"2001:db8::/127", 0}, {"2001:db8::/64", 7},
	}
	seen := map[[21]byte]route{}
	for _, r := range routes {
		k, n := prefixKey(netip.MustParsePrefix(r.p), r.id)
		if n == 0 || n > 21 {
			t.Fatalf("%v: key length %d", r, n)
		}
		for _, b := range k[n:] {
			if b != 0 {
				t.Fatalf("%v: key %x has bytes after %d", r, k, n)
			}
		}
		if o, dup := seen[k]; dup {
			t.Errorf("%v and %v have the same key %x", r, o, k)
		}
		seen[k] = r
	}
	for _, c := range []struct{ a, b string }{{"10.0.0.77/24", "10.0.0.0/24"}, {"10.1.2.3/9", "10.0.0.0/9"}, {"2001:db8::ffff/33", "2001:db8::/33"}} {
		ka, _ := prefixKey(netip.MustParsePrefix(c.a), 0)
		kb, _ := prefixKey(netip.MustParsePrefix(c.b), 0)
		if ka != kb {
			t.Errorf("%s and %s: keys %x and %x", c.a, c.b, ka, kb)
		}
	}
	if _, n := prefixKey(netip.Prefix{}, 0); n != 0 {
		t.Errorf("invalid prefix: key length %d", n)
	}
	// update's own keys for IPv4 without path ids are prefixKey's.
	for _, r := range routes {
		p := netip.MustParsePrefix(r.p)
		if !p.Addr().Is4() || r.id != 0 {
			continue
		}
		var f familyRoutes
		f.update(&schema.NLRISet{Prefixes: []netip.Prefix{p.Masked()}}, opAnnounce, 0, 1, nil)
		k, n := prefixKey(p, 0)
		_, in4 := f.k4[[4]byte(k[:4])]
		_, in8 := f.k8[[8]byte(k[:8])]
		if f.n != 1 || !(n <= 4 && in4 || n > 4 && n <= 8 && in8) {
			t.Errorf("%s: update's key is not prefixKey's %x", r.p, k[:n])
		}
	}
	// An invalid prefix is no route.
	var f familyRoutes
	f.update(&schema.NLRISet{Prefixes: []netip.Prefix{{}, netip.PrefixFrom(netip.MustParseAddr("10.0.0.0"), 33)}}, opAnnounce, 0, 1, nil)
	if f.n != 0 {
		t.Errorf("invalid prefixes: %d routes", f.n)
	}
	for _, c := range []struct {
		p    string
		id   uint32
		size int
	}{{"10.0.0.0/24", 0, 4}, {"10.0.0.0/25", 0, 5}, {"10.0.0.0/24", 9, 8}, {"2001:db8:1::/48", 0, 7}, {"2001:db8::/64", 0, 9}, {"2001:db8::1/128", 1, 21}} {
		if _, n := prefixKey(netip.MustParsePrefix(c.p), c.id); n != c.size {
			t.Errorf("%s path id %d: key length %d, want %d", c.p, c.id, n, c.size)
		}
	}
}

// TestAdjRIBInNoAllocs: an UPDATE that changes nothing allocates only a
// share of its counts' room.
func TestAdjRIBInNoAllocs(t *testing.T) {
	var r adjRIBIn
	ev := schema.Event{Announcements: []schema.Announcement{announce(v4, "10.0.0.0/24", "10.0.1.0/24"), announce(v6, "2001:db8::/48")},
		Withdrawn: []schema.NLRISet{withdrawn(v4, "192.0.2.0/24")}}
	r.apply(&ev, nil)
	if n := testing.AllocsPerRun(1000, func() { r.apply(&ev, nil) }); n > 0.1 {
		t.Errorf("apply: %v allocations per UPDATE", n)
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestAdjRIBInBytesPerRoute measures the heap a set of 1M routes holds
// (the figures in adjRIBIn's comment) and keeps it from growing unseen.
func TestAdjRIBInBytesPerRoute(t *testing.T) {
	const n = 1_000_000
	for _, c := range []struct {
		name   string
		family schema.Family
		route  func(i int) (netip.Prefix, uint32)
		max    float64
	}{
		{"IPv4 /24", v4, func(i int) (netip.Prefix, uint32) {
			return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(i >> 16), byte(i >> 8), byte(i), 0}), 24), 0
		}, 24},
		{"IPv4 /24 with path ids", v4, func(i int) (netip.Prefix, uint32) {
			return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(i >> 14), byte(i >> 6), byte(i << 2), 0}), 24), uint32(i&3) + 1
		}, 34},
		{"IPv6 /48", v6, func(i int) (netip.Prefix, uint32) {
			var a [16]byte
			binary.BigEndian.PutUint32(a[:], 0x20010000|uint32(i>>16))
			binary.BigEndian.PutUint16(a[4:], uint16(i))
			return netip.PrefixFrom(netip.AddrFrom16(a), 48), 0
		}, 34},
	} {
		// Routes go in by UPDATEs of 100, as from a peer.
		var r adjRIBIn
		h0 := liveHeap()
		for i := 0; i < n; i += 100 {
			s := schema.NLRISet{Family: c.family}
			for j := i; j < min(i+100, n); j++ {
				p, id := c.route(j)
				s.Prefixes = append(s.Prefixes, p)
				s.PathIDs = append(s.PathIDs, id)
			}
			ev := schema.Event{Announcements: []schema.Announcement{{NLRISet: s}}}
			r.apply(&ev, nil)
		}
		r.free = nil
		per := float64(liveHeap()-h0) / n
		if got := r.count(c.family); got != n {
			t.Fatalf("%s: %d routes, want %d", c.name, got, n)
		}
		t.Logf("%s: %.1f bytes per route", c.name, per)
		if per > c.max {
			t.Errorf("%s: %.1f bytes per route, want at most %.0f", c.name, per, c.max)
		}
		runtime.KeepAlive(&r)
	}
}

// BenchmarkAdjRIBIn measures what counting routes adds to each real RIS
// UPDATE (each peer with its own set): "fill" decodes the UPDATE and
// builds its event, as BenchmarkPipeline/event does; "fill+apply" also
// applies it to the peer's set, with its path hashes. The difference is
// the counting's cost, on an event just built (in cache), as in the
// session.
func BenchmarkAdjRIBIn(b *testing.B) {
	msgs := risMessages(b)
	for _, apply := range []bool{false, true} {
		name := "fill"
		if apply {
			name = "fill+apply"
		}
		b.Run(name, func(b *testing.B) {
			// ribs[of[i]] is message i's peer's set (an index: a
			// pointer per message would make the collector's work grow).
			var ribs []adjRIBIn
			of := make([]uint16, len(msgs))
			index := map[netip.Addr]uint16{}
			for i := range msgs {
				j, ok := index[msgs[i].peer]
				if !ok {
					j = uint16(len(ribs))
					index[msgs[i].peer] = j
					ribs = append(ribs, adjRIBIn{})
				}
				of[i] = j
			}
			var u bgpwire.Update
			var ev schema.Event
			var hashes []uint32
			seed := maphash.MakeSeed()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				j := i % len(msgs)
				m := &msgs[j]
				if err := u.Decode(m.body, &m.opts); err != nil {
					b.Fatal(err)
				}
				ev = schema.Event{Type: schema.TypeUpdate, Peer: m.peer, PeerASN: m.peerASN}
				FillUpdate(&ev, &u)
				if apply {
					hashes = pathHashes(seed, m.body, &ev, hashes, nil)
					ribs[of[j]].apply(&ev, hashes)
				}
				i++
			}
		})
	}
}
