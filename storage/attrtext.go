package storage

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/vantage-bgp/vantage/schema"
)

// The attrs column (schema/011) holds a route's attributes that have no
// column of their own, as text: space-separated tokens, each "key=value"
// (or a bare key), "" when there are none:
//
//	med=N lp=N atomic agg=ASN:ADDR orig=ADDR cluster=ADDR,ADDR otc=N aigp=N
//	ext=EXT,EXT other=FLAGS:CODE:hex,... nhll=ADDR labels=N,N
//
// EXT is schema.ExtCommunity's text form; ADDR an address as netip prints
// it (the migration from schema 010 writes IPv4 addresses IPv4-mapped,
// "::ffff:192.0.2.1", which reads back as IPv4). The tokens of the UPDATE
// come first, then those of the route (nhll, labels). One column instead
// of twenty: each column of a route table costs every INSERT and every
// merge about as much as the next, whatever it holds.

// appendUpdateAttrText appends the tokens of e's attributes that are the
// same for all its routes.
func appendUpdateAttrText(b []byte, e *schema.Event) []byte {
	if e.MED != nil {
		b = appendToken(b, "med=")
		b = strconv.AppendUint(b, uint64(*e.MED), 10)
	}
	if e.LocalPref != nil {
		b = appendToken(b, "lp=")
		b = strconv.AppendUint(b, uint64(*e.LocalPref), 10)
	}
	if e.AtomicAggregate {
		b = appendToken(b, "atomic")
	}
	if e.Aggregator != nil {
		b = appendToken(b, "agg=")
		b = strconv.AppendUint(b, uint64(e.Aggregator.ASN), 10)
		b = append(b, ':')
		b = appendAddr(b, e.Aggregator.Address)
	}
	if e.OriginatorID.IsValid() {
		b = appendToken(b, "orig=")
		b = e.OriginatorID.AppendTo(b)
	}
	if len(e.ClusterList) > 0 {
		b = appendToken(b, "cluster=")
		for i, c := range e.ClusterList {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAddr(b, c)
		}
	}
	if e.OTC != nil {
		b = appendToken(b, "otc=")
		b = strconv.AppendUint(b, uint64(*e.OTC), 10)
	}
	if e.AIGP != nil {
		b = appendToken(b, "aigp=")
		b = strconv.AppendUint(b, *e.AIGP, 10)
	}
	if len(e.ExtCommunity) > 0 {
		b = appendToken(b, "ext=")
		for i, c := range e.ExtCommunity {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, c.String()...)
		}
	}
	if len(e.OtherAttrs) > 0 {
		b = appendToken(b, "other=")
		for i, o := range e.OtherAttrs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(o.Flags), 10)
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(o.Code), 10)
			b = append(b, ':')
			b = hex.AppendEncode(b, []byte(unhex(o.Value)))
		}
	}
	return b
}

// appendRouteAttrText appends the tokens of one route of an UPDATE: its
// link-local next hop and its labels.
func appendRouteAttrText(b []byte, nextHopLL netip.Addr, labels []uint32) []byte {
	if nextHopLL.IsValid() && !nextHopLL.IsUnspecified() {
		b = appendToken(b, "nhll=")
		b = nextHopLL.AppendTo(b)
	}
	if len(labels) > 0 {
		b = appendToken(b, "labels=")
		for i, l := range labels {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(l), 10)
		}
	}
	return b
}

// appendToken starts a token: a space first unless b is empty.
func appendToken(b []byte, key string) []byte {
	if len(b) > 0 {
		b = append(b, ' ')
	}
	return append(b, key...)
}

// appendAddr appends a; the invalid address as "::" (an aggregator or a
// cluster id always has one on the wire).
func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, "::"...)
	}
	return a.AppendTo(b)
}

// attrScratch holds what parseAttrText points a Route at (its MED, ...)
// and the storage of its slices, for a caller that reuses them from route
// to route; the zero value is ready.
type attrScratch struct {
	med, lp, otc uint32
	aigp         uint64
	agg          schema.Aggregator
	ext          []schema.ExtCommunity
	clusters     []netip.Addr
	others       []schema.RawAttribute
	labels       []uint32
}

