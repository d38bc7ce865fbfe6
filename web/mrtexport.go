package web

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

// MRT export from the stored history: the messages of a window as
// BGP4MP_ET records (ExportUpdates) and the routes current at a time as a
// TABLE_DUMP_V2 RIB (ExportRIB). Both stream what the store hands them
// to an io.Writer, holding one message or one prefix's routes at a time.
// The looking glass's /api/v1/mrt endpoints and `collector mrt export`
// call them.

// MRTStore is what the MRT export reads; *storage.DB implements it.
type MRTStore interface {
	Updates(ctx context.Context, q storage.UpdatesQuery, fn func(*storage.ExportEvent) error) error
	OpensBefore(ctx context.Context, host string, peers []netip.Addr, t time.Time) ([]storage.StoredOpen, error)
	RIBPeers(ctx context.Context, q storage.RIBQuery) ([]storage.RIBPeer, error)
	RIB(ctx context.Context, q storage.RIBQuery, fn func(*storage.Route) error) error
}

// ExportStats counts what an export wrote.
type ExportStats struct {
	Records  int // MRT records
	Messages int // BGP4MP message records
	States   int // BGP4MP state change records
	Routes   int // RIB entries
	// Unstored counts the routes a RIB export leaves out: of families
	// without IP prefixes (FlowSpec, EVPN, ...) whose NLRI bytes are not
	// stored (the UPDATE that announced them is not: collector.store_raw
	// off, or a route of an imported RIB dump).
	Unstored int
}

// UpdatesOptions tunes ExportUpdates.
type UpdatesOptions struct {
	// Seconds writes BGP4MP records (second timestamps, as RIS's and
	// RouteViews' updates files) instead of BGP4MP_ET ones.
	Seconds bool
}

// BGP FSM states of the STATE_CHANGE records (RFC 6396 section 4.4.1).
// The store keeps "connected" and "down" only: a session that came up is
// written as OpenConfirm -> Established, one that went down as
// Established -> Idle.
const (
	fsmIdle        = 1
	fsmOpenConfirm = 5
	fsmEstablished = 6
)

// exportSession is what the export knows of a session: its OPENs, and
// what was inferred from its messages when none is stored.
type exportSession struct {
	peerOpen, localOpen *bgpwire.Open
	// localASN is the collector's AS on the session, from its stored OPEN
	// (its column, when the OPEN's bytes are not stored).
	localASN uint32
	// localAddr is the collector's address of the session's connection,
	// from its latest stored OPEN or session change (invalid when none
	// has it).
	localAddr netip.Addr
	// as4 is the 4-octet AS inference from AS_PATHs when the OPENs are not
	// both known; as4Known once a message settled it.
	as4, as4Known bool
}

type sessionKey struct {
	host string
	peer netip.Addr
}

// negotiated returns whether the session has 4-octet ASNs and ADD-PATH
// for family f, when both OPENs are stored.
func (s *exportSession) negotiated(f bgpwire.Family) (as4, addPath, ok bool) {
	if s.peerOpen == nil || s.localOpen == nil {
		return false, false, false
	}
	_, p4 := s.peerOpen.Capability(bgpwire.CapFourOctetAS)
	_, l4 := s.localOpen.Capability(bgpwire.CapFourOctetAS)
	pc, pok := s.peerOpen.Capability(bgpwire.CapAddPath)
	lc, lok := s.localOpen.Capability(bgpwire.CapAddPath)
	if pok && lok {
		for _, pf := range pc.AddPath {
			if pf.Family != f || pf.Mode&bgpwire.AddPathSend == 0 {
				continue
			}
			for _, lf := range lc.AddPath {
				if lf.Family == f && lf.Mode&bgpwire.AddPathReceive != 0 {
					addPath = true
				}
			}
		}
	}
	return p4 && l4, addPath, true
}

