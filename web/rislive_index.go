package web

import (
	"net/netip"
)

// This file indexes the subscriptions of the hub's clients by prefix, so
// that an event is matched only against the subscriptions that can match
// it: with 1,000 clients watching one prefix each, an UPDATE costs a few
// map lookups per prefix it carries, not 1,000 matches.

// subRef is one subscription of one client.
type subRef struct {
	c *client
	s *subscription
}

// subIndex holds the subscriptions of the joined clients: those with a
// prefix and without lessSpecific by their prefix, every other one in a
// list that every event is matched against. It is guarded by Live.mu.
type subIndex struct {
	byPrefix map[netip.Prefix]map[subRef]struct{}
	// lens counts the indexed prefixes per family (0: IPv4, 1: IPv6) and
	// length, so that lookups try only lengths in use.
	lens  [2][129]int
	other map[subRef]struct{}
}

func newSubIndex() *subIndex {
	return &subIndex{byPrefix: map[netip.Prefix]map[subRef]struct{}{}, other: map[subRef]struct{}{}}
}

func indexable(s *subscription) bool { return s.prefix.IsValid() && !s.less }

func famIndex(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 0
	}
	return 1
}

// add indexes a subscription; adding it again changes nothing.
func (x *subIndex) add(r subRef) {
	if !indexable(r.s) {
		x.other[r] = struct{}{}
		return
	}
	set := x.byPrefix[r.s.prefix]
	if set == nil {
		set = map[subRef]struct{}{}
		x.byPrefix[r.s.prefix] = set
	}
	if _, ok := set[r]; !ok {
		set[r] = struct{}{}
		x.lens[famIndex(r.s.prefix)][r.s.prefix.Bits()]++
	}
}

// remove drops a subscription from the index.
func (x *subIndex) remove(r subRef) {
	if !indexable(r.s) {
		delete(x.other, r)
		return
	}
	set := x.byPrefix[r.s.prefix]
	if _, ok := set[r]; !ok {
		return
	}
	delete(set, r)
	x.lens[famIndex(r.s.prefix)][r.s.prefix.Bits()]--
	if len(set) == 0 {
		delete(x.byPrefix, r.s.prefix)
	}
}

// candidates calls fn with every subscription that may match ev: the
// indexed ones whose prefix is one of the event's or (moreSpecific)
// contains one, and every unindexed one. fn may see a subscription more
// than once; it checks the whole match.
func (x *subIndex) candidates(ev *liveEvent, fn func(subRef)) {
	for r := range x.other {
		fn(r)
	}
	if len(x.byPrefix) == 0 {
		return
	}
	e := &ev.ev
	for i := range e.Announcements {
		for _, p := range e.Announcements[i].Prefixes {
			x.lookup(p, fn)
		}
	}
	for _, p := range e.Withdrawals {
		x.lookup(p, fn)
	}
}

func (x *subIndex) lookup(p netip.Prefix, fn func(subRef)) {
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	lens := &x.lens[famIndex(p)]
	for l := 0; l <= p.Bits(); l++ {
		if lens[l] == 0 {
			continue
		}
		q, err := p.Addr().Prefix(l)
		if err != nil {
			continue
		}
		for r := range x.byPrefix[q] {
			if r.s.more || l == p.Bits() {
				fn(r)
			}
		}
	}
}
