package web

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vantage-bgp/vantage/schema"
)

// This file decides whether an event matches a subscription, with RIS
// Live's rules:
//
//   - host: the collector's name, or its first label (rrc21 matches
//     rrc21.ripe.net);
//   - prefix: an announced or withdrawn prefix equal to it, inside it
//     (moreSpecific, default true) or containing it (lessSpecific, default
//     false); only UPDATEs have prefixes;
//   - path: a comma-separated run of ASNs (an AS_SET as a JSON array, in
//     ascending order) that occurs in the AS path, at its start with ^, at
//     its end (the origin) with $; ! in front inverts the match; a JSON
//     number is one ASN anywhere;
//   - require: the key is in the message's data.

// match reports whether ev (with its flattened path) matches s.
func (s *subscription) match(ev *liveEvent) bool {
	e := &ev.ev
	if s.typ != schema.TypeUnknown && e.Type != s.typ {
		return false
	}
	if s.host != "" && e.Host != s.host && !(strings.HasPrefix(e.Host, s.host) && e.Host[len(s.host)] == '.') {
		return false
	}
	if s.peer.IsValid() && e.Peer.Unmap() != s.peer {
		return false
	}
	if s.has != nil && !s.has(e) {
		return false
	}
	if s.prefix.IsValid() && !s.matchPrefix(e) {
		return false
	}
	if s.path != nil && !s.path.match(ev.pathItems()) {
		return false
	}
	if len(s.community) > 0 && !matchCommunity(s.community, e) {
		return false
	}
	if len(s.families) > 0 && !matchFamily(s.families, e) {
		return false
	}
	return true
}

func (s *subscription) matchPrefix(e *schema.Event) bool {
	for i := range e.Announcements {
		for _, p := range e.Announcements[i].Prefixes {
			if s.prefixMatches(p) {
				return true
			}
		}
	}
	for _, p := range e.Withdrawals {
		if s.prefixMatches(p) {
			return true
		}
	}
	return false
}

func (s *subscription) prefixMatches(p netip.Prefix) bool {
	f := s.prefix
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	switch {
	case p == f:
		return true
	case s.more && p.Bits() > f.Bits() && f.Contains(p.Addr()):
		return true
	case s.less && p.Bits() < f.Bits() && p.Contains(f.Addr()):
		return true
	}
	return false
}

func matchCommunity(fs []communityFilter, e *schema.Event) bool {
	for _, f := range fs {
		if f.ext != "" {
			for _, ec := range e.ExtCommunity {
				if ec.String() == f.ext {
					return true
				}
			}
			continue
		}
		if f.large {
			if slices.Contains(e.LargeCommunity, f.lc) {
				return true
			}
		} else if slices.Contains(e.Community, f.std) {
			return true
		}
	}
	return false
}

func matchFamily(fs []schema.Family, e *schema.Event) bool {
	for _, f := range fs {
		if e.EndOfRIB == f {
			return true
		}
		for i := range e.Announcements {
			if e.Announcements[i].Family == f {
				return true
			}
		}
		for i := range e.Withdrawn {
			if e.Withdrawn[i].Family == f {
				return true
			}
		}
	}
	return false
}

// pathItem is one element of an AS path as RIS Live writes it: an ASN, or
// an AS_SET (set non-nil, sorted).
type pathItem struct {
	asn uint32
	set []uint32
}

func (a pathItem) equal(b pathItem) bool {
	if (a.set == nil) != (b.set == nil) {
		return false
	}
	if a.set == nil {
		return a.asn == b.asn
	}
	return slices.Equal(a.set, b.set)
}

// flattenPath turns an AS path into RIS Live's items: each ASN of a
// sequence (confederation sequences too) on its own, each set as one.
func flattenPath(p schema.ASPath) []pathItem {
	var items []pathItem
	for _, seg := range p {
		switch seg.Type {
		case schema.SegmentSet, schema.SegmentConfedSet:
			set := slices.Clone(seg.ASNs)
			slices.Sort(set)
			items = append(items, pathItem{set: set})
		default:
			for _, a := range seg.ASNs {
				items = append(items, pathItem{asn: a})
			}
		}
	}
	return items
}

// pathPattern is a parsed path filter.
type pathPattern struct {
	text       string
	negate     bool
	start, end bool // ^ and $
	items      []pathItem
}

// parsePathValue reads path: a JSON number (one ASN) or a pattern string.
func parsePathValue(b json.RawMessage) (*pathPattern, error) {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return nil, fmt.Errorf("path: want an ASN or a pattern string like \"^3333,1299\" or \"64496$\", got %s", clip(b))
		}
		s = n.String()
	}
	return parsePathPattern(s)
}

// parsePathPattern reads [!][^]ITEM,ITEM,...[$] where ITEM is an ASN or
// an AS_SET written [ASN,ASN,...].
func parsePathPattern(text string) (*pathPattern, error) {
	p := &pathPattern{text: text}
	bad := func(why string) error { return fmt.Errorf("path %q: %s", text, why) }
	s := strings.TrimSpace(text)
	s, p.negate = strings.CutPrefix(s, "!")
	s, p.start = strings.CutPrefix(s, "^")
	s, p.end = strings.CutSuffix(s, "$")
	if s == "" {
		return nil, bad("no ASN in it")
	}
	for len(s) > 0 {
		var item string
		if s[0] == '[' {
			i := strings.IndexByte(s, ']')
			if i < 0 {
				return nil, bad("an AS_SET opened with '[' is not closed")
			}
			item, s = s[:i+1], s[i+1:]
		} else {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			item, s = s[:i], s[i:]
		}
		if len(s) > 0 {
			if s[0] != ',' {
				return nil, bad("items must be separated by ','")
			}
			s = s[1:]
			if s == "" {
				return nil, bad("it ends with ','")
			}
		}
		it, err := parsePathItem(item)
		if err != nil {
			return nil, bad(err.Error())
		}
		p.items = append(p.items, it)
	}
	return p, nil
}

func parsePathItem(s string) (pathItem, error) {
	if inner, ok := strings.CutPrefix(s, "["); ok {
		inner = strings.TrimSuffix(inner, "]")
		var set []uint32
		for _, a := range strings.Split(inner, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(a), 10, 32)
			if err != nil {
				return pathItem{}, fmt.Errorf("AS_SET %s: %q is not an ASN (0-4294967295)", s, a)
			}
			set = append(set, uint32(v))
		}
		slices.Sort(set)
		return pathItem{set: set}, nil
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return pathItem{}, fmt.Errorf("%q is not an ASN (0-4294967295) or an AS_SET like [64496,64497]", s)
	}
	return pathItem{asn: uint32(v)}, nil
}

// match reports whether the path matches the pattern.
func (p *pathPattern) match(path []pathItem) bool {
	return p.occurs(path) != p.negate
}

func (p *pathPattern) occurs(path []pathItem) bool {
	n := len(p.items)
	if n > len(path) {
		return false
	}
	first, last := 0, len(path)-n
	if p.start {
		last = 0
	}
	if p.end {
		first = len(path) - n
	}
	for i := first; i <= last; i++ {
		ok := true
		for j, it := range p.items {
			if !it.equal(path[i+j]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
