package storage

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/vantage-bgp/vantage/schema"
)

// The writer keeps rows in columns, the form a native INSERT sends: no
// per-row structs, no per-value interface boxing, and a batch that fails
// can be appended again as it is.

// fixed16 is a FixedString(16) column: 16 bytes per row, back to back.
type fixed16 []byte

func (f fixed16) add(b [16]byte) fixed16 { return append(f, b[:]...) }

// values returns the rows as slices of f, the form clickhouse-go takes,
// in scratch (reused when it is large enough).
func (f fixed16) values(scratch [][]byte) [][]byte {
	out := slices.Grow(scratch[:0], len(f)/16)[:len(f)/16]
	for i := range out {
		out[i] = f[16*i : 16*i+16 : 16*i+16]
	}
	return out
}

// Array columns hold each row's value already in an interface (a typed
// slice: []uint32, []string, []uint8 or [][]byte), so that clickhouse-go's
// AppendRow, which takes an any, does not box every row again: an empty
// array is one shared value, and the attributes of an UPDATE are boxed
// once for all its rows.
var (
	emptyUint32s any = []uint32{}
	emptyStrings any = []string{}
	emptyUint8s  any = []uint8{}
	emptyBytes   any = [][]byte{}
)

// routeBatch holds rows of route_events, one slice per column.
type routeBatch struct {
	host, id, kind, rd, nlri, asPath, origin, attrs, raw []string
	peer, prefix, nextHop                                fixed16
	peerASN, pathID, originASN                           []uint32
	tsUs, seq                                            []uint64
	afi                                                  []uint16
	safi, prefixLen                                      []uint8
	// arrays, each row a boxed typed slice (see emptyUint32s)
	communities, large []any
}

func (b *routeBatch) len() int { return len(b.tsUs) }

// grow makes room for n more rows.
func (b *routeBatch) grow(n int) {
	for _, s := range []*[]string{&b.host, &b.id, &b.kind, &b.rd, &b.nlri, &b.asPath, &b.origin, &b.attrs, &b.raw} {
		*s = slices.Grow(*s, n)
	}
	for _, f := range []*fixed16{&b.peer, &b.prefix, &b.nextHop} {
		*f = slices.Grow(*f, 16*n)
	}
	for _, s := range []*[]uint32{&b.peerASN, &b.pathID, &b.originASN} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[]uint64{&b.tsUs, &b.seq} {
		*s = slices.Grow(*s, n)
	}
	b.afi = slices.Grow(b.afi, n)
	for _, s := range []*[]uint8{&b.safi, &b.prefixLen} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[]any{&b.communities, &b.large} {
		*s = slices.Grow(*s, n)
	}
}

// columns returns the columns in INSERT order, each with its values.
func (b *routeBatch) columns() []column {
	return []column{
		{"host", b.host}, {"peer", b.peer}, {"peer_asn", b.peerASN},
		{"ts_us", b.tsUs}, {"seq", b.seq}, {"id", b.id}, {"kind", b.kind},
		{"afi", b.afi}, {"safi", b.safi}, {"prefix", b.prefix}, {"prefix_len", b.prefixLen},
		{"path_id", b.pathID}, {"rd", b.rd}, {"nlri", b.nlri}, {"next_hop", b.nextHop},
		{"as_path", b.asPath}, {"origin_asn", b.originASN}, {"origin", b.origin},
		{"communities", b.communities}, {"large_communities", b.large},
		{"attrs", b.attrs}, {"raw", b.raw},
	}
}

// peerBatch holds rows of peer_events, one slice per column.
type peerBatch struct {
	host, id, typ, state, reason, notifData, raw []string
	peer, routerID, localAddr                    fixed16
	peerASN, openASN                             []uint32
	ts                                           []int64
	tsUs, seq                                    []uint64
	hasNotif, code, subcode, sent, version       []uint8
	holdTime                                     []uint16
	caps                                         []any // []string each
}

func (b *peerBatch) len() int { return len(b.tsUs) }

func (b *peerBatch) columns() []column {
	return []column{
		{"host", b.host}, {"peer", b.peer}, {"peer_asn", b.peerASN}, {"ts", b.ts}, {"ts_us", b.tsUs},
		{"seq", b.seq}, {"id", b.id}, {"type", b.typ}, {"state", b.state}, {"reason", b.reason},
		{"has_notification", b.hasNotif}, {"notification_code", b.code}, {"notification_subcode", b.subcode},
		{"notification_data", b.notifData}, {"sent", b.sent}, {"open_version", b.version}, {"open_asn", b.openASN},
		{"hold_time", b.holdTime}, {"router_id", b.routerID}, {"capabilities", b.caps}, {"raw", b.raw},
		{"local_addr", b.localAddr},
	}
}

// column is one column of a batch: its name and its values as a typed
// slice.
type column struct {
	name   string
	values any
}

// peerKey identifies a peer of a collector.
type peerKey struct {
	host string
	peer netip.Addr
}

