package bgpwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// DecodeOptions is the session context that changes how an UPDATE is
// decoded.
type DecodeOptions struct {
	// ASN4 is true when both speakers announced the 4-octet AS capability:
	// AS_PATH and AGGREGATOR carry 4-octet ASNs.
	ASN4 bool
	// AddPath lists the families for which path identifiers are received.
	AddPath []Family
	// RIBFamily is set when decoding the attributes of an MRT RIB entry
	// (RFC 6396 section 4.3.4) of that family: MP_REACH_NLRI may then be
	// abbreviated to the next hop length and next hop, and it carries no
	// NLRI. Both that form and the full attribute are accepted.
	RIBFamily Family
	// ExtendedNextHop is true when RFC 8950 extended next hop encoding was
	// negotiated. The decoder accepts IPv6 next hops for IPv4 NLRI either
	// way (MRT archives do not record the capability); the encoder uses
	// it to allow them.
	ExtendedNextHop bool
	// ExtendedMessage is true when RFC 8654 extended messages were
	// negotiated: messages may be up to 65535 bytes long.
	ExtendedMessage bool
	// External is true when the peer is an external neighbor (another
	// AS): RFC 7606 sections 7.5, 7.9 and 7.10 have a malformed
	// LOCAL_PREF, ORIGINATOR_ID or CLUSTER_LIST from one discarded
	// (attribute discard) rather than the UPDATE's routes withdrawn. A
	// well-formed one is kept: it is what the peer sent.
	External bool
}

// discardFromExternal says whether a malformed attribute c is discarded
// rather than treat-as-withdraw, because the peer is external.
func (o *DecodeOptions) discardFromExternal(c AttrCode) bool {
	return o != nil && o.External && (c == AttrLocalPref || c == AttrOriginatorID || c == AttrClusterList)
}

func (o *DecodeOptions) ribFamily() Family {
	if o == nil {
		return Family{}
	}
	return o.RIBFamily
}

func (o *DecodeOptions) asn4() bool { return o != nil && o.ASN4 }

func (o *DecodeOptions) addPath(f Family) bool {
	if o == nil || len(o.AddPath) == 0 {
		return false // the common case, kept inlinable
	}
	return slices.Contains(o.AddPath, f)
}

// MaxLen returns the largest message the options allow.
func (o *DecodeOptions) MaxLen() int {
	if o != nil && o.ExtendedMessage {
		return MaxExtMessageLen
	}
	return MaxMessageLen
}

// Update is a decoded UPDATE message. Decode into the same value again and
// again: its slices are reused, so the steady state allocates nothing.
type Update struct {
	// Withdrawn holds the IPv4 unicast routes of the withdrawn routes field.
	Withdrawn []NLRI
	Attrs     Attributes
	// NLRI holds the IPv4 unicast routes of the NLRI field.
	NLRI []NLRI

	// Action is the most severe RFC 7606 action that the errors found call
	// for (ActionNone when the message is well formed). Decode returns an
	// error only for ActionSessionReset; milder problems are listed in
	// Errors, and the message is still decoded as far as it can be.
	Action Action
	Errors []*Error

	opts *DecodeOptions
	// dropped lists the attributes on the wire that are not in
	// Attrs.present: malformed, discarded or kept raw. An attribute was
	// on the wire when it is in either.
	dropped [4]uint64
	rawKept bool // the attribute just decoded went to Attrs.Other
}

// IsEndOfRIB reports whether the UPDATE is an End-of-RIB marker
// (RFC 4724), and for which family: an empty UPDATE for IPv4 unicast, an
// UPDATE with nothing but an empty MP_UNREACH_NLRI for the others.
func (u *Update) IsEndOfRIB() (Family, bool) {
	if len(u.Withdrawn) != 0 || len(u.NLRI) != 0 || u.Action != ActionNone {
		return Family{}, false
	}
	if u.Attrs.present == [4]uint64{} {
		return IPv4Unicast, true
	}
	only := [4]uint64{}
	only[AttrMPUnreach>>6] = 1 << (AttrMPUnreach & 63)
	if u.Attrs.present == only && len(u.Attrs.MPUnreach.NLRI) == 0 {
		return u.Attrs.MPUnreach.Family, true
	}
	return Family{}, false
}

// ErrMissingAttribute is wrapped by errors about a missing well-known
// mandatory attribute.
var ErrMissingAttribute = errors.New("missing well-known attribute")

// Reset empties the UPDATE, keeping allocated storage.
func (u *Update) Reset() { u.reset() }

