// Package bgpdump prints MRT records in the one-line format of
// `bgpdump -m` (RIPE NCC bgpdump 1.6), so that scripts written for
// bgpdump keep working on Vantage's output.
//
// The lines are bgpdump's, quirks included (type-5 withdrawals show the
// peer address in place of the prefix, as bgpdump's inet_ntoa reuse
// does; AS4_PATH is merged by bgpdump's rules); the one deliberate
// difference is that host bits of prefixes are cleared, as bgpdump has
// done since 2020 and its own expected test output shows. JSON output
// (package collector) is the faithful decoding.
//
// With Options.Strict the output is what bgpdump 1.6.2 prints, line for
// line. Without it, records bgpdump skips are printed too, in the same
// line format:
//
//   - TABLE_DUMP_V2 RIB_GENERIC, RIB_*_MULTICAST and *_ADDPATH variants:
//     TABLE_DUMP2 (or TABLE_DUMP2_AP) "B" lines;
//   - the obsolete BGP4MP_ENTRY: "BGP4MP_ENTRY|time|B|..." lines with the
//     fields of a TABLE_DUMP line;
//   - labeled (SAFI 4) and VPN (SAFI 128) routes in BGP4MP updates and
//     RIBs: "A"/"W"/"B" lines whose prefix field is RD:prefix for VPN
//     routes (gobgp's notation) and the bare prefix for labeled ones;
//   - RIB entries when the file has no PEER_INDEX_TABLE: peer 0.0.0.0,
//     peer AS 0;
//   - every entry of early RIS TABLE_DUMP records that batch several.
//
// A Printer owns its buffers; Record allocates nothing in the steady
// state. It is not safe for concurrent use.
package bgpdump

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/vantage-bgp/vantage/bgpwire"
)

// Options changes what is printed.
type Options struct {
	// Strict prints exactly what bgpdump 1.6.2 prints and nothing more.
	Strict bool
}

// Printer writes bgpdump -m lines for MRT records.
type Printer struct {
	w    *bufio.Writer
	opts Options

	line     []byte
	attrs    attrs
	rib      bgpwire.RIB
	td       bgpwire.TableDump
	mp       bgpwire.BGP4MP
	peers    bgpwire.PeerIndexTable
	hasPeers bool
	wd, ann  []prefix
	time     []byte
	mrtd     bool // printing a type-5 BGP record

	// What the announcement lines of one UPDATE share, built once per
	// message (gen counts messages): the fields before the prefix, and
	// those after it for one next hop.
	gen, headGen, tailGen uint64
	head, tail, tailNH    []byte
	tailSigned            bool
}

// NewPrinter returns a Printer writing to w. Call Flush at the end.
func NewPrinter(w io.Writer, opts Options) *Printer {
	return &Printer{w: bufio.NewWriterSize(w, 256<<10), opts: opts}
}

// Flush writes buffered output.
func (p *Printer) Flush() error { return p.w.Flush() }

// ErrSkipped is wrapped by the errors of records that were not printed
// because bgpdump does not print them (Strict) or they cannot be shown
// in its format.
var ErrSkipped = errors.New("not printable in bgpdump format")

// Record prints the lines of one record. The error, if any, says why a
// record was not (fully) printed; printing goes on with the next one.
func (p *Printer) Record(rec bgpwire.MRTRecord) error {
	h := rec.Header
	p.mrtd = false
	switch h.Type {
	case bgpwire.MRTTableDump2:
		if h.Subtype == bgpwire.TD2PeerIndexTable {
			if err := p.peers.Decode(rec.Body); err != nil {
				return err
			}
			p.hasPeers = true
			return nil
		}
		if !bgpwire.IsRIBSubtype(h.Subtype) {
			return fmt.Errorf("%s subtype %d: %w", h.Type, h.Subtype, ErrSkipped)
		}
		return p.ribRecord(h, rec.Body)
	case bgpwire.MRTTableDump:
		return p.tableDump(h, rec.Body)
	case bgpwire.MRTBGP4MP, bgpwire.MRTBGP4MPET, bgpwire.MRTBGP:
		return p.bgp4mp(h, rec.Body)
	}
	return fmt.Errorf("%s: %w", h.Type, bgpwire.ErrMRTUnsupported)
}