// ExportUpdates writes the stored messages and session changes of q as
// BGP4MP_ET (or, with opt.Seconds, BGP4MP) records: MESSAGE_AS4 with the
// raw message as stored (MESSAGE_AS4_LOCAL for what the collector sent,
// the _ADDPATH subtypes where the session negotiated ADD-PATH), MESSAGE
// for sessions without 4-octet ASNs, and STATE_CHANGE_AS4 for session
// changes. The local AS is the collector's, from its stored OPEN of the
// session, and the local address the collector's address of the
// session's connection, from its stored OPENs and session changes (AS 0
// and the unspecified address of the peer's family when none is stored,
// as for history imported from MRT).
//
// Without stored OPENs, a session's 4-octet ASNs are inferred from the
// shape of its AS_PATHs and ADD-PATH from the stored path identifiers.
func ExportUpdates(ctx context.Context, st MRTStore, q storage.UpdatesQuery, w io.Writer, opt UpdatesOptions) (ExportStats, error) {
	var stats ExportStats
	if err := q.Validate(); err != nil {
		return stats, err
	}
	sessions := map[sessionKey]*exportSession{}
	get := func(host string, peer netip.Addr) *exportSession {
		k := sessionKey{host, peer}
		s := sessions[k]
		if s == nil {
			s = &exportSession{}
			sessions[k] = s
		}
		return s
	}
	opens, err := st.OpensBefore(ctx, q.Host, q.Peers, q.From)
	if err != nil {
		return stats, err
	}
	for _, o := range opens {
		s := get(o.Host, o.Peer)
		if o.Sent {
			s.localASN = o.ASN
		}
		if o.LocalAddr.IsValid() {
			s.localAddr = o.LocalAddr
		}
		setOpen(s, o.Raw, o.Sent)
	}
	mw := bgpwire.NewMRTWriter(w)
	err = st.Updates(ctx, q, func(e *storage.ExportEvent) error {
		s := get(e.Host, e.Peer)
		if e.LocalAddr.IsValid() {
			s.localAddr = e.LocalAddr
		}
		info := bgpwire.BGP4MPInfo{
			Timestamp:    uint32(e.TimeUs / 1e6),
			Microseconds: uint32(e.TimeUs % 1e6),
			PeerASN:      e.PeerASN,
			PeerAddr:     e.Peer.Unmap(),
			Seconds:      opt.Seconds,
		}
		info.LocalASN = s.localASN
		if s.localAddr.Is4() == info.PeerAddr.Is4() {
			info.LocalAddr = s.localAddr
		}
		stats.Records++
		if e.Kind == storage.ExportState {
			stats.States++
			switch e.State {
			case schema.StateConnected:
				return mw.WriteBGP4MPStateChange(info, fsmOpenConfirm, fsmEstablished)
			default:
				// A new session sends new OPENs; until then the old ones
				// are the best guess, and the inference starts again.
				s.as4Known = false
				return mw.WriteBGP4MPStateChange(info, fsmEstablished, fsmIdle)
			}
		}
		stats.Messages++
		if len(e.Raw) < bgpwire.HeaderLen {
			return fmt.Errorf("%s %s at %d µs: stored message of %d bytes", e.Host, e.Peer, e.TimeUs, len(e.Raw))
		}
		switch bgpwire.MessageType(e.Raw[18]) {
		case bgpwire.MsgOpen:
			setOpen(s, e.Raw, e.Sent)
			if e.Sent && s.localOpen != nil {
				s.localASN = s.localOpen.ASN()
				info.LocalASN = s.localASN
			}
			info.Local = e.Sent
			return mw.WriteBGP4MPMessage(info, e.Raw)
		case bgpwire.MsgUpdate:
			f := updateFamily(e.Raw[bgpwire.HeaderLen:])
			as4, addPath, ok := s.negotiated(f)
			if !ok {
				if v, sure := pathIs4Octet(e.Raw[bgpwire.HeaderLen:]); sure {
					s.as4, s.as4Known = v, true
				} else if !s.as4Known {
					s.as4 = true
				}
				as4, addPath = s.as4, e.PathID != 0
			}
			info.TwoOctetAS = !as4 && info.PeerASN <= 0xffff && info.LocalASN <= 0xffff
			info.AddPath = addPath
		default:
			info.Local = e.Sent
		}
		return mw.WriteBGP4MPMessage(info, e.Raw)
	})
	return stats, err
}

