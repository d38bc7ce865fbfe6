package collector

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// wireUpdate is an UPDATE body split into its fields, each attribute
// whole (flags, type, length, value), so that a test can damage a
// well-formed UPDATE the encoder built.
type wireUpdate struct {
	withdrawn []byte
	attrs     [][]byte
	nlri      []byte
}

func splitUpdate(t *testing.T, body []byte) wireUpdate {
	t.Helper()
	w := int(binary.BigEndian.Uint16(body))
	u := wireUpdate{withdrawn: slices.Clone(body[2 : 2+w])}
	n := int(binary.BigEndian.Uint16(body[2+w:]))
	attrs := body[4+w : 4+w+n]
	for len(attrs) > 0 {
		hl, l := 3, int(attrs[2])
		if attrs[0]&bgpwire.FlagExtLength != 0 {
			hl, l = 4, int(binary.BigEndian.Uint16(attrs[2:]))
		}
		u.attrs = append(u.attrs, slices.Clone(attrs[:hl+l]))
		attrs = attrs[hl+l:]
	}
	u.nlri = slices.Clone(body[4+w+n:])
	return u
}

// body joins the fields again, with their lengths.
func (u *wireUpdate) body() []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(u.withdrawn)))
	b = append(b, u.withdrawn...)
	attrs := bytes.Join(u.attrs, nil)
	b = binary.BigEndian.AppendUint16(b, uint16(len(attrs)))
	b = append(b, attrs...)
	return append(b, u.nlri...)
}

// attr returns the index of the attribute with code c (-1 when absent).
func (u *wireUpdate) attr(c bgpwire.AttrCode) int {
	return slices.IndexFunc(u.attrs, func(a []byte) bool { return bgpwire.AttrCode(a[1]) == c })
}

// value returns the value of attribute c, which the caller may change in
// place.
func (u *wireUpdate) value(c bgpwire.AttrCode) []byte {
	a := u.attrs[u.attr(c)]
	if a[0]&bgpwire.FlagExtLength != 0 {
		return a[4:]
	}
	return a[3:]
}

// set replaces the value of attribute c, keeping its flags.
func (u *wireUpdate) set(c bgpwire.AttrCode, v []byte) {
	i := u.attr(c)
	u.attrs[i] = rawAttr(u.attrs[i][0]&^bgpwire.FlagExtLength, c, v)
}

// drop removes attribute c.
func (u *wireUpdate) drop(c bgpwire.AttrCode) {
	u.attrs = slices.Delete(u.attrs, u.attr(c), u.attr(c)+1)
}

// rawAttr encodes an attribute with any flags and value.
func rawAttr(flags uint8, c bgpwire.AttrCode, v []byte) []byte {
	if len(v) > 255 {
		return append(binary.BigEndian.AppendUint16([]byte{flags | bgpwire.FlagExtLength, byte(c)}, uint16(len(v))), v...)
	}
	return append([]byte{flags, byte(c), byte(len(v))}, v...)
}

// goodUpdate encodes, with bgpwire's encoder, an UPDATE announcing
// prefixes (IPv4 ones in the NLRI field, IPv6 ones in MP_REACH_NLRI) with
// ORIGIN IGP, AS_PATH asn 64500, MED 10, COMMUNITIES 65000:1, AGGREGATOR
// 64500 192.0.2.9 and ATOMIC_AGGREGATE, for a 4-octet AS session.
func goodUpdate(asn uint32, prefixes ...netip.Prefix) []byte {
	var u bgpwire.Update
	a := &u.Attrs
	a.Origin = 0
	a.ASPath = bgpwire.ASPath{{Type: bgpwire.SegSequence, ASNs: []uint32{asn, 64500}}}
	a.MED = 10
	a.Communities = []uint32{65000<<16 | 1}
	a.Aggregator = bgpwire.Aggregator{ASN: 64500, Address: netip.MustParseAddr("192.0.2.9")}
	for _, c := range []bgpwire.AttrCode{bgpwire.AttrOrigin, bgpwire.AttrASPath, bgpwire.AttrMED, bgpwire.AttrCommunities, bgpwire.AttrAggregator, bgpwire.AttrAtomicAggregate} {
		a.Set(c)
	}
	var v6 []bgpwire.NLRI
	for _, p := range prefixes {
		if p.Addr().Is4() {
			u.NLRI = append(u.NLRI, bgpwire.NLRI{Prefix: p})
		} else {
			v6 = append(v6, bgpwire.NLRI{Prefix: p})
		}
	}
	if len(u.NLRI) > 0 {
		a.NextHop = netip.MustParseAddr("192.0.2.1")
		a.Set(bgpwire.AttrNextHop)
	}
	if len(v6) > 0 {
		a.MPReach = bgpwire.MPReach{Family: bgpwire.IPv6Unicast, NextHop: netip.MustParseAddr("2001:db8::1"), NLRI: v6}
		a.Set(bgpwire.AttrMPReach)
	}
	return u.AppendBody(nil, &bgpwire.DecodeOptions{ASN4: true})
}

