package collector

import (
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
)

// enhancedRefresh handles the BoRR and EoRR of enhanced route refresh
// (RFC 7313) when both sides sent the capability: at a BoRR the peer
// starts sending a family's routes again, so they become stale, as in a
// graceful restart (and counted as the peer's routes still); the routes
// it sends again are fresh, and at the EoRR the ones it did not send are
// withdrawn (UPDATE events the collector makes, with a reason), as they
// are when no EoRR comes within Config.StaleTime. Meanwhile the family's
// counts include the stale routes (withStale, staleUpdate).
func (ss *session) enhancedRefresh(rr *bgpwire.RouteRefresh) {
	if !ss.enhancedRR {
		return
	}
	f := family(rr.Family)
	switch rr.Subtype {
	case bgpwire.RouteRefreshBoRR:
		fr, ok := ss.rib.take(f)
		if !ok {
			return
		}
		if ss.stale == nil {
			ss.stale = &restart{peer: ss.peer, peerASN: ss.peerASN}
			ss.staleUntil = time.Now().Add(ss.srv.cfg.StaleTime)
		}
		ss.stale.stale.adopt(fr)
	case bgpwire.RouteRefreshEoRR:
		if ss.stale == nil {
			return
		}
		if fr, ok := ss.stale.stale.take(f); ok {
			ss.srv.emitFlush(ss.peer, ss.peerASN, &fr, ss.rib.count(f), "enhanced route refresh: not announced again before the EoRR")
		}
		ss.staleDone()
	}
}
