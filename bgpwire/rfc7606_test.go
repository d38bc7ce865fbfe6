package bgpwire

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

// RFC 7606 (and the RFC 4271 section 6.3 cases it revises) as vectors:
// one row per rule, each an UPDATE body built from annotated fields, the
// session options it is decoded with, and what the decoder must report:
// the most severe action, every error noted (action, NOTIFICATION code,
// subcode and data, byte offset in the message) and what the decoded
// Update still holds. The expected values come from the RFC text, not
// from the decoder.

// Attribute flags of the vectors (RFC 4271 section 4.3).
const (
	fWK   = FlagTransitive                // 0x40: well-known (so transitive)
	fOpt  = FlagOptional                  // 0x80: optional non-transitive
	fOptT = FlagOptional | FlagTransitive // 0xc0: optional transitive
	fExt  = FlagExtLength                 // 0x10: two-octet attribute length
	fPart = FlagPartial                   // 0x20: partial
)

// attrAt is the message offset of the first path attribute when the
// withdrawn routes field is empty: header (19), withdrawn routes length
// (2), total path attribute length (2).
const attrAt = HeaderLen + 2 + 2

// wire concatenates fields.
func wire(fields ...[]byte) []byte { return append([]byte{}, bytes.Join(fields, nil)...) }

// n16 and n32 are big-endian fields.
func n16(v int) []byte    { return []byte{byte(v >> 8), byte(v)} }
func n32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// ip is an address field: 4 octets for IPv4, 16 for IPv6.
func ip(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

// pfx is a prefix as in an NLRI field: length in bits (1), then the
// octets that hold those bits.
func pfx(s string) []byte {
	p := netip.MustParsePrefix(s)
	return wire([]byte{byte(p.Bits())}, p.Addr().AsSlice()[:(p.Bits()+7)/8])
}

// attr is a path attribute: flags (1), type code (1), attribute length
// (1, or 2 when flags has FlagExtLength; that of the value), value (the
// fields concatenated).
func attr(flags uint8, code AttrCode, value ...[]byte) []byte {
	v := wire(value...)
	if flags&FlagExtLength != 0 {
		return wire([]byte{flags, byte(code)}, n16(len(v)), v)
	}
	return wire([]byte{flags, byte(code), byte(len(v))}, v)
}

// update is an UPDATE body (the message after its 19-byte header):
// withdrawn routes length (2), withdrawn routes, total path attribute
// length (2), path attributes, NLRI.
func update(withdrawn, attrs, nlri []byte) []byte {
	return wire(n16(len(withdrawn)), withdrawn, n16(len(attrs)), attrs, nlri)
}

// mpReach is an MP_REACH_NLRI value: AFI (2), SAFI (1), next hop length
// (1), next hop, reserved (1), NLRI.
func mpReach(f Family, nextHop []byte, nlri ...[]byte) []byte {
	return wire(n16(int(f.AFI)), []byte{byte(f.SAFI)}, []byte{byte(len(nextHop))}, nextHop, []byte{0}, wire(nlri...))
}

// mpUnreach is an MP_UNREACH_NLRI value: AFI (2), SAFI (1), withdrawn
// routes.
func mpUnreach(f Family, nlri ...[]byte) []byte {
	return wire(n16(int(f.AFI)), []byte{byte(f.SAFI)}, wire(nlri...))
}

// The attributes most vectors carry, on a 4-octet AS session.
var (
	vOrigin  = attr(fWK, AttrOrigin, []byte{0})                                                         // ORIGIN IGP: 4 bytes
	vPath    = attr(fWK, AttrASPath, []byte{byte(SegSequence), 1}, n32(65001))                          // AS_PATH: AS_SEQUENCE of 1 ASN, 65001 in 4 octets: 9 bytes
	vPath2   = attr(fWK, AttrASPath, []byte{byte(SegSequence), 1}, n16(65001))                          // AS_PATH: the same in 2 octets: 7 bytes
	vNextHop = attr(fWK, AttrNextHop, ip("192.0.2.1"))                                                  // NEXT_HOP 192.0.2.1: 7 bytes
	vBase    = wire(vOrigin, vPath, vNextHop)                                                           // the well-known mandatory attributes: 20 bytes
	vBase2   = wire(vOrigin, vPath2, vNextHop)                                                          // the same on a 2-octet session: 18 bytes
	vRoute   = pfx("198.51.100.0/24")                                                                   // NLRI 198.51.100.0/24
	vMPReach = attr(fOpt, AttrMPReach, mpReach(IPv6Unicast, ip("2001:db8::1"), pfx("2001:db8:1::/48"))) // MP_REACH_NLRI: 31 bytes
	vMPUnr   = attr(fOpt, AttrMPUnreach, mpUnreach(IPv6Unicast, pfx("2001:db8:2::/48")))                // MP_UNREACH_NLRI: 13 bytes
)

// afterBase is the message offset of the attribute after vBase.
var afterBase = attrAt + len(vBase)

// Session options.
var (
	as4 = DecodeOptions{ASN4: true}                 // both speakers announced 4-octet ASNs
	as2 = DecodeOptions{ASN4: false}                // a 2-octet AS session
	ext = DecodeOptions{ASN4: true, External: true} // as4, with an external neighbor
)

// wantErr is one error the decoder must note.
type wantErr struct {
	act  Action
	code uint8
	sub  uint8
	off  int    // byte offset in the message, header included
	data []byte // NOTIFICATION data
}

// check inspects the decoded Update; it returns "" when it holds.
type check func(u *Update) string

type vector7606 struct {
	name string
	rfc  string // the section the row checks
	body []byte // the UPDATE body
	opts DecodeOptions
	act  Action    // Update.Action
	errs []wantErr // Update.Errors, in order
	keep []check   // what the decoded Update still holds
}

func prefixes(ns []NLRI) []string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Prefix.String())
	}
	return s
}

func samePrefixes(what string, got []NLRI, want []string) string {
	if g := prefixes(got); !slices.Equal(g, want) {
		return fmt.Sprintf("%s %v, want %v", what, g, want)
	}
	return ""
}

// nlri: the NLRI field decoded to these routes (under treat-as-withdraw,
// the routes that the collector withdraws).
func nlri(want ...string) check {
	return func(u *Update) string { return samePrefixes("nlri", u.NLRI, want) }
}

func withdrawn(want ...string) check {
	return func(u *Update) string { return samePrefixes("withdrawn", u.Withdrawn, want) }
}

func mpNLRI(want ...string) check {
	return func(u *Update) string { return samePrefixes("mp_reach nlri", u.Attrs.MPReach.NLRI, want) }
}

func mpWithdrawn(want ...string) check {
	return func(u *Update) string { return samePrefixes("mp_unreach nlri", u.Attrs.MPUnreach.NLRI, want) }
}

func has(codes ...AttrCode) check {
	return func(u *Update) string {
		for _, c := range codes {
			if !u.Attrs.Has(c) {
				return c.String() + " absent, want present"
			}
		}
		return ""
	}
}

// lacks: the attributes are gone (discarded, or dropped as malformed).
func lacks(codes ...AttrCode) check {
	return func(u *Update) string {
		for _, c := range codes {
			if u.Attrs.Has(c) {
				return c.String() + " present, want absent"
			}
		}
		return ""
	}
}

// other: the attributes kept raw, in order.
func other(codes ...AttrCode) check {
	return func(u *Update) string {
		var got []AttrCode
		for _, o := range u.Attrs.Other {
			got = append(got, o.Code)
		}
		if !slices.Equal(got, codes) {
			return fmt.Sprintf("raw attributes %v, want %v", got, codes)
		}
		return ""
	}
}

func communities(want ...uint32) check {
	return func(u *Update) string {
		if !slices.Equal(u.Attrs.Communities, want) {
			return fmt.Sprintf("communities %v, want %v", u.Attrs.Communities, want)
		}
		return ""
	}
}

func asPath(want string) check {
	return func(u *Update) string {
		if got := fmt.Sprint(u.Attrs.ASPath); got != want {
			return fmt.Sprintf("as path %s, want %s", got, want)
		}
		return ""
	}
}

func aggregator(asn uint32, addr string) check {
	return func(u *Update) string {
		if want := (Aggregator{asn, netip.MustParseAddr(addr)}); u.Attrs.Aggregator != want {
			return fmt.Sprintf("aggregator %+v, want %+v", u.Attrs.Aggregator, want)
		}
		return ""
	}
}

func endOfRIB(f Family) check {
	return func(u *Update) string {
		if got, ok := u.IsEndOfRIB(); !ok || got != f {
			return fmt.Sprintf("end of rib %v %v, want %v", got, ok, f)
		}
		return ""
	}
}