// setOpen keeps a stored OPEN (the whole message) as the session's.
func setOpen(s *exportSession, raw []byte, sent bool) {
	if len(raw) < bgpwire.HeaderLen {
		return
	}
	o, err := bgpwire.DecodeOpen(raw[bgpwire.HeaderLen:])
	if err != nil {
		return
	}
	if sent {
		s.localOpen = o
	} else {
		s.peerOpen = o
	}
}

// updateAttrs returns the path attributes section of an UPDATE body.
func updateAttrs(body []byte) ([]byte, bool) {
	if len(body) < 2 {
		return nil, false
	}
	wl := int(binary.BigEndian.Uint16(body))
	if len(body) < 2+wl+2 {
		return nil, false
	}
	al := int(binary.BigEndian.Uint16(body[2+wl:]))
	if len(body) < 4+wl+al {
		return nil, false
	}
	return body[4+wl : 4+wl+al], true
}

// eachAttr calls fn with the code and value of each attribute, until fn
// returns false.
func eachAttr(attrs []byte, fn func(code uint8, v []byte) bool) {
	for len(attrs) >= 3 {
		flags, code := attrs[0], attrs[1]
		n, h := int(attrs[2]), 3
		if flags&bgpwire.FlagExtLength != 0 {
			if len(attrs) < 4 {
				return
			}
			n, h = int(binary.BigEndian.Uint16(attrs[2:])), 4
		}
		if len(attrs) < h+n || !fn(code, attrs[h:h+n]) {
			return
		}
		attrs = attrs[h+n:]
	}
}

// updateFamily is the family of an UPDATE's MP_REACH_NLRI or
// MP_UNREACH_NLRI, IPv4 unicast without them.
func updateFamily(body []byte) bgpwire.Family {
	f := bgpwire.IPv4Unicast
	attrs, _ := updateAttrs(body)
	eachAttr(attrs, func(code uint8, v []byte) bool {
		if (bgpwire.AttrCode(code) == bgpwire.AttrMPReach || bgpwire.AttrCode(code) == bgpwire.AttrMPUnreach) && len(v) >= 3 {
			f = bgpwire.Family{AFI: bgpwire.AFI(binary.BigEndian.Uint16(v)), SAFI: bgpwire.SAFI(v[2])}
			return false
		}
		return true
	})
	return f
}

// pathIs4Octet says whether an UPDATE's AS_PATH has 4-octet ASNs, when its
// shape tells: sure is false when it has no AS_PATH, an empty one, or one
// that reads as well either way.
func pathIs4Octet(body []byte) (as4, sure bool) {
	attrs, ok := updateAttrs(body)
	if !ok {
		return false, false
	}
	eachAttr(attrs, func(code uint8, v []byte) bool {
		if bgpwire.AttrCode(code) != bgpwire.AttrASPath {
			return true
		}
		fits4, fits2 := segmentsFit(v, 4), segmentsFit(v, 2)
		as4, sure = fits4, fits4 != fits2
		return false
	})
	return as4, sure
}

// segmentsFit reports whether v reads as AS_PATH segments of ASNs of size
// octets, ending exactly at its end.
func segmentsFit(v []byte, size int) bool {
	for len(v) > 0 {
		if len(v) < 2 || v[0] < 1 || v[0] > 4 || v[1] == 0 {
			return false
		}
		n := 2 + int(v[1])*size
		if len(v) < n {
			return false
		}
		v = v[n:]
	}
	return true
}