// clock makes event times strictly increasing per peer, in microseconds.
// A nil clock keeps every time as it is.
type clock map[peerKey]uint64

// next returns the event's time in microseconds, moved 1µs past the
// peer's previous event when it is not later.
func (c clock) next(host string, peer netip.Addr, ts float64) uint64 {
	us := uint64(0)
	if ts > 0 {
		us = uint64(math.Round(ts * 1e6))
	}
	if c == nil {
		return us
	}
	k := peerKey{host, peer}
	if last, ok := c[k]; ok && us <= last {
		us = last + 1
	}
	c[k] = us
	return us
}

// addEvents converts events to rows. KEEPALIVE, ROUTE-REFRESH and events
// of unknown type have no rows; an UPDATE has one row per announced or
// withdrawn route (none for an End-of-RIB marker). Nothing of events is
// kept: the caller may reuse them.
func addEvents(c clock, routes *routeBatch, peers *peerBatch, events []schema.Event) {
	n := 0
	for i := range events {
		n += events[i].RouteCount()
	}
	routes.grow(n)
	for i := range events {
		e := &events[i]
		switch e.Type {
		case schema.TypeUpdate:
			if len(e.Announcements) == 0 && len(e.Withdrawals) == 0 && len(e.Withdrawn) == 0 {
				continue
			}
			routes.addUpdate(e, c.next(e.Host, e.Peer, e.Timestamp))
		case schema.TypePeerState, schema.TypeOpen, schema.TypeNotification:
			peers.add(e, c.next(e.Host, e.Peer, e.Timestamp))
		}
	}
}

// attrs are the path attributes of an UPDATE in their stored form; the
// zero value is what a withdrawal row carries.
type attrs struct {
	asPath      string
	originASN   uint32
	origin      string
	communities any    // []uint32
	large       any    // []string
	text        string // the attrs column's tokens of the UPDATE (attrtext.go)
}

var noAttrs = attrs{origin: "absent", communities: emptyUint32s, large: emptyStrings}

func attrsOf(e *schema.Event) attrs {
	a := noAttrs
	a.asPath = e.Path.String()
	a.originASN = e.Path.OriginASN()
	a.origin = originName(e.Origin)
	if len(e.Community) > 0 {
		cs := make([]uint32, len(e.Community))
		for i, c := range e.Community {
			cs[i] = c.Uint32()
		}
		a.communities = cs
	}
	if len(e.LargeCommunity) > 0 {
		ls := make([]string, len(e.LargeCommunity))
		for i, c := range e.LargeCommunity {
			ls[i] = c.String()
		}
		a.large = ls
	}
	a.text = string(appendUpdateAttrText(nil, e))
	return a
}

// route is what differs between the rows of one UPDATE.
type route struct {
	withdraw  bool
	family    schema.Family
	prefix    netip.Prefix
	pathID    uint32
	rd        string
	labels    []uint32
	nlri      string
	nextHop   netip.Addr
	nextHopLL netip.Addr
}

func (b *routeBatch) addUpdate(e *schema.Event, tsUs uint64) {
	first := b.len()
	peer := schema.AddrTo16(e.Peer)
	var text []byte
	add := func(r route, a *attrs) {
		b.host = append(b.host, e.Host)
		b.peer = b.peer.add(peer)
		b.peerASN = append(b.peerASN, e.PeerASN)
		b.tsUs = append(b.tsUs, tsUs)
		b.seq = append(b.seq, e.Seq)
		b.id = append(b.id, e.ID)
		if r.withdraw {
			b.kind = append(b.kind, "withdraw")
		} else {
			b.kind = append(b.kind, "announce")
		}
		b.afi = append(b.afi, r.family.AFI)
		b.safi = append(b.safi, r.family.SAFI)
		p, bits := schema.PrefixTo16(r.prefix)
		if !r.prefix.IsValid() {
			p, bits = [16]byte{}, 0
		}
		b.prefix = b.prefix.add(p)
		b.prefixLen = append(b.prefixLen, bits)
		b.pathID = append(b.pathID, r.pathID)
		b.rd = append(b.rd, r.rd)
		b.nlri = append(b.nlri, r.nlri)
		b.nextHop = b.nextHop.add(schema.AddrTo16(r.nextHop))
		b.asPath = append(b.asPath, a.asPath)
		b.originASN = append(b.originASN, a.originASN)
		b.origin = append(b.origin, a.origin)
		b.communities = append(b.communities, a.communities)
		b.large = append(b.large, a.large)
		if (r.nextHopLL.IsValid() && !r.nextHopLL.IsUnspecified()) || len(r.labels) > 0 {
			text = appendRouteAttrText(append(text[:0], a.text...), r.nextHopLL, r.labels)
			b.attrs = append(b.attrs, string(text))
		} else {
			b.attrs = append(b.attrs, a.text)
		}
		b.raw = append(b.raw, "")
	}
	addSet := func(set *schema.NLRISet, withdraw bool, nh, nhLL netip.Addr, a *attrs) {
		for i, p := range set.Prefixes {
			r := route{withdraw: withdraw, family: set.Family, prefix: p.Masked(), nextHop: nh, nextHopLL: nhLL}
			if r.family.IsZero() {
				r.family = familyOf(p.Addr())
			}
			if i < len(set.PathIDs) {
				r.pathID = set.PathIDs[i]
			}
			if i < len(set.RDs) {
				r.rd = set.RDs[i]
			}
			if i < len(set.Labels) {
				r.labels = set.Labels[i]
			}
			add(r, a)
		}
		for _, n := range set.NLRI {
			add(route{withdraw: withdraw, family: set.Family, nlri: n, nextHop: nh, nextHopLL: nhLL}, a)
		}
	}
	if len(e.Withdrawn) > 0 {
		for i := range e.Withdrawn {
			addSet(&e.Withdrawn[i], true, netip.Addr{}, netip.Addr{}, &noAttrs)
		}
	} else {
		for _, p := range e.Withdrawals {
			add(route{withdraw: true, family: familyOf(p.Addr()), prefix: p.Masked()}, &noAttrs)
		}
	}
	if len(e.Announcements) > 0 {
		a := attrsOf(e)
		for i := range e.Announcements {
			an := &e.Announcements[i]
			addSet(&an.NLRISet, false, an.NextHop, an.NextHopLinkLocal, &a)
		}
	}
	if b.len() > first {
		b.raw[first] = unhex(e.Raw)
	}
}