// parseAttrText sets r's attributes held by text (the attrs column),
// pointing them into s: r is valid until s is used again.
func parseAttrText(text []byte, r *Route, s *attrScratch) error {
	ext, clusters, others, labels := s.ext[:0], s.clusters[:0], s.others[:0], s.labels[:0]
	for tok := range bytes.FieldsSeq(text) {
		key, val, _ := bytes.Cut(tok, []byte{'='})
		var err error
		switch string(key) {
		case "med":
			s.med, err = parseUint32(val)
			r.MED = &s.med
		case "lp":
			s.lp, err = parseUint32(val)
			r.LocalPref = &s.lp
		case "atomic":
			r.AtomicAggregate = true
		case "agg":
			asn, addr, _ := bytes.Cut(val, []byte{':'})
			s.agg = schema.Aggregator{}
			if s.agg.ASN, err = parseUint32(asn); err == nil {
				s.agg.Address, err = parseStoredAddr(addr)
			}
			r.Aggregator = &s.agg
		case "orig":
			r.OriginatorID, err = parseStoredAddr(val)
		case "cluster":
			for v := range bytes.SplitSeq(val, []byte{','}) {
				a, perr := parseStoredAddr(v)
				if perr != nil {
					err = perr
					break
				}
				clusters = append(clusters, a)
			}
		case "otc":
			s.otc, err = parseUint32(val)
			r.OTC = &s.otc
		case "aigp":
			s.aigp, err = parseUint(val, 64)
			r.AIGP = &s.aigp
		case "ext":
			for v := range bytes.SplitSeq(val, []byte{','}) {
				var c schema.ExtCommunity
				if err = c.UnmarshalText(v); err != nil {
					break
				}
				ext = append(ext, c)
			}
		case "other":
			for v := range bytes.SplitSeq(val, []byte{','}) {
				f, rest, _ := bytes.Cut(v, []byte{':'})
				code, value, ok := bytes.Cut(rest, []byte{':'})
				fl, err1 := parseUint(f, 8)
				cd, err2 := parseUint(code, 8)
				if _, err3 := hex.DecodeString(string(value)); !ok || err1 != nil || err2 != nil || err3 != nil {
					err = fmt.Errorf("want FLAGS:CODE:HEX, got %q", v)
					break
				}
				others = append(others, schema.RawAttribute{Flags: uint8(fl), Code: uint8(cd), Value: string(value)})
			}
		case "nhll":
			r.NextHopLinkLocal, err = parseStoredAddr(val)
		case "labels":
			for v := range bytes.SplitSeq(val, []byte{','}) {
				var l uint32
				if l, err = parseUint32(v); err != nil {
					break
				}
				labels = append(labels, l)
			}
		default:
			err = fmt.Errorf("unknown attribute %q", key)
		}
		if err != nil {
			return fmt.Errorf("stored attributes %q: %s: %w", text, key, err)
		}
	}
	r.ExtCommunity, r.ClusterList, r.OtherAttrs, r.Labels = nilIfEmpty(ext), nilIfEmpty(clusters), nilIfEmpty(others), nilIfEmpty(labels)
	s.ext, s.clusters, s.others, s.labels = ext, clusters, others, labels
	return nil
}

func parseUint32(b []byte) (uint32, error) {
	v, err := parseUint(b, 32)
	return uint32(v), err
}

// parseStoredAddr parses an address of the attrs text; an IPv4-mapped one
// (as the migration from schema 010 wrote IPv4 addresses) is IPv4, "::"
// (all zeros, as an address that was not there was stored before) the
// invalid address.
func parseStoredAddr(b []byte) (netip.Addr, error) {
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return netip.Addr{}, err
	}
	if a == netip.IPv6Unspecified() {
		return netip.Addr{}, nil
	}
	return a.Unmap(), nil
}
