package schema

import (
	"math"
	"strconv"
)

// FamilyCount is the number of routes a peer has in one family.
type FamilyCount struct {
	Family Family
	Routes uint64
}

// RouteCounts are a peer's route counts per family, as a live session
// keeps them (the collector's Adj-RIB-In). The JSON form is an object
// from family name to count, in the slice's order:
//
//	{"ipv4/unicast":912345,"ipv6/unicast":201234}
//
// It is a slice, not a map, so that building it for an event allocates
// once (or not at all) and its order is the writer's.
type RouteCounts []FamilyCount

// Get returns the count of family f, and whether c has one.
func (c RouteCounts) Get(f Family) (uint64, bool) {
	for _, fc := range c {
		if fc.Family == f {
			return fc.Routes, true
		}
	}
	return 0, false
}

// MarshalJSON writes the object form.
func (c RouteCounts) MarshalJSON() ([]byte, error) {
	return c.appendJSON(make([]byte, 0, 2+32*len(c))), nil
}

// appendJSON appends the object form. A family's name never needs
// escaping.
func (c RouteCounts) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i := range c {
		b = appendComma(b, i)
		b = append(b, '"')
		b = c[i].Family.appendText(b)
		b = append(b, `":`...)
		b = strconv.AppendUint(b, c[i].Routes, 10)
	}
	return append(b, '}')
}

// UnmarshalJSON reads the object form as DecodeJSON does (see
// decoder.routeCounts), reusing c's array.
func (c *RouteCounts) UnmarshalJSON(b []byte) error {
	d := decoder{data: b}
	d.ws()
	v, err := d.routeCounts((*c)[:0])
	if err != nil {
		return err
	}
	d.ws()
	if d.pos != len(d.data) {
		return d.errAt(d.pos, "invalid character %s after top-level value", quoteChar(d.data[d.pos]))
	}
	*c = v
	return nil
}

// routeCounts reads RouteCounts into s's array, from its start: an
// object whose keys are family names (or AFI/SAFI numbers) and whose
// values are counts (null is 0). A family that comes twice keeps its
// first place and its last count, as a map would. {} is empty and not
// nil; null is nil.
func (d *decoder) routeCounts(s RouteCounts) (RouteCounts, error) {
	if null, err := d.structStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('{', '}')
	n := 0
	for ; more && err == nil; more, err = d.next('}') {
		start := d.pos
		var k []byte
		if k, err = d.key(); err != nil {
			return s, err
		}
		f, ok := parseFamily(k)
		if !ok {
			return s, d.errAt(start, "bad family %q (want a name such as ipv4/unicast, or AFI/SAFI numbers)", k)
		}
		var v uint64
		if v, _, err = d.uintValue(math.MaxUint64); err != nil {
			return s, within(err, f.String())
		}
		i := 0
		for i < n && s[i].Family != f {
			i++
		}
		if i == n {
			s = grow(s, n)
			n++
		}
		s[i] = FamilyCount{Family: f, Routes: v}
	}
	return cut(d, s, n), err
}