func (p *Printer) setTime(h bgpwire.MRTHeader) {
	p.time = appendDec(p.time[:0], uint32(h.Timestamp))
	if h.Type == bgpwire.MRTBGP4MPET {
		p.time = append(p.time, '.')
		var tmp [12]byte
		us := appendDec(tmp[:0], uint32(h.Microseconds))
		for i := len(us); i < 6; i++ {
			p.time = append(p.time, '0')
		}
		p.time = append(p.time, us...)
	}
}

func (p *Printer) start(format, typ string) []byte {
	b := append(p.line[:0], format...)
	b = append(b, '|')
	b = append(b, p.time...)
	b = append(b, '|')
	b = append(b, typ...)
	return append(b, '|')
}

func (p *Printer) emit(b []byte) {
	p.line = b
	p.w.Write(b)
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return appendIPv4(b, v[:])
	}
	v := a.As16()
	return appendIPv6(b, v[:])
}

func appendPrefix(b []byte, pf *prefix, v4 bool) []byte {
	if pf.hasRD {
		b = append(b, bgpwire.RD(pf.rd).String()...)
		b = append(b, ':')
	}
	if v4 {
		b = appendIPv4(b, pf.addr[:4])
	} else {
		b = appendIPv6(b, pf.addr[:])
	}
	b = append(b, '/')
	return appendDec(b, uint32(pf.bits))
}

func originName(o int) string {
	switch o {
	case 0:
		return "IGP"
	case 1:
		return "EGP"
	}
	return "INCOMPLETE"
}

// appendTail writes "|ASPATH|ORIGIN|" ... no: the fields from the next hop
// on: NEXTHOP|LP|MED|COMMUNITIES|AG|AGGREGATOR|.
func (p *Printer) appendTail(b []byte, nextHop []byte, signed bool) []byte {
	a := &p.attrs
	b = append(b, nextHop...)
	b = append(b, '|')
	var lp, med uint32
	if a.has(attrLocalPref) {
		lp = a.localPref
	}
	if a.has(attrMED) {
		med = a.med
	}
	if signed {
		b = strconv.AppendInt(b, int64(int32(lp)), 10)
		b = append(b, '|')
		b = strconv.AppendInt(b, int64(int32(med)), 10)
	} else {
		b = appendDec(b, uint32(lp))
		b = append(b, '|')
		b = appendDec(b, uint32(med))
	}
	if !p.mrtd {
		// bgpdump's type-5 lines have no separator between MED and the
		// communities.
		b = append(b, '|')
	}
	if a.has(attrCommunity) && len(a.commStr) > 0 {
		b = append(b, a.commStr[1:]...)
	}
	b = append(b, '|')
	if a.has(attrAtomicAgg) {
		b = append(b, "AG|"...)
	} else {
		b = append(b, "NAG|"...)
	}
	if a.aggAddr != [4]byte{255, 255, 255, 255} {
		b = appendDec(b, uint32(a.aggAS))
		b = append(b, ' ')
		b = appendIPv4(b, a.aggAddr[:])
	}
	return append(b, "|\n"...)
}

// ribNextHop is the next hop of RIB lines: the IPv6 unicast MP next hop
// when there is one, else NEXT_HOP.
func (p *Printer) ribNextHop(dst []byte) []byte {
	a := &p.attrs
	if a.has(attrMPReach) && a.reach.set && a.reach.afi == 2 && a.reach.safi == 1 {
		return appendIPv6(dst, a.reach.nextHop[:])
	}
	if a.has(attrMPReach) && a.reach.set && a.reach.safi == 128 && !p.opts.Strict {
		if a.reach.afi == 2 {
			return appendIPv6(dst, a.reach.nextHop[:])
		}
		return appendIPv4(dst, a.reach.nextHop[:4])
	}
	return appendIPv4(dst, a.nextHop[:])
}

