package collector

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// TestAdjRIBInWithdrawals: every route of a family comes back out of
// the set as a withdrawal, with its path id and RD, in chunks; forget and
// merge keep the counts right.
func TestAdjRIBInWithdrawals(t *testing.T) {
	v4s := []string{"0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25", "10.1.2.3/32"}
	v6s := []string{"::/0", "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/64", "2001:db8:1:2:3::/80", "2001:db8::1/128"}
	var r adjRIBIn
	ev := schema.Event{Announcements: []schema.Announcement{
		announce(v4, v4s...),
		{NLRISet: schema.NLRISet{Family: v4, Prefixes: prefixes(v4s...), PathIDs: []uint32{1, 2, 3, 4, 5, 0x01020304}}},
		announce(v6, v6s...),
		{NLRISet: schema.NLRISet{Family: v6, Prefixes: prefixes(v6s...), PathIDs: []uint32{7, 8, 9, 10, 11, 0xffffffff}}},
		{NLRISet: schema.NLRISet{Family: vpn4, Prefixes: prefixes("10.0.0.0/24", "10.0.0.0/24"), RDs: []string{"65000:1", "65000:2"}}},
		{NLRISet: schema.NLRISet{Family: fs4, NLRI: []string{"flow-a", "flow-b", "flow-c"}}},
	}}
	r.apply(&ev, nil)
	route := func(f schema.Family, p netip.Prefix, id uint32, rd string) string {
		return fmt.Sprintf("%s %s %d %s", f, p, id, rd)
	}
	var want []string
	for _, a := range ev.Announcements {
		for i, p := range a.Prefixes {
			var id uint32
			var rd string
			if a.PathIDs != nil {
				id = a.PathIDs[i]
			}
			if a.RDs != nil {
				rd = a.RDs[i]
			}
			want = append(want, route(a.Family, p, id, rd))
		}
		for _, n := range a.NLRI {
			want = append(want, fmt.Sprintf("%s %s", a.Family, n))
		}
	}
	var got []string
	for _, f := range slices.Clone(r.fams) {
		fr, ok := r.take(f.family)
		if !ok {
			t.Fatalf("take %s: not there", f.family)
		}
		fr.withdrawals(4, func(s schema.NLRISet) {
			if n := len(s.Prefixes) + len(s.NLRI); n == 0 || n > 4 {
				t.Errorf("a chunk of %d routes", n)
			}
			if s.Family != f.family {
				t.Errorf("chunk of %s in family %s", s.Family, f.family)
			}
			for i, p := range s.Prefixes {
				var id uint32
				var rd string
				if s.PathIDs != nil {
					id = s.PathIDs[i]
				}
				if s.RDs != nil {
					rd = s.RDs[i]
				}
				got = append(got, route(s.Family, p, id, rd))
			}
			for _, n := range s.NLRI {
				got = append(got, fmt.Sprintf("%s %s", s.Family, n))
			}
		})
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("withdrawals:\n got %q\nwant %q", got, want)
	}
	if len(r.fams) != 0 {
		t.Errorf("families left after taking all: %v", r.counts())
	}

	var a, b adjRIBIn
	a.apply(&schema.Event{Announcements: []schema.Announcement{announce(v4, "10.0.0.0/24", "10.0.1.0/24")}}, nil)
	b.apply(&schema.Event{Announcements: []schema.Announcement{announce(v4, "10.0.1.0/24", "10.0.2.0/24"), announce(v6, "2001:db8::/32")}}, nil)
	a.merge(&b)
	if got := a.counts(); !slices.Equal(got, schema.RouteCounts{fc(v4, 3), fc(v6, 1)}) {
		t.Errorf("merged counts %v", got)
	}
	a.forget(&schema.Event{Announcements: []schema.Announcement{announce(v4, "10.0.0.0/24", "10.9.0.0/24")}, Withdrawn: []schema.NLRISet{withdrawn(v6, "2001:db8::/32")}}, nil)
	if got := a.counts(); !slices.Equal(got, schema.RouteCounts{fc(v4, 2), fc(v6, 0)}) {
		t.Errorf("counts after forget %v", got)
	}
}

// TestAdjRIBInDuplicates: an announced route the set holds with the same
// path hash is a duplicate, with another an implicit withdrawal (and it
// takes the new hash); new routes are neither; withdrawals are not
// counted. forget counts the same way.
func TestAdjRIBInDuplicates(t *testing.T) {
	var r adjRIBIn
	step := func(what string, ev schema.Event, hashes []uint32, dup, implicit uint32) {
		t.Helper()
		r.apply(&ev, hashes)
		if ev.Duplicates != dup || ev.ImplicitWithdrawals != implicit {
			t.Errorf("%s: duplicates %d, implicit withdrawals %d; want %d, %d", what, ev.Duplicates, ev.ImplicitWithdrawals, dup, implicit)
		}
	}
	two := []schema.Announcement{announce(v4, "10.0.0.0/24", "10.0.1.0/24"), announce(v6, "2001:db8::/48")}
	step("new", schema.Event{Announcements: two}, []uint32{1, 2}, 0, 0)
	step("the same again", schema.Event{Announcements: two}, []uint32{1, 2}, 3, 0)
	step("IPv4 with another path", schema.Event{Announcements: two}, []uint32{7, 2}, 1, 2)
	step("the new path again, one more route", schema.Event{Announcements: []schema.Announcement{announce(v4, "10.0.0.0/24", "10.0.2.0/24")}}, []uint32{7}, 1, 0)
	step("withdrawn and announced in one UPDATE", schema.Event{Withdrawn: []schema.NLRISet{withdrawn(v4, "10.0.0.0/24")},
		Announcements: []schema.Announcement{announce(v4, "10.0.0.0/24")}}, []uint32{7}, 0, 0)
	if got := r.forget(&schema.Event{Announcements: []schema.Announcement{announce(v4, "10.0.0.0/24", "10.0.1.0/24", "10.9.0.0/24")}}, []uint32{7}); got != (tally{duplicates: 2}) {
		t.Errorf("forget: %+v, want 2 duplicates", got)
	}
}