// case7606 is a malformed UPDATE and what the collector must make of it.
type case7606 struct {
	name   string
	rfc    string
	asn    uint32 // the peer's AS (the collector's is 65000: iBGP)
	v6     bool   // the routes are IPv6, in MP_REACH_NLRI
	damage func(u *wireUpdate)
	// raw, when set, damages the body the fields were joined into.
	raw func(b []byte)
	act bgpwire.Action
	// reason is in the UPDATE event's reason (treat-as-withdraw,
	// attribute discard) or the down event's (session reset).
	reason string
	// code and subcode of the NOTIFICATION (session reset); data, when
	// set, returns the NOTIFICATION's data from the damaged UPDATE.
	code, subcode uint8
	data          func(u *wireUpdate) []byte
	// attrs checks the attributes of an attribute-discard event;
	// changed says whether its path then differs from the well-formed
	// UPDATE's (the discarded attribute was one of them).
	attrs   func(ev *schema.Event) string
	changed bool
}

// keeps checks that an event has the attributes of goodUpdate but those
// named, with their values, and no others.
func keeps(but ...bgpwire.AttrCode) func(ev *schema.Event) string {
	return func(ev *schema.Event) string {
		var bad []string
		check := func(c bgpwire.AttrCode, has, ok bool) {
			if want := !slices.Contains(but, c); has != want || has && !ok {
				bad = append(bad, fmt.Sprintf("%s: present %v, want %v", c, has, want))
			}
		}
		check(bgpwire.AttrOrigin, ev.Origin != 0, ev.Origin == schema.OriginFromWire(0))
		check(bgpwire.AttrASPath, ev.Path != nil, len(ev.Path) == 1 && slices.Equal(ev.Path[0].ASNs, []uint32{ev.PeerASN, 64500}))
		check(bgpwire.AttrMED, ev.MED != nil, ev.MED != nil && *ev.MED == 10)
		check(bgpwire.AttrCommunities, ev.Community != nil, slices.Equal(ev.Community, []schema.Community{{65000, 1}}))
		check(bgpwire.AttrAggregator, ev.Aggregator != nil, ev.Aggregator != nil && *ev.Aggregator == schema.Aggregator{ASN: 64500, Address: netip.MustParseAddr("192.0.2.9")})
		check(bgpwire.AttrAtomicAggregate, ev.AtomicAggregate, true)
		if ev.LocalPref != nil || ev.OriginatorID.IsValid() || ev.ClusterList != nil || len(ev.OtherAttrs) > 0 {
			bad = append(bad, fmt.Sprintf("attributes the well-formed UPDATE lacks: local_pref %v, originator_id %v, cluster_list %v, others %v", ev.LocalPref, ev.OriginatorID, ev.ClusterList, ev.OtherAttrs))
		}
		return strings.Join(bad, "; ")
	}
}