func (p *Printer) ribRecord(h bgpwire.MRTHeader, body []byte) error {
	generic := h.Subtype == bgpwire.TD2RIBGeneric || h.Subtype == bgpwire.TD2RIBGenericAddPath
	multicast := h.Subtype == bgpwire.TD2RIBIPv4Multicast || h.Subtype == bgpwire.TD2RIBIPv6Multicast ||
		h.Subtype == bgpwire.TD2RIBIPv4MulticastAddPath || h.Subtype == bgpwire.TD2RIBIPv6MulticastAddPath
	if p.opts.Strict && (generic || multicast) {
		return fmt.Errorf("%s subtype %d: %w", h.Type, h.Subtype, ErrSkipped)
	}
	if p.opts.Strict && !p.hasPeers {
		return fmt.Errorf("RIB record without a PEER_INDEX_TABLE: %w", ErrSkipped)
	}
	rib := &p.rib
	if err := rib.Decode(h.Subtype, body); err != nil {
		return err
	}
	n := &rib.NLRI
	if !n.Prefix.IsValid() {
		return fmt.Errorf("RIB record of family %s: %w", rib.Family, ErrSkipped)
	}
	p.setTime(h)
	pf, v4 := prefixOf(n.Prefix)
	if rib.Family.SAFI == bgpwire.SAFIVPN {
		pf.rd, pf.hasRD = n.RD, true
	}
	format := "TABLE_DUMP2"
	if rib.AddPath {
		format = "TABLE_DUMP2_AP"
	}
	var err error
	for i := range rib.Entries {
		e := &rib.Entries[i]
		var peer bgpwire.MRTPeer
		switch {
		case !p.hasPeers:
			peer = bgpwire.MRTPeer{Addr: netip.IPv4Unspecified()}
		case int(e.PeerIndex) < len(p.peers.Peers):
			peer = p.peers.Peers[e.PeerIndex]
		default:
			err = fmt.Errorf("RIB entry %d: peer index %d beyond the %d peers of the PEER_INDEX_TABLE: %w", i, e.PeerIndex, len(p.peers.Peers), ErrSkipped)
			continue
		}
		p.attrs.read(e.Attrs, true, false, !p.opts.Strict)
		p.attrs.finish()
		pathID := -1
		if rib.AddPath {
			pathID = int(e.PathID)
		}
		b := p.routeHead(format, peer.Addr, peer.ASN, &pf, v4, pathID)
		var nh [64]byte
		b = p.appendTail(b, p.ribNextHop(nh[:0]), false)
		p.emit(b)
	}
	return err
}

// prefixOf converts a prefix for appendPrefix; v4 tells its family.
func prefixOf(n netip.Prefix) (pf prefix, v4 bool) {
	pf.bits = n.Bits()
	if v4 = n.Addr().Is4(); v4 {
		a := n.Addr().As4()
		copy(pf.addr[:], a[:])
	} else {
		pf.addr = n.Addr().As16()
	}
	return pf, v4
}

// routeHead starts the line of one RIB route, up to the separator after
// ORIGIN: FORMAT|time|B|peer|peer AS|prefix|[path id|]AS path|origin|.
// pathID < 0 means the format has no path id field.
func (p *Printer) routeHead(format string, peer netip.Addr, asn uint32, pf *prefix, v4 bool, pathID int) []byte {
	b := p.start(format, "B")
	b = appendAddr(b, peer)
	b = append(b, '|')
	b = appendDec(b, uint32(asn))
	b = append(b, '|')
	b = appendPrefix(b, pf, v4)
	b = append(b, '|')
	if pathID >= 0 {
		b = appendDec(b, uint32(pathID))
		b = append(b, '|')
	}
	b = append(b, p.attrs.aspathStr...)
	b = append(b, '|')
	b = append(b, originName(p.attrs.origin)...)
	return append(b, '|')
}

func (p *Printer) tableDump(h bgpwire.MRTHeader, body []byte) error {
	td := &p.td
	if err := td.Decode(h.Subtype, body); err != nil && len(td.Entries) == 0 {
		return err
	}
	p.setTime(h)
	asn4 := h.Subtype == bgpwire.TableDumpIPv4AS4 || h.Subtype == bgpwire.TableDumpIPv6AS4
	for i := range td.Entries {
		e := &td.Entries[i]
		p.attrs.read(e.Attrs, asn4, false, !p.opts.Strict)
		p.attrs.finish()
		pf, v4 := prefixOf(e.Prefix)
		b := p.routeHead("TABLE_DUMP", e.PeerAddr, e.PeerASN, &pf, v4, -1)
		var nh [64]byte
		b = p.appendTail(b, p.ribNextHop(nh[:0]), false)
		p.emit(b)
	}
	return nil
}