func (u *Update) reset() {
	u.Withdrawn = u.Withdrawn[:0]
	u.NLRI = u.NLRI[:0]
	// What decoding can have set: the common attributes' fields when
	// only those were on the wire, everything otherwise.
	a := &u.Attrs
	if w := a.present[0] | u.dropped[0]; w&^commonAttrs == 0 && a.present[1]|a.present[2]|a.present[3]|u.dropped[1]|u.dropped[2]|u.dropped[3] == 0 && len(a.Other) == 0 && slowPaths&fastReset == 0 {
		a.resetCommon(w)
	} else {
		a.reset()
	}
	u.Action = ActionNone
	u.Errors = u.Errors[:0]
	u.dropped = [4]uint64{}
	u.rawKept = false
}

// note records a non-fatal problem.
func (u *Update) note(e *Error) {
	u.Errors = append(u.Errors, e)
	if e.Action > u.Action {
		u.Action = e.Action
	}
}

// Decode decodes an UPDATE body (the message without its 19-byte header).
// On a session-reset class error it returns that error (an *Error) and u
// holds what was decoded before it. Offsets in errors count from the
// start of the message, header included.
//
// Decoding into a used Update reuses its storage and clears what the
// previous decode set; fields changed by hand without Attributes.Set may
// keep their values (Has still reports them absent) unless Reset is
// called first.
func (u *Update) Decode(body []byte, opt *DecodeOptions) error {
	const op = "update"
	u.reset()
	u.opts = opt
	// Withdrawn routes length (2), withdrawn routes, path attribute
	// length (2), path attributes, NLRI. Offsets count from the start of
	// the message.
	if len(body) < 2 {
		return u.fail(newError(op+": withdrawn routes length", HeaderLen, CodeUpdateMessage, SubcodeMalformedAttributeList, ActionSessionReset, ErrTruncated))
	}
	p := 2 + int(be16(body)) // the path attribute length
	if p > len(body) {
		return u.fail(newError(op+": withdrawn routes length", HeaderLen, CodeUpdateMessage, SubcodeMalformedAttributeList, ActionSessionReset, ErrTruncated))
	}
	var e *Error
	if p > 2 { // most UPDATEs withdraw nothing here
		if u.Withdrawn, e = u.decodeIPv4NLRI(u.Withdrawn, body[:p], 2, op+": withdrawn routes"); e != nil {
			return u.fail(e)
		}
	}
	if len(body)-p < 2 {
		return u.fail(newError(op+": path attribute length", HeaderLen+p, CodeUpdateMessage, SubcodeMalformedAttributeList, ActionSessionReset, ErrTruncated))
	}
	n := p + 2 + int(be16(body[p:])) // the NLRI
	if n > len(body) {
		return u.fail(newError(op+": path attribute length", HeaderLen+p, CodeUpdateMessage, SubcodeMalformedAttributeList, ActionSessionReset, ErrTruncated))
	}
	attrs := reader{b: body[p+2 : n], off: HeaderLen + p + 2}
	if e := u.decodeAttributes(attrs, opt); e != nil {
		return u.fail(e)
	}
	if n < len(body) {
		if u.NLRI, e = u.decodeIPv4NLRI(u.NLRI, body, n, op+": nlri"); e != nil {
			return u.fail(e)
		}
	}
	u.checkMandatory(attrs.off)
	if u.Action == ActionTreatAsWithdraw || u.Action == ActionAFISAFIDisable {
		u.checkNoReach()
	}
	return u.resetError()
}

// checkNoReach applies RFC 7606 section 5.2: when an UPDATE has path
// attributes other than MP_UNREACH_NLRI but announces no routes, its
// NLRI cannot be known to have been parsed, so an error that calls for
// more than attribute discard calls for a session reset.
func (u *Update) checkNoReach() {
	a := &u.Attrs
	const mpReach = uint64(1) << AttrMPReach
	if len(u.NLRI) > 0 || (a.present[0]|u.dropped[0])&mpReach != 0 && (len(a.MPReach.NLRI) > 0 || !a.Has(AttrMPReach)) {
		return // routes announced (or a malformed MP_REACH_NLRI meant to)
	}
	others := false
	for i := range a.present {
		w := a.present[i] | u.dropped[i]
		if i == 0 {
			w &^= 1 << AttrMPUnreach
		}
		others = others || w != 0
	}
	for _, e := range u.Errors {
		// Only an attribute other than MP_UNREACH_NLRI (perhaps one
		// that overran the attributes) calls for treat-as-withdraw.
		others = others || e.Action == ActionTreatAsWithdraw
	}
	if !others {
		return
	}
	for _, e := range u.Errors {
		if e.Action > ActionAttributeDiscard {
			e.Action = ActionSessionReset
		}
	}
	u.Action = ActionSessionReset
}

