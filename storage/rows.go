package storage

import (
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// routeRow is one row of route_events.
type routeRow struct {
	host      string
	peer      [16]byte
	peerASN   uint32
	tsUs      uint64
	seq       uint64
	id        string
	idx       uint32
	withdraw  bool
	family    schema.Family
	prefix    [16]byte
	prefixLen uint8
	pathID    uint32
	rd        string
	labels    []uint32
	nlri      string
	nextHop   [16]byte
	nextHopLL [16]byte
	attrs     *routeAttrs // shared by the rows of one event; empty for withdrawals
	raw       string
}

// routeAttrs are the path attributes of an UPDATE in their stored form.
type routeAttrs struct {
	asPath          []uint32
	asPathText      string
	originASN       uint32
	origin          string
	med             uint32
	hasMED          uint8
	localPref       uint32
	hasLocalPref    uint8
	communities     []uint32
	large           []string
	ext             []string
	atomicAggregate uint8
	hasAggregator   uint8
	aggregatorASN   uint32
	aggregatorAddr  [16]byte
	originatorID    [16]byte
	clusterList     [][]byte
	otc             uint32
	hasOTC          uint8
	aigp            uint64
	hasAIGP         uint8
	otherFlags      []uint8
	otherCodes      []uint8
	otherValues     []string
}

var noAttrs = &routeAttrs{origin: "absent"}

// peerRow is one row of peer_events.
type peerRow struct {
	host      string
	peer      [16]byte
	peerASN   uint32
	tsUs      uint64
	seq       uint64
	id        string
	typ       string
	state     string
	reason    string
	hasNotif  uint8
	code      uint8
	subcode   uint8
	notifData string
	sent      uint8
	version   uint8
	openASN   uint32
	holdTime  uint16
	routerID  [16]byte
	caps      []string
	raw       string
}

// peerKey identifies a peer of a collector.
type peerKey struct {
	host string
	peer netip.Addr
}

// clock makes event times strictly increasing per peer, in microseconds.
type clock map[peerKey]uint64

// next returns the event's time in microseconds, moved 1µs past the
// peer's previous event when it is not later.
func (c clock) next(host string, peer netip.Addr, ts float64) uint64 {
	us := uint64(0)
	if ts > 0 {
		us = uint64(math.Round(ts * 1e6))
	}
	k := peerKey{host, peer}
	if last, ok := c[k]; ok && us <= last {
		us = last + 1
	}
	c[k] = us
	return us
}

// appendRows converts events to rows. KEEPALIVE, ROUTE-REFRESH and events
// of unknown type have no rows; an UPDATE has one row per announced or
// withdrawn route (none for an End-of-RIB marker).
func appendRows(c clock, routes []routeRow, peers []peerRow, events []schema.Event) ([]routeRow, []peerRow) {
	for i := range events {
		e := &events[i]
		switch e.Type {
		case schema.TypeUpdate:
			if len(e.Announcements) == 0 && len(e.Withdrawals) == 0 && len(e.Withdrawn) == 0 {
				continue
			}
			routes = appendUpdate(routes, e, c.next(e.Host, e.Peer, e.Timestamp))
		case schema.TypePeerState, schema.TypeOpen, schema.TypeNotification:
			peers = append(peers, peerEventRow(e, c.next(e.Host, e.Peer, e.Timestamp)))
		}
	}
	return routes, peers
}

func appendUpdate(rows []routeRow, e *schema.Event, tsUs uint64) []routeRow {
	base := routeRow{
		host:    e.Host,
		peer:    schema.AddrTo16(e.Peer),
		peerASN: e.PeerASN,
		tsUs:    tsUs,
		seq:     e.Seq,
		id:      e.ID,
	}
	first := len(rows)
	add := func(set *schema.NLRISet, withdraw bool, nh, nhLL netip.Addr, attrs *routeAttrs) {
		for i, p := range set.Prefixes {
			r := base
			r.idx = uint32(len(rows) - first)
			r.withdraw = withdraw
			r.family = set.Family
			if r.family.IsZero() {
				r.family = familyOf(p.Addr())
			}
			p = p.Masked()
			r.prefix, r.prefixLen = schema.PrefixTo16(p)
			if i < len(set.PathIDs) {
				r.pathID = set.PathIDs[i]
			}
			if i < len(set.RDs) {
				r.rd = set.RDs[i]
			}
			if i < len(set.Labels) {
				r.labels = set.Labels[i]
			}
			r.nextHop, r.nextHopLL = schema.AddrTo16(nh), schema.AddrTo16(nhLL)
			r.attrs = attrs
			rows = append(rows, r)
		}
		for _, n := range set.NLRI {
			r := base
			r.idx = uint32(len(rows) - first)
			r.withdraw = withdraw
			r.family = set.Family
			r.nlri = n
			r.nextHop, r.nextHopLL = schema.AddrTo16(nh), schema.AddrTo16(nhLL)
			r.attrs = attrs
			rows = append(rows, r)
		}
	}
	if len(e.Withdrawn) > 0 {
		for i := range e.Withdrawn {
			add(&e.Withdrawn[i], true, netip.Addr{}, netip.Addr{}, noAttrs)
		}
	} else {
		for _, p := range e.Withdrawals {
			add(&schema.NLRISet{Family: familyOf(p.Addr()), Prefixes: []netip.Prefix{p}}, true, netip.Addr{}, netip.Addr{}, noAttrs)
		}
	}
	if len(e.Announcements) > 0 {
		attrs := attrsOf(e)
		for i := range e.Announcements {
			a := &e.Announcements[i]
			add(&a.NLRISet, false, a.NextHop, a.NextHopLinkLocal, attrs)
		}
	}
	if len(rows) > first {
		rows[first].raw = e.Raw
	}
	return rows
}

func familyOf(a netip.Addr) schema.Family {
	if a.Is4() {
		return schema.IPv4Unicast
	}
	return schema.IPv6Unicast
}

func attrsOf(e *schema.Event) *routeAttrs {
	a := &routeAttrs{
		asPath:     e.Path.Flat(),
		asPathText: e.Path.String(),
		originASN:  e.Path.OriginASN(),
		origin:     originName(e.Origin),
	}
	if e.MED != nil {
		a.med, a.hasMED = *e.MED, 1
	}
	if e.LocalPref != nil {
		a.localPref, a.hasLocalPref = *e.LocalPref, 1
	}
	for _, c := range e.Community {
		a.communities = append(a.communities, c.Uint32())
	}
	for _, c := range e.LargeCommunity {
		a.large = append(a.large, c.String())
	}
	for _, c := range e.ExtCommunity {
		a.ext = append(a.ext, c.String())
	}
	if e.AtomicAggregate {
		a.atomicAggregate = 1
	}
	if e.Aggregator != nil {
		a.hasAggregator = 1
		a.aggregatorASN = e.Aggregator.ASN
		a.aggregatorAddr = schema.AddrTo16(e.Aggregator.Address)
	}
	a.originatorID = schema.AddrTo16(e.OriginatorID)
	for _, c := range e.ClusterList {
		b := schema.AddrTo16(c)
		a.clusterList = append(a.clusterList, b[:])
	}
	if e.OTC != nil {
		a.otc, a.hasOTC = *e.OTC, 1
	}
	if e.AIGP != nil {
		a.aigp, a.hasAIGP = *e.AIGP, 1
	}
	for _, o := range e.OtherAttrs {
		a.otherFlags = append(a.otherFlags, o.Flags)
		a.otherCodes = append(a.otherCodes, o.Code)
		a.otherValues = append(a.otherValues, o.Value)
	}
	return a
}

// originName is the Enum8 name of route_events.origin.
func originName(o schema.Origin) string {
	if s := o.String(); s != "" {
		return s
	}
	return "absent"
}

func peerEventRow(e *schema.Event, tsUs uint64) peerRow {
	r := peerRow{
		host:    e.Host,
		peer:    schema.AddrTo16(e.Peer),
		peerASN: e.PeerASN,
		tsUs:    tsUs,
		seq:     e.Seq,
		id:      e.ID,
		typ:     e.Type.String(),
		state:   "none",
		raw:     e.Raw,
	}
	if e.Type == schema.TypePeerState && e.State != schema.StateUnknown {
		r.state = e.State.String()
	}
	if n := e.Notification; n != nil {
		r.hasNotif = 1
		r.code, r.subcode, r.notifData = n.Code, n.Subcode, n.Data
		r.reason = n.Reason
		if r.reason == "" {
			r.reason = "notification " + strconv.Itoa(int(n.Code)) + "/" + strconv.Itoa(int(n.Subcode))
		}
		if n.Sent {
			r.sent = 1
		}
	}
	if o := e.Open; o != nil {
		r.version, r.openASN, r.holdTime = o.Version, o.ASN, o.HoldTime
		r.routerID = schema.AddrTo16(o.RouterID)
		r.caps = o.Capabilities
		if o.Sent {
			r.sent = 1
		}
	}
	return r
}

// usTime converts stored microseconds to a time in UTC.
func usTime(us uint64) time.Time { return time.UnixMicro(int64(us)).UTC() }