// format is get_bgp4mp_format.
func (p *Printer) format() string {
	m := &p.mp
	if m.Type == bgpwire.MRTBGP {
		return "BGP"
	}
	s := "BGP4MP"
	if m.Type == bgpwire.MRTBGP4MPET {
		s = "BGP4MP_ET"
	}
	switch {
	case m.Local && m.AddPath:
		return s + "_LOCAL_AP"
	case m.Local:
		return s + "_LOCAL"
	case m.AddPath:
		return s + "_AP"
	}
	return s
}

func (p *Printer) bgp4mp(h bgpwire.MRTHeader, body []byte) error {
	m := &p.mp
	if err := m.Decode(h, body); err != nil {
		return err
	}
	p.setTime(h)
	switch {
	case m.IsStateChange:
		if p.opts.Strict && h.Type != bgpwire.MRTBGP {
			n := len(body)
			ok := n == 8 || (m.AFI == bgpwire.AFIIPv4 && (n == 20 || n == 24)) || (m.AFI == bgpwire.AFIIPv6 && (n == 44 || n == 48))
			if !ok {
				return fmt.Errorf("state change of %d bytes: %w", n, ErrSkipped)
			}
		}
		f := "BGP4MP"
		switch h.Type {
		case bgpwire.MRTBGP4MPET:
			f = "BGP4MP_ET"
		case bgpwire.MRTBGP:
			f = "BGP"
		}
		b := p.start(f, "STATE")
		b = appendAddr(b, m.PeerAddr)
		b = append(b, '|')
		b = appendDec(b, uint32(m.PeerASN))
		b = append(b, '|')
		b = appendDec(b, uint32(m.OldState))
		b = append(b, '|')
		b = appendDec(b, uint32(m.NewState))
		p.emit(append(b, '\n'))
		return nil
	case m.IsEntry:
		if p.opts.Strict {
			return fmt.Errorf("BGP4MP_ENTRY: %w", ErrSkipped)
		}
		return p.entry()
	case m.IsMessage && m.MsgType == bgpwire.MsgUpdate:
		return p.update()
	}
	return nil
}

// entry prints an obsolete BGP4MP_ENTRY as a TABLE_DUMP-like line.
func (p *Printer) entry() error {
	m := &p.mp
	e := &m.Entry
	if !e.NLRI.Prefix.IsValid() {
		return fmt.Errorf("BGP4MP_ENTRY of family %s: %w", e.Family, ErrSkipped)
	}
	p.attrs.aggByLen = true
	p.attrs.read(e.Attrs, m.AS4, false, true)
	p.attrs.aggByLen = false
	p.attrs.finish()
	pf, v4 := prefixOf(e.NLRI.Prefix)
	if e.Family.SAFI == bgpwire.SAFIVPN {
		pf.rd, pf.hasRD = e.NLRI.RD, true
	}
	b := p.routeHead("BGP4MP_ENTRY", m.PeerAddr, m.PeerASN, &pf, v4, -1)
	var nh [64]byte
	hop := e.NextHop
	if e.Family.SAFI == bgpwire.SAFIVPN && len(hop) >= 8 {
		hop = hop[8:]
	}
	var nhs []byte
	switch {
	case len(hop) >= 16:
		nhs = appendIPv6(nh[:0], hop[:16])
	case len(hop) >= 4:
		nhs = appendIPv4(nh[:0], hop[:4])
	default:
		nhs = appendIPv4(nh[:0], p.attrs.nextHop[:])
	}
	b = p.appendTail(b, nhs, false)
	p.emit(b)
	return nil
}

