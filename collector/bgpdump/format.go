package bgpdump

import "slices"

const (
	segSet         = 1
	segSequence    = 2
	segConfedSeq   = 3
	segConfedSet   = 4
	maxASPathStr   = 8000
	aspathStrError = "! Error !"
	communityBuf   = 8192 // BUFSIZ
)

func delim(t byte, end bool) byte {
	switch t {
	case segSet:
		if end {
			return '}'
		}
		return '{'
	case segConfedSet:
		if end {
			return ']'
		}
		return '['
	case segConfedSeq:
		if end {
			return ')'
		}
		return '('
	}
	return ' '
}

// appendASPath renders AS_PATH data as bgpdump's
// process_attr_aspath_string does, and returns the path's count (a set
// counts one; confederation segments count too).
func appendASPath(dst []byte, data []byte, asnLen int) ([]byte, int) {
	start := len(dst)
	space := false
	typ := byte(segSequence)
	count := 0
	var last byte
	seen := false
	for i := 0; i < len(data); {
		if len(data)-i < 2 {
			// bgpdump reads the header past the end; a segment length it
			// cannot cover is an error.
			return append(dst[:start], aspathStrError...), 0
		}
		st, n := data[i], int(data[i+1])
		if st != segSet && st != segSequence && st != segConfedSeq && st != segConfedSet {
			return append(dst[:start], aspathStrError...), 0
		}
		if i+2+n*asnLen > len(data) {
			return append(dst[:start], aspathStrError...), 0
		}
		if typ != segSequence {
			dst = append(dst, delim(typ, true))
		}
		if space {
			dst = append(dst, ' ')
		}
		if st != segSequence {
			dst = append(dst, delim(st, false))
		}
		space = false
		if st == segSequence || st == segConfedSeq {
			count += n
		} else {
			count++
		}
		p := data[i+2:]
		for k := range n {
			if space {
				if st == segSet || st == segConfedSet {
					dst = append(dst, ',')
				} else {
					dst = append(dst, ' ')
				}
			} else {
				space = true
			}
			var asn uint32
			if asnLen == 4 {
				asn = uint32(p[4*k])<<24 | uint32(p[4*k+1])<<16 | uint32(p[4*k+2])<<8 | uint32(p[4*k+3])
			} else {
				asn = uint32(p[2*k])<<8 | uint32(p[2*k+1])
			}
			dst = appendDec(dst, uint32(asn))
			if len(dst)-start > maxASPathStr-100 {
				return append(dst, "..."...), count
			}
		}
		typ = st
		last, seen = st, true
		i += 2 + n*asnLen
	}
	if seen && last != segSequence {
		dst = append(dst, delim(last, true))
	}
	return dst, count
}

// pathCount is the count bgpdump computes for a path (0 when it is
// malformed).
func pathCount(data []byte, asnLen int) int {
	count := 0
	for i := 0; i < len(data); {
		if len(data)-i < 2 {
			return 0
		}
		st, n := data[i], int(data[i+1])
		if st < segSet || st > segConfedSet || i+2+n*asnLen > len(data) {
			return 0
		}
		if st == segSequence || st == segConfedSeq {
			count += n
		} else {
			count++
		}
		i += 2 + n*asnLen
	}
	return count
}

// finish computes the AS path and community strings, merging AS4_PATH
// as bgpdump's process_asn32_trans does.
func (a *attrs) finish() {
	asnLen := 2
	if a.asn4 {
		asnLen = 4
	}
	path, plen := a.asPath, asnLen
	if !a.asn4 {
		merge := true
		if a.has(attrAggregator) && a.has(attrAS4Agg) {
			if a.aggAS != asTrans {
				merge = false // bgpdump returns before looking at AS4_PATH
			} else {
				a.aggAS, a.aggAddr = a.as4AggAS, a.as4AggAddr
			}
		}
		if merge && a.hasAS4Path && a.hasASPath {
			oc, nc := pathCount(a.asPath, 2), pathCount(a.as4Path, 4)
			if oc >= nc {
				path, plen = a.mergeAS4(oc, nc), 4
			}
		}
	}
	a.aspathStr = a.aspathStr[:0]
	if a.hasASPath {
		a.aspathStr, _ = appendASPath(a.aspathStr, path, plen)
	}
	a.commStr = a.commStr[:0]
	if a.hasComm {
		a.commStr = appendCommunities(a.commStr, a.community)
	}
}