// ExportRIB writes the routes of q current at q.At as TABLE_DUMP_V2: a
// PEER_INDEX_TABLE of the peers known then (their ASN then, the BGP
// identifier of their latest stored OPEN, 0.0.0.0 without one; the view
// name is q.Host), then a RIB_IPV4_UNICAST, RIB_IPV4_MULTICAST,
// RIB_IPV6_UNICAST or RIB_IPV6_MULTICAST record per prefix (the _ADDPATH
// subtypes when a route has a path identifier), IPv4 first, in prefix
// order, each entry with the time its announcement was received as its
// originated time. Labeled unicast, VPN and multicast VPN routes go in a
// RIB_GENERIC (or RIB_GENERIC_ADDPATH) record per NLRI, made of the
// stored prefix, labels and RD. Every record is dated q.At.
//
// The attributes are encoded from the stored columns (4-octet ASNs,
// MP_REACH_NLRI as the next hop only, RFC 6396 section 4.3.4), in type
// code order, not copied from the announcing UPDATE: RIB snapshots keep
// no raw messages, and an UPDATE's attributes may be 2-octet or carry
// NLRI of other prefixes.
func ExportRIB(ctx context.Context, st MRTStore, q storage.RIBQuery, w io.Writer) (ExportStats, error) {
	var stats ExportStats
	peers, err := st.RIBPeers(ctx, q)
	if err != nil {
		return stats, err
	}
	ts := uint32(max(q.At.Unix(), 0))
	index := make(map[sessionKey]uint16, len(peers))
	mps := make([]bgpwire.MRTPeer, len(peers))
	var collectorID netip.Addr
	for i, p := range peers {
		if i > 0xffff {
			return stats, fmt.Errorf("mrt: more than 65536 peers")
		}
		index[sessionKey{p.Host, p.Addr}] = uint16(i)
		addr := p.Addr.Unmap()
		if !addr.IsValid() {
			// The store keeps an unspecified address as absent (all
			// zeros): a dump's local routes, peer "::" in RIS's dumps.
			addr = netip.IPv6Unspecified()
		}
		mps[i] = bgpwire.MRTPeer{Addr: addr, ASN: p.ASN, BGPID: p.BGPID}
		if !collectorID.IsValid() && p.LocalID.IsValid() {
			collectorID = p.LocalID
		}
	}
	mw := bgpwire.NewMRTWriter(w)
	if err := mw.WritePeerIndexTable(ts, collectorID, q.Host, mps); err != nil {
		return stats, err
	}
	stats.Records++
	var (
		seq     uint32
		fam     bgpwire.Family
		prefix  netip.Prefix
		nlri    bgpwire.NLRI // of a RIB_GENERIC record: prefix, labels and RD
		entries []bgpwire.RIBEntry
		buf     []byte // attributes of the entries, back to back
		ends    []int
		attrs   bgpwire.Attributes
		opt     bgpwire.DecodeOptions
	)
	flush := func() error {
		if len(entries) == 0 {
			return nil
		}
		start := 0
		for i := range entries {
			entries[i].Attrs = buf[start:ends[i]]
			start = ends[i]
		}
		var err error
		if fam.SAFI == bgpwire.SAFIUnicast || fam.SAFI == bgpwire.SAFIMulticast {
			err = mw.WriteRIB(ts, seq, fam, prefix, entries)
		} else {
			err = mw.WriteRIBGeneric(ts, seq, fam, nlri, entries)
		}
		if err != nil {
			return err
		}
		seq++
		stats.Records++
		entries, buf, ends = entries[:0], buf[:0], ends[:0]
		return nil
	}
	err = st.RIB(ctx, q, func(r *storage.Route) error {
		f := bgpwire.Family{AFI: bgpwire.AFI(r.Family.AFI), SAFI: bgpwire.SAFI(r.Family.SAFI)}
		generic := f.SAFI != bgpwire.SAFIUnicast && f.SAFI != bgpwire.SAFIMulticast
		var n bgpwire.NLRI
		pathID := r.PathID
		if r.NLRI != "" {
			// FlowSpec, EVPN, ...: the NLRI's bytes, from the UPDATE.
			found, ok := nlriOf(r.Message, f, r.NLRI)
			if !ok {
				stats.Unstored++
				return nil
			}
			n.Raw, pathID = found.Raw, found.PathID
		} else if generic {
			// Labeled and VPN routes: one record per NLRI, which holds
			// the labels and the RD along with the prefix.
			n.Prefix = r.Prefix
			if r.RD != "" {
				rd, err := bgpwire.ParseRD(r.RD)
				if err != nil {
					return fmt.Errorf("mrt: route of %s %s %s: %w", r.Host, r.Peer, r.Prefix, err)
				}
				n.RD = rd
			}
			for _, l := range r.Labels {
				n.Labels.Append(l)
			}
		}
		if f != fam || r.Prefix != prefix || generic && (n.RD != nlri.RD || n.Labels != nlri.Labels || string(n.Raw) != string(nlri.Raw)) {
			if err := flush(); err != nil {
				return err
			}
			fam, prefix, nlri = f, r.Prefix, n
		}
		idx, ok := index[sessionKey{r.Host, r.Peer}]
		if !ok {
			return fmt.Errorf("mrt: route of %s %s, a peer not in the peer index", r.Host, r.Peer)
		}
		buf = appendRIBAttrs(buf, &attrs, &opt, r, f)
		ends = append(ends, len(buf))
		entries = append(entries, bgpwire.RIBEntry{PeerIndex: idx, OriginatedTime: uint32(max(r.Time.Unix(), 0)), PathID: pathID})
		stats.Routes++
		return nil
	})
	if err != nil {
		return stats, err
	}
	return stats, flush()
}