// peerFields writes PEER|PEERAS| for message lines.
func (p *Printer) peerFields(b []byte) []byte {
	m := &p.mp
	b = appendAddr(b, m.PeerAddr)
	b = append(b, '|')
	b = appendDec(b, uint32(m.PeerASN))
	return append(b, '|')
}

func (p *Printer) update() error {
	p.gen++
	m := &p.mp
	s := stream{m.MsgBody}
	wd := s.sub(int(s.u16()))
	p.wd = readPrefixes(p.wd, wd, true, m.AddPath)
	alen := int(s.u16())
	attrSection := s.sub(alen)
	p.attrs.read(attrSection.b, m.AS4, m.AddPath, !p.opts.Strict)
	p.ann = readPrefixes(p.ann, s, true, m.AddPath)
	a := &p.attrs
	f := p.format()
	p.mrtd = m.Type == bgpwire.MRTBGP
	if p.mrtd {
		// Type-5 records: IPv4 only, no path identifiers.
		for i := range p.wd {
			b := p.start(f, "W")
			b = p.peerFields(b)
			// bgpdump formats both addresses of these lines with
			// inet_ntoa in one printf, so both show the peer's. The
			// line is bgpdump's; JSON output has the prefix.
			pf := p.wd[i]
			a := m.PeerAddr.As4()
			copy(pf.addr[:4], a[:])
			b = appendPrefix(b, &pf, true)
			p.emit(append(b, '\n'))
		}
		if len(p.ann) > 0 {
			a.finish()
		}
		for i := range p.ann {
			p.announce(f, &p.ann[i], true, a.nextHop[:4], false)
		}
		return nil
	}
	if len(p.wd) > 0 || a.has(attrMPUnreach) {
		for i := range p.wd {
			p.withdraw(f, &p.wd[i], true)
		}
		if u := &a.unreach; u.set {
			for i := range u.prefixes {
				p.withdraw(f, &u.prefixes[i], u.afi == 1)
			}
		}
	}
	if len(p.ann) > 0 || a.has(attrMPReach) {
		a.finish()
		for i := range p.ann {
			p.announce(f, &p.ann[i], true, a.nextHop[:4], false)
		}
		if r := &a.reach; r.set {
			for i := range r.prefixes {
				if r.afi == 1 {
					p.announce(f, &r.prefixes[i], true, r.nextHop[:4], true)
				} else {
					p.announce(f, &r.prefixes[i], false, r.nextHop[:16], false)
				}
			}
		}
	}
	return nil
}

func (p *Printer) withdraw(f string, pf *prefix, v4 bool) {
	b := p.start(f, "W")
	b = p.peerFields(b)
	b = appendPrefix(b, pf, v4)
	if p.mp.AddPath {
		b = append(b, '|')
		b = appendDec(b, uint32(pf.pathID))
	}
	p.emit(append(b, '\n'))
}

// announce prints an "A" line. signed is bgpdump's %d for LOCAL_PREF and
// MED of MP_REACH IPv4 routes.
func (p *Printer) announce(f string, pf *prefix, v4 bool, nextHop []byte, signed bool) {
	if p.headGen != p.gen {
		p.head = p.peerFields(append(p.head[:0], p.start(f, "A")...))
		p.headGen = p.gen
	}
	if p.tailGen != p.gen || p.tailSigned != signed || !bytes.Equal(p.tailNH, nextHop) {
		a := &p.attrs
		t := append(p.tail[:0], a.aspathStr...)
		t = append(t, '|')
		t = append(t, originName(a.origin)...)
		t = append(t, '|')
		var nh [64]byte
		var nhs []byte
		if len(nextHop) == 4 {
			nhs = appendIPv4(nh[:0], nextHop)
		} else {
			nhs = appendIPv6(nh[:0], nextHop)
		}
		p.tail = p.appendTail(t, nhs, signed)
		p.tailGen, p.tailSigned, p.tailNH = p.gen, signed, append(p.tailNH[:0], nextHop...)
	}
	b := append(p.line[:0], p.head...)
	b = appendPrefix(b, pf, v4)
	b = append(b, '|')
	if p.mp.AddPath {
		b = appendDec(b, uint32(pf.pathID))
		b = append(b, '|')
	}
	p.emit(append(b, p.tail...))
}