func pathID(id uint32) check {
	return func(u *Update) string {
		for _, n := range slices.Concat(u.NLRI, u.Attrs.MPReach.NLRI) {
			if n.PathID != id {
				return fmt.Sprintf("path id %d, want %d", n.PathID, id)
			}
		}
		return ""
	}
}

func rawNLRI(want []byte) check {
	return func(u *Update) string {
		if n := u.Attrs.MPReach.NLRI; len(n) != 1 || !bytes.Equal(n[0].Raw, want) {
			return fmt.Sprintf("mp_reach nlri %+v, want one raw % x", n, want)
		}
		return ""
	}
}

func rfc7606Vectors() []vector7606 {
	// Attributes that several rows use, malformed or not.
	badOrigin := attr(fWK, AttrOrigin, []byte{3})                                     // ORIGIN 3: undefined value
	comm := attr(fOptT, AttrCommunities, n32(65001<<16|100))                          // COMMUNITIES 65001:100: 7 bytes
	unknownOpt := attr(fOptT, AttrCode(99), []byte{0xab, 1})                          // unrecognized optional transitive 99: 5 bytes
	aggr7 := attr(fOptT, AttrAggregator, n16(65001), []byte{192, 0, 2}, []byte{9, 9}) // AGGREGATOR of 7 octets: 10 bytes
	as4Path := func(segs ...[]byte) []byte { return attr(fOptT, AttrAS4Path, segs...) }
	mpBadNH := attr(fOpt, AttrMPReach, // MP_REACH_NLRI with a next hop of 5 octets: 22 bytes
		n16(int(AFIIPv6)), []byte{byte(SAFIUnicast)}, // AFI 2, SAFI 1
		[]byte{5}, []byte{0x20, 0x01, 0x0d, 0xb8, 0}, // next hop length 5, next hop
		[]byte{0},              // reserved
		pfx("2001:db8:1::/48")) // NLRI
	as4Trans := attr(fOptT, AttrAggregator, n16(ASTrans), ip("192.0.2.9")) // AGGREGATOR AS_TRANS 192.0.2.9 (2 octets)

	return []vector7606{
		// RFC 7606 section 3 (a): only session reset sends a NOTIFICATION.
		{
			name: "treat-as-withdraw error sends no NOTIFICATION",
			rfc:  "RFC 7606 3(a)",
			body: update(nil, wire(vBase, attr(fOpt, AttrMED, []byte{0, 0, 1})), vRoute), // MED of 3 octets
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrMED, []byte{0, 0, 1})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrMED), has(AttrOrigin, AttrASPath, AttrNextHop)},
		},
		{
			name: "well-formed UPDATE",
			rfc:  "RFC 4271 4.3",
			body: update(pfx("10.0.0.0/8"), wire(vBase, comm), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{withdrawn("10.0.0.0/8"), nlri("198.51.100.0/24"), communities(65001<<16 | 100), asPath("[{AS_SEQUENCE [65001]}]")},
		},

		// Section 3 (b): a length field too large for the message.
		{
			name: "withdrawn routes length overruns the message",
			rfc:  "RFC 7606 3(b), RFC 4271 6.3",
			body: wire(n16(5), pfx("10.0.0.0/8")), // withdrawn routes length 5, only 2 bytes follow
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeMalformedAttributeList, HeaderLen, nil}},
		},
		{
			name: "message ends inside the withdrawn routes length",
			rfc:  "RFC 7606 3(b), RFC 4271 6.3",
			body: []byte{0}, // one octet of the two-octet withdrawn routes length
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeMalformedAttributeList, HeaderLen, nil}},
		},
		{
			name: "total path attribute length overruns the message",
			rfc:  "RFC 7606 3(b), RFC 4271 6.3",
			body: wire(n16(0), n16(30), vOrigin), // no withdrawn routes; attribute length 30, 4 bytes follow
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeMalformedAttributeList, HeaderLen + 2, nil}},
		},
		{
			name: "message ends before the total path attribute length",
			rfc:  "RFC 7606 3(b), RFC 4271 6.3",
			body: wire(n16(2), pfx("10.0.0.0/8")), // withdrawn routes 10.0.0.0/8, then nothing
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeMalformedAttributeList, HeaderLen + 4, nil}},
		},

		// Section 3 (c): the Optional and Transitive flags.
		{
			name: "ORIGIN flagged optional",
			rfc:  "RFC 7606 3(c), RFC 4271 6.3",
			body: update(nil, wire(attr(fOptT, AttrOrigin, []byte{0}), vPath, vNextHop), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeFlags, attrAt, attr(fOptT, AttrOrigin, []byte{0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrOrigin), has(AttrASPath, AttrNextHop)},
		},
		{
			name: "MULTI_EXIT_DISC flagged well-known",
			rfc:  "RFC 7606 3(c)",
			body: update(nil, wire(vBase, attr(fWK, AttrMED, n32(10))), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeFlags, afterBase, attr(fWK, AttrMED, n32(10))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrMED)},
		},
		{
			name: "LOCAL_PREF flagged optional non-transitive",
			rfc:  "RFC 7606 3(c)",
			body: update(nil, wire(vBase, attr(fOpt, AttrLocalPref, n32(100))), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeFlags, afterBase, attr(fOpt, AttrLocalPref, n32(100))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrLocalPref)},
		},
		{
			name: "COMMUNITIES flagged non-transitive",
			rfc:  "RFC 7606 3(c)",
			body: update(nil, wire(vBase, attr(fOpt, AttrCommunities, n32(1))), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeFlags, afterBase, attr(fOpt, AttrCommunities, n32(1))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrCommunities)},
		},
		{
			name: "Partial and Extended Length flags are not checked",
			rfc:  "RFC 7606 3(c)",
			body: update(nil, wire(
				attr(fWK|fPart|fExt, AttrOrigin, []byte{0}), // ORIGIN, partial, two-octet length
				vPath, vNextHop,
				attr(fOpt|fPart, AttrMED, n32(7))), // MED, partial
				vRoute),
			opts: as4, act: ActionNone,
			keep: []check{nlri("198.51.100.0/24"), has(AttrOrigin, AttrMED)},
		},
		{
			name: "AGGREGATOR flagged non-transitive is discarded",
			rfc:  "RFC 7606 3(c), 3(f), 7.7",
			body: update(nil, wire(vBase, attr(fOpt, AttrAggregator, n32(65001), ip("192.0.2.9"))), vRoute),
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeFlags, afterBase, attr(fOpt, AttrAggregator, n32(65001), ip("192.0.2.9"))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAggregator), has(AttrOrigin, AttrASPath, AttrNextHop)},
		},
		{
			name: "ATOMIC_AGGREGATE flagged optional is discarded",
			rfc:  "RFC 7606 3(c), 3(f), 7.6",
			body: update(nil, wire(vBase, attr(fOptT, AttrAtomicAggregate)), vRoute),
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeFlags, afterBase, attr(fOptT, AttrAtomicAggregate)}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAtomicAggregate)},
		},
		{
			name: "AS4_PATH flagged well-known is discarded",
			rfc:  "RFC 7606 3(c), RFC 6793 6",
			body: update(nil, wire(vBase2, attr(fWK, AttrAS4Path, []byte{byte(SegSequence), 1}, n32(4200000000))), vRoute),
			opts: as2, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeFlags, attrAt + len(vBase2), attr(fWK, AttrAS4Path, []byte{byte(SegSequence), 1}, n32(4200000000))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAS4Path), asPath("[{AS_SEQUENCE [65001]}]")},
		},
		{
			name: "AS4_AGGREGATOR flagged non-transitive is discarded",
			rfc:  "RFC 7606 3(c), RFC 6793 6",
			body: update(nil, wire(vBase2, as4Trans, attr(fOpt, AttrAS4Aggregator, n32(4200000000), ip("192.0.2.9"))), vRoute),
			opts: as2, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeFlags, attrAt + len(vBase2) + len(as4Trans), attr(fOpt, AttrAS4Aggregator, n32(4200000000), ip("192.0.2.9"))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAS4Aggregator), aggregator(ASTrans, "192.0.2.9")},
		},
		{
			name: "LARGE_COMMUNITY flagged non-transitive",
			rfc:  "RFC 7606 3(c), RFC 8092 6",
			body: update(nil, wire(vBase, attr(fOpt, AttrLargeCommunity, n32(65001), n32(1), n32(2))), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeFlags, afterBase, attr(fOpt, AttrLargeCommunity, n32(65001), n32(1), n32(2))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrLargeCommunity)},
		},
		{
			// The routes are inside the attribute: they cannot be treated
			// as withdrawn without trusting it (3(j), RFC 4760 section 7).
			name: "MP_REACH_NLRI flagged transitive",
			rfc:  "RFC 7606 3(c), 3(j)",
			body: update(nil, wire(vOrigin, vPath, attr(fOptT, AttrMPReach, mpReach(IPv6Unicast, ip("2001:db8::1"), pfx("2001:db8:1::/48")))), nil),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeAttributeFlags, attrAt + 13, attr(fOptT, AttrMPReach, mpReach(IPv6Unicast, ip("2001:db8::1"), pfx("2001:db8:1::/48")))}},
		},
		{
			name: "MP_UNREACH_NLRI flagged well-known",
			rfc:  "RFC 7606 3(c), 3(j)",
			body: update(nil, attr(fWK, AttrMPUnreach, mpUnreach(IPv6Unicast, pfx("2001:db8:2::/48"))), nil),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeAttributeFlags, attrAt, attr(fWK, AttrMPUnreach, mpUnreach(IPv6Unicast, pfx("2001:db8:2::/48")))}},
		},

		// Section 3 (d): missing well-known mandatory attributes; the data
		// is the missing type code (RFC 4271 section 6.3), the offset that
		// of the path attributes.
		{
			name: "ORIGIN missing with NLRI",
			rfc:  "RFC 7606 3(d), RFC 4271 6.3",
			body: update(nil, wire(vPath, vNextHop), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMissingWellKnown, attrAt, []byte{byte(AttrOrigin)}}},
			keep: []check{nlri("198.51.100.0/24")},
		},
		{
			name: "AS_PATH missing with NLRI",
			rfc:  "RFC 7606 3(d)",
			body: update(nil, wire(vOrigin, vNextHop), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMissingWellKnown, attrAt, []byte{byte(AttrASPath)}}},
			keep: []check{nlri("198.51.100.0/24")},
		},
		{
			name: "NEXT_HOP missing with NLRI",
			rfc:  "RFC 7606 3(d)",
			body: update(nil, wire(vOrigin, vPath), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMissingWellKnown, attrAt, []byte{byte(AttrNextHop)}}},
			keep: []check{nlri("198.51.100.0/24")},
		},
		{
			name: "every well-known attribute missing with NLRI",
			rfc:  "RFC 7606 3(d)",
			body: update(nil, nil, vRoute), // no path attributes at all
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{
				{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMissingWellKnown, attrAt, []byte{byte(AttrOrigin)}},
				{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMissingWellKnown, attrAt, []byte{byte(AttrASPath)}},
				{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMissingWellKnown, attrAt, []byte{byte(AttrNextHop)}},
			},
			keep: []check{nlri("198.51.100.0/24")},
		},
		{
			name: "ORIGIN missing with MP_REACH_NLRI routes only",
			rfc:  "RFC 7606 3(d)",
			body: update(nil, wire(vMPReach, vPath), nil),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMissingWellKnown, attrAt, []byte{byte(AttrOrigin)}}},
			keep: []check{mpNLRI("2001:db8:1::/48")},
		},
		{
			name: "NEXT_HOP not required without routes in the NLRI field",
			rfc:  "RFC 7606 3(d), RFC 4760 3",
			body: update(nil, wire(vMPReach, vOrigin, vPath), nil),
			opts: as4, act: ActionNone,
			keep: []check{mpNLRI("2001:db8:1::/48"), lacks(AttrNextHop)},
		},
		{
			name: "no attributes required without routes",
			rfc:  "RFC 7606 3(d)",
			body: update(pfx("10.0.0.0/8"), nil, nil), // withdrawn routes only
			opts: as4, act: ActionNone,
			keep: []check{withdrawn("10.0.0.0/8")},
		},

		// Section 3 (g): repeated attributes.
		{
			name: "MP_REACH_NLRI repeated",
			rfc:  "RFC 7606 3(g)",
			body: update(nil, wire(vOrigin, vPath, vMPReach, vMPReach), nil),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeMalformedAttributeList, attrAt + 13 + len(vMPReach), nil}},
		},
		{
			name: "MP_UNREACH_NLRI repeated",
			rfc:  "RFC 7606 3(g)",
			body: update(nil, wire(vMPUnr, vMPUnr), nil),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeMalformedAttributeList, attrAt + len(vMPUnr), nil}},
		},
		{
			name: "COMMUNITIES repeated: the first is kept",
			rfc:  "RFC 7606 3(g)",
			body: update(nil, wire(vBase, comm, attr(fOptT, AttrCommunities, n32(1))), vRoute),
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeMalformedAttributeList, afterBase + len(comm), nil}},
			keep: []check{nlri("198.51.100.0/24"), communities(65001<<16 | 100)},
		},
		{
			name: "unrecognized attribute repeated: the first is kept",
			rfc:  "RFC 7606 3(g)",
			body: update(nil, wire(vBase, unknownOpt, unknownOpt), vRoute),
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeMalformedAttributeList, afterBase + len(unknownOpt), nil}},
			keep: []check{nlri("198.51.100.0/24"), other(AttrCode(99))},
		},
		{
			name: "ORIGIN repeated after a malformed first one",
			rfc:  "RFC 7606 3(g), 7.1",
			body: update(nil, wire(badOrigin, vOrigin, vPath, vNextHop), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{
				{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeInvalidOrigin, attrAt, badOrigin},
				{ActionAttributeDiscard, CodeUpdateMessage, SubcodeMalformedAttributeList, attrAt + len(badOrigin), nil},
			},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrOrigin)},
		},

		// Section 3 (h): the strongest action of several errors.
		{
			name: "attribute discard and treat-as-withdraw",
			rfc:  "RFC 7606 3(h)",
			body: update(nil, wire(vBase,
				attr(fWK, AttrAtomicAggregate, []byte{0}), // ATOMIC_AGGREGATE of 1 octet: 4 bytes
				attr(fOpt, AttrMED, []byte{0, 0})),        // MED of 2 octets
				vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{
				{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fWK, AttrAtomicAggregate, []byte{0})},
				{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase + 4, attr(fOpt, AttrMED, []byte{0, 0})},
			},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAtomicAggregate, AttrMED)},
		},
		{
			name: "treat-as-withdraw and AFI/SAFI disable",
			rfc:  "RFC 7606 3(h)",
			body: update(nil, wire(badOrigin, vPath, mpBadNH), nil),
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{
				{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeInvalidOrigin, attrAt, badOrigin},
				{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13, mpBadNH},
			},
			keep: []check{lacks(AttrOrigin, AttrMPReach)},
		},
		{
			name: "two attribute discards",
			rfc:  "RFC 7606 3(h)",
			body: update(nil, wire(vBase, aggr7, attr(fWK, AttrAtomicAggregate, []byte{1, 2})), vRoute),
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{
				{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase, aggr7},
				{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase + len(aggr7), attr(fWK, AttrAtomicAggregate, []byte{1, 2})},
			},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAggregator, AttrAtomicAggregate), has(AttrOrigin)},
		},

		// Section 3 (i): the withdrawn routes field is checked as the NLRI
		// field is (Invalid Network Field, no data).
		{
			name: "withdrawn route longer than 32 bits",
			rfc:  "RFC 7606 3(i), 5.3",
			body: update([]byte{33, 10, 0, 0, 0, 0}, nil, nil), // prefix length 33, 5 octets
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeInvalidNetworkField, HeaderLen + 2, nil}},
		},
		{
			name: "withdrawn route overruns the field",
			rfc:  "RFC 7606 3(i), 5.3",
			body: update(wire(pfx("10.0.0.0/8"), []byte{24, 10, 1}), nil, nil), // 10.0.0.0/8, then a /24 with 2 of 3 octets
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeInvalidNetworkField, HeaderLen + 2 + 2, nil}},
		},

		// Section 3 (j): treat-as-withdraw needs the NLRI parsed.
		{
			name: "malformed attribute and malformed NLRI",
			rfc:  "RFC 7606 3(j), 5.3",
			body: update(nil, wire(badOrigin, vPath, vNextHop), []byte{33, 198, 51, 100, 0, 0}), // NLRI prefix length 33
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{
				{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeInvalidOrigin, attrAt, badOrigin},
				{ActionSessionReset, CodeUpdateMessage, SubcodeInvalidNetworkField, attrAt + 20, nil},
			},
		},
		{
			name: "MP_REACH_NLRI overruns the path attributes",
			rfc:  "RFC 7606 3(j), 4",
			body: update(nil, wire(vOrigin, vPath,
				[]byte{fOpt, byte(AttrMPReach), 40}, // MP_REACH_NLRI, length 40
				n16(int(AFIIPv6)), []byte{1}),       // but 3 octets follow
				nil),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeAttributeLength, attrAt + 13, nil}},
		},

		// Section 4: attribute lengths in conflict with the total path
		// attribute length; the NLRI field is still located.
		{
			name: "last attribute overruns the path attributes",
			rfc:  "RFC 7606 4",
			body: update(nil, wire(vBase,
				[]byte{fOptT, byte(AttrCommunities), 8}, n32(1)), // COMMUNITIES, length 8, 4 octets follow
				vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, nil}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrCommunities), has(AttrOrigin, AttrASPath, AttrNextHop)},
		},
		{
			name: "extended length attribute overruns the path attributes",
			rfc:  "RFC 7606 4",
			body: update(nil, wire(vBase,
				[]byte{fOptT | fExt, byte(AttrCommunities)}, n16(256), n32(1)), // COMMUNITIES, length 256, 4 octets follow
				vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, nil}},
			keep: []check{nlri("198.51.100.0/24")},
		},
		{
			name: "fewer than 3 octets left for an attribute header",
			rfc:  "RFC 7606 4",
			body: update(nil, wire(vBase, []byte{fWK, byte(AttrMED)}), vRoute), // flags, type code, no length
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMalformedAttributeList, afterBase, nil}},
			keep: []check{nlri("198.51.100.0/24")},
		},
		{
			name: "fewer than 4 octets left for an extended length header",
			rfc:  "RFC 7606 4",
			body: update(nil, wire(vBase, []byte{fOptT | fExt, byte(AttrCommunities), 0}), vRoute), // one octet of the two-octet length
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, nil}},
			keep: []check{nlri("198.51.100.0/24")},
		},

		// Section 5.1: MP attributes in any position and combination.
		{
			name: "MP attributes after others, with both IPv4 fields",
			rfc:  "RFC 7606 5.1",
			body: update(pfx("10.0.0.0/8"), wire(vBase, vMPUnr, vMPReach), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{withdrawn("10.0.0.0/8"), nlri("198.51.100.0/24"), mpNLRI("2001:db8:1::/48"), mpWithdrawn("2001:db8:2::/48")},
		},

		// Section 5.2: UPDATEs without reachable routes.
		{
			name: "End-of-RIB for IPv4 unicast",
			rfc:  "RFC 7606 5.2, RFC 4724 2",
			body: update(nil, nil, nil),
			opts: as4, act: ActionNone,
			keep: []check{endOfRIB(IPv4Unicast)},
		},
		{
			name: "End-of-RIB for IPv6 unicast",
			rfc:  "RFC 7606 5.2, RFC 4724 2",
			body: update(nil, attr(fOpt, AttrMPUnreach, mpUnreach(IPv6Unicast)), nil),
			opts: as4, act: ActionNone,
			keep: []check{endOfRIB(IPv6Unicast)},
		},
		{
			name: "treat-as-withdraw error without reachable routes",
			rfc:  "RFC 7606 5.2",
			body: update(pfx("10.0.0.0/8"), wire(attr(fWK, AttrOrigin, []byte{0, 0}), vPath, vNextHop), nil), // ORIGIN of 2 octets
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeAttributeLength, attrAt + 2, attr(fWK, AttrOrigin, []byte{0, 0})}},
		},
		{
			name: "MP_UNREACH_NLRI and malformed COMMUNITIES",
			rfc:  "RFC 7606 5.2",
			body: update(nil, wire(vMPUnr, attr(fOptT, AttrCommunities, []byte{1, 2, 3})), nil),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeAttributeLength, attrAt + len(vMPUnr), attr(fOptT, AttrCommunities, []byte{1, 2, 3})}},
		},
		{
			name: "attribute overrun without reachable routes",
			rfc:  "RFC 7606 5.2, 4",
			body: update(pfx("10.0.0.0/8"), []byte{fWK, byte(AttrOrigin), 2, 0}, nil), // ORIGIN, length 2, 1 octet follows
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeAttributeLength, attrAt + 2, nil}},
		},
		{
			name: "attribute discard without reachable routes",
			rfc:  "RFC 7606 5.2",
			body: update(pfx("10.0.0.0/8"), wire(vBase, aggr7), nil),
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, attrAt + 2 + len(vBase), aggr7}},
			keep: []check{withdrawn("10.0.0.0/8"), lacks(AttrAggregator)},
		},
		{
			name: "malformed MP_UNREACH_NLRI alone",
			rfc:  "RFC 7606 5.2, 5.3",
			body: update(nil, attr(fOpt, AttrMPUnreach, n16(int(AFIIPv6)), []byte{1}, []byte{129}, make([]byte, 17)), nil), // IPv6 unicast, prefix length 129
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 3 + 3,
				attr(fOpt, AttrMPUnreach, n16(int(AFIIPv6)), []byte{1}, []byte{129}, make([]byte, 17))}},
		},

		// Section 5.3: syntactically incorrect NLRI.
		{
			name: "NLRI prefix longer than 32 bits",
			rfc:  "RFC 7606 5.3, RFC 4271 6.3",
			body: update(nil, vBase, wire(vRoute, []byte{33, 1, 2, 3, 4, 5})),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeInvalidNetworkField, afterBase + 4, nil}},
		},
		{
			name: "NLRI prefix overruns the message",
			rfc:  "RFC 7606 5.3",
			body: update(nil, vBase, []byte{24, 198, 51}), // a /24 with 2 of 3 octets
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeInvalidNetworkField, afterBase, nil}},
		},
		{
			name: "MP_REACH_NLRI prefix longer than 128 bits",
			rfc:  "RFC 7606 5.3, 7.11",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(IPv6Unicast, ip("2001:db8::1"), []byte{129}, make([]byte, 17)))), nil),
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute,
				attrAt + 13 + 3 + 5 + 16, // the NLRI: after ORIGIN, AS_PATH, the attribute header, AFI/SAFI/next hop length, next hop, reserved
				attr(fOpt, AttrMPReach, mpReach(IPv6Unicast, ip("2001:db8::1"), []byte{129}, make([]byte, 17)))}},
			keep: []check{lacks(AttrMPReach)},
		},
		{
			name: "MP_UNREACH_NLRI prefix overruns the attribute",
			rfc:  "RFC 7606 5.3",
			body: update(nil, attr(fOpt, AttrMPUnreach, mpUnreach(IPv6Unicast, pfx("2001:db8:2::/48"), []byte{64, 0x20, 0x01})), nil),
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 3 + 3 + 7,
				attr(fOpt, AttrMPUnreach, mpUnreach(IPv6Unicast, pfx("2001:db8:2::/48"), []byte{64, 0x20, 0x01}))}},
			keep: []check{lacks(AttrMPUnreach)},
		},
		{
			name: "ADD-PATH NLRI with a truncated path identifier",
			rfc:  "RFC 7606 5.3, RFC 7911 3",
			body: update(nil, vBase, wire(n32(1), vRoute, []byte{0, 0})), // path id 1, 198.51.100.0/24, 2 of 4 octets of a path id
			opts: DecodeOptions{ASN4: true, AddPath: []Family{IPv4Unicast}}, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeInvalidNetworkField, afterBase + 8, nil}},
		},
		{
			name: "ADD-PATH withdrawn route longer than 32 bits",
			rfc:  "RFC 7606 3(i), RFC 7911 3",
			body: update(wire(n32(1), []byte{33, 10, 0, 0, 0, 0}), nil, nil), // path id 1, prefix length 33
			opts: DecodeOptions{ASN4: true, AddPath: []Family{IPv4Unicast}}, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeInvalidNetworkField, HeaderLen + 2, nil}},
		},
		{
			name: "ADD-PATH NLRI and MP_REACH_NLRI well formed",
			rfc:  "RFC 7911 3",
			body: update(nil, wire(vBase, attr(fOpt, AttrMPReach, mpReach(IPv6Unicast, ip("2001:db8::1"), n32(7), pfx("2001:db8:1::/48")))), wire(n32(7), vRoute)),
			opts: DecodeOptions{ASN4: true, AddPath: []Family{IPv4Unicast, IPv6Unicast}}, act: ActionNone,
			keep: []check{nlri("198.51.100.0/24"), mpNLRI("2001:db8:1::/48"), pathID(7)},
		},
		{
			name: "VPN NLRI too short for its label and route distinguisher",
			rfc:  "RFC 7606 5.3",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach,
				mpReach(IPv4VPN, wire(make([]byte, 8), ip("192.0.2.1")), // next hop: RD 0, 192.0.2.1
					[]byte{80},               // prefix length 80: label (24) and RD (64) need 88
					[]byte{0x00, 0x10, 0x01}, // label 256, bottom of stack
					make([]byte, 8)))),       // RD
				nil),
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13 + 3 + 4 + 12 + 1,
				attr(fOpt, AttrMPReach, mpReach(IPv4VPN, wire(make([]byte, 8), ip("192.0.2.1")), []byte{80}, []byte{0x00, 0x10, 0x01}, make([]byte, 8)))}},
		},

		// Section 5.4: typed NLRI of an unknown type are not malformed.
		{
			name: "EVPN route of an unknown type",
			rfc:  "RFC 7606 5.4",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(L2VPNEVPN, ip("192.0.2.1"),
				[]byte{99, 2, 0xab, 0xcd}))), // route type 99, length 2, value
				nil),
			opts: as4, act: ActionNone,
			keep: []check{rawNLRI([]byte{99, 2, 0xab, 0xcd})},
		},
		{
			name: "EVPN route overruns the attribute",
			rfc:  "RFC 7606 5.3, 5.4",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(L2VPNEVPN, ip("192.0.2.1"),
				[]byte{2, 40, 0xab}))), // route type 2, length 40, 1 octet follows
				nil),
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13 + 3 + 4 + 4 + 1,
				attr(fOpt, AttrMPReach, mpReach(L2VPNEVPN, ip("192.0.2.1"), []byte{2, 40, 0xab}))}},
		},

		// Section 7.1: ORIGIN.
		{
			name: "ORIGIN of 2 octets",
			rfc:  "RFC 7606 7.1, 3(e)",
			body: update(nil, wire(attr(fWK, AttrOrigin, []byte{0, 0}), vPath, vNextHop), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, attrAt, attr(fWK, AttrOrigin, []byte{0, 0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrOrigin)},
		},
		{
			name: "ORIGIN of 0 octets",
			rfc:  "RFC 7606 7.1",
			body: update(nil, wire(attr(fWK, AttrOrigin), vPath, vNextHop), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, attrAt, attr(fWK, AttrOrigin)}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrOrigin)},
		},
		{
			name: "ORIGIN of undefined value",
			rfc:  "RFC 7606 7.1, RFC 4271 6.3",
			body: update(nil, wire(badOrigin, vPath, vNextHop), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeInvalidOrigin, attrAt, badOrigin}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrOrigin)},
		},

		// Section 7.2: AS_PATH (Malformed AS_PATH, RFC 4271 section 6.3).
		{
			name: "AS_PATH segment of unknown type",
			rfc:  "RFC 7606 7.2, RFC 4271 6.3",
			body: update(nil, wire(vOrigin, attr(fWK, AttrASPath, []byte{5, 1}, n32(65001)), vNextHop), vRoute), // segment type 5
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMalformedASPath, attrAt + 4, attr(fWK, AttrASPath, []byte{5, 1}, n32(65001))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrASPath)},
		},
		{
			name: "AS_PATH segment overruns the attribute",
			rfc:  "RFC 7606 7.2",
			body: update(nil, wire(vOrigin, attr(fWK, AttrASPath, []byte{byte(SegSequence), 2}, n32(65001)), vNextHop), vRoute), // 2 ASNs, 1 follows
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMalformedASPath, attrAt + 4, attr(fWK, AttrASPath, []byte{byte(SegSequence), 2}, n32(65001))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrASPath)},
		},
		{
			name: "AS_PATH with one octet after the last segment",
			rfc:  "RFC 7606 7.2",
			body: update(nil, wire(vOrigin, attr(fWK, AttrASPath, []byte{byte(SegSequence), 1}, n32(65001), []byte{byte(SegSet)}), vNextHop), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMalformedASPath, attrAt + 4, attr(fWK, AttrASPath, []byte{byte(SegSequence), 1}, n32(65001), []byte{byte(SegSet)})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrASPath)},
		},
		{
			name: "AS_PATH segment of length zero",
			rfc:  "RFC 7606 7.2",
			body: update(nil, wire(vOrigin, attr(fWK, AttrASPath, []byte{byte(SegSequence), 1}, n32(65001), []byte{byte(SegSet), 0}), vNextHop), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMalformedASPath, attrAt + 4, attr(fWK, AttrASPath, []byte{byte(SegSequence), 1}, n32(65001), []byte{byte(SegSet), 0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrASPath)},
		},
		{
			name: "AS_PATH of 4-octet ASNs on a 2-octet session",
			rfc:  "RFC 7606 7.2, RFC 6793 4.2.2",
			body: update(nil, wire(vOrigin, vPath, vNextHop), vRoute), // read as 2-octet: segment [0], then type 0xfd
			opts: as2, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeMalformedASPath, attrAt + 4, vPath}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrASPath)},
		},
		{
			name: "AS_PATH empty, and of several segment types",
			rfc:  "RFC 7606 7.2",
			body: update(nil, wire(vOrigin,
				attr(fWK, AttrASPath,
					[]byte{byte(SegConfedSequence), 1}, n32(64512), // AS_CONFED_SEQUENCE 64512
					[]byte{byte(SegSequence), 1}, n32(65001), // AS_SEQUENCE 65001
					[]byte{byte(SegSet), 2}, n32(65002), n32(65003)), // AS_SET {65002 65003}
				vNextHop), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{asPath("[{AS_CONFED_SEQUENCE [64512]} {AS_SEQUENCE [65001]} {AS_SET [65002 65003]}]")},
		},
		{
			name: "AS_PATH of length zero",
			rfc:  "RFC 7606 7.2, RFC 4271 5.1.2",
			body: update(nil, wire(vOrigin, attr(fWK, AttrASPath), vNextHop), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{has(AttrASPath), asPath("[]")},
		},

		// Section 7.3: NEXT_HOP.
		{
			name: "NEXT_HOP of 5 octets",
			rfc:  "RFC 7606 7.3, 3(e)",
			body: update(nil, wire(vOrigin, vPath, attr(fWK, AttrNextHop, ip("192.0.2.1"), []byte{0})), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, attrAt + 13, attr(fWK, AttrNextHop, ip("192.0.2.1"), []byte{0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrNextHop)},
		},
		{
			name: "NEXT_HOP of 16 octets",
			rfc:  "RFC 7606 7.3",
			body: update(nil, wire(vOrigin, vPath, attr(fWK, AttrNextHop, ip("2001:db8::1"))), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, attrAt + 13, attr(fWK, AttrNextHop, ip("2001:db8::1"))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrNextHop)},
		},
		{
			// RFC 4271 6.3's semantic checks (not a host address, the
			// receiver's own address) are the receiver's policy; a
			// collector records what was sent, and bgpwire says only
			// what is on the wire.
			name: "NEXT_HOP 0.0.0.0 is syntactically valid and kept",
			rfc:  "RFC 4271 6.3, RFC 7606 7.3",
			body: update(nil, wire(vOrigin, vPath, attr(fWK, AttrNextHop, ip("0.0.0.0"))), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{nlri("198.51.100.0/24"), has(AttrNextHop)},
		},
		{
			// RFC 4271 6.3's semantic checks (not a host address, the
			// receiver's own address) are the receiver's policy; a
			// collector records what was sent, and bgpwire says only
			// what is on the wire.
			name: "NEXT_HOP multicast is syntactically valid and kept",
			rfc:  "RFC 4271 6.3, RFC 7606 7.3",
			body: update(nil, wire(vOrigin, vPath, attr(fWK, AttrNextHop, ip("224.0.0.5"))), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{nlri("198.51.100.0/24"), has(AttrNextHop)},
		},
		{
			// RFC 4271 6.3's semantic checks (not a host address, the
			// receiver's own address) are the receiver's policy; a
			// collector records what was sent, and bgpwire says only
			// what is on the wire.
			name: "NEXT_HOP broadcast is syntactically valid and kept",
			rfc:  "RFC 4271 6.3, RFC 7606 7.3",
			body: update(nil, wire(vOrigin, vPath, attr(fWK, AttrNextHop, ip("255.255.255.255"))), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{nlri("198.51.100.0/24"), has(AttrNextHop)},
		},
		{
			// RFC 4271 6.3's semantic checks (not a host address, the
			// receiver's own address) are the receiver's policy; a
			// collector records what was sent, and bgpwire says only
			// what is on the wire.
			name: "NEXT_HOP loopback is syntactically valid and kept",
			rfc:  "RFC 4271 6.3, RFC 7606 7.3",
			body: update(nil, wire(vOrigin, vPath, attr(fWK, AttrNextHop, ip("127.0.0.1"))), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{nlri("198.51.100.0/24"), has(AttrNextHop)},
		},

		// Sections 7.4 and 7.5: MULTI_EXIT_DISC and LOCAL_PREF.
		{
			name: "MULTI_EXIT_DISC of 5 octets",
			rfc:  "RFC 7606 7.4, 3(e)",
			body: update(nil, wire(vBase, attr(fOpt, AttrMED, n32(1), []byte{0})), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrMED, n32(1), []byte{0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrMED)},
		},
		{
			name: "LOCAL_PREF of 0 octets",
			rfc:  "RFC 7606 7.5, 3(e)",
			body: update(nil, wire(vBase, attr(fWK, AttrLocalPref)), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fWK, AttrLocalPref)}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrLocalPref)},
		},
		{
			name: "LOCAL_PREF of 8 octets",
			rfc:  "RFC 7606 7.5",
			body: update(nil, wire(vBase, attr(fWK, AttrLocalPref, n32(100), n32(100))), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fWK, AttrLocalPref, n32(100), n32(100))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrLocalPref)},
		},

		{
			name: "LOCAL_PREF of 8 octets from an external neighbor",
			rfc:  "RFC 7606 7.5",
			body: update(nil, wire(vBase, attr(fWK, AttrLocalPref, n32(100), n32(100))), vRoute),
			opts: ext, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fWK, AttrLocalPref, n32(100), n32(100))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrLocalPref), has(AttrOrigin)},
		},
		{
			name: "LOCAL_PREF flagged optional from an external neighbor",
			rfc:  "RFC 7606 7.5, 3(c)",
			body: update(nil, wire(vBase, attr(fOpt, AttrLocalPref, n32(100))), vRoute),
			opts: ext, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeFlags, afterBase, attr(fOpt, AttrLocalPref, n32(100))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrLocalPref)},
		},
		{
			name: "MULTI_EXIT_DISC of 5 octets from an external neighbor",
			rfc:  "RFC 7606 7.4 (external or not)",
			body: update(nil, wire(vBase, attr(fOpt, AttrMED, n32(1), []byte{0})), vRoute),
			opts: ext, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrMED, n32(1), []byte{0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrMED)},
		},

		// Sections 7.6 and 7.7: ATOMIC_AGGREGATE and AGGREGATOR.
		{
			name: "ATOMIC_AGGREGATE of 1 octet",
			rfc:  "RFC 7606 7.6, 3(f)",
			body: update(nil, wire(vBase, attr(fWK, AttrAtomicAggregate, []byte{0}), comm), vRoute),
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fWK, AttrAtomicAggregate, []byte{0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAtomicAggregate), has(AttrOrigin, AttrASPath, AttrNextHop, AttrCommunities)},
		},
		{
			name: "AGGREGATOR of 6 octets on a 4-octet session",
			rfc:  "RFC 7606 7.7, 3(f)",
			body: update(nil, wire(vBase, attr(fOptT, AttrAggregator, n16(65001), ip("192.0.2.9"))), vRoute),
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOptT, AttrAggregator, n16(65001), ip("192.0.2.9"))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAggregator)},
		},
		{
			name: "AGGREGATOR of 8 octets on a 2-octet session",
			rfc:  "RFC 7606 7.7",
			body: update(nil, wire(vBase2, attr(fOptT, AttrAggregator, n32(65001), ip("192.0.2.9"))), vRoute),
			opts: as2, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, attrAt + len(vBase2), attr(fOptT, AttrAggregator, n32(65001), ip("192.0.2.9"))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAggregator)},
		},
		{
			name: "AGGREGATOR of 6 octets on a 2-octet session",
			rfc:  "RFC 7606 7.7",
			body: update(nil, wire(vBase2, attr(fOptT, AttrAggregator, n16(65001), ip("192.0.2.9"))), vRoute),
			opts: as2, act: ActionNone,
			keep: []check{aggregator(65001, "192.0.2.9")},
		},

		// Sections 7.8 to 7.10: COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST.
		{
			name: "COMMUNITIES of 5 octets",
			rfc:  "RFC 7606 7.8",
			body: update(nil, wire(vBase, attr(fOptT, AttrCommunities, n32(1), []byte{2})), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOptT, AttrCommunities, n32(1), []byte{2})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrCommunities)},
		},
		{
			name: "COMMUNITIES of 0 octets",
			rfc:  "RFC 7606 7.8",
			body: update(nil, wire(vBase, attr(fOptT, AttrCommunities)), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOptT, AttrCommunities)}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrCommunities)},
		},
		{
			name: "ORIGINATOR_ID of 5 octets",
			rfc:  "RFC 7606 7.9",
			body: update(nil, wire(vBase, attr(fOpt, AttrOriginatorID, ip("192.0.2.2"), []byte{0})), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrOriginatorID, ip("192.0.2.2"), []byte{0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrOriginatorID)},
		},
		{
			name: "CLUSTER_LIST of 6 octets",
			rfc:  "RFC 7606 7.10",
			body: update(nil, wire(vBase, attr(fOpt, AttrClusterList, ip("192.0.2.3"), []byte{0, 0})), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrClusterList, ip("192.0.2.3"), []byte{0, 0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrClusterList)},
		},
		{
			name: "ORIGINATOR_ID of 5 octets from an external neighbor",
			rfc:  "RFC 7606 7.9",
			body: update(nil, wire(vBase, attr(fOpt, AttrOriginatorID, ip("192.0.2.2"), []byte{0})), vRoute),
			opts: ext, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrOriginatorID, ip("192.0.2.2"), []byte{0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrOriginatorID)},
		},
		{
			name: "CLUSTER_LIST of 6 octets from an external neighbor",
			rfc:  "RFC 7606 7.10",
			body: update(nil, wire(vBase, attr(fOpt, AttrClusterList, ip("192.0.2.3"), []byte{0, 0})), vRoute),
			opts: ext, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrClusterList, ip("192.0.2.3"), []byte{0, 0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrClusterList)},
		},
		{
			name: "CLUSTER_LIST of 0 octets",
			rfc:  "RFC 7606 7.10",
			body: update(nil, wire(vBase, attr(fOpt, AttrClusterList)), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrClusterList)}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrClusterList)},
		},

		// Section 7.11: MP_REACH_NLRI (Optional Attribute Error, RFC 4760
		// section 7).
		{
			name: "MP_REACH_NLRI IPv6 next hop of 5 octets",
			rfc:  "RFC 7606 7.11",
			body: update(nil, wire(vOrigin, vPath, mpBadNH), nil),
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13, mpBadNH}},
			keep: []check{lacks(AttrMPReach)},
		},
		{
			name: "MP_REACH_NLRI VPN next hop without its RD",
			rfc:  "RFC 7606 7.11, RFC 4364 4.3.2",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(IPv4VPN, ip("192.0.2.1")))), nil), // next hop of 4 octets, no NLRI
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13, attr(fOpt, AttrMPReach, mpReach(IPv4VPN, ip("192.0.2.1")))}},
		},
		{
			name: "MP_REACH_NLRI next hop overruns the attribute",
			rfc:  "RFC 7606 7.11",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, n16(int(AFIIPv6)), []byte{1}, []byte{16}, make([]byte, 8))), nil), // next hop length 16, 8 octets follow
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13, attr(fOpt, AttrMPReach, n16(int(AFIIPv6)), []byte{1}, []byte{16}, make([]byte, 8))}},
		},
		{
			name: "MP_REACH_NLRI too short for its AFI and SAFI",
			rfc:  "RFC 7606 7.11, 3(j)",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, n16(int(AFIIPv6)))), nil), // AFI only
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13, attr(fOpt, AttrMPReach, n16(int(AFIIPv6)))}},
		},
		{
			name: "MP_REACH_NLRI global and link-local next hops",
			rfc:  "RFC 7606 7.11, RFC 2545 3",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(IPv6Unicast, wire(ip("2001:db8::1"), ip("fe80::1")), pfx("2001:db8:1::/48")))), nil),
			opts: as4, act: ActionNone,
			keep: []check{mpNLRI("2001:db8:1::/48")},
		},

		// Section 7.12: MP_UNREACH_NLRI.
		{
			name: "MP_UNREACH_NLRI too short for its AFI and SAFI",
			rfc:  "RFC 7606 7.12, 3(j)",
			body: update(nil, attr(fOpt, AttrMPUnreach, n16(int(AFIIPv6))), nil),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt, attr(fOpt, AttrMPUnreach, n16(int(AFIIPv6)))}},
		},

		// Section 7.13: the Traffic Engineering attribute (RFC 5543) has
		// no defined malformation; it is kept raw.
		{
			name: "TRAFFIC_ENGINEERING kept raw",
			rfc:  "RFC 7606 7.13",
			body: update(nil, wire(vBase, attr(fOpt, AttrTrafficEngineering, []byte{1, 0, 0, 0}, make([]byte, 32))), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{nlri("198.51.100.0/24"), other(AttrTrafficEngineering)},
		},

		// Sections 7.14 and 7.15: extended communities.
		{
			name: "EXTENDED_COMMUNITIES of 12 octets",
			rfc:  "RFC 7606 7.14",
			body: update(nil, wire(vBase, attr(fOptT, AttrExtCommunities, make([]byte, 12))), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOptT, AttrExtCommunities, make([]byte, 12))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrExtCommunities)},
		},
		{
			name: "EXTENDED_COMMUNITIES of 0 octets",
			rfc:  "RFC 7606 7.14",
			body: update(nil, wire(vBase, attr(fOptT, AttrExtCommunities)), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOptT, AttrExtCommunities)}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrExtCommunities)},
		},
		{
			name: "IPv6 address specific extended community of 21 octets",
			rfc:  "RFC 7606 7.15",
			body: update(nil, wire(vBase, attr(fOptT, AttrIPv6ExtCommunities, make([]byte, 21))), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOptT, AttrIPv6ExtCommunities, make([]byte, 21))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrIPv6ExtCommunities)},
		},

		// RFC 8092 section 6: LARGE_COMMUNITY.
		{
			name: "LARGE_COMMUNITY of 13 octets",
			rfc:  "RFC 8092 6",
			body: update(nil, wire(vBase, attr(fOptT, AttrLargeCommunity, n32(65001), n32(1), n32(2), []byte{3})), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOptT, AttrLargeCommunity, n32(65001), n32(1), n32(2), []byte{3})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrLargeCommunity)},
		},
		{
			name: "LARGE_COMMUNITY of 0 octets",
			rfc:  "RFC 8092 6",
			body: update(nil, wire(vBase, attr(fOptT, AttrLargeCommunity)), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOptT, AttrLargeCommunity)}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrLargeCommunity)},
		},

		// RFC 6793 section 6: malformed AS4_PATH and AS4_AGGREGATOR are
		// discarded; the 2-octet attributes are used alone.
		{
			name: "AS4_PATH segment of length zero",
			rfc:  "RFC 6793 6",
			body: update(nil, wire(vBase2, as4Path([]byte{byte(SegSequence), 0})), vRoute),
			opts: as2, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + len(vBase2), as4Path([]byte{byte(SegSequence), 0})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAS4Path), asPath("[{AS_SEQUENCE [65001]}]")},
		},
		{
			name: "AS4_PATH segment overruns the attribute",
			rfc:  "RFC 6793 6",
			body: update(nil, wire(vBase2, as4Path([]byte{byte(SegSequence), 1}, n16(1))), vRoute), // 1 ASN, 2 of 4 octets
			opts: as2, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + len(vBase2), as4Path([]byte{byte(SegSequence), 1}, n16(1))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAS4Path), asPath("[{AS_SEQUENCE [65001]}]")},
		},
		{
			name: "AS4_PATH with a confederation segment",
			rfc:  "RFC 6793 6",
			body: update(nil, wire(vBase2, as4Path([]byte{byte(SegConfedSequence), 1}, n32(4200000000))), vRoute),
			opts: as2, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + len(vBase2), as4Path([]byte{byte(SegConfedSequence), 1}, n32(4200000000))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAS4Path), asPath("[{AS_SEQUENCE [65001]}]")},
		},
		{
			name: "AS4_AGGREGATOR of 6 octets",
			rfc:  "RFC 6793 6",
			body: update(nil, wire(vBase2, as4Trans, attr(fOptT, AttrAS4Aggregator, n16(1), ip("192.0.2.9"))), vRoute),
			opts: as2, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, attrAt + len(vBase2) + len(as4Trans), attr(fOptT, AttrAS4Aggregator, n16(1), ip("192.0.2.9"))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAS4Aggregator), aggregator(ASTrans, "192.0.2.9")},
		},
		{
			name: "AS4_PATH and AS4_AGGREGATOR well formed",
			rfc:  "RFC 6793 4.2.3",
			body: update(nil, wire(vOrigin,
				attr(fWK, AttrASPath, []byte{byte(SegSequence), 2}, n16(65001), n16(ASTrans)), // AS_PATH 65001 AS_TRANS
				vNextHop, as4Trans,
				as4Path([]byte{byte(SegSequence), 1}, n32(4200000000)),                     // AS4_PATH 4200000000
				attr(fOptT, AttrAS4Aggregator, n32(4200000000), ip("192.0.2.9"))), vRoute), // AS4_AGGREGATOR
			opts: as2, act: ActionNone,
			keep: []check{asPath("[{AS_SEQUENCE [65001]} {AS_SEQUENCE [4200000000]}]"), aggregator(4200000000, "192.0.2.9")},
		},

		{
			name: "labeled unicast next hop of 12 octets",
			rfc:  "RFC 7606 7.11, RFC 8277 2",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(IPv4Labeled, wire(make([]byte, 8), ip("192.0.2.1"))))), nil),
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13, attr(fOpt, AttrMPReach, mpReach(IPv4Labeled, wire(make([]byte, 8), ip("192.0.2.1"))))}},
		},
		{
			name: "EVPN next hop of 5 octets",
			rfc:  "RFC 7606 7.11, RFC 7432 7",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(L2VPNEVPN, []byte{192, 0, 2, 1, 0}))), nil),
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13, attr(fOpt, AttrMPReach, mpReach(L2VPNEVPN, []byte{192, 0, 2, 1, 0}))}},
		},
		{
			name: "FlowSpec next hop of 0 octets",
			rfc:  "RFC 7606 7.11, RFC 8955 4",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(IPv4FlowSpec, nil,
				[]byte{5, 1, 24, 192, 0, 2}))), // NLRI length 5: destination prefix (type 1) 192.0.2.0/24
				nil),
			opts: as4, act: ActionNone,
			keep: []check{rawNLRI([]byte{5, 1, 24, 192, 0, 2})},
		},
		{
			name: "MVPN next hop of any length",
			rfc:  "RFC 7606 7.11",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(Family{AFIIPv4, SAFIMVPN}, make([]byte, 7)))), nil),
			opts: as4, act: ActionNone,
		},
		{
			name: "unknown family, next hop of any length",
			rfc:  "RFC 7606 7.11",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(Family{AFI(99), SAFI(7)}, make([]byte, 7), []byte{1, 2, 3}))), nil),
			opts: as4, act: ActionNone,
			keep: []check{rawNLRI([]byte{1, 2, 3})},
		},
		{
			name: "VPN NLRI well formed",
			rfc:  "RFC 7606 5.3, RFC 4364 4.3.4",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach,
				mpReach(IPv4VPN, wire(make([]byte, 8), ip("192.0.2.1")), // next hop: RD 0, 192.0.2.1
					[]byte{112},                          // prefix length 112: label (24), RD (64), 24 bits
					[]byte{0x00, 0x10, 0x01},             // label 256, bottom of stack
					[]byte{0, 0, 0xfd, 0xe9, 0, 0, 0, 1}, // RD 65001:1
					[]byte{198, 51, 100}))),              // 198.51.100.0/24
				nil),
			opts: as4, act: ActionNone,
			keep: []check{mpNLRI("198.51.100.0/24")},
		},
		{
			name: "labeled NLRI shorter than its label",
			rfc:  "RFC 7606 5.3",
			body: update(nil, wire(vOrigin, vPath, attr(fOpt, AttrMPReach, mpReach(IPv4Labeled, ip("192.0.2.1"),
				[]byte{16, 0x00, 0x10, 0x01}))), // prefix length 16: less than a label
				nil),
			opts: as4, act: ActionAFISAFIDisable,
			errs: []wantErr{{ActionAFISAFIDisable, CodeUpdateMessage, SubcodeOptionalAttribute, attrAt + 13 + 3 + 4 + 4 + 1,
				attr(fOpt, AttrMPReach, mpReach(IPv4Labeled, ip("192.0.2.1"), []byte{16, 0x00, 0x10, 0x01}))}},
		},
		{
			name: "ADD-PATH NLRI with a path identifier and no prefix",
			rfc:  "RFC 7606 5.3, RFC 7911 3",
			body: update(nil, vBase, n32(1)), // path id 1, then nothing
			opts: DecodeOptions{ASN4: true, AddPath: []Family{IPv4Unicast}}, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeInvalidNetworkField, afterBase, nil}},
		},
		{
			name: "ADD-PATH NLRI prefix overruns the message",
			rfc:  "RFC 7606 5.3, RFC 7911 3",
			body: update(nil, vBase, wire(n32(1), []byte{24, 198, 51})), // path id 1, a /24 with 2 of 3 octets
			opts: DecodeOptions{ASN4: true, AddPath: []Family{IPv4Unicast}}, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeInvalidNetworkField, afterBase, nil}},
		},

		// RFC 4271 section 6.3 cases RFC 7606 leaves alone, and optional
		// attribute errors of other RFCs.
		{
			name: "unrecognized well-known attribute",
			rfc:  "RFC 4271 6.3",
			body: update(nil, wire(vBase, attr(fWK, AttrCode(99), []byte{1, 2})), vRoute),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeUnrecognizedWellKnown, afterBase, attr(fWK, AttrCode(99), []byte{1, 2})}},
		},
		{
			name: "unrecognized optional non-transitive attribute",
			rfc:  "RFC 4271 5",
			body: update(nil, wire(vBase, attr(fOpt, AttrCode(99), []byte{1, 2})), vRoute),
			opts: as4, act: ActionNone,
			keep: []check{nlri("198.51.100.0/24"), other(AttrCode(99))},
		},
		{
			name: "AIGP TLV shorter than its header",
			rfc:  "RFC 4271 6.3, RFC 7311 3.1",
			body: update(nil, wire(vBase, attr(fOpt, AttrAIGP, []byte{1}, n16(2))), vRoute), // type 1, length 2
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeOptionalAttribute, afterBase, attr(fOpt, AttrAIGP, []byte{1}, n16(2))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAIGP)},
		},
		{
			name: "unrecognized well-known attribute of extended length",
			rfc:  "RFC 4271 6.3",
			body: update(nil, wire(vBase, attr(fWK|fExt, AttrCode(99), []byte{1, 2})), vRoute),
			opts: as4, act: ActionSessionReset,
			errs: []wantErr{{ActionSessionReset, CodeUpdateMessage, SubcodeUnrecognizedWellKnown, afterBase, attr(fWK|fExt, AttrCode(99), []byte{1, 2})}},
		},
		{
			name: "AIGP TLV overruns the attribute",
			rfc:  "RFC 7311 3.1",
			body: update(nil, wire(vBase, attr(fOpt, AttrAIGP, []byte{1}, n16(11), n32(1))), vRoute), // type 1, length 11, 4 of 8 octets
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeOptionalAttribute, afterBase, attr(fOpt, AttrAIGP, []byte{1}, n16(11), n32(1))}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrAIGP)},
		},
		{
			name: "AIGP metric of 4 octets",
			rfc:  "RFC 7311 3.1",
			body: update(nil, wire(vBase, attr(fOpt, AttrAIGP, []byte{1}, n16(7), n32(1))), vRoute), // type 1, length 7
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrAIGP, []byte{1}, n16(7), n32(1))}},
			keep: []check{lacks(AttrAIGP)},
		},
		{
			name: "AIGP metric twice",
			rfc:  "RFC 7311 3.1",
			body: update(nil, wire(vBase, attr(fOpt, AttrAIGP, []byte{1}, n16(11), n32(0), n32(1), []byte{1}, n16(11), n32(0), n32(2))), vRoute),
			opts: as4, act: ActionAttributeDiscard,
			errs: []wantErr{{ActionAttributeDiscard, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOpt, AttrAIGP, []byte{1}, n16(11), n32(0), n32(1), []byte{1}, n16(11), n32(0), n32(2))}},
			keep: []check{lacks(AttrAIGP)},
		},
		{
			name: "AIGP without a metric TLV is kept raw",
			rfc:  "RFC 7311 3",
			body: update(nil, wire(vBase, attr(fOpt, AttrAIGP, []byte{2}, n16(4), []byte{9})), vRoute), // type 2, length 4
			opts: as4, act: ActionNone,
			keep: []check{lacks(AttrAIGP), other(AttrAIGP)},
		},
		{
			name: "every attribute well formed",
			rfc:  "RFC 4271 5",
			body: update(nil, wire(vBase,
				attr(fOpt, AttrMED, n32(10)),                                  // MULTI_EXIT_DISC 10
				attr(fWK, AttrLocalPref, n32(100)),                            // LOCAL_PREF 100
				attr(fWK, AttrAtomicAggregate),                                // ATOMIC_AGGREGATE
				attr(fOptT, AttrAggregator, n32(65001), ip("192.0.2.9")),      // AGGREGATOR 65001 192.0.2.9
				attr(fOpt, AttrOriginatorID, ip("192.0.2.2")),                 // ORIGINATOR_ID
				attr(fOpt, AttrClusterList, ip("192.0.2.3"), ip("192.0.2.4")), // CLUSTER_LIST of 2
				attr(fOptT, AttrExtCommunities, make([]byte, 8)),              // EXTENDED_COMMUNITIES of 1
				attr(fOptT, AttrIPv6ExtCommunities, make([]byte, 20)),         // IPv6 extended community of 1
				attr(fOptT, AttrLargeCommunity, n32(65001), n32(1), n32(2)),   // LARGE_COMMUNITY 65001:1:2
				attr(fOptT, AttrOTC, n32(65001)),                              // OTC 65001
				attr(fOpt, AttrAIGP, []byte{1}, n16(11), n32(0), n32(5))),     // AIGP metric 5
				vRoute),
			opts: as4, act: ActionNone,
			keep: []check{nlri("198.51.100.0/24"), aggregator(65001, "192.0.2.9"), has(AttrMED, AttrLocalPref, AttrAtomicAggregate,
				AttrAggregator, AttrOriginatorID, AttrClusterList, AttrExtCommunities, AttrIPv6ExtCommunities, AttrLargeCommunity, AttrOTC, AttrAIGP)},
		},
		{
			name: "OTC of 3 octets",
			rfc:  "RFC 9234 5",
			body: update(nil, wire(vBase, attr(fOptT, AttrOTC, []byte{0, 0, 1})), vRoute),
			opts: as4, act: ActionTreatAsWithdraw,
			errs: []wantErr{{ActionTreatAsWithdraw, CodeUpdateMessage, SubcodeAttributeLength, afterBase, attr(fOptT, AttrOTC, []byte{0, 0, 1})}},
			keep: []check{nlri("198.51.100.0/24"), lacks(AttrOTC)},
		},
	}
}