// decodeIPv4NLRI decodes the IPv4 unicast routes in body[start:] (the
// withdrawn routes or NLRI field; body is the message after its header).
// Without ADD-PATH it calls the prefix decoder directly: the general
// NLRI decoder's arguments cost more than decoding a prefix.
func (u *Update) decodeIPv4NLRI(dst []NLRI, body []byte, start int, op string) ([]NLRI, *Error) {
	addPath := u.opts.addPath(IPv4Unicast)
	if !addPath && slowPaths&fastNLRI == 0 {
		dst, bad, ok := decodePrefixes(dst, body, start, 4)
		if !ok {
			return dst, prefixError(body, bad, HeaderLen, 4, op)
		}
		return dst, nil
	}
	return decodeNLRIsFrom(dst, body, start, HeaderLen+start, IPv4Unicast, addPath, op)
}

// resetError returns the first session-reset class error noted while the
// rest of the message could still be decoded.
func (u *Update) resetError() error {
	if u.Action == ActionSessionReset {
		for _, e := range u.Errors {
			if e.Action == ActionSessionReset {
				return e
			}
		}
	}
	return nil
}

// DecodeAttributes decodes a bare path attributes section, as found in MRT
// RIB entries, into u.Attrs (u's NLRI and withdrawals are emptied). Errors
// are reported as by Decode, with offsets relative to b.
func (u *Update) DecodeAttributes(b []byte, opt *DecodeOptions) error {
	u.reset()
	u.opts = opt
	if e := u.decodeAttributes(newReader(b, 0), opt); e != nil {
		return u.fail(e)
	}
	return u.resetError()
}

func (u *Update) fail(e *Error) error {
	u.note(e)
	return e
}

// checkMandatory applies RFC 7606 section 3 (d): a missing well-known
// mandatory attribute makes the UPDATE treat-as-withdraw when it
// announces routes. NEXT_HOP is mandatory only with routes in the NLRI
// field (RFC 4760).
func (u *Update) checkMandatory(off int) {
	const all = 1<<AttrOrigin | 1<<AttrASPath | 1<<AttrNextHop
	if u.Attrs.present[0]&all == all {
		return // the common case, kept inlinable
	}
	u.checkMissing(off)
}

func (u *Update) checkMissing(off int) {
	a := &u.Attrs
	reach := len(u.NLRI) > 0 || (a.Has(AttrMPReach) && len(a.MPReach.NLRI) > 0)
	if !reach {
		return
	}
	missing := func(c AttrCode) {
		e := newError("update: attribute "+c.String(), off, CodeUpdateMessage, SubcodeMissingWellKnown, ActionTreatAsWithdraw, ErrMissingAttribute)
		e.Data = []byte{byte(c)}
		u.note(e)
	}
	seen := func(c AttrCode) bool { return (a.present[c>>6]|u.dropped[c>>6])&(1<<(c&63)) != 0 }
	if !seen(AttrOrigin) {
		missing(AttrOrigin)
	}
	if !seen(AttrASPath) {
		missing(AttrASPath)
	}
	if len(u.NLRI) > 0 && !seen(AttrNextHop) {
		missing(AttrNextHop)
	}
}

// decodeAttributes decodes the path attributes section. It returns an
// error only for problems of the session-reset class.
//
// The loop has a fast path for the attributes nearly every UPDATE and RIB
// entry carries, well formed and seen for the first time; anything else,
// and any attribute that fails a check of the fast path, goes through
// decodeAttributeAt, which applies every check of RFC 7606. (Its switch
// for tests is fastAttrFlags, which costs no instruction of its own.)
func (u *Update) decodeAttributes(r reader, opt *DecodeOptions) *Error {
	a := &u.Attrs
	asn4 := opt.asn4()
	aggLen := 6
	if asn4 {
		aggLen = 8
	}
	// i indexes b rather than b being resliced: fewer instructions.
	b, base := r.b, r.off
	for i := 0; i < len(b); {
		if len(b)-i >= 4 {
			hdr := binary.BigEndian.Uint32(b[i : i+4]) // flags, type, length (1 or 2 octets)
			flags, c := uint8(hdr>>24), AttrCode(hdr>>16)
			hl, l := 3, int(hdr>>8&0xff)
			if flags&FlagExtLength != 0 {
				hl, l = 4, int(hdr&0xffff)
			}
			end := i + hl + l
			bit := uint64(1) << (c & 63) // the fast path's codes are all below 64
			if end <= len(b) && c < 64 && (a.present[0]|u.dropped[0])&bit == 0 && flags&(FlagOptional|FlagTransitive) == fastAttrFlags[c] {
				v := b[i+hl : end]
				ok := false
				switch c {
				case AttrOrigin:
					if ok = l == 1 && v[0] <= 2; ok {
						a.Origin = v[0]
					}
				case AttrASPath:
					ok = decodeASPath(v, asn4, &a.pathSegs, &a.asnBuf) == nil
					a.ASPath = a.pathSegs
				case AttrNextHop:
					if ok = l == 4; ok {
						a.NextHop = netip.AddrFrom4([4]byte(v))
					}
				case AttrMED:
					if ok = l == 4; ok {
						a.MED = be32(v)
					}
				case AttrLocalPref:
					if ok = l == 4; ok {
						a.LocalPref = be32(v)
					}
				case AttrAtomicAggregate:
					ok = l == 0
				case AttrAggregator:
					if ok = l == aggLen; ok {
						if asn4 {
							a.Aggregator.ASN = be32(v)
						} else {
							a.Aggregator.ASN = uint32(be16(v))
						}
						a.Aggregator.Address = netip.AddrFrom4([4]byte(v[l-4:]))
					}
				case AttrCommunities:
					if ok = l%4 == 0 && l > 0; ok {
						a.Communities = appendBE32s(a.Communities, v)
					}
				case AttrMPReach:
					// On an error the general path decodes it again.
					ok = u.decodeMPReach(reader{b: v, off: base + i + hl}, base+i) == nil
				case AttrMPUnreach:
					ok = u.decodeMPUnreach(reader{b: v, off: base + i + hl}, base+i) == nil
				}
				if ok {
					a.present[0] |= bit
					a.wire = append(a.wire, attrMeta{code: c, flags: flags})
					i = end
					continue
				}
			}
		}
		n, e := u.decodeAttributeAt(b[i:], base+i, asn4)
		if e != nil {
			return e
		}
		if n == 0 {
			break // the rest of the section cannot be used
		}
		i += n
	}
	// RFC 6793 section 4.2.3: a 2-octet session carries 4-octet ASNs in
	// AS4_PATH and AS4_AGGREGATOR. When AGGREGATOR holds an AS other than
	// AS_TRANS, both AS4 attributes are ignored.
	if !asn4 {
		ignore := a.Has(AttrAggregator) && a.Aggregator.ASN != ASTrans
		if a.Has(AttrAS4Aggregator) && a.Has(AttrAggregator) && !ignore {
			a.wireAggregator = a.Aggregator
			a.Aggregator = a.AS4Aggregator
		}
		if a.Has(AttrAS4Path) && a.Has(AttrASPath) && !ignore {
			a.mergeAS4Path()
		}
	}
	return nil
}