// eventReason is the reason column of a peer event: the collector's
// reason, else the NOTIFICATION's text, else its code and subcode.
func eventReason(e *schema.Event) string {
	if e.Reason != "" {
		return e.Reason
	}
	if n := e.Notification; n != nil {
		if n.Reason != "" {
			return n.Reason
		}
		return "notification " + strconv.Itoa(int(n.Code)) + "/" + strconv.Itoa(int(n.Subcode))
	}
	return ""
}

func familyOf(a netip.Addr) schema.Family {
	if a.Is4() {
		return schema.IPv4Unicast
	}
	return schema.IPv6Unicast
}

// originName is the Enum8 name of route_events.origin.
func originName(o schema.Origin) string {
	if s := o.String(); s != "" {
		return s
	}
	return "absent"
}

func (b *peerBatch) add(e *schema.Event, tsUs uint64) {
	var (
		state                              = "none"
		reason, notifData                  string
		hasNotif, code, subcode, sent, ver uint8
		openASN                            uint32
		holdTime                           uint16
		routerID                           [16]byte
		caps                               = emptyStrings
	)
	if e.Type == schema.TypePeerState && e.State != schema.StateUnknown {
		state = e.State.String()
	}
	if n := e.Notification; n != nil {
		hasNotif, code, subcode, notifData = 1, n.Code, n.Subcode, unhex(n.Data)
		if n.Sent {
			sent = 1
		}
	}
	reason = eventReason(e)
	if o := e.Open; o != nil {
		ver, openASN, holdTime = o.Version, o.ASN, o.HoldTime
		routerID = schema.AddrTo16(o.RouterID)
		if len(o.Capabilities) > 0 {
			caps = slices.Clone(o.Capabilities)
		}
		if o.Sent {
			sent = 1
		}
	}
	b.host = append(b.host, e.Host)
	b.peer = b.peer.add(schema.AddrTo16(e.Peer))
	b.peerASN = append(b.peerASN, e.PeerASN)
	b.ts = append(b.ts, int64(tsUs/1e6))
	b.tsUs = append(b.tsUs, tsUs)
	b.seq = append(b.seq, e.Seq)
	b.id = append(b.id, e.ID)
	b.typ = append(b.typ, e.Type.String())
	b.state = append(b.state, state)
	b.reason = append(b.reason, reason)
	b.hasNotif = append(b.hasNotif, hasNotif)
	b.code = append(b.code, code)
	b.subcode = append(b.subcode, subcode)
	b.notifData = append(b.notifData, notifData)
	b.sent = append(b.sent, sent)
	b.version = append(b.version, ver)
	b.openASN = append(b.openASN, openASN)
	b.holdTime = append(b.holdTime, holdTime)
	b.routerID = b.routerID.add(routerID)
	b.localAddr = b.localAddr.add(schema.AddrTo16(e.LocalAddress))
	b.caps = append(b.caps, caps)
	b.raw = append(b.raw, unhex(e.Raw))
}

// unhex returns the bytes that the hex text s (upper or lower case) stands
// for, the stored form of raw messages and attribute values; "" when s is
// not hex (an event from another publisher: its raw bytes are not kept
// rather than the batch refused).
func unhex(s string) string {
	if s == "" || len(s)%2 != 0 {
		return ""
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return ""
		}
		b[i] = hi<<4 | lo
	}
	// b is not written again: a string over it saves the copy.
	return unsafe.String(&b[0], len(b))
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// usTime converts stored microseconds to a time in UTC.
func usTime(us uint64) time.Time { return time.UnixMicro(int64(us)).UTC() }
