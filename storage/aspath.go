package storage

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vantage-bgp/vantage/schema"
)

// parseASPath reads the bgpdump text form written by schema.ASPath.String:
// ASNs separated by spaces, {a,b} sets, (a b) confederation sequences and
// [a,b] confederation sets.
func parseASPath(s string) (schema.ASPath, error) {
	var p schema.ASPath
	seq := func(asn uint32) {
		if n := len(p); n > 0 && p[n-1].Type == schema.SegmentSequence {
			p[n-1].ASNs = append(p[n-1].ASNs, asn)
			return
		}
		p = append(p, schema.Segment{Type: schema.SegmentSequence, ASNs: []uint32{asn}})
	}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimLeft(s, " ") {
		var typ schema.SegmentType
		var closer byte
		var sep string
		switch s[0] {
		case '{':
			typ, closer, sep = schema.SegmentSet, '}', ","
		case '(':
			typ, closer, sep = schema.SegmentConfedSequence, ')', " "
		case '[':
			typ, closer, sep = schema.SegmentConfedSet, ']', ","
		}
		if typ == 0 {
			tok, rest, _ := strings.Cut(s, " ")
			asn, err := strconv.ParseUint(tok, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("as path %q: bad ASN %q", s, tok)
			}
			seq(uint32(asn))
			s = rest
			continue
		}
		end := strings.IndexByte(s, closer)
		if end < 0 {
			return nil, fmt.Errorf("as path %q: unclosed %c", s, s[0])
		}
		seg := schema.Segment{Type: typ, ASNs: []uint32{}}
		if body := s[1:end]; body != "" {
			for _, tok := range strings.Split(body, sep) {
				asn, err := strconv.ParseUint(tok, 10, 32)
				if err != nil {
					return nil, fmt.Errorf("as path %q: bad ASN %q", s, tok)
				}
				seg.ASNs = append(seg.ASNs, uint32(asn))
			}
		}
		p = append(p, seg)
		s = s[end+1:]
	}
	return p, nil
}