// decodeAttributeAt decodes the attribute at the start of b, which is at
// offset start of the message, with every check of RFC 7606. It returns
// the number of bytes the attribute takes, or 0 when the rest of the
// attributes cannot be used (the problem is noted), and an error only for
// problems of the session-reset class.
func (u *Update) decodeAttributeAt(b []byte, start int, asn4 bool) (int, *Error) {
	a := &u.Attrs
	if len(b) < 3 {
		// RFC 7606 section 4: a trailing fragment too short for a header.
		u.note(newError("update: attribute header", start, CodeUpdateMessage, SubcodeMalformedAttributeList, ActionTreatAsWithdraw, ErrTruncated))
		return 0, nil
	}
	flags, c := b[0], AttrCode(b[1])
	hl, l := 3, int(b[2])
	if flags&FlagExtLength != 0 {
		hl = 4
		if len(b) >= 4 {
			l = l<<8 | int(b[3])
		}
	}
	if hl+l > len(b) {
		// RFC 7606 section 4: the attribute overruns the attributes
		// field; the NLRI field can still be located.
		e := newError(attrOp(c), start, CodeUpdateMessage, SubcodeAttributeLength, ActionTreatAsWithdraw, fmt.Errorf("length overruns the attributes: %w", ErrTruncated))
		if c == AttrMPReach || c == AttrMPUnreach {
			// The MP NLRI cannot be located: RFC 7606 section 5.1.
			e.Action = ActionSessionReset
			return 0, e
		}
		u.note(e)
		return 0, nil
	}
	n := hl + l
	v := reader{b: b[hl:n], off: start + hl}
	raw := b[:n]
	w, bit := c>>6, uint64(1)<<(c&63)
	if (a.present[w]|u.dropped[w])&bit != 0 {
		// RFC 7606 section 3 (g).
		if c == AttrMPReach || c == AttrMPUnreach {
			return 0, withData(errorf(attrOp(c), start, CodeUpdateMessage, SubcodeMalformedAttributeList, ActionSessionReset, "attribute repeated"), nil)
		}
		u.note(errorf(attrOp(c), start, CodeUpdateMessage, SubcodeMalformedAttributeList, ActionAttributeDiscard, "attribute repeated"))
		return n, nil
	}
	u.dropped[w] |= bit // until it is decoded
	if want, known := wantFlags(c); known && flags&(FlagOptional|FlagTransitive) != want {
		// RFC 7606 section 3 (c): treat-as-withdraw; for the MP
		// attributes the routes cannot be withdrawn without them.
		e := withData(errorf(attrOp(c), start, CodeUpdateMessage, SubcodeAttributeFlags, ActionTreatAsWithdraw, "flags 0x%02x, want 0x%02x", flags&(FlagOptional|FlagTransitive), want), raw)
		switch c {
		case AttrMPReach, AttrMPUnreach:
			e.Action = ActionSessionReset
			return 0, e
		case AttrAtomicAggregate, AttrAggregator, AttrAS4Path, AttrAS4Aggregator, AttrAIGP:
			// RFC 7606 section 3 (f) (and 7.6, 7.7), RFC 6793 section 6,
			// RFC 7311: these attributes are discarded when malformed,
			// flags included.
			e.Action = ActionAttributeDiscard
		default:
			if u.opts.discardFromExternal(c) {
				e.Action = ActionAttributeDiscard
			}
		}
		u.note(e)
		return n, nil
	}
	u.rawKept = false
	if e := u.decodeAttribute(flags, c, v, asn4, start); e != nil {
		if e.Data == nil && e.Code == CodeUpdateMessage && e.Subcode != SubcodeInvalidNetworkField {
			withData(e, raw)
		}
		if e.Action == ActionSessionReset {
			return 0, e
		}
		if e.Action == ActionTreatAsWithdraw && u.opts.discardFromExternal(c) {
			e.Action = ActionAttributeDiscard
		}
		u.note(e)
		return n, nil
	}
	if !u.rawKept {
		a.present[w] |= bit
		u.dropped[w] &^= bit
	}
	a.wire = append(a.wire, attrMeta{code: c, flags: flags})
	return n, nil
}