func TestRFC7606(t *testing.T) {
	var used Update // decoded into again and again, as a session does
	for _, v := range rfc7606Vectors() {
		t.Run(v.name, func(t *testing.T) {
			t.Logf("%s: % x", v.rfc, v.body)
			var fresh Update
			checkVector(t, "fresh", &fresh, v)
			if err := used.Decode(updateBasic, &as4); err != nil {
				t.Fatal(err)
			}
			checkVector(t, "reused", &used, v)
		})
	}
}

func checkVector(t *testing.T, how string, u *Update, v vector7606) {
	t.Helper()
	err := u.Decode(v.body, &v.opts)
	if u.Action != v.act {
		t.Errorf("%s: action %v, want %v (%s); errors %v", how, u.Action, v.act, v.rfc, u.Errors)
	}
	if len(u.Errors) != len(v.errs) {
		t.Errorf("%s: %d errors %v, want %d", how, len(u.Errors), u.Errors, len(v.errs))
	}
	for i, e := range u.Errors[:min(len(u.Errors), len(v.errs))] {
		w := v.errs[i]
		if e.Action != w.act || e.Code != w.code || e.Subcode != w.sub || e.Offset != w.off || !bytes.Equal(e.Data, w.data) {
			t.Errorf("%s: error %d: %v, data % x\n\twant %v, notification %d/%d at byte %d, data % x",
				how, i, e, e.Data, w.act, w.code, w.sub, w.off, w.data)
		}
	}
	// Decode returns the first session-reset error, and only then.
	var de *Error
	switch {
	case v.act == ActionSessionReset && !errors.As(err, &de):
		t.Errorf("%s: Decode returned %v, want the session reset error", how, err)
	case v.act == ActionSessionReset:
		if i := slices.IndexFunc(u.Errors, func(e *Error) bool { return e.Action == ActionSessionReset }); i < 0 || u.Errors[i] != de {
			t.Errorf("%s: Decode returned %v, not the first session reset error of %v", how, de, u.Errors)
		}
	case err != nil:
		t.Errorf("%s: Decode returned %v, want nil: no NOTIFICATION for %v", how, err, v.act)
	}
	for _, c := range v.keep {
		if msg := c(u); msg != "" {
			t.Errorf("%s: %s", how, msg)
		}
	}
}