// nlriOf finds in UPDATE message msg the announced NLRI of family f
// (without IP prefixes) whose text is text, as the store keeps such
// routes, and returns it with its own copy of its bytes. The message is
// read with ADD-PATH off and then on: the NLRI's text says which.
func nlriOf(msg []byte, f bgpwire.Family, text string) (bgpwire.NLRI, bool) {
	if len(msg) < bgpwire.HeaderLen {
		return bgpwire.NLRI{}, false
	}
	attrs, ok := updateAttrs(msg[bgpwire.HeaderLen:])
	if !ok {
		return bgpwire.NLRI{}, false
	}
	var mp []byte
	eachAttr(attrs, func(code uint8, v []byte) bool {
		if bgpwire.AttrCode(code) == bgpwire.AttrMPReach {
			mp = v
			return false
		}
		return true
	})
	if mp == nil {
		return bgpwire.NLRI{}, false
	}
	// MP_REACH_NLRI alone, decoded as the attributes of a message.
	a := append([]byte{bgpwire.FlagOptional | bgpwire.FlagExtLength, byte(bgpwire.AttrMPReach), byte(len(mp) >> 8), byte(len(mp))}, mp...)
	for _, addPath := range []bool{false, true} {
		var u bgpwire.Update
		var opt bgpwire.DecodeOptions
		if addPath {
			opt.AddPath = []bgpwire.Family{f}
		}
		if err := u.DecodeAttributes(a, &opt); err != nil || !u.Attrs.Has(bgpwire.AttrMPReach) || u.Attrs.MPReach.Family != f {
			continue
		}
		for _, n := range u.Attrs.MPReach.NLRI {
			if n.Text(f) == text {
				n.Raw = slices.Clone(n.Raw)
				return n, true
			}
		}
	}
	return bgpwire.NLRI{}, false
}

// appendRIBAttrs appends the path attributes of a RIB entry of route r,
// built from its stored columns.
func appendRIBAttrs(dst []byte, a *bgpwire.Attributes, opt *bgpwire.DecodeOptions, r *storage.Route, f bgpwire.Family) []byte {
	setRouteAttrs(a, r, f)
	*opt = bgpwire.DecodeOptions{ASN4: true, RIBFamily: f}
	dst = a.AppendWire(dst, opt)
	return appendOtherAttrs(dst, r.OtherAttrs)
}