// withData sets the NOTIFICATION data of an attribute error to the
// attribute as it was on the wire (RFC 4271 section 6.3).
func withData(e *Error, attr []byte) *Error {
	if attr != nil {
		e.Data = append([]byte(nil), attr...)
	}
	return e
}

// attrOp names an attribute in error messages. It is called only when an
// error is built, so the well-formed path does not build strings.
func attrOp(c AttrCode) string { return "update: attribute " + c.String() }

// lenError is an attribute length error with the given action.
func lenError(c AttrCode, off int, act Action, got int, want string) *Error {
	return errorf(attrOp(c), off, CodeUpdateMessage, SubcodeAttributeLength, act, "length %d, want %s", got, want)
}

// decodeAttribute decodes one attribute value. The RFC 7606 action of
// each malformation is that of the attribute's section in RFC 7606 (or of
// the attribute's own RFC where RFC 7606 is silent).
func (u *Update) decodeAttribute(flags uint8, c AttrCode, v reader, asn4 bool, off int) *Error {
	a := &u.Attrs
	b := v.b
	switch c {
	case AttrOrigin: // RFC 7606 7.1
		if len(b) != 1 {
			return lenError(c, off, ActionTreatAsWithdraw, len(b), "1")
		}
		if b[0] > 2 {
			return errorf(attrOp(c), off, CodeUpdateMessage, SubcodeInvalidOrigin, ActionTreatAsWithdraw, "value %d", b[0])
		}
		a.Origin = b[0]
	case AttrASPath: // RFC 7606 7.2
		var err error
		err = decodeASPath(b, asn4, &a.pathSegs, &a.asnBuf)
		a.ASPath = a.pathSegs
		if err != nil {
			return newError(attrOp(c), off, CodeUpdateMessage, SubcodeMalformedASPath, ActionTreatAsWithdraw, err)
		}
	case AttrAS4Path: // RFC 6793 section 6: attribute discard
		var err error
		err = decodeASPath(b, true, &a.AS4Path, &a.as4Buf)
		if err == nil && a.AS4Path.hasConfed() {
			err = errors.New("confederation segment in AS4_PATH")
		}
		if err != nil {
			a.AS4Path = a.AS4Path[:0]
			return newError(attrOp(c), off, CodeUpdateMessage, SubcodeOptionalAttribute, ActionAttributeDiscard, err)
		}
	case AttrNextHop: // RFC 7606 7.3
		if len(b) != 4 {
			return lenError(c, off, ActionTreatAsWithdraw, len(b), "4")
		}
		// RFC 4271 section 6.3's semantic checks (a next hop that is
		// not a host address, or the receiver's own) are a receiver's
		// policy, not syntax: a collector records what the peer sent,
		// 0.0.0.0 and loopback next hops included.
		a.NextHop = netip.AddrFrom4([4]byte(b))
	case AttrMED, AttrLocalPref, AttrOTC: // RFC 7606 7.4, 7.5; RFC 9234 section 5
		if len(b) != 4 {
			return lenError(c, off, ActionTreatAsWithdraw, len(b), "4")
		}
		switch c {
		case AttrMED:
			a.MED = be32(b)
		case AttrLocalPref:
			a.LocalPref = be32(b)
		default:
			a.OTC = be32(b)
		}
	case AttrAtomicAggregate: // RFC 7606 7.6
		if len(b) != 0 {
			return lenError(c, off, ActionAttributeDiscard, len(b), "0")
		}
	case AttrAggregator, AttrAS4Aggregator: // RFC 7606 7.7, RFC 6793 section 6
		w := 4
		if c == AttrAggregator && !asn4 {
			w = 2
		}
		if len(b) != w+4 {
			return lenError(c, off, ActionAttributeDiscard, len(b), fmt.Sprint(w+4))
		}
		var ag Aggregator
		if w == 4 {
			ag.ASN = be32(b)
		} else {
			ag.ASN = uint32(be16(b))
		}
		ag.Address = netip.AddrFrom4([4]byte(b[w:]))
		if c == AttrAggregator {
			a.Aggregator = ag
		} else {
			a.AS4Aggregator = ag
		}
	case AttrCommunities: // RFC 7606 7.8
		if len(b)%4 != 0 || len(b) == 0 {
			return lenError(c, off, ActionTreatAsWithdraw, len(b), "a non-zero multiple of 4")
		}
		a.Communities = appendBE32s(a.Communities, b)
	case AttrOriginatorID: // RFC 7606 7.9
		if len(b) != 4 {
			return lenError(c, off, ActionTreatAsWithdraw, len(b), "4")
		}
		a.OriginatorID = netip.AddrFrom4([4]byte(b))
	case AttrClusterList: // RFC 7606 7.10
		if len(b)%4 != 0 || len(b) == 0 {
			return lenError(c, off, ActionTreatAsWithdraw, len(b), "a non-zero multiple of 4")
		}
		dst := grow(&a.ClusterList, len(b)/4)
		for k := range dst {
			dst[k] = netip.AddrFrom4([4]byte(b[4*k:]))
		}
	case AttrExtCommunities: // RFC 7606 7.14
		if len(b)%8 != 0 || len(b) == 0 {
			return lenError(c, off, ActionTreatAsWithdraw, len(b), "a non-zero multiple of 8")
		}
		dst := grow(&a.ExtCommunities, len(b)/8)
		for k := range dst {
			dst[k] = [8]byte(b[8*k:])
		}
	case AttrIPv6ExtCommunities: // RFC 7606 7.15
		if len(b)%20 != 0 || len(b) == 0 {
			return lenError(c, off, ActionTreatAsWithdraw, len(b), "a non-zero multiple of 20")
		}
		for i := 0; i < len(b); i += 20 {
			a.IPv6ExtCommunities = append(a.IPv6ExtCommunities, [20]byte(b[i:i+20]))
		}
	case AttrLargeCommunity: // RFC 8092 section 6
		if len(b)%12 != 0 || len(b) == 0 {
			return lenError(c, off, ActionTreatAsWithdraw, len(b), "a non-zero multiple of 12")
		}
		dst := grow(&a.LargeCommunities, len(b)/12)
		for k := range dst {
			s := b[12*k : 12*k+12]
			dst[k] = [3]uint32{binary.BigEndian.Uint32(s), binary.BigEndian.Uint32(s[4:]), binary.BigEndian.Uint32(s[8:])}
		}
	case AttrAIGP: // RFC 7311 section 6: attribute discard
		// TLVs; type 1 carries the 8-octet metric.
		found := false
		for t := v; !t.empty(); {
			var typ uint8
			var l uint16
			if !t.u8(&typ) || !t.u16(&l) || l < 3 {
				return newError(attrOp(c), off, CodeUpdateMessage, SubcodeOptionalAttribute, ActionAttributeDiscard, ErrTruncated)
			}
			val, ok := t.read(int(l) - 3)
			if !ok {
				return newError(attrOp(c), off, CodeUpdateMessage, SubcodeOptionalAttribute, ActionAttributeDiscard, ErrTruncated)
			}
			if typ == 1 {
				if len(val) != 8 || found {
					return lenError(c, off, ActionAttributeDiscard, len(val), "one AIGP TLV of 8")
				}
				found = true
				a.AIGP = uint64(be32(val))<<32 | uint64(be32(val[4:]))
			}
		}
		if !found {
			// Keep what we cannot represent rather than lose it.
			a.addOther(flags, c, b)
			u.rawKept = true
		}
	case AttrMPReach:
		return u.decodeMPReach(v, off)
	case AttrMPUnreach:
		return u.decodeMPUnreach(v, off)
	default:
		a.addOther(flags, c, b)
		if flags&FlagOptional == 0 {
			// RFC 4271 section 6.3 (not revised by RFC 7606). The
			// attribute is delimited, so the rest of the message is still
			// decoded; Decode returns this error at the end.
			// The data is the attribute (type, length, value), rebuilt
			// from its fields as it was on the wire.
			raw := []byte{flags, byte(c)}
			if flags&FlagExtLength != 0 {
				raw = appendU16(raw, uint16(len(b)))
			} else {
				raw = append(raw, byte(len(b)))
			}
			u.note(withData(errorf(attrOp(c), off, CodeUpdateMessage, SubcodeUnrecognizedWellKnown, ActionSessionReset, "unrecognized well-known attribute"), append(raw, b...)))
		}
	}
	return nil
}