// TestRFC7606Attributes checks DecodeAttributes, the entry point for the
// attributes of MRT RIB entries, on the same rules: offsets count from
// the start of the attributes.
func TestRFC7606Attributes(t *testing.T) {
	for _, v := range []struct {
		name  string
		rfc   string
		attrs []byte
		act   Action
		off   int
	}{
		{"well formed", "RFC 4271 5", vBase, ActionNone, 0},
		{"MED of 3 octets", "RFC 7606 7.4", wire(vBase, attr(fOpt, AttrMED, []byte{0, 0, 1})), ActionTreatAsWithdraw, len(vBase)},
		{"MP_REACH_NLRI repeated", "RFC 7606 3(g)", wire(vMPReach, vMPReach), ActionSessionReset, len(vMPReach)},
		{"unrecognized well-known attribute", "RFC 4271 6.3", attr(fWK, AttrCode(99)), ActionSessionReset, 0},
	} {
		t.Run(v.name, func(t *testing.T) {
			var u Update
			err := u.DecodeAttributes(v.attrs, &as4)
			if u.Action != v.act || (err != nil) != (v.act == ActionSessionReset) {
				t.Fatalf("%s: action %v, error %v; want %v", v.rfc, u.Action, err, v.act)
			}
			if v.act != ActionNone && u.Errors[0].Offset != v.off {
				t.Errorf("%s: offset %d, want %d", v.rfc, u.Errors[0].Offset, v.off)
			}
		})
	}
}
