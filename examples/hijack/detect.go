package main

import (
	"net/netip"
	"slices"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// Watch is one watched prefix: the ASes allowed to originate it (and its
// more specifics up to MaxLength), and the ASes allowed next to the
// origin (its upstreams; none listed: any).
type Watch struct {
	Prefix    netip.Prefix `json:"prefix"`
	Origins   []uint32     `json:"origins"`
	Upstreams []uint32     `json:"upstreams,omitempty"`
	// MaxLength is the longest prefix inside Prefix that may be announced
	// (as in a ROA); default the prefix's own length.
	MaxLength int `json:"max_length,omitempty"`
}

// Report kinds.
const (
	KindOrigin       = "origin"        // a watched prefix originated by an AS not in its origins (MOAS when others originate it too)
	KindMoreSpecific = "more_specific" // a prefix inside a watched one, longer than its max_length
	KindUpstream     = "upstream"      // an AS next to the origin that is not one of its upstreams
	KindLeak         = "leak"          // RFC 9234: the route went on past the AS its OTC names
)

// Report is one finding, with the event that shows it.
type Report struct {
	Kind    string       `json:"kind"`
	Prefix  netip.Prefix `json:"prefix"`  // as announced
	Watched netip.Prefix `json:"watched"` // the watched prefix it falls in
	Origin  uint32       `json:"origin"`
	// Expected lists the allowed origins (origin), upstreams (upstream),
	// or the max_length (more_specific).
	Expected []uint32 `json:"expected,omitempty"`
	// MOAS lists every origin announcing the prefix now, when several.
	MOAS     []uint32 `json:"moas,omitempty"`
	Upstream uint32   `json:"upstream,omitempty"`
	// OTC is the Only-to-Customer attribute's AS and Leaker the AS that
	// passed the route on after it (leak).
	OTC    *uint32 `json:"otc,omitempty"`
	Leaker uint32  `json:"leaker,omitempty"`

	// The evidence: the event's collector, peer, path, time and id.
	Host     string        `json:"host"`
	Peer     netip.Addr    `json:"peer"`
	PeerASN  uint32        `json:"peer_asn"`
	Path     schema.ASPath `json:"path"`
	Time     time.Time     `json:"time"`
	EventID  string        `json:"event_id"`
	Imported bool          `json:"imported,omitempty"`
}

// peerKey is a session: a peer of a collector.
type peerKey struct {
	host string
	peer netip.Addr
}

// route is what a peer announces for a prefix inside a watched one: its
// origin, and the findings it was reported for.
type route struct {
	origin uint32
	found  map[string]uint32 // kind -> the AS it named (origin, upstream, leaker)
}

// Detector checks UPDATE events against the watched prefixes. It keeps,
// per peer, the routes it announces inside watched prefixes, so that it
// reports a finding once per peer and prefix until the route changes, and
// sees several origins of one prefix at once (MOAS). Not safe for
// concurrent use.
type Detector struct {
	watches []Watch
	routes  map[netip.Prefix]map[peerKey]*route
}

// NewDetector returns a detector of the watches.
func NewDetector(watches []Watch) *Detector {
	ws := slices.Clone(watches)
	for i := range ws {
		ws[i].Prefix = ws[i].Prefix.Masked()
		if ws[i].MaxLength < ws[i].Prefix.Bits() {
			ws[i].MaxLength = ws[i].Prefix.Bits()
		}
	}
	// Most specific first: a prefix is judged by the closest watch.
	slices.SortStableFunc(ws, func(a, b Watch) int { return b.Prefix.Bits() - a.Prefix.Bits() })
	return &Detector{watches: ws, routes: map[netip.Prefix]map[peerKey]*route{}}
}

// watchOf returns the most specific watch that covers q.
func (d *Detector) watchOf(q netip.Prefix) *Watch {
	for i := range d.watches {
		w := &d.watches[i]
		if w.Prefix.Addr().Is4() == q.Addr().Is4() && w.Prefix.Bits() <= q.Bits() && w.Prefix.Contains(q.Addr()) {
			return w
		}
	}
	return nil
}

// Event checks one event and returns what it shows.
func (d *Detector) Event(ev *schema.Event) []Report {
	key := peerKey{ev.Host, ev.Peer}
	switch ev.Type {
	case schema.TypePeerState:
		if ev.State != schema.StateConnected { // the session's routes are gone
			for _, peers := range d.routes {
				delete(peers, key)
			}
		}
		return nil
	case schema.TypeUpdate:
	default:
		return nil
	}
	for _, q := range ev.Withdrawals {
		if peers := d.routes[q.Masked()]; peers != nil {
			delete(peers, key)
		}
	}
	var out []Report
	for _, a := range ev.Announcements {
		for _, q := range a.Prefixes {
			out = d.announce(out, ev, key, q.Masked())
		}
	}
	return out
}

func (d *Detector) announce(out []Report, ev *schema.Event, key peerKey, q netip.Prefix) []Report {
	w := d.watchOf(q)
	if w == nil {
		return out
	}
	path := dedup(ev.Path.Flat())
	origin := ev.Path.OriginASN()
	peers := d.routes[q]
	if peers == nil {
		peers = map[peerKey]*route{}
		d.routes[q] = peers
	}
	prev := peers[key]
	r := &route{origin: origin, found: map[string]uint32{}}
	peers[key] = r
	report := func(kind string, as uint32, fill func(*Report)) {
		r.found[kind] = as
		if prev != nil {
			if was, ok := prev.found[kind]; ok && was == as {
				return // reported for this peer and prefix already
			}
		}
		rep := Report{Kind: kind, Prefix: q, Watched: w.Prefix, Origin: origin,
			Host: ev.Host, Peer: ev.Peer, PeerASN: ev.PeerASN, Path: ev.Path,
			Time: time.UnixMicro(int64(ev.Timestamp*1e6 + 0.5)).UTC(), EventID: ev.ID, Imported: ev.Imported}
		fill(&rep)
		out = append(out, rep)
	}
	if q.Bits() > w.MaxLength {
		report(KindMoreSpecific, origin, func(r *Report) { r.Expected = []uint32{uint32(w.MaxLength)} })
	} else if origin != 0 && !slices.Contains(w.Origins, origin) {
		report(KindOrigin, origin, func(r *Report) {
			r.Expected = w.Origins
			if moas := originsOf(peers); len(moas) > 1 {
				r.MOAS = moas
			}
		})
	}
	if len(path) >= 2 && len(w.Upstreams) > 0 && slices.Contains(w.Origins, origin) {
		if up := path[len(path)-2]; !slices.Contains(w.Upstreams, up) {
			report(KindUpstream, up, func(r *Report) { r.Upstream, r.Expected = up, w.Upstreams })
		}
	}
	if ev.OTC != nil {
		if i := slices.Index(path, *ev.OTC); i != 0 {
			leaker := uint32(0) // the OTC AS is not on the path at all
			if i > 0 {
				leaker = path[i-1]
			}
			otc := *ev.OTC
			report(KindLeak, leaker, func(r *Report) { r.OTC, r.Leaker = &otc, leaker })
		}
	}
	return out
}

// originsOf returns the distinct origins the peers announce, sorted.
func originsOf(peers map[peerKey]*route) []uint32 {
	var out []uint32
	for _, r := range peers {
		if r.origin != 0 && !slices.Contains(out, r.origin) {
			out = append(out, r.origin)
		}
	}
	slices.Sort(out)
	return out
}

// dedup removes prepending: repeats of an AS next to each other.
func dedup(path []uint32) []uint32 {
	return slices.Compact(path)
}
