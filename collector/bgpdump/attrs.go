package bgpdump

// bgpdump reads path attributes its own way, and its -m output shows that
// reading, quirks included: it merges AS4_PATH by its own counting (and
// not at all when AS4_AGGREGATOR comes with an AGGREGATOR that is not
// AS_TRANS), takes any MP_REACH_NLRI whose first byte is not zero for the
// RFC 6396 abbreviated form, ignores families beyond AFI 2 / SAFI 3, and
// prints 255.255.255.255 for a missing NEXT_HOP. To print the same lines,
// this file reads the attributes as bgpdump 1.6 does. (JSON output and
// the rest of Vantage use bgpwire.Update, which follows RFC 7606.)

const (
	attrOrigin     = 1
	attrASPath     = 2
	attrNextHop    = 3
	attrMED        = 4
	attrLocalPref  = 5
	attrAtomicAgg  = 6
	attrAggregator = 7
	attrCommunity  = 8
	attrMPReach    = 14
	attrMPUnreach  = 15
	attrAS4Path    = 17
	attrAS4Agg     = 18

	asTrans = 23456
)

// stream is bgpdump's mstream: reads past the end yield zeros and
// consume nothing more.
type stream struct{ b []byte }

func (s *stream) left() int { return len(s.b) }

func (s *stream) u8() uint32 {
	if len(s.b) < 1 {
		return 0
	}
	v := s.b[0]
	s.b = s.b[1:]
	return uint32(v)
}

func (s *stream) u16() uint32 {
	if len(s.b) < 2 {
		s.b = s.b[:0]
		return 0
	}
	v := uint32(s.b[0])<<8 | uint32(s.b[1])
	s.b = s.b[2:]
	return v
}

func (s *stream) u32() uint32 {
	if len(s.b) < 4 {
		s.b = s.b[:0]
		return 0
	}
	v := uint32(s.b[0])<<24 | uint32(s.b[1])<<16 | uint32(s.b[2])<<8 | uint32(s.b[3])
	s.b = s.b[4:]
	return v
}

// get copies n bytes into dst (zero-filled beyond the stream's end).
func (s *stream) get(dst []byte, n int) {
	k := min(n, len(s.b))
	copy(dst, s.b[:k])
	for i := k; i < n && i < len(dst); i++ {
		dst[i] = 0
	}
	s.b = s.b[k:]
}

// sub consumes up to n bytes as a child stream.
func (s *stream) sub(n int) stream {
	k := min(max(n, 0), len(s.b))
	c := stream{s.b[:k]}
	s.b = s.b[k:]
	return c
}

// prefix is one entry of a prefix list as bgpdump reads it.
type prefix struct {
	addr   [16]byte
	bits   int
	pathID uint32
	rd     [8]byte
	hasRD  bool
}

// readPrefixes is bgpdump's read_prefix_list (IPv4 and IPv6 unicast and
// multicast): a truncated last prefix is dropped. Host bits are cleared
// (bgpdump does so since 2020; 1.6.2 does not, and its own expected test
// output has them cleared).
func readPrefixes(dst []prefix, s stream, v4, addPath bool) []prefix {
	dst = dst[:0]
	maxBits := 128
	if v4 {
		maxBits = 32
	}
	for s.left() > 0 {
		var id uint32
		if addPath {
			id = s.u32()
		}
		bits := int(s.u8())
		n := (bits + 7) / 8
		if s.left() < n || bits > maxBits {
			break
		}
		p := prefix{bits: bits, pathID: id}
		s.get(p.addr[:], n)
		mask(&p)
		dst = append(dst, p)
	}
	return dst
}

// readVPNPrefixes reads labeled (SAFI 4) and VPN (SAFI 128) prefixes,
// which bgpdump does not print; the extended output does.
func readVPNPrefixes(dst []prefix, s stream, v4, vpn, addPath bool) []prefix {
	dst = dst[:0]
	maxBits := 128
	if v4 {
		maxBits = 32
	}
	for s.left() > 0 {
		var id uint32
		if addPath {
			id = s.u32()
		}
		bits := int(s.u8())
		n := (bits + 7) / 8
		if s.left() < n {
			break
		}
		v := s.sub(n)
		// Labels until the bottom-of-stack bit (or a withdrawal's
		// compatibility label).
		for bits >= 24 && v.left() >= 3 {
			l := v.b[0:3]
			v.b = v.b[3:]
			bits -= 24
			x := uint32(l[0])<<16 | uint32(l[1])<<8 | uint32(l[2])
			if x&1 == 1 || x == 0x800000 || x == 0 {
				break
			}
		}
		p := prefix{pathID: id}
		if vpn {
			if bits < 64 || v.left() < 8 {
				break
			}
			copy(p.rd[:], v.b[:8])
			v.b = v.b[8:]
			bits -= 64
			p.hasRD = true
		}
		if bits > maxBits || v.left() < (bits+7)/8 {
			break
		}
		p.bits = bits
		v.get(p.addr[:], (bits+7)/8)
		mask(&p)
		dst = append(dst, p)
	}
	return dst
}

func mask(p *prefix) {
	full := p.bits / 8
	if full >= 16 {
		return
	}
	if r := p.bits % 8; r != 0 {
		p.addr[full] &= byte(0xff << (8 - r))
		full++
	}
	for i := full; i < 16; i++ {
		p.addr[i] = 0
	}
}

// mpNLRI is one family of an MP_REACH_NLRI or MP_UNREACH_NLRI.
type mpNLRI struct {
	afi      uint16
	safi     uint8
	nhLen    int
	nextHop  [16]byte // first next hop (IPv4 in the first 4 bytes)
	prefixes []prefix
	set      bool
}