// setRouteAttrs sets a to the path attributes of route r of family f (the
// next hop in NEXT_HOP for IPv4 unicast, else in MP_REACH_NLRI, without
// NLRI), except those without a column of their own.
func setRouteAttrs(a *bgpwire.Attributes, r *storage.Route, f bgpwire.Family) {
	a.Reset()
	if r.Origin != schema.OriginAbsent {
		a.Set(bgpwire.AttrOrigin)
		a.Origin = uint8(r.Origin - 1)
	}
	a.Set(bgpwire.AttrASPath)
	for _, s := range r.Path {
		a.ASPath = append(a.ASPath, bgpwire.Segment{Type: bgpwire.SegmentType(s.Type), ASNs: s.ASNs})
	}
	switch {
	case !r.NextHop.IsValid():
	case f == bgpwire.IPv4Unicast && r.NextHop.Is4() && !r.NextHopLinkLocal.IsValid():
		a.Set(bgpwire.AttrNextHop)
		a.NextHop = r.NextHop
	default:
		a.Set(bgpwire.AttrMPReach)
		a.MPReach = bgpwire.MPReach{Family: f, NextHop: r.NextHop, LinkLocal: r.NextHopLinkLocal}
	}
	if r.MED != nil {
		a.Set(bgpwire.AttrMED)
		a.MED = *r.MED
	}
	if r.LocalPref != nil {
		a.Set(bgpwire.AttrLocalPref)
		a.LocalPref = *r.LocalPref
	}
	if r.AtomicAggregate {
		a.Set(bgpwire.AttrAtomicAggregate)
	}
	if g := r.Aggregator; g != nil {
		a.Set(bgpwire.AttrAggregator)
		a.Aggregator = bgpwire.Aggregator{ASN: g.ASN, Address: g.Address}
	}
	if len(r.Community) > 0 {
		a.Set(bgpwire.AttrCommunities)
		for _, c := range r.Community {
			a.Communities = append(a.Communities, c.Uint32())
		}
	}
	if r.OriginatorID.IsValid() && !r.OriginatorID.IsUnspecified() {
		a.Set(bgpwire.AttrOriginatorID)
		a.OriginatorID = r.OriginatorID
	}
	if len(r.ClusterList) > 0 {
		a.Set(bgpwire.AttrClusterList)
		a.ClusterList = r.ClusterList
	}
	for _, c := range r.ExtCommunity {
		switch len(c) {
		case 8:
			a.Set(bgpwire.AttrExtCommunities)
			a.ExtCommunities = append(a.ExtCommunities, [8]byte(c))
		case 20:
			a.Set(bgpwire.AttrIPv6ExtCommunities)
			a.IPv6ExtCommunities = append(a.IPv6ExtCommunities, [20]byte(c))
		}
	}
	if r.AIGP != nil {
		a.Set(bgpwire.AttrAIGP)
		a.AIGP = *r.AIGP
	}
	if len(r.LargeCommunity) > 0 {
		a.Set(bgpwire.AttrLargeCommunity)
		for _, c := range r.LargeCommunity {
			a.LargeCommunities = append(a.LargeCommunities, [3]uint32(c))
		}
	}
	if r.OTC != nil {
		a.Set(bgpwire.AttrOTC)
		a.OTC = *r.OTC
	}
}

// appendOtherAttrs appends the attributes without a column of their own,
// in type code order, with their stored flags.
func appendOtherAttrs(dst []byte, other []schema.RawAttribute) []byte {
	if len(other) == 0 {
		return dst
	}
	others := slices.Clone(other)
	slices.SortStableFunc(others, func(x, y schema.RawAttribute) int { return int(x.Code) - int(y.Code) })
	for _, o := range others {
		v, err := hex.DecodeString(o.Value)
		if err != nil {
			continue
		}
		if len(v) > 255 {
			dst = append(dst, o.Flags|bgpwire.FlagExtLength, o.Code, byte(len(v)>>8), byte(len(v)))
		} else {
			dst = append(dst, o.Flags&^bgpwire.FlagExtLength, o.Code, byte(len(v)))
		}
		dst = append(dst, v...)
	}
	return dst
}

var _ MRTStore = (*storage.DB)(nil)

// ErrNoBzip2 is returned by Compress for bz2 when no bzip2 program is
// installed: Go's standard library reads bzip2 but does not write it.
var ErrNoBzip2 = errors.New("bz2 not available (no bzip2 program in PATH)")

