package bgpwire

import (
	"encoding/binary"
	"fmt"
)

// ASTrans is the 2-octet AS used in place of a 4-octet AS (RFC 6793).
const ASTrans = 23456

// pathLen counts the path length as RFC 4271 does for the merge of
// RFC 6793: a set counts one, confederation segments nothing.
func (p ASPath) pathLen() int {
	n := 0
	for _, s := range p {
		switch s.Type {
		case SegSequence:
			n += len(s.ASNs)
		case SegSet:
			n++
		}
	}
	return n
}

// hasConfed reports whether the path has confederation segments.
func (p ASPath) hasConfed() bool {
	for _, s := range p {
		if s.Type == SegConfedSequence || s.Type == SegConfedSet {
			return true
		}
	}
	return false
}

// decodeASPath decodes AS_PATH/AS4_PATH segments into *path using *buf
// as backing store for the ASNs. buf is sized for the most ASNs the value
// can hold before decoding, so the segments never point into a
// reallocated buffer. The checks are those of RFC 7606 section 7.2; on an
// error *path is left empty.
func decodeASPath(v []byte, asn4 bool, path *ASPath, buf *[]uint32) error {
	w := 2
	if asn4 {
		w = 4
	}
	asns := (*buf)[:0]
	if most := len(v) / w; cap(asns) < most {
		asns = make([]uint32, 0, most)
		*buf = asns
	}
	p := (*path)[:0]
	// The common case: one AS_SEQUENCE making up the whole value.
	if len(v) >= 2+w && v[0] == byte(SegSequence) && 2+int(v[1])*w == len(v) && cap(p) > 0 && slowPaths&fastASPath == 0 {
		dst := asns[:v[1]:v[1]]
		if w == 4 {
			putBE32s(dst, v[2:])
		} else {
			for k := range dst {
				dst[k] = uint32(binary.BigEndian.Uint16(v[2+2*k:]))
			}
		}
		p = p[:1]
		p[0].Type, p[0].ASNs = SegSequence, dst
		*path = p
		return nil
	}
	for i := 0; i < len(v); {
		if len(v)-i < 2 {
			*path = p[:0]
			return fmt.Errorf("segment header at offset %d: %w", i, ErrTruncated)
		}
		t, n := SegmentType(v[i]), int(v[i+1])
		if t < SegSet || t > SegConfedSet {
			*path = p[:0]
			return fmt.Errorf("segment type %d at offset %d", t, i)
		}
		if n == 0 {
			*path = p[:0]
			return fmt.Errorf("empty segment at offset %d", i)
		}
		i += 2
		if i+n*w > len(v) {
			*path = p[:0]
			return fmt.Errorf("segment of %d ASNs overruns the attribute: %w", n, ErrTruncated)
		}
		start, end := len(asns), len(asns)+n
		asns = asns[:end] // cap holds every ASN the value can carry
		dst, src := asns[start:end:end], v[i:i+n*w]
		if w == 4 {
			putBE32s(dst, src)
		} else {
			for k := range dst {
				dst[k] = uint32(binary.BigEndian.Uint16(src[2*k:]))
			}
		}
		i += n * w
		if len(p) < cap(p) {
			p = p[:len(p)+1]
			p[len(p)-1].Type, p[len(p)-1].ASNs = t, dst
		} else {
			p = append(p, Segment{Type: t, ASNs: dst})
		}
	}
	*path = p
	return nil
}

// mergeAS4Path applies RFC 6793 section 4.2.3: the leading ASNs of
// AS_PATH that AS4_PATH does not cover, then AS4_PATH. The merged path
// lives in the attributes' own reused storage; the wire AS_PATH is kept
// for the encoder.
func (a *Attributes) mergeAS4Path() {
	n, n4 := a.ASPath.pathLen(), a.AS4Path.pathLen()
	if n4 > n {
		return // AS4_PATH is ignored (RFC 6793)
	}
	keep := n - n4
	total := len(a.AS4Path)
	for _, s := range a.ASPath {
		total += len(s.ASNs)
	}
	buf := a.mergeBuf[:0]
	if cap(buf) < total {
		buf = make([]uint32, 0, total)
	}
	merged := a.mergeSegs[:0]
	add := func(t SegmentType, asns []uint32) {
		start := len(buf)
		buf = append(buf, asns...)
		merged = append(merged, Segment{Type: t, ASNs: buf[start:len(buf):len(buf)]})
	}
	for _, s := range a.ASPath {
		if keep == 0 {
			break
		}
		switch s.Type {
		case SegSequence:
			k := min(keep, len(s.ASNs))
			add(s.Type, s.ASNs[:k])
			keep -= k
		case SegSet:
			add(s.Type, s.ASNs)
			keep--
		default:
			add(s.Type, s.ASNs)
		}
	}
	for _, s := range a.AS4Path {
		add(s.Type, s.ASNs)
	}
	a.mergeSegs, a.mergeBuf = merged, buf
	a.wirePath = a.ASPath
	a.ASPath = merged
}

// appendASPath appends the wire form of p with 2- or 4-octet ASNs; with
// 2 octets, ASNs that do not fit are written as AS_TRANS. Segments longer
// than 255 ASNs are split.
func appendASPath(dst []byte, p ASPath, asn4 bool) []byte {
	for _, s := range p {
		asns := s.ASNs
		for len(asns) > 0 || len(s.ASNs) == 0 {
			k := min(len(asns), 255)
			dst = append(dst, byte(s.Type), byte(k))
			for _, a := range asns[:k] {
				if asn4 {
					dst = appendU32(dst, a)
				} else {
					if a > 0xffff {
						a = ASTrans
					}
					dst = appendU16(dst, uint16(a))
				}
			}
			asns = asns[k:]
			if len(s.ASNs) == 0 {
				break
			}
		}
	}
	return dst
}

// needsAS4 reports whether the path has an ASN that does not fit in two
// octets.
func (p ASPath) needsAS4() bool {
	for _, s := range p {
		for _, a := range s.ASNs {
			if a > 0xffff {
				return true
			}
		}
	}
	return false
}