func rfc7606Cases() []case7606 {
	const ebgp, ibgp = 65101, 65000
	add := func(a []byte) func(u *wireUpdate) { return func(u *wireUpdate) { u.attrs = append(u.attrs, a) } }
	return []case7606{
		// Treat-as-withdraw.
		{name: "ORIGIN value 3", rfc: "RFC 7606 7.1", asn: ebgp,
			damage: func(u *wireUpdate) { u.value(bgpwire.AttrOrigin)[0] = 3 },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute ORIGIN: value 3 at byte"},
		{name: "ORIGIN value 3, IPv6 routes", rfc: "RFC 7606 7.1", asn: ebgp, v6: true,
			damage: func(u *wireUpdate) { u.value(bgpwire.AttrOrigin)[0] = 3 },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute ORIGIN: value 3 at byte"},
		{name: "AS_PATH segment type 5", rfc: "RFC 7606 7.2", asn: ebgp,
			damage: func(u *wireUpdate) { u.value(bgpwire.AttrASPath)[0] = 5 },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute AS_PATH"},
		{name: "AS_PATH segment overrunning the attribute", rfc: "RFC 7606 7.2", asn: ebgp, v6: true,
			damage: func(u *wireUpdate) { u.value(bgpwire.AttrASPath)[1] = 9 },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute AS_PATH"},
		{name: "NEXT_HOP of 5 octets", rfc: "RFC 7606 7.3", asn: ebgp,
			damage: func(u *wireUpdate) { u.set(bgpwire.AttrNextHop, []byte{192, 0, 2, 1, 0}) },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute NEXT_HOP: length 5, want 4 at byte"},
		{name: "ORIGIN flagged optional", rfc: "RFC 7606 3(c)", asn: ebgp,
			damage: func(u *wireUpdate) { u.attrs[u.attr(bgpwire.AttrOrigin)][0] |= bgpwire.FlagOptional },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute ORIGIN: flags 0xc0, want 0x40"},
		{name: "COMMUNITIES of 3 octets", rfc: "RFC 7606 7.8", asn: ebgp,
			damage: func(u *wireUpdate) { u.set(bgpwire.AttrCommunities, []byte{0xfd, 0xe8, 0}) },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute COMMUNITIES: length 3"},
		{name: "MED of 2 octets", rfc: "RFC 7606 7.4", asn: ebgp, v6: true,
			damage: func(u *wireUpdate) { u.set(bgpwire.AttrMED, []byte{0, 10}) },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute MULTI_EXIT_DISC: length 2, want 4"},
		{name: "LOCAL_PREF of 3 octets from an internal peer", rfc: "RFC 7606 7.5", asn: ibgp,
			damage: add(rawAttr(0x40, bgpwire.AttrLocalPref, []byte{0, 0, 100})),
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute LOCAL_PREF: length 3, want 4"},
		{name: "ORIGINATOR_ID of 3 octets from an internal peer", rfc: "RFC 7606 7.9", asn: ibgp,
			damage: add(rawAttr(0x80, bgpwire.AttrOriginatorID, []byte{192, 0, 2})),
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute ORIGINATOR_ID: length 3, want 4"},
		{name: "last attribute overrunning the attributes", rfc: "RFC 7606 4", asn: ebgp,
			damage: func(u *wireUpdate) {
				last := u.attrs[len(u.attrs)-1]
				last[2] += 2 // its length now takes 2 octets of the NLRI; the total length still ends the attributes
			},
			act: bgpwire.ActionTreatAsWithdraw, reason: "length overruns the attributes"},

		// Attribute discard.
		{name: "AGGREGATOR of 5 octets", rfc: "RFC 7606 7.7", asn: ebgp,
			damage: func(u *wireUpdate) { u.set(bgpwire.AttrAggregator, []byte{0, 0, 0xfb, 0xf4, 192}) },
			act:    bgpwire.ActionAttributeDiscard, reason: "update: attribute AGGREGATOR: length 5, want 8",
			attrs: keeps(bgpwire.AttrAggregator), changed: true},
		{name: "ATOMIC_AGGREGATE of 1 octet", rfc: "RFC 7606 7.6", asn: ebgp, v6: true,
			damage: func(u *wireUpdate) { u.set(bgpwire.AttrAtomicAggregate, []byte{1}) },
			act:    bgpwire.ActionAttributeDiscard, reason: "update: attribute ATOMIC_AGGREGATE: length 1, want 0",
			attrs: keeps(bgpwire.AttrAtomicAggregate), changed: true},
		{name: "AGGREGATOR flagged transitive only", rfc: "RFC 7606 3(f), 7.7", asn: ebgp,
			damage: func(u *wireUpdate) { u.attrs[u.attr(bgpwire.AttrAggregator)][0] &^= bgpwire.FlagOptional },
			act:    bgpwire.ActionAttributeDiscard, reason: "update: attribute AGGREGATOR: flags 0x40, want 0xc0",
			attrs: keeps(bgpwire.AttrAggregator), changed: true},
		{name: "LOCAL_PREF of 3 octets from an external peer", rfc: "RFC 7606 7.5", asn: ebgp,
			damage: add(rawAttr(0x40, bgpwire.AttrLocalPref, []byte{0, 0, 100})),
			act:    bgpwire.ActionAttributeDiscard, reason: "update: attribute LOCAL_PREF: length 3, want 4",
			attrs: keeps()},
		{name: "ORIGINATOR_ID of 3 octets from an external peer", rfc: "RFC 7606 7.9", asn: ebgp,
			damage: add(rawAttr(0x80, bgpwire.AttrOriginatorID, []byte{192, 0, 2})),
			act:    bgpwire.ActionAttributeDiscard, reason: "update: attribute ORIGINATOR_ID: length 3, want 4",
			attrs: keeps()},
		{name: "CLUSTER_LIST of 5 octets from an external peer", rfc: "RFC 7606 7.10", asn: ebgp, v6: true,
			damage: add(rawAttr(0x80, bgpwire.AttrClusterList, []byte{192, 0, 2, 1, 0})),
			act:    bgpwire.ActionAttributeDiscard, reason: "update: attribute CLUSTER_LIST: length 5",
			attrs: keeps()},

		// Session reset.
		{name: "total path attribute length overrunning the message", rfc: "RFC 7606 4, RFC 4271 6.3", asn: ebgp,
			damage: func(*wireUpdate) {},
			raw: func(b []byte) {
				binary.BigEndian.PutUint16(b[2:], binary.BigEndian.Uint16(b[2:])+uint16(len(b)))
			},
			act: bgpwire.ActionSessionReset, reason: "update: path attribute length: truncated", code: 3, subcode: bgpwire.SubcodeMalformedAttributeList},
		{name: "withdrawn routes length overrunning the message", rfc: "RFC 4271 6.3", asn: ebgp, v6: true,
			damage: func(*wireUpdate) {},
			raw:    func(b []byte) { binary.BigEndian.PutUint16(b, uint16(len(b))) },
			act:    bgpwire.ActionSessionReset, reason: "update: withdrawn routes length: truncated", code: 3, subcode: bgpwire.SubcodeMalformedAttributeList},
		{name: "withdrawn prefix overrunning the withdrawn routes", rfc: "RFC 7606 5.3, RFC 4271 6.3", asn: ebgp,
			damage: func(u *wireUpdate) { u.withdrawn = []byte{24, 198, 51} },
			act:    bgpwire.ActionSessionReset, reason: "update: withdrawn routes: prefix: truncated", code: 3, subcode: bgpwire.SubcodeInvalidNetworkField},
		{name: "NLRI prefix length 33", rfc: "RFC 7606 5.3, RFC 4271 6.3", asn: ebgp,
			damage: func(u *wireUpdate) { u.nlri[0] = 33 },
			act:    bgpwire.ActionSessionReset, reason: "update: nlri: prefix: prefix length 33 exceeds 32", code: 3, subcode: bgpwire.SubcodeInvalidNetworkField},
		{name: "NLRI prefix overrunning the message", rfc: "RFC 7606 5.3, RFC 4271 6.3", asn: ebgp,
			damage: func(u *wireUpdate) { u.nlri = u.nlri[:len(u.nlri)-1] },
			act:    bgpwire.ActionSessionReset, reason: "update: nlri: prefix: truncated", code: 3, subcode: bgpwire.SubcodeInvalidNetworkField},
		{name: "MP_REACH_NLRI next hop of 5 octets", rfc: "RFC 7606 7.11 (the collector resets rather than disable the family)", asn: ebgp, v6: true,
			damage: func(u *wireUpdate) {
				v := u.value(bgpwire.AttrMPReach)
				u.set(bgpwire.AttrMPReach, append(append(slices.Clone(v[:3]), 5, 1, 2, 3, 4, 5, 0), v[4+16+1:]...))
			},
			act: bgpwire.ActionSessionReset, reason: "MP_REACH_NLRI ipv6/unicast: next hop: length 5 is not valid", code: 3, subcode: bgpwire.SubcodeOptionalAttribute},
		{name: "MP_REACH_NLRI prefix length 129", rfc: "RFC 7606 5.3", asn: ebgp, v6: true,
			damage: func(u *wireUpdate) { u.value(bgpwire.AttrMPReach)[4+16+1] = 129 },
			act:    bgpwire.ActionSessionReset, reason: "prefix length 129 exceeds 128", code: 3, subcode: bgpwire.SubcodeOptionalAttribute},
		{name: "MP_REACH_NLRI overrunning the attributes", rfc: "RFC 7606 5.1", asn: ebgp, v6: true,
			damage: func(u *wireUpdate) {
				u.attrs = append(u.attrs, u.attrs[u.attr(bgpwire.AttrMPReach)])
				u.drop(bgpwire.AttrMPReach) // the first: the copy is last
				u.attrs[len(u.attrs)-1][2] += 3
				u.nlri = []byte{0, 0, 0}
			},
			act: bgpwire.ActionSessionReset, reason: "MP_REACH_NLRI: length overruns the attributes", code: 3, subcode: bgpwire.SubcodeAttributeLength},
		{name: "unrecognized well-known attribute", rfc: "RFC 4271 6.3", asn: ebgp,
			damage: add(rawAttr(0x40, 99, []byte{1, 2})),
			act:    bgpwire.ActionSessionReset, reason: "unrecognized well-known attribute", code: 3, subcode: bgpwire.SubcodeUnrecognizedWellKnown,
			data: func(*wireUpdate) []byte { return rawAttr(0x40, 99, []byte{1, 2}) }},
		{name: "ORIGIN value 3 in an UPDATE without routes", rfc: "RFC 7606 5.2", asn: ebgp,
			damage: func(u *wireUpdate) { u.value(bgpwire.AttrOrigin)[0] = 3; u.withdrawn, u.nlri = u.nlri, nil },
			act:    bgpwire.ActionSessionReset, reason: "update: attribute ORIGIN: value 3", code: 3, subcode: bgpwire.SubcodeInvalidOrigin,
			data: func(u *wireUpdate) []byte { return u.attrs[u.attr(bgpwire.AttrOrigin)] }},

		// RFC 7606 section 3: repeated and missing attributes.
		{name: "MP_REACH_NLRI repeated", rfc: "RFC 7606 3(g)", asn: ebgp, v6: true,
			damage: func(u *wireUpdate) { u.attrs = append(u.attrs, u.attrs[u.attr(bgpwire.AttrMPReach)]) },
			act:    bgpwire.ActionSessionReset, reason: "MP_REACH_NLRI: attribute repeated", code: 3, subcode: bgpwire.SubcodeMalformedAttributeList},
		{name: "ORIGIN repeated with another value", rfc: "RFC 7606 3(g)", asn: ebgp,
			damage: add(rawAttr(0x40, bgpwire.AttrOrigin, []byte{2})),
			act:    bgpwire.ActionAttributeDiscard, reason: "update: attribute ORIGIN: attribute repeated",
			attrs: keeps()},
		{name: "AGGREGATOR repeated, the repeat malformed", rfc: "RFC 7606 3(g)", asn: ebgp, v6: true,
			damage: add(rawAttr(0xc0, bgpwire.AttrAggregator, []byte{1})),
			act:    bgpwire.ActionAttributeDiscard, reason: "update: attribute AGGREGATOR: attribute repeated",
			attrs: keeps()},
		{name: "ORIGIN missing", rfc: "RFC 7606 3(d)", asn: ebgp,
			damage: func(u *wireUpdate) { u.drop(bgpwire.AttrOrigin) },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute ORIGIN: missing well-known attribute"},
		{name: "AS_PATH missing, IPv6 routes", rfc: "RFC 7606 3(d)", asn: ebgp, v6: true,
			damage: func(u *wireUpdate) { u.drop(bgpwire.AttrASPath) },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute AS_PATH: missing well-known attribute"},
		{name: "NEXT_HOP missing", rfc: "RFC 7606 3(d), RFC 4760", asn: ebgp,
			damage: func(u *wireUpdate) { u.drop(bgpwire.AttrNextHop) },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute NEXT_HOP: missing well-known attribute"},
		{name: "no attributes at all", rfc: "RFC 7606 3(d)", asn: ebgp,
			damage: func(u *wireUpdate) { u.attrs = nil },
			act:    bgpwire.ActionTreatAsWithdraw, reason: "update: attribute ORIGIN: missing well-known attribute"},
	}
}

// TestRFC7606LiveSession: a speaker sends UPDATEs built with bgpwire's
// encoder and then damaged, one kind of damage per session, each after
// a well-formed UPDATE of the same routes, and the collector applies
// RFC 7606: treat-as-withdraw withdraws the routes (the event says why,
// the Adj-RIB-In drops them, the session stays up); attribute discard
// keeps the routes, without the attribute, as the same path; session
// reset sends the NOTIFICATION and records the session down with the
// reason.
func TestRFC7606LiveSession(t *testing.T) {
	rec := &recorder{}
	srv := startServerWith(t, rec, func(*Config) {})
	for i, c := range rfc7606Cases() {
		t.Run(c.name, func(t *testing.T) {
			t.Logf("%s", c.rfc)
			local := fmt.Sprintf("127.0.1.%d", 10+i)
			peer := netip.MustParseAddr(local)
			p := dialPeer(t, srv.Addr(), local, c.asn, bgpwire.MultiprotocolCapability(bgpwire.IPv6Unicast))
			defer p.conn.Close()
			var seq uint64
			if ev := rec.next(t, peer, schema.TypePeerState, &seq); ev.State != schema.StateConnected {
				t.Fatalf("first event %+v", ev)
			}
			fam := v4
			routes := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/25")}
			if c.v6 {
				fam = v6
				routes = []netip.Prefix{netip.MustParsePrefix("2001:db8:1::/48"), netip.MustParsePrefix("2001:db8:2::/56")}
			}
			good := goodUpdate(c.asn, routes...)
			p.sendUpdate(good)
			ev := rec.next(t, peer, schema.TypeUpdate, &seq)
			if len(ev.Announcements) != 1 || !slices.Equal(ev.Announcements[0].Prefixes, routes) || ev.Reason != "" {
				t.Fatalf("the well-formed UPDATE: %+v", ev)
			}
			if msg := keeps()(&ev); msg != "" {
				t.Fatalf("the well-formed UPDATE: %s", msg)
			}
			wantRoutes(t, "the well-formed UPDATE", ev, fc(fam, 2))

			w := splitUpdate(t, good)
			c.damage(&w)
			bad := w.body()
			if c.raw != nil {
				c.raw(bad)
			}
			t.Logf("damaged UPDATE: % x", bad)
			p.sendUpdate(bad)

			if c.act == bgpwire.ActionSessionReset {
				n, err := bgpwire.DecodeNotification(p.expect(bgpwire.MsgNotification))
				if err != nil {
					t.Fatal(err)
				}
				if n.Code != c.code || n.Subcode != c.subcode {
					t.Errorf("NOTIFICATION %s, want %d/%d", n, c.code, c.subcode)
				}
				if c.data != nil && !bytes.Equal(n.Data, c.data(&w)) {
					t.Errorf("NOTIFICATION data % x, want % x", n.Data, c.data(&w))
				}
				note := rec.next(t, peer, schema.TypeNotification, &seq)
				if note.Notification == nil || !note.Notification.Sent || note.Notification.Code != c.code || note.Notification.Subcode != c.subcode {
					t.Errorf("NOTIFICATION event %+v", note.Notification)
				}
				down := rec.next(t, peer, schema.TypePeerState, &seq)
				t.Logf("down: %s", down.Reason)
				if down.State != schema.StateDown || down.Notification == nil || down.Notification.Code != c.code || down.Notification.Subcode != c.subcode {
					t.Errorf("down event %+v", down)
				}
				if !strings.Contains(down.Reason, c.reason) || !strings.Contains(down.Reason, "session-reset") && !strings.Contains(down.Reason, "afi-safi-disable") {
					t.Errorf("down reason %q, want one with %q", down.Reason, c.reason)
				}
				wantRoutes(t, "down", down, fc(fam, 0))
				for _, e := range recorded(rec) {
					if e.Peer == peer && e.Type == schema.TypeUpdate && e.Seq > ev.Seq {
						t.Errorf("an UPDATE event for the message that reset the session: %+v", e)
					}
				}
				return
			}

			got := rec.next(t, peer, schema.TypeUpdate, &seq)
			t.Logf("reason: %s", got.Reason)
			if !strings.Contains(got.Reason, "RFC 7606 "+c.act.String()+": ") || !strings.Contains(got.Reason, c.reason) {
				t.Errorf("reason %q, want RFC 7606 %s with %q", got.Reason, c.act, c.reason)
			}
			switch c.act {
			case bgpwire.ActionTreatAsWithdraw:
				want := []schema.NLRISet{{Family: fam, Prefixes: routes}}
				if !reflect.DeepEqual(got.Withdrawn, want) || !slices.Equal(got.Withdrawals, routes) || len(got.Announcements) != 0 {
					t.Errorf("treat-as-withdraw: withdrawn %v (withdrawals %v), announcements %v; want %v withdrawn, nothing announced", got.Withdrawn, got.Withdrawals, got.Announcements, want)
				}
				if got.Path != nil || got.Origin != 0 || got.Community != nil || got.MED != nil {
					t.Errorf("treat-as-withdraw: attributes on the event: %+v", got)
				}
				wantRoutes(t, "treat-as-withdraw", got, fc(fam, 0))
			case bgpwire.ActionAttributeDiscard:
				if len(got.Announcements) != 1 || !slices.Equal(got.Announcements[0].Prefixes, routes) || got.Announcements[0].Family != fam || len(got.Withdrawn) != 0 {
					t.Errorf("attribute discard: announcements %v, withdrawn %v; want %v announced", got.Announcements, got.Withdrawn, routes)
				}
				if msg := c.attrs(&got); msg != "" {
					t.Errorf("attribute discard: %s", msg)
				}
				wantRoutes(t, "attribute discard", got, fc(fam, 2))
				dups, implicit := 2, 0 // the path without the attribute is the one the routes had
				if c.changed {
					dups, implicit = 0, 2 // the path lost one of its attributes
				}
				if int(got.Duplicates) != dups || int(got.ImplicitWithdrawals) != implicit {
					t.Errorf("attribute discard: %d duplicates, %d implicit withdrawals; want %d, %d", got.Duplicates, got.ImplicitWithdrawals, dups, implicit)
				}
			}

			// The session is up: the next UPDATE is applied.
			more := netip.MustParsePrefix("192.0.2.128/25")
			p.sendUpdate(goodUpdate(c.asn, more))
			after := rec.next(t, peer, schema.TypeUpdate, &seq)
			if !announces(&after, more.String()) || after.Reason != "" {
				t.Errorf("the UPDATE after the malformed one: %+v", after)
			}
			for _, e := range recorded(rec) {
				if e.Peer == peer && (e.Type == schema.TypeNotification || e.Type == schema.TypePeerState && e.State != schema.StateConnected) {
					t.Errorf("the session did not stay up: %+v", e)
				}
			}
		})
	}
}
