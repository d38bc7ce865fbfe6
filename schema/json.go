package schema

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the JSON form of e to dst and returns the extended
// buffer, in the manner of strconv.AppendInt and netip.Addr.AppendTo. The
// bytes are exactly those that encoding/json writes for the Event's
// struct tags and the MarshalText and MarshalJSON methods of its field
// types (same field order, same omission of empty fields, the same string
// escaping, HTML characters included), without reflection. It allocates
// nothing when dst has room.
//
// Two values have no JSON form and make encoding/json fail: a NaN or
// infinite Timestamp, and an AS_PATH segment of an unknown type.
// AppendJSON writes null in their place so that its output stays valid
// JSON; the decoder never produces either.
//
// Event has no MarshalJSON on purpose: encoding/json validates and copies
// a Marshaler's output, which costs more than its reflection saves, so
// json.Marshal(event) stays the reflective path and the hot path calls
// AppendJSON.
func (e *Event) AppendJSON(dst []byte) []byte {
	if e == nil {
		return append(dst, "null"...)
	}
	b := append(dst, `{"timestamp":`...)
	b = appendFloat(b, e.Timestamp)
	b = append(b, `,"peer":`...)
	b = appendAddr(b, e.Peer)
	b = append(b, `,"peer_asn":"`...)
	b = strconv.AppendUint(b, uint64(e.PeerASN), 10)
	b = append(b, `","id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"host":`...)
	b = appendString(b, e.Host)
	b = append(b, `,"type":"`...)
	b = append(b, e.Type.String()...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)

	if len(e.Path) > 0 {
		b = append(b, `,"path":`...)
		b = e.Path.appendJSON(b)
	}
	if len(e.Community) > 0 {
		b = append(b, `,"community":[`...)
		for i, c := range e.Community {
			b = appendComma(b, i)
			b = append(b, '[')
			b = strconv.AppendUint(b, uint64(c[0]), 10)
			b = append(b, ',')
			b = strconv.AppendUint(b, uint64(c[1]), 10)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	if !e.Origin.IsZero() {
		b = append(b, `,"origin":"`...)
		b = append(b, e.Origin.String()...)
		b = append(b, '"')
	}
	if e.MED != nil {
		b = append(b, `,"med":`...)
		b = strconv.AppendUint(b, uint64(*e.MED), 10)
	}
	if e.LocalPref != nil {
		b = append(b, `,"local_pref":`...)
		b = strconv.AppendUint(b, uint64(*e.LocalPref), 10)
	}
	if a := e.Aggregator; a != nil {
		b = append(b, `,"aggregator":{"asn":`...)
		b = strconv.AppendUint(b, uint64(a.ASN), 10)
		b = append(b, `,"address":`...)
		b = appendAddr(b, a.Address)
		b = append(b, '}')
	}
	if e.AtomicAggregate {
		b = append(b, `,"atomic_aggregate":true`...)
	}
	if len(e.LargeCommunity) > 0 {
		b = append(b, `,"large_community":[`...)
		for i, c := range e.LargeCommunity {
			b = appendComma(b, i)
			b = appendUint32s(b, c[:])
		}
		b = append(b, ']')
	}
	if len(e.ExtCommunity) > 0 {
		b = append(b, `,"ext_community":[`...)
		for i, c := range e.ExtCommunity {
			b = appendComma(b, i)
			b = append(b, '"')
			b = c.appendText(b) // never needs escaping
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	if e.OriginatorID != (netip.Addr{}) {
		b = append(b, `,"originator_id":`...)
		b = appendAddr(b, e.OriginatorID)
	}
	if len(e.ClusterList) > 0 {
		b = append(b, `,"cluster_list":[`...)
		for i, a := range e.ClusterList {
			b = appendComma(b, i)
			b = appendAddr(b, a)
		}
		b = append(b, ']')
	}
	if e.OTC != nil {
		b = append(b, `,"otc":`...)
		b = strconv.AppendUint(b, uint64(*e.OTC), 10)
	}
	if e.AIGP != nil {
		b = append(b, `,"aigp":`...)
		b = strconv.AppendUint(b, *e.AIGP, 10)
	}
	if len(e.OtherAttrs) > 0 {
		b = append(b, `,"other_attributes":[`...)
		for i := range e.OtherAttrs {
			a := &e.OtherAttrs[i]
			b = appendComma(b, i)
			b = append(b, `{"flags":`...)
			b = strconv.AppendUint(b, uint64(a.Flags), 10)
			b = append(b, `,"code":`...)
			b = strconv.AppendUint(b, uint64(a.Code), 10)
			b = append(b, `,"value":`...)
			b = appendString(b, a.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}

	if len(e.Announcements) > 0 {
		b = append(b, `,"announcements":[`...)
		for i := range e.Announcements {
			a := &e.Announcements[i]
			b = appendComma(b, i)
			b = append(b, '{')
			// The NLRISet fields follow, so each of these ends in a comma.
			if a.NextHop != (netip.Addr{}) {
				b = append(b, `"next_hop":`...)
				b = appendAddr(b, a.NextHop)
				b = append(b, ',')
			}
			if a.NextHopLinkLocal != (netip.Addr{}) {
				b = append(b, `"next_hop_link_local":`...)
				b = appendAddr(b, a.NextHopLinkLocal)
				b = append(b, ',')
			}
			b = a.NLRISet.appendFields(b)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(e.Withdrawals) > 0 {
		b = append(b, `,"withdrawals":`...)
		b = appendPrefixes(b, e.Withdrawals)
	}
	if len(e.Withdrawn) > 0 {
		b = append(b, `,"withdrawn":[`...)
		for i := range e.Withdrawn {
			b = appendComma(b, i)
			b = append(b, '{')
			b = e.Withdrawn[i].appendFields(b)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if !e.EndOfRIB.IsZero() {
		b = append(b, `,"end_of_rib":"`...)
		b = e.EndOfRIB.appendText(b)
		b = append(b, '"')
	}
	if len(e.Routes) > 0 {
		b = append(b, `,"routes":`...)
		b = e.Routes.appendJSON(b)
	}
	if e.Duplicates != 0 {
		b = append(b, `,"duplicates":`...)
		b = strconv.AppendUint(b, uint64(e.Duplicates), 10)
	}
	if e.ImplicitWithdrawals != 0 {
		b = append(b, `,"implicit_withdrawals":`...)
		b = strconv.AppendUint(b, uint64(e.ImplicitWithdrawals), 10)
	}

	if !e.State.IsZero() {
		b = append(b, `,"state":"`...)
		b = append(b, e.State.String()...)
		b = append(b, '"')
	}
	if e.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, e.Reason)
	}
	if n := e.Notification; n != nil {
		b = append(b, `,"notification":{"code":`...)
		b = strconv.AppendUint(b, uint64(n.Code), 10)
		b = append(b, `,"subcode":`...)
		b = strconv.AppendUint(b, uint64(n.Subcode), 10)
		if n.Reason != "" {
			b = append(b, `,"reason":`...)
			b = appendString(b, n.Reason)
		}
		if n.Data != "" {
			b = append(b, `,"data":`...)
			b = appendString(b, n.Data)
		}
		b = append(b, `,"sent":`...)
		b = strconv.AppendBool(b, n.Sent)
		b = append(b, '}')
	}
	if o := e.Open; o != nil {
		b = append(b, `,"open":{"version":`...)
		b = strconv.AppendUint(b, uint64(o.Version), 10)
		b = append(b, `,"asn":`...)
		b = strconv.AppendUint(b, uint64(o.ASN), 10)
		b = append(b, `,"hold_time":`...)
		b = strconv.AppendUint(b, uint64(o.HoldTime), 10)
		b = append(b, `,"router_id":`...)
		b = appendAddr(b, o.RouterID)
		if len(o.Capabilities) > 0 {
			b = append(b, `,"capabilities":`...)
			b = appendStrings(b, o.Capabilities)
		}
		b = append(b, `,"sent":`...)
		b = strconv.AppendBool(b, o.Sent)
		b = append(b, '}')
	}
	if e.LocalAddress.IsValid() {
		b = append(b, `,"local_address":`...)
		b = appendAddr(b, e.LocalAddress)
	}
	if r := e.RouteRefresh; r != nil {
		b = append(b, `,"route_refresh":{"family":"`...)
		b = r.Family.appendText(b)
		b = append(b, `","subtype":`...)
		b = appendString(b, r.Subtype)
		b = append(b, '}')
	}

	if e.Raw != "" {
		b = append(b, `,"raw":`...)
		b = appendString(b, e.Raw)
	}
	if e.Imported {
		b = append(b, `,"imported":true`...)
	}
	return append(b, '}')
}

// appendFields appends the fields of an NLRISet, without braces.
func (s *NLRISet) appendFields(b []byte) []byte {
	b = append(b, `"family":"`...)
	b = s.Family.appendText(b)
	b = append(b, `","prefixes":`...)
	b = appendPrefixes(b, s.Prefixes)
	if len(s.PathIDs) > 0 {
		b = append(b, `,"path_ids":`...)
		b = appendUint32s(b, s.PathIDs)
	}
	if len(s.Labels) > 0 {
		b = append(b, `,"labels":[`...)
		for i, l := range s.Labels {
			b = appendComma(b, i)
			b = appendUint32s(b, l)
		}
		b = append(b, ']')
	}
	if len(s.RDs) > 0 {
		b = append(b, `,"rds":`...)
		b = appendStrings(b, s.RDs)
	}
	if len(s.NLRI) > 0 {
		b = append(b, `,"nlri":`...)
		b = appendStrings(b, s.NLRI)
	}
	return b
}

// appendJSON appends the RIS Live form of the path (see ASPath), with
// null for a segment of unknown type.
func (p ASPath) appendJSON(b []byte) []byte {
	b = append(b, '[')
	n := 0 // elements written
	for _, s := range p {
		if s.Type == SegmentSequence {
			for _, a := range s.ASNs {
				b = appendComma(b, n)
				n++
				b = strconv.AppendUint(b, uint64(a), 10)
			}
			continue
		}
		b = appendComma(b, n)
		n++
		switch s.Type {
		case SegmentSet:
			b = appendASNs(b, s.ASNs)
		case SegmentConfedSequence:
			b = append(b, `{"confed_sequence":`...)
			b = appendASNs(b, s.ASNs)
			b = append(b, '}')
		case SegmentConfedSet:
			b = append(b, `{"confed_set":`...)
			b = appendASNs(b, s.ASNs)
			b = append(b, '}')
		default:
			b = append(b, "null"...)
		}
	}
	return append(b, ']')
}

// appendASNs appends the ASNs of a segment as an array, [] when there
// are none.
func appendASNs(b []byte, asns []uint32) []byte {
	if asns == nil {
		return append(b, "[]"...)
	}
	return appendUint32s(b, asns)
}

// check reports a segment that has no JSON form.
func (p ASPath) check() error {
	for _, s := range p {
		if s.Type < SegmentSet || s.Type > SegmentConfedSet {
			return fmt.Errorf("as path: unknown segment type %d", s.Type)
		}
	}
	return nil
}

// appendComma appends the separator before element i of a list.
func appendComma(b []byte, i int) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	return b
}

// appendUint32s appends a JSON array of numbers; nil is null, as
// encoding/json writes a nil slice.
func appendUint32s(b []byte, v []uint32) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, n := range v {
		b = appendComma(b, i)
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	return append(b, ']')
}

// appendStrings appends a JSON array of strings; nil is null.
func appendStrings(b []byte, v []string) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range v {
		b = appendComma(b, i)
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendPrefixes appends a JSON array of prefixes; nil is null. A
// prefix's text never needs escaping: it has no zone.
func appendPrefixes(b []byte, v []netip.Prefix) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, p := range v {
		b = appendComma(b, i)
		b = append(b, '"')
		b = p.AppendTo(b)
		b = append(b, '"')
	}
	return append(b, ']')
}

// appendAddr appends an address as a JSON string: its MarshalText form,
// "" for the zero Addr. Only an IPv6 zone can hold characters that need
// escaping.
func appendAddr(b []byte, a netip.Addr) []byte {
	b = append(b, '"')
	z := a.Zone()
	if z == "" {
		b = a.AppendTo(b)
	} else {
		b = a.WithZone("").AppendTo(b)
		b = append(b, '%')
		b = appendEscaped(b, z)
	}
	return append(b, '"')
}

// appendFloat appends f as encoding/json writes a float64: like
// strconv's 'f' format, switching to 'e' (with a one-digit exponent
// where it fits) below 1e-6 and from 1e21. NaN and infinities are null.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// e-09 becomes e-9.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it (see appendEscaped).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends the inside of a JSON string as encoding/json
// writes it with HTML escaping on: ", \ and control characters escaped
// (\b \f \n \r \t by name, the others as \u00XX), <, > and & as \u003c,
// \u003e and \u0026, U+2028 and U+2029 as \u2028 and \u2029, and each
// byte of invalid UTF-8 replaced by \ufffd.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}