// attrs is bgpdump's attributes_t, as far as -m prints it.
type attrs struct {
	flag       uint64
	origin     int
	asPath     []byte
	hasASPath  bool
	as4Path    []byte
	hasAS4Path bool
	nextHop    [4]byte
	med        uint32
	localPref  uint32
	aggAS      uint32
	aggAddr    [4]byte
	as4AggAS   uint32
	as4AggAddr [4]byte
	community  []byte
	hasComm    bool
	reach      mpNLRI
	unreach    mpNLRI
	asn4       bool
	addPath    bool
	// aggByLen takes the AGGREGATOR's AS width from its length rather
	// than from the session (for BGP4MP_ENTRY, which bgpdump never
	// printed, and whose writer mixes widths).
	aggByLen bool

	aspathStr []byte // rendered AS path
	commStr   []byte // rendered communities, with bgpdump's leading space
	merged    []byte // AS4 merge scratch (4-octet segments)
}

func (a *attrs) has(t int) bool { return t < 64 && a.flag&(1<<uint(t)) != 0 }

// read is bgpdump's process_attributes on an attribute section.
func (a *attrs) read(b []byte, asn4, addPath, extended bool) {
	a.flag = 0
	a.origin = -1
	a.asPath, a.hasASPath = nil, false
	a.as4Path, a.hasAS4Path = nil, false
	a.nextHop = [4]byte{255, 255, 255, 255}
	a.med, a.localPref = 0, 0
	a.aggAS, a.aggAddr = 0, [4]byte{255, 255, 255, 255}
	a.as4AggAS, a.as4AggAddr = 0, [4]byte{255, 255, 255, 255}
	a.community, a.hasComm = nil, false
	a.reach.set, a.reach.prefixes = false, a.reach.prefixes[:0]
	a.unreach.set, a.unreach.prefixes = false, a.unreach.prefixes[:0]
	a.asn4, a.addPath = asn4, addPath
	s := stream{b}
	for s.left() > 0 {
		flag := s.u8()
		typ := int(s.u8())
		var l int
		if flag&0x10 != 0 {
			l = int(s.u16())
		} else {
			l = int(s.u8())
		}
		v := s.sub(l)
		if v.left() != l {
			return // "attribute is truncated"
		}
		if typ > 0 && typ <= 64 {
			a.flag |= 1 << uint(typ)
		}
		switch typ {
		case attrOrigin:
			a.origin = int(v.u8())
		case attrASPath:
			a.asPath, a.hasASPath = v.b, true
		case attrNextHop:
			v.get(a.nextHop[:], 4)
		case attrMED:
			a.med = v.u32()
		case attrLocalPref:
			a.localPref = v.u32()
		case attrAggregator:
			if (asn4 && !(a.aggByLen && l == 6)) || (a.aggByLen && l == 8) {
				a.aggAS = v.u32()
			} else {
				a.aggAS = v.u16()
			}
			v.get(a.aggAddr[:], 4)
		case attrCommunity:
			a.community, a.hasComm = v.b[:l/4*4], true
		case attrAS4Path:
			a.as4Path, a.hasAS4Path = v.b, true
		case attrAS4Agg:
			a.as4AggAS = v.u32()
			v.get(a.as4AggAddr[:], 4)
		case attrMPReach:
			a.readMPReach(v, extended)
		case attrMPUnreach:
			a.readMPUnreach(v, extended)
		}
	}
}

func knownFamily(afi uint16, safi uint8) bool {
	return afi <= 2 && safi <= 3
}

func (a *attrs) readMPReach(v stream, extended bool) {
	m := &a.reach
	if len(v.b) > 0 && v.b[0] != 0 {
		// Abbreviated (RFC 6396 section 4.3.4): taken as IPv6 unicast.
		m.afi, m.safi, m.set = 2, 1, true
		m.nhLen = int(v.u8())
		v.get(m.nextHop[:], 16)
		return
	}
	m.afi = uint16(v.u16())
	m.safi = uint8(v.u8())
	if !knownFamily(m.afi, m.safi) && !(extended && (m.afi == 1 || m.afi == 2) && (m.safi == 4 || m.safi == 128)) {
		return
	}
	m.set = true
	m.nhLen = int(v.u8())
	nh := v.sub(m.nhLen)
	if m.safi == 128 && nh.left() >= 8 {
		nh.b = nh.b[8:] // the next hop's RD
	}
	m.nextHop = [16]byte{}
	if m.afi == 1 {
		copy(m.nextHop[:4], nh.b)
	} else {
		copy(m.nextHop[:16], nh.b)
	}
	v.u8() // SNPA count, always 0
	if m.safi == 4 || m.safi == 128 {
		m.prefixes = readVPNPrefixes(m.prefixes, v, m.afi == 1, m.safi == 128, a.addPath)
		return
	}
	m.prefixes = readPrefixes(m.prefixes, v, m.afi == 1, a.addPath)
}

func (a *attrs) readMPUnreach(v stream, extended bool) {
	m := &a.unreach
	m.afi = uint16(v.u16())
	m.safi = uint8(v.u8())
	if !knownFamily(m.afi, m.safi) && !(extended && (m.afi == 1 || m.afi == 2) && (m.safi == 4 || m.safi == 128)) {
		return
	}
	m.set = true
	if m.safi == 4 || m.safi == 128 {
		m.prefixes = readVPNPrefixes(m.prefixes, v, m.afi == 1, m.safi == 128, a.addPath)
		return
	}
	m.prefixes = readPrefixes(m.prefixes, v, m.afi == 1, a.addPath)
}
