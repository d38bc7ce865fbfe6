package collector

import (
	"encoding/hex"
	"net/netip"
	"strings"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// FillUpdate sets the UPDATE fields of ev (path attributes, announcements,
// withdrawals, End-of-RIB) from a decoded UPDATE. The caller sets the
// envelope (time, peer, host, id, seq). Routes of an UPDATE whose RFC 7606
// action is treat-as-withdraw are reported as withdrawals; attributes
// discarded (attribute discard) are absent. Either way the event's
// Reason names the action and the errors (malformedReason).
func FillUpdate(ev *schema.Event, u *bgpwire.Update) {
	ev.Type = schema.TypeUpdate
	if u.Action != bgpwire.ActionNone {
		ev.Reason = malformedReason(u)
	}
	a := &u.Attrs
	if f, ok := u.IsEndOfRIB(); ok {
		ev.EndOfRIB = family(f)
		return
	}
	withdrawAll := u.Action == bgpwire.ActionTreatAsWithdraw
	if !withdrawAll {
		fillAttributes(ev, a)
	}

	// Withdrawals: the withdrawn routes field, MP_UNREACH, and under
	// treat-as-withdraw every announced route too.
	addWithdrawn(ev, family(bgpwire.IPv4Unicast), u.Withdrawn)
	if a.Has(bgpwire.AttrMPUnreach) {
		addWithdrawn(ev, family(a.MPUnreach.Family), a.MPUnreach.NLRI)
	}
	if withdrawAll {
		addWithdrawn(ev, family(bgpwire.IPv4Unicast), u.NLRI)
		if a.Has(bgpwire.AttrMPReach) {
			addWithdrawn(ev, family(a.MPReach.Family), a.MPReach.NLRI)
		}
		return
	}

	if len(u.NLRI) > 0 {
		ann := schema.Announcement{NextHop: a.NextHop}
		ann.NLRISet = nlriSet(family(bgpwire.IPv4Unicast), u.NLRI)
		ev.Announcements = append(ev.Announcements, ann)
	}
	if a.Has(bgpwire.AttrMPReach) && len(a.MPReach.NLRI) > 0 {
		ann := schema.Announcement{NextHop: a.MPReach.NextHop, NextHopLinkLocal: a.MPReach.LinkLocal}
		ann.NLRISet = nlriSet(family(a.MPReach.Family), a.MPReach.NLRI)
		ev.Announcements = append(ev.Announcements, ann)
	}
}

// malformedReason is the Reason of the event of an UPDATE with RFC 7606
// errors: "RFC 7606 <action>: " and each error, as bgpwire words it (what,
// where, the action it calls for and its NOTIFICATION code), separated by
// "; ".
func malformedReason(u *bgpwire.Update) string {
	var b strings.Builder
	b.WriteString("RFC 7606 " + u.Action.String() + ": ")
	for i, e := range u.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func family(f bgpwire.Family) schema.Family {
	return schema.Family{AFI: uint16(f.AFI), SAFI: uint8(f.SAFI)}
}

func fillAttributes(ev *schema.Event, a *bgpwire.Attributes) {
	if a.Has(bgpwire.AttrOrigin) {
		ev.Origin = schema.OriginFromWire(a.Origin)
	}
	if a.Has(bgpwire.AttrASPath) {
		ev.Path = make(schema.ASPath, 0, len(a.ASPath))
		for _, s := range a.ASPath {
			ev.Path = append(ev.Path, schema.Segment{Type: schema.SegmentType(s.Type), ASNs: append([]uint32(nil), s.ASNs...)})
		}
	}
	if a.Has(bgpwire.AttrMED) {
		v := a.MED
		ev.MED = &v
	}
	if a.Has(bgpwire.AttrLocalPref) {
		v := a.LocalPref
		ev.LocalPref = &v
	}
	if a.Has(bgpwire.AttrAggregator) {
		ev.Aggregator = &schema.Aggregator{ASN: a.Aggregator.ASN, Address: a.Aggregator.Address}
	}
	ev.AtomicAggregate = a.Has(bgpwire.AttrAtomicAggregate)
	for _, c := range a.Communities {
		ev.Community = append(ev.Community, schema.CommunityFromUint32(c))
	}
	for _, c := range a.LargeCommunities {
		ev.LargeCommunity = append(ev.LargeCommunity, schema.LargeCommunity(c))
	}
	for _, c := range a.ExtCommunities {
		ev.ExtCommunity = append(ev.ExtCommunity, schema.ExtCommunity(append([]byte(nil), c[:]...)))
	}
	for _, c := range a.IPv6ExtCommunities {
		ev.ExtCommunity = append(ev.ExtCommunity, schema.ExtCommunity(append([]byte(nil), c[:]...)))
	}
	if a.Has(bgpwire.AttrOriginatorID) {
		ev.OriginatorID = a.OriginatorID
	}
	ev.ClusterList = append([]netip.Addr(nil), a.ClusterList...)
	if len(ev.ClusterList) == 0 {
		ev.ClusterList = nil
	}
	if a.Has(bgpwire.AttrOTC) {
		v := a.OTC
		ev.OTC = &v
	}
	if a.Has(bgpwire.AttrAIGP) {
		v := a.AIGP
		ev.AIGP = &v
	}
	for _, o := range a.Other {
		ev.OtherAttrs = append(ev.OtherAttrs, schema.RawAttribute{Flags: o.Flags, Code: uint8(o.Code), Value: hex.EncodeToString(o.Value)})
	}
}

// nlriSet converts decoded NLRI of one family.
func nlriSet(f schema.Family, nlri []bgpwire.NLRI) schema.NLRISet {
	s := schema.NLRISet{Family: f}
	var hasPathID, hasLabels, hasRD bool
	for i := range nlri {
		n := &nlri[i]
		hasPathID = hasPathID || n.PathID != 0
		hasLabels = hasLabels || n.Labels.Len() > 0
		hasRD = hasRD || !n.RD.IsZero()
	}
	for i := range nlri {
		n := &nlri[i]
		if !n.Prefix.IsValid() {
			s.NLRI = append(s.NLRI, n.Text(bgpwire.Family{AFI: bgpwire.AFI(f.AFI), SAFI: bgpwire.SAFI(f.SAFI)}))
			continue
		}
		s.Prefixes = append(s.Prefixes, n.Prefix)
		if hasPathID {
			s.PathIDs = append(s.PathIDs, n.PathID)
		}
		if hasLabels {
			ls := make([]uint32, n.Labels.Len())
			for j := range ls {
				ls[j] = n.Labels.At(j)
			}
			s.Labels = append(s.Labels, ls)
		}
		if hasRD {
			s.RDs = append(s.RDs, n.RD.String())
		}
	}
	return s
}

func addWithdrawn(ev *schema.Event, f schema.Family, nlri []bgpwire.NLRI) {
	if len(nlri) == 0 {
		return
	}
	s := nlriSet(f, nlri)
	ev.Withdrawals = append(ev.Withdrawals, s.Prefixes...)
	ev.Withdrawn = append(ev.Withdrawn, s)
}

// FillOpen sets the OPEN fields of ev from a decoded OPEN. sent says
// whether the collector sent it.
func FillOpen(ev *schema.Event, o *bgpwire.Open, sent bool) {
	ev.Type = schema.TypeOpen
	so := &schema.Open{Version: o.Version, ASN: o.ASN(), HoldTime: o.HoldTime, RouterID: o.RouterID, Sent: sent}
	for i := range o.Capabilities {
		so.Capabilities = append(so.Capabilities, o.Capabilities[i].String())
	}
	ev.Open = so
}

// FillNotification sets the NOTIFICATION fields of ev. sent says whether
// the collector sent it.
func FillNotification(ev *schema.Event, n *bgpwire.Notification, sent bool) {
	ev.Type = schema.TypeNotification
	ev.Notification = notificationOf(n, sent)
}

func notificationOf(n *bgpwire.Notification, sent bool) *schema.Notification {
	return &schema.Notification{Code: n.Code, Subcode: n.Subcode, Reason: n.String(), Data: hex.EncodeToString(n.Data), Sent: sent}
}

// FillMessage sets the type-specific fields of ev from any decoded
// message (UPDATE, OPEN, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH) received
// from the peer.
func FillMessage(ev *schema.Event, m *bgpwire.Message) {
	switch m.Header.Type {
	case bgpwire.MsgUpdate:
		FillUpdate(ev, &m.Update)
	case bgpwire.MsgOpen:
		FillOpen(ev, &m.Open, false)
	case bgpwire.MsgNotification:
		FillNotification(ev, &m.Notification, false)
	case bgpwire.MsgKeepalive:
		ev.Type = schema.TypeKeepalive
	case bgpwire.MsgRouteRefresh:
		FillRouteRefresh(ev, &m.RouteRefresh)
	}
}

// FillRouteRefresh sets the ROUTE-REFRESH fields of ev.
func FillRouteRefresh(ev *schema.Event, rr *bgpwire.RouteRefresh) {
	ev.Type = schema.TypeRouteRefresh
	sub := "refresh"
	switch rr.Subtype {
	case bgpwire.RouteRefreshBoRR:
		sub = "borr"
	case bgpwire.RouteRefreshEoRR:
		sub = "eorr"
	}
	ev.RouteRefresh = &schema.RouteRefresh{Family: family(rr.Family), Subtype: sub}
}