// Compress returns a writer that compresses to w in format: "gz" (gzip at
// its fastest level),
// "bz2" (through the bzip2 program, when it is installed) or "" (none).
// Close flushes the compressed stream; it does not close w.
func Compress(w io.Writer, format string) (io.WriteCloser, error) {
	switch format {
	case "":
		return nopCloser{w}, nil
	case "gz":
		// The fastest level: on RIS updates it halves the time of an
		// export (deflate is most of it at the default level) for files
		// 16% larger (BenchmarkMRTExportUpdates). klauspost's deflate
		// (which the MRT reader uses too) takes half the time of the
		// standard library's at this level, for the same format.
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	case "bz2":
		bin, err := exec.LookPath("bzip2")
		if err != nil {
			return nil, ErrNoBzip2
		}
		cmd := exec.Command(bin, "-c")
		cmd.Stdout = w
		var stderr strings.Builder
		cmd.Stderr = &stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("bzip2: %w", err)
		}
		return &bzip2Writer{WriteCloser: in, cmd: cmd, stderr: &stderr}, nil
	}
	return nil, fmt.Errorf("compression %q: want gz, bz2 or none", format)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// bzip2Writer feeds a bzip2 process; Close waits for it.
type bzip2Writer struct {
	io.WriteCloser
	cmd    *exec.Cmd
	stderr *strings.Builder
	closed bool
}

func (b *bzip2Writer) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.WriteCloser.Close()
	if werr := b.cmd.Wait(); werr != nil {
		return fmt.Errorf("bzip2: %w: %s", werr, strings.TrimSpace(b.stderr.String()))
	}
	return err
}

// AppendUpdate appends the BGP UPDATE message (4-octet ASNs, no ADD-PATH)
// that carries UPDATE event ev: its IP prefix announcements and
// withdrawals, with its path attributes (attributes without a field of
// their own after the others, in type code order). It is for tools that
// make up history as a session would have received it (the benchmarks'
// data sets); the collector stores the bytes it received instead.
func AppendUpdate(dst []byte, ev *schema.Event) []byte {
	var u bgpwire.Update
	opt := bgpwire.DecodeOptions{ASN4: true}
	wire := func(s schema.NLRISet) (bgpwire.Family, []bgpwire.NLRI) {
		f := bgpwire.Family{AFI: bgpwire.AFI(s.Family.AFI), SAFI: bgpwire.SAFI(s.Family.SAFI)}
		n := make([]bgpwire.NLRI, len(s.Prefixes))
		for i, p := range s.Prefixes {
			n[i] = bgpwire.NLRI{Prefix: p}
		}
		return f, n
	}
	if len(ev.Announcements) > 0 {
		ann := &ev.Announcements[0]
		r := storage.Route{NextHop: ann.NextHop, NextHopLinkLocal: ann.NextHopLinkLocal, Path: ev.Path,
			Origin: ev.Origin, MED: ev.MED, LocalPref: ev.LocalPref, Community: ev.Community,
			LargeCommunity: ev.LargeCommunity, ExtCommunity: ev.ExtCommunity, AtomicAggregate: ev.AtomicAggregate,
			Aggregator: ev.Aggregator, OriginatorID: ev.OriginatorID, ClusterList: ev.ClusterList, OTC: ev.OTC, AIGP: ev.AIGP}
		f, nlri := wire(ann.NLRISet)
		setRouteAttrs(&u.Attrs, &r, f)
		if f == bgpwire.IPv4Unicast && u.Attrs.Has(bgpwire.AttrNextHop) {
			u.NLRI = nlri
		} else {
			u.Attrs.MPReach.NLRI = nlri
		}
		for _, o := range ev.OtherAttrs {
			if v, err := hex.DecodeString(o.Value); err == nil {
				u.Attrs.Other = append(u.Attrs.Other, bgpwire.RawAttribute{Flags: o.Flags, Code: bgpwire.AttrCode(o.Code), Value: v})
			}
		}
	}
	for _, s := range ev.Withdrawn {
		f, nlri := wire(s)
		if f == bgpwire.IPv4Unicast {
			u.Withdrawn = append(u.Withdrawn, nlri...)
			continue
		}
		u.Attrs.Set(bgpwire.AttrMPUnreach)
		u.Attrs.MPUnreach = bgpwire.MPUnreach{Family: f, NLRI: nlri}
	}
	return u.AppendWire(dst, &opt)
}
