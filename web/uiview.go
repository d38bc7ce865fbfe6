package web

// This file turns stored routes into what the web UI's templates show: an
// AS path on one line with each ASN a link, communities with the
// well-known ones named, ages, times.

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

// wellKnown names the communities of RFC 1997, 3765, 7611, 7999, 8326
// and 9494, and the route-filter ones of draft-ietf-idr-rtc-no-rt.
var wellKnown = map[schema.Community]string{
	{0xffff, 0}:      "GRACEFUL_SHUTDOWN",
	{0xffff, 1}:      "ACCEPT_OWN",
	{0xffff, 2}:      "ROUTE_FILTER_TRANSLATED_v4",
	{0xffff, 3}:      "ROUTE_FILTER_v4",
	{0xffff, 4}:      "ROUTE_FILTER_TRANSLATED_v6",
	{0xffff, 5}:      "ROUTE_FILTER_v6",
	{0xffff, 6}:      "LLGR_STALE",
	{0xffff, 7}:      "NO_LLGR",
	{0xffff, 8}:      "ACCEPT_OWN_NEXTHOP",
	{0xffff, 666}:    "BLACKHOLE",
	{0xffff, 0xff01}: "NO_EXPORT",
	{0xffff, 0xff02}: "NO_ADVERTISE",
	{0xffff, 0xff03}: "NO_EXPORT_SUBCONFED",
	{0xffff, 0xff04}: "NOPEER",
}

// wellKnownByName reads a well-known community's name, in any case.
func wellKnownByName(s string) (schema.Community, bool) {
	for c, name := range wellKnown {
		if strings.EqualFold(s, name) {
			return c, true
		}
	}
	return schema.Community{}, false
}

// pathElem is a piece of an AS path as shown: an ASN (a link to its
// search) or punctuation.
type pathElem struct {
	Text string
	ASN  uint32
	// Times is how often a sequence repeats the ASN (prepending), shown
	// once with a count.
	Times int
}

// pathElems writes a path the way bgpdump does: sequences as ASNs
// separated by spaces, AS_SETs in braces, confederation segments in
// parentheses and brackets.
func pathElems(p schema.ASPath) []pathElem {
	var out []pathElem
	for i, seg := range p {
		if i > 0 {
			out = append(out, pathElem{Text: " "})
		}
		open, sep, closing := "", " ", ""
		switch seg.Type {
		case schema.SegmentSet:
			open, sep, closing = "{", ",", "}"
		case schema.SegmentConfedSequence:
			open, closing = "(", ")"
		case schema.SegmentConfedSet:
			open, sep, closing = "[", ",", "]"
		}
		if open != "" {
			out = append(out, pathElem{Text: open})
		}
		for j, asn := range seg.ASNs {
			if n := len(out); j > 0 && sep == " " && out[n-1].ASN == asn {
				out[n-1].Times++
				continue
			}
			if j > 0 {
				out = append(out, pathElem{Text: sep})
			}
			out = append(out, pathElem{Text: strconv.FormatUint(uint64(asn), 10), ASN: asn, Times: 1})
		}
		if closing != "" {
			out = append(out, pathElem{Text: closing})
		}
	}
	return out
}

// pathString is the path as text, every ASN written (prepends too), for
// comparisons and titles.
func pathString(p schema.ASPath) string {
	var b strings.Builder
	for _, e := range pathElems(p) {
		b.WriteString(e.Text)
		for range e.Times - 1 {
			b.WriteString(" " + e.Text)
		}
	}
	return b.String()
}

// commView is a community as shown.
type commView struct {
	Text  string // the name of a well-known one, else A:B
	Title string // A:B of a named one
	Named bool
}

// communityViews lists standard, large and extended communities; the
// well-known ones first.
func communityViews(r *storage.Route) []commView {
	var named, plain []commView
	for _, c := range r.Community {
		if n, ok := wellKnown[c]; ok {
			named = append(named, commView{Text: n, Title: c.String(), Named: true})
		} else {
			plain = append(plain, commView{Text: c.String()})
		}
	}
	for _, c := range r.LargeCommunity {
		plain = append(plain, commView{Text: c.String()})
	}
	for _, c := range r.ExtCommunity {
		plain = append(plain, commView{Text: c.String()})
	}
	return append(named, plain...)
}

// shownCommunities is how many communities a row shows before the rest
// are folded away.
const shownCommunities = 4

// routeView is a route as the route table shows it.
type routeView struct {
	Prefix      string
	PathID      uint32
	Family      string
	Host        string
	Peer        string
	PeerASN     uint32
	PeerURL     string
	Path        []pathElem
	PathText    string
	NextHop     string
	NextHopLL   string
	Origin      string
	MED         string
	LocalPref   string
	Communities []commView // the first shownCommunities
	More        []commView // the rest, folded
	Age         string
	Time        string
	HistoryURL  string
}

func newRouteView(r *storage.Route, now time.Time) routeView {
	v := routeView{
		Prefix: r.NLRI, PathID: r.PathID, Family: r.Family.String(), Host: r.Host, Peer: r.Peer.String(), PeerASN: r.PeerASN,
		PeerURL: "/peer?" + url.Values{"peer": {r.Peer.String()}, "collector": {r.Host}}.Encode(),
		Path:    pathElems(r.Path), PathText: pathString(r.Path),
		Origin: r.Origin.String(), Age: age(now.Sub(r.Time)), Time: fmtTime(r.Time),
	}
	if v.Prefix == "" {
		v.Prefix = r.Prefix.String()
		from := r.Time.Add(-time.Hour)
		v.HistoryURL = "/history?" + url.Values{"prefix": {v.Prefix}, "from": {from.UTC().Format(time.RFC3339)}}.Encode()
	}
	if r.NextHop.IsValid() {
		v.NextHop = r.NextHop.String()
	}
	if r.NextHopLinkLocal.IsValid() {
		v.NextHopLL = r.NextHopLinkLocal.String()
	}
	if r.MED != nil {
		v.MED = strconv.FormatUint(uint64(*r.MED), 10)
	}
	if r.LocalPref != nil {
		v.LocalPref = strconv.FormatUint(uint64(*r.LocalPref), 10)
	}
	cs := communityViews(r)
	if len(cs) > shownCommunities+1 {
		v.Communities, v.More = cs[:shownCommunities], cs[shownCommunities:]
	} else {
		v.Communities = cs
	}
	return v
}

// age writes a duration as its two largest units: "3d 4h", "5m 2s".
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	days, h, m := s/86400, s%86400/3600, s%3600/60
	switch {
	case days >= 365:
		return fmt.Sprintf("%dy %dd", days/365, days%365)
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s%60)
	}
	return fmt.Sprintf("%ds", s)
}

// fmtTime is a UTC time to the second.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// parseUITime reads what the time control sends (2024-05-14T12:00 or
// with seconds, taken as UTC) as well as ParseTime's forms.
func parseUITime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return ParseTime(s)
}