// setBytes makes *dst a copy of b, reusing its storage. The usual next
// hop lengths are copied without a call.
func setBytes(dst *[]byte, b []byte) {
	d := (*dst)[:0]
	if cap(d) < len(b) {
		d = make([]byte, 0, max(len(b), 48))
	}
	d = d[:len(b)]
	switch len(b) {
	case 4:
		*(*[4]byte)(d) = [4]byte(b)
	case 16:
		*(*[16]byte)(d) = [16]byte(b)
	case 32:
		*(*[32]byte)(d) = [32]byte(b)
	default:
		copy(d, b)
	}
	*dst = d
}

// extend adds an element to *s and returns it. Spare capacity is reused
// with what the slot held (storage the caller may want to keep), so the
// caller sets every field.
func extend[T any](s *[]T) *T {
	n := len(*s)
	if n < cap(*s) {
		*s = (*s)[:n+1]
	} else {
		var zero T
		*s = append(*s, zero)
	}
	return &(*s)[n]
}

// grow extends *s by n elements and returns them, for decoding a list
// in place rather than appending element by element.
func grow[T any](s *[]T, n int) []T {
	l := len(*s)
	*s = slices.Grow(*s, n)[:l+n]
	return (*s)[l:]
}

// appendBE32s appends the big-endian 32-bit values of b (a multiple of
// 4 bytes long) to dst.
func appendBE32s(dst []uint32, b []byte) []uint32 {
	putBE32s(grow(&dst, len(b)/4), b)
	return dst
}

