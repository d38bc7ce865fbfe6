package storage

import (
	"bytes"
	"fmt"

	"github.com/vantage-bgp/vantage/schema"
)

// parseASPath reads the bgpdump text form written by schema.ASPath.String:
// ASNs separated by spaces, {a,b} sets, (a b) confederation sequences and
// [a,b] confederation sets.
func parseASPath(s string) (schema.ASPath, error) {
	p, _, err := appendASPath(nil, make([]uint32, 0, 16), []byte(s))
	if err != nil {
		return nil, err
	}
	return p, nil
}

// appendASPath parses the stored text of an AS path, as parseASPath,
// into p, with the ASNs in asns, reusing both; it returns them.
func appendASPath(p schema.ASPath, asns []uint32, s []byte) (schema.ASPath, []uint32, error) {
	// Each segment's ASNs are a range of asns, set once asns stops
	// growing (appending may move it).
	type seg struct {
		typ        schema.SegmentType
		start, end int
	}
	var segsBuf [8]seg
	segs := segsBuf[:0]
	s = bytes.TrimSpace(s)
	for len(s) > 0 {
		var typ schema.SegmentType
		var closer, sep byte
		switch s[0] {
		case '{':
			typ, closer, sep = schema.SegmentSet, '}', ','
		case '(':
			typ, closer, sep = schema.SegmentConfedSequence, ')', ' '
		case '[':
			typ, closer, sep = schema.SegmentConfedSet, ']', ','
		}
		if typ == 0 {
			tok, rest, _ := bytes.Cut(s, []byte{' '})
			asn, err := parseUint(tok, 32)
			if err != nil {
				return p, asns, fmt.Errorf("as path %q: bad ASN %q", s, tok)
			}
			if n := len(segs); n > 0 && segs[n-1].typ == schema.SegmentSequence && segs[n-1].end == len(asns) {
				segs[n-1].end++
			} else {
				segs = append(segs, seg{schema.SegmentSequence, len(asns), len(asns) + 1})
			}
			asns = append(asns, uint32(asn))
			s = bytes.TrimLeft(rest, " ")
			continue
		}
		end := bytes.IndexByte(s, closer)
		if end < 0 {
			return p, asns, fmt.Errorf("as path %q: unclosed %c", s, s[0])
		}
		sg := seg{typ: typ, start: len(asns)}
		if body := s[1:end]; len(body) > 0 {
			for tok := range bytes.SplitSeq(body, []byte{sep}) {
				asn, err := parseUint(tok, 32)
				if err != nil {
					return p, asns, fmt.Errorf("as path %q: bad ASN %q", s, tok)
				}
				asns = append(asns, uint32(asn))
			}
		}
		sg.end = len(asns)
		segs = append(segs, sg)
		s = bytes.TrimLeft(s[end+1:], " ")
	}
	for _, sg := range segs {
		p = append(p, schema.Segment{Type: sg.typ, ASNs: asns[sg.start:sg.end:sg.end]})
	}
	return p, asns, nil
}
