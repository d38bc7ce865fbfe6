package collector

import (
	"slices"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// Long-lived graceful restart (RFC 9494), the collector as helper: when
// the restart time of a restarting peer runs out, the routes of the
// families to which its long-lived graceful restart capability gives a
// stale time are kept for that long more (a second "restarting" event
// says so; the others are withdrawn), and a new session of the peer
// takes them as in a graceful restart. When the long-lived phase starts,
// the routes whose path carries the NO_LLGR community are withdrawn
// (RFC 9494; the Adj-RIB-In keeps one bit per route for it, in the
// path hash), in UPDATE events with their reason, before the second
// "restarting" event, whose counts are then those of the routes kept
// long-lived. The routes are not re-announced with the LLGR_STALE
// community: consumers learn of the long-lived phase from that event.

// llgrFamilies are the families of the collector's long-lived graceful
// restart capability: IPv4 and IPv6 unicast only, as the capability for
// every family would take the OPEN's optional parameters past 255
// bytes, and so into RFC 9072's extended form, which peers such as
// gobgpd 3.10 refuse ("Malformed BGP Open message").
var llgrFamilies = []bgpwire.Family{bgpwire.IPv4Unicast, bgpwire.IPv6Unicast}

// llgrCapability is the long-lived graceful restart capability the
// collector sends: those of llgrFamilies it offers, with a stale time of
// 0 (it announces no routes to keep); none when it offers neither.
func llgrCapability(offered []bgpwire.Family) (bgpwire.Capability, bool) {
	var fams []bgpwire.LLGRFamily
	for _, f := range llgrFamilies {
		if slices.Contains(offered, f) {
			fams = append(fams, bgpwire.LLGRFamily{Family: f})
		}
	}
	return bgpwire.LLGRCapability(fams...), len(fams) > 0
}

// negotiateLLGR notes the long-lived stale times of the peer's
// negotiated families (of llgrFamilies), when both OPENs carry the capability (and the
// graceful restart one, which RFC 9494 requires beside it).
func (ss *session) negotiateLLGR(mine, theirs *bgpwire.Open) {
	if _, ok := mine.Capability(bgpwire.CapLongLivedGR); !ok {
		return
	}
	c, ok := theirs.Capability(bgpwire.CapLongLivedGR)
	if !ok {
		return
	}
	ss.peerLLGR = map[schema.Family]time.Duration{}
	ss.llgrForwarding = map[schema.Family]bool{}
	for _, f := range c.LLGR {
		if slices.Contains(ss.families, f.Family) && slices.Contains(llgrFamilies, f.Family) {
			ss.peerLLGR[family(f.Family)] = time.Duration(f.StaleTime) * time.Second
			ss.llgrForwarding[family(f.Family)] = f.Flags&grForwarding != 0
		}
	}
}