// putBE32s fills dst with the big-endian 32-bit values at the start of b
// (which holds at least 4*len(dst) bytes), four at a time.
func putBE32s(dst []uint32, b []byte) {
	k := 0
	for ; k+4 <= len(dst); k += 4 {
		w, d := b[4*k:4*k+16], dst[k:k+4] // one bounds check each
		x, y := binary.BigEndian.Uint64(w), binary.BigEndian.Uint64(w[8:])
		d[0], d[1], d[2], d[3] = uint32(x>>32), uint32(x), uint32(y>>32), uint32(y)
	}
	for ; k < len(dst); k++ {
		dst[k] = binary.BigEndian.Uint32(b[4*k : 4*k+4])
	}
}

func (a *Attributes) addOther(flags uint8, c AttrCode, b []byte) {
	ra := extend(&a.Other) // reusing the slot's Value capacity
	ra.Flags, ra.Code, ra.Value = flags, c, append(ra.Value[:0], b...)
}

// Other returns the raw attribute with the code, if it was kept raw.
func (a *Attributes) OtherAttr(c AttrCode) (RawAttribute, bool) {
	for _, o := range a.Other {
		if o.Code == c {
			return o, true
		}
	}
	return RawAttribute{}, false
}

func (u *Update) decodeMPReach(v reader, off int) *Error {
	const op = "update: attribute MP_REACH_NLRI"
	m := &u.Attrs.MPReach
	if rf := u.opts.ribFamily(); rf != (Family{}) && v.len() >= 1 && int(v.b[0]) == v.len()-1 {
		// RFC 6396 abbreviated form: next hop length and next hop only.
		m.Family = rf
		var nh reader
		v.lenPrefixed8(&nh)
		setBytes(&m.NextHopRaw, nh.b)
		decodeNextHop(m, nh.b)
		m.abbreviated = true
		return nil
	}
	// AFI (2), SAFI (1), next hop length (1), next hop, reserved (1),
	// NLRI: read by index rather than through the reader, which is
	// slower for this many small fields.
	b := v.b
	if len(b) < 3 {
		return newError(op, off, CodeUpdateMessage, SubcodeOptionalAttribute, ActionSessionReset, ErrTruncated)
	}
	m.Family = Family{AFI(be16(b)), SAFI(b[2])}
	if len(b) < 4 || len(b) < 5+int(b[3]) {
		return newError(op+" "+m.Family.String()+": next hop", off, CodeUpdateMessage, SubcodeOptionalAttribute, ActionAFISAFIDisable, ErrTruncated)
	}
	nhEnd := 4 + int(b[3])
	nhb := b[4:nhEnd]
	m.Reserved = b[nhEnd]
	setBytes(&m.NextHopRaw, nhb)
	addPath := u.opts.addPath(m.Family)
	alen := plainAddrLen(m.Family, addPath)
	fastNH := alen != 0 && slowPaths&fastMPNextHop == 0
	if n := len(nhb); !(fastNH && (n == 4 || n == 16 || n == 32)) && !nextHopLenOK(m.Family, n) {
		// RFC 7606 section 7.11.
		return errorf(op+" "+m.Family.String()+": next hop", off, CodeUpdateMessage, SubcodeOptionalAttribute, ActionAFISAFIDisable, "length %d is not valid for the family", n)
	}
	if len(nhb) == 16 && fastNH {
		m.NextHop = netip.AddrFrom16([16]byte(nhb)).Unmap() // decodeNextHop's common case
	} else {
		decodeNextHop(m, nhb)
	}
	if alen != 0 && slowPaths&fastNLRI == 0 {
		// The common case, without the general decoder's arguments.
		var bad int
		var ok bool
		if m.NLRI, bad, ok = decodePrefixes(m.NLRI[:0], b, nhEnd+1, alen); !ok {
			return mpError(prefixError(b, bad, v.off, alen, op), m.Family)
		}
		return nil
	}
	var e *Error
	if m.NLRI, e = decodeNLRIsFrom(m.NLRI[:0], b, nhEnd+1, v.off+nhEnd+1, m.Family, addPath, op); e != nil {
		return mpError(e, m.Family)
	}
	return nil
}