// mergeAS4 is bgpdump's asn32_merge_paths: segments of AS_PATH (widened
// to 4 octets) until the path is as long as AS_PATH minus AS4_PATH, then
// AS4_PATH. bgpdump never advances past the first segment of AS_PATH, so
// neither does this.
func (a *attrs) mergeAS4(oc, nc int) []byte {
	m := a.merged[:0]
	count := 0
	want := oc - nc
	data := a.asPath
	for i := 0; count < want && i+2 <= len(data); {
		st, n := data[i], int(data[i+1])
		if n == 0 || i+2+2*n > len(data) {
			break
		}
		segStart := len(m)
		m = append(m, st, byte(n))
		for k := range n {
			m = append(m, 0, 0, data[i+2+2*k], data[i+3+2*k])
		}
		if st == segSet || st == segConfedSet {
			count++
		} else {
			count += n
			if count > want {
				cut := count - want
				m[segStart+1] = byte(n - cut)
				m = m[:len(m)-4*cut]
			}
		}
	}
	m = append(m, a.as4Path...)
	a.merged = m
	return m
}

// appendCommunities renders COMMUNITIES as bgpdump does, each with a
// leading space, within its BUFSIZ buffer.
func appendCommunities(dst []byte, v []byte) []byte {
	start := len(dst)
	for i := 0; i+4 <= len(v); i += 4 {
		c := uint32(v[i])<<24 | uint32(v[i+1])<<16 | uint32(v[i+2])<<8 | uint32(v[i+3])
		var name string
		switch c {
		case 0xFFFFFF01:
			name = " no-export"
		case 0xFFFFFF02:
			name = " no-advertise"
		case 0xFFFFFF03:
			name = " local-AS"
		}
		used := len(dst) - start
		if name != "" {
			if used+len(name) >= communityBuf {
				continue // strlcat refuses
			}
			dst = append(dst, name...)
			continue
		}
		var tmp [24]byte
		t := append(tmp[:0], ' ')
		t = appendDec(t, uint32(c>>16))
		t = append(t, ':')
		t = appendDec(t, uint32(c&0xffff))
		room := communityBuf - 1 - used
		if room <= 0 {
			continue
		}
		if len(t) > room {
			t = t[:room]
		}
		dst = append(dst, t...)
	}
	return dst
}

// appendIPv4 writes a dotted quad.
func appendIPv4(dst []byte, a []byte) []byte {
	for i := range 4 {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = appendDec(dst, uint32(a[i]))
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendIPv6 writes an IPv6 address as bgpdump's fmt_ipv6 does: mapped
// and compatible IPv4 addresses in dotted form, and the longest run of
// zero groups, even a single one, as "::".
func appendIPv6(dst []byte, a []byte) []byte {
	zero96 := true
	for i := range 10 {
		if a[i] != 0 {
			zero96 = false
			break
		}
	}
	if zero96 {
		if a[10] == 0xff && a[11] == 0xff {
			dst = append(dst, "::ffff:"...)
			return appendIPv4(dst, a[12:16])
		}
		if a[10] == 0 && a[11] == 0 {
			v := uint32(a[12])<<24 | uint32(a[13])<<16 | uint32(a[14])<<8 | uint32(a[15])
			if v > 1 {
				dst = append(dst, "::"...)
				return appendIPv4(dst, a[12:16])
			}
		}
	}
	var zr [8]int
	j := 0
	for i := 7; i >= 0; i-- {
		if a[2*i] == 0 && a[2*i+1] == 0 {
			j++
		} else {
			j = 0
		}
		zr[i] = j
	}
	k, best := -1, 0
	for i := range 8 {
		if zr[i] > best {
			k, best = i, zr[i]
		}
	}
	for i := 0; i < 8; i++ {
		if i == k {
			if i == 0 {
				dst = append(dst, ':')
			}
			dst = append(dst, ':')
			i += best - 1
			continue
		}
		w := uint16(a[2*i])<<8 | uint16(a[2*i+1])
		started := false
		for sh := 12; sh >= 0; sh -= 4 {
			d := (w >> uint(sh)) & 0xf
			if d != 0 || started || sh == 0 {
				dst = append(dst, hexDigits[d])
				started = true
			}
		}
		if i != 7 {
			dst = append(dst, ':')
		}
	}
	return dst
}

// appendDec appends v in decimal. It writes the digits in place: strconv
// copies them from a scratch buffer, a call per number, and numbers are
// most of a bgpdump line.
func appendDec(dst []byte, v uint32) []byte {
	n := 1
	for x := v; x >= 10; x /= 10 {
		n++
	}
	l := len(dst)
	dst = slices.Grow(dst, n)[:l+n]
	for i := l + n - 1; i > l; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
	dst[l] = byte('0' + v)
	return dst
}