func (u *Update) decodeMPUnreach(v reader, off int) *Error {
	const op = "update: attribute MP_UNREACH_NLRI"
	m := &u.Attrs.MPUnreach
	var afi uint16
	var safi uint8
	if !v.u16(&afi) || !v.u8(&safi) {
		return newError(op, off, CodeUpdateMessage, SubcodeOptionalAttribute, ActionSessionReset, ErrTruncated)
	}
	m.Family = Family{AFI(afi), SAFI(safi)}
	var e *Error
	m.NLRI, e = decodeNLRIs(m.NLRI[:0], v, m.Family, u.opts.addPath(m.Family), op)
	return mpError(e, m.Family)
}

// mpError classifies a failure to decode the NLRI of an MP attribute as
// AFI/SAFI disable (RFC 7606 sections 5.3 and 7.11): the family is known,
// so the session need not be reset for it.
func mpError(e *Error, f Family) *Error {
	if e != nil {
		if rest, ok := strings.CutPrefix(e.Op, "update: attribute MP_REACH_NLRI"); ok {
			e.Op = "update: attribute MP_REACH_NLRI " + f.String() + rest
		} else if rest, ok := strings.CutPrefix(e.Op, "update: attribute MP_UNREACH_NLRI"); ok {
			e.Op = "update: attribute MP_UNREACH_NLRI " + f.String() + rest
		}
		e.Action = ActionAFISAFIDisable
		e.Code, e.Subcode = CodeUpdateMessage, SubcodeOptionalAttribute
	}
	return e
}

// nextHopLenOK checks the MP_REACH next hop length against the family
// (RFC 4760, RFC 4364, RFC 4659, RFC 8950, RFC 8955, RFC 7432, RFC 7752).
// Families this package does not know accept any length.
func nextHopLenOK(f Family, n int) bool {
	if (f.AFI == AFIIPv4 || f.AFI == AFIIPv6) && f.SAFI == SAFIUnicast {
		return n == 4 || n == 16 || n == 32 // the common case first
	}
	switch {
	case f.SAFI == SAFIFlowSpec || f.SAFI == SAFIFlowSpecVPN:
		return n == 0 || n == 4 || n == 16 || n == 32
	case f.SAFI == SAFIVPN || f.SAFI == SAFIVPNMulticast:
		return n == 12 || n == 24 || n == 48
	case f.AFI == AFIIPv4 || f.AFI == AFIIPv6:
		switch f.SAFI {
		case SAFIUnicast, SAFIMulticast, SAFILabeled:
			return n == 4 || n == 16 || n == 32
		}
		return true
	case f.AFI == AFIL2VPN || f.AFI == AFILS:
		return n == 4 || n == 16 || n == 32
	}
	return true
}

// decodeNextHop reads the MP_REACH next hop field: one address, an IPv6
// global plus link-local pair, or a VPN next hop (an RD plus an address).
// Other shapes are left in NextHopRaw only.
func decodeNextHop(m *MPReach, b []byte) {
	switch len(b) {
	case 4:
		m.NextHop = netip.AddrFrom4([4]byte(b))
	case 16:
		m.NextHop = netip.AddrFrom16([16]byte(b)).Unmap()
	case 32:
		m.NextHop = netip.AddrFrom16([16]byte(b[:16]))
		m.LinkLocal = netip.AddrFrom16([16]byte(b[16:]))
	case 12:
		m.NextHopRD = RD(b[:8])
		m.NextHop = netip.AddrFrom4([4]byte(b[8:]))
	case 24:
		m.NextHopRD = RD(b[:8])
		m.NextHop = netip.AddrFrom16([16]byte(b[8:]))
	case 48:
		m.NextHopRD = RD(b[:8])
		m.NextHop = netip.AddrFrom16([16]byte(b[8:24]))
		m.LinkLocal = netip.AddrFrom16([16]byte(b[32:48]))
	}
}
