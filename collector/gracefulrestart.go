package collector

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// Graceful restart, the collector as helper (RFC 4724, with RFC 8538's
// notification bit). The collector advertises the capability; when the
// session of a peer that advertised it ends by a TCP close or reset (or,
// with the notification bit on both sides, by any NOTIFICATION but a
// Cease / Hard Reset), or the peer opens a new session with the
// capability while the old one is up, the session's routes of the
// families the peer listed are kept, stale: a RIS_PEER_STATE
// "restarting" event says so. The Server holds them (a restart) until
// the peer's restart time runs out, then withdraws them (UPDATE events
// the collector makes, with a reason) and records the peer down. A new
// session of the peer takes them: the routes the peer sends again are
// no longer stale, and at the peer's End-of-RIB for a family the ones it
// did not send are withdrawn, as they are when the new OPEN does not
// keep the family's forwarding state, or when no End-of-RIB came within
// Config.StaleTime. Long-lived graceful restart (llgr.go) extends the
// wait; enhanced route refresh (refresh.go) uses the same stale routes.

// grFlagNotification is the N bit of the capability's flags (RFC 8538).
const grFlagNotification = 0x4

// grForwarding is the F bit of a family's flags: forwarding state kept.
const grForwarding = 0x80

// restartTime is the restart time the collector advertises.
const restartTime = 120

// flushChunk bounds the routes of one withdrawal event of a flush.
const flushChunk = 500

// grCapability is the graceful restart capability the collector sends:
// the notification bit, and the families it offers, without the
// forwarding bit (it forwards nothing).
func grCapability(fams []bgpwire.Family) bgpwire.Capability {
	gr := bgpwire.GracefulRestart{Flags: grFlagNotification, Time: restartTime}
	for _, f := range fams {
		gr.Families = append(gr.Families, bgpwire.GRFamily{Family: f})
	}
	return bgpwire.GracefulRestartCapability(gr)
}

// restart is a peer's graceful restart in progress: its stale routes,
// kept until the restart time runs out (next), then, for the families
// with a long-lived stale time (llgr, RFC 9494), each until its own
// deadline, unless a new session of the peer takes them.
type restart struct {
	peer    netip.Addr
	peerASN uint32
	stale   adjRIBIn
	// next is when the timer next acts: the end of the restart time,
	// then the earliest long-lived deadline.
	next time.Time
	// llgr are the long-lived stale times of the peer's families; once
	// longLived, llgrUntil their deadlines.
	llgr      map[schema.Family]time.Duration
	longLived bool
	llgrUntil map[schema.Family]time.Time
	// mu is held while the timer changes the restart (a phase change),
	// so that a session taking it waits for the change to be complete.
	mu    sync.Mutex
	taken chan struct{} // closed when a session takes the routes
}

// holdRestart keeps r's routes until r.next, when restartTimer withdraws
// some or all of them, unless a session takes them first.
func (s *Server) holdRestart(r *restart) {
	r.taken = make(chan struct{})
	s.mu.Lock()
	s.restarts[r.peer] = r
	ctx := s.serveCtx
	s.mu.Unlock()
	s.wg.Go(func() {
		t := time.NewTimer(time.Until(r.next))
		defer t.Stop()
		for {
			select {
			case <-r.taken:
				return
			case <-t.C:
				next, ok := s.restartTimer(r)
				if !ok {
					return
				}
				t.Reset(time.Until(next))
			case <-ctx.Done():
				s.endRestart(r, downReason(errSessionStopped), false)
				return
			}
		}
	})
}

// takeRestart returns the restart of peer in progress, if any, which
// the caller then owns.
func (s *Server) takeRestart(peer netip.Addr) *restart {
	s.mu.Lock()
	r := s.restarts[peer]
	if r != nil {
		delete(s.restarts, peer)
		close(r.taken)
	}
	s.mu.Unlock()
	if r != nil {
		r.mu.Lock() // wait out a phase change in progress
		r.mu.Unlock()
	}
	return r
}

// held says whether r is the restart the Server holds for its peer (no
// session has taken it).
func (s *Server) held(r *restart) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts[r.peer] == r
}

// restartTimer acts when r.next has come: at the end of the restart
// time, without long-lived families, the restart ends (every route
// withdrawn, the peer down); with them, the other families' routes are
// withdrawn and the long-lived phase starts (a "restarting" event); in
// that phase, the families whose deadline has passed are withdrawn, and
// the restart ends with the last. It returns when it next acts.
func (s *Server) restartTimer(r *restart) (next time.Time, ok bool) {
	const expired = "graceful restart: the peer did not come back within its restart time"
	const noLLGRGone = "long-lived graceful restart: the route carries NO_LLGR, so it is not kept long-lived (RFC 9494)"
	if len(r.llgr) == 0 {
		s.endRestart(r, expired, true)
		return time.Time{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !s.held(r) {
		return time.Time{}, false
	}
	now := time.Now()
	if !r.longLived {
		r.longLived = true
		r.llgrUntil = map[schema.Family]time.Time{}
		var longest time.Duration
		for _, f := range slices.Clone(r.stale.fams) {
			d, ok := r.llgr[f.family]
			if !ok || d == 0 {
				fr, _ := r.stale.take(f.family)
				s.emitFlush(r.peer, r.peerASN, &fr, 0, expired)
				continue
			}
			r.llgrUntil[f.family] = now.Add(d)
			longest = max(longest, d)
			// RFC 9494: routes with NO_LLGR are not kept as
			// long-lived stale routes.
			fr := r.stale.find(f.family)
			if gone := fr.takeNoLLGR(); gone.n > 0 {
				s.emitFlush(r.peer, r.peerASN, &gone, fr.n, noLLGRGone)
				if fr.n == 0 {
					r.stale.take(f.family)
				}
			}
		}
		if len(r.stale.fams) > 0 {
			ev := schema.Event{Type: schema.TypePeerState, Peer: r.peer, PeerASN: r.peerASN, State: schema.StateRestarting,
				Reason: fmt.Sprintf("long-lived graceful restart: the restart time ran out; the routes are kept, stale (LLGR_STALE), for up to %s", longest),
				Routes: r.stale.counts()}
			s.emit(&ev, now)
		}
	} else {
		for _, f := range slices.Clone(r.stale.fams) {
			if !now.Before(r.llgrUntil[f.family]) {
				fr, _ := r.stale.take(f.family)
				s.emitFlush(r.peer, r.peerASN, &fr, 0, "long-lived graceful restart: the peer did not come back within its long-lived stale time")
			}
		}
	}
	if len(r.stale.fams) == 0 {
		s.endRestart(r, "long-lived graceful restart: the peer did not come back", false)
		return time.Time{}, false
	}
	r.next = time.Time{}
	for _, f := range r.stale.fams {
		if u := r.llgrUntil[f.family]; r.next.IsZero() || u.Before(r.next) {
			r.next = u
		}
	}
	return r.next, true
}

// endRestart ends a restart that no session took: its routes are
// withdrawn (when flush; a down event says as much) and the peer is
// down.
func (s *Server) endRestart(r *restart, reason string, flush bool) {
	s.mu.Lock()
	mine := s.restarts[r.peer] == r
	if mine {
		delete(s.restarts, r.peer)
		close(r.taken) // the timer's goroutine is done
	}
	s.mu.Unlock()
	if !mine {
		return
	}
	s.log.Info("graceful restart ended", "peer", r.peer.String(), "reason", reason)
	var zero schema.RouteCounts
	for i := range r.stale.fams {
		f := &r.stale.fams[i]
		zero = append(zero, schema.FamilyCount{Family: f.family})
		if flush {
			s.emitFlush(r.peer, r.peerASN, f, 0, reason)
		}
	}
	ev := schema.Event{Type: schema.TypePeerState, Peer: r.peer, PeerASN: r.peerASN, State: schema.StateDown, Reason: reason, Routes: zero}
	s.emit(&ev, time.Now())
}

// emitFlush withdraws the stale routes fr, in events of at most
// flushChunk routes, each with the family's count after it: kept (the
// routes of the peer's new session) and the stale ones still to go.
func (s *Server) emitFlush(peer netip.Addr, peerASN uint32, fr *familyRoutes, kept int, reason string) {
	left := fr.n
	fr.withdrawals(flushChunk, func(set schema.NLRISet) {
		left -= len(set.Prefixes) + len(set.NLRI)
		ev := schema.Event{Type: schema.TypeUpdate, Peer: peer, PeerASN: peerASN, Reason: reason}
		ev.Withdrawn = []schema.NLRISet{set}
		ev.Withdrawals = slices.Clone(set.Prefixes)
		ev.Routes = schema.RouteCounts{{Family: fr.family, Routes: uint64(kept + max(left, 0))}}
		s.emit(&ev, time.Now())
	})
}

// keptFamilies returns the families whose routes the collector keeps,
// stale, as the session ends with err: none unless the end is a restart
// RFC 4724 (and RFC 8538) asks the helper to wait for.
func (ss *session) keptFamilies(err error) []schema.Family {
	gr := ss.peerGR
	if gr == nil || gr.Time == 0 && len(ss.peerLLGR) == 0 {
		return nil
	}
	if !ss.restarted.Load() {
		if err == nil || errors.Is(err, errSessionStopped) {
			return nil // the collector ended it: shutdown, reload
		}
		sent, _ := ss.sentNotification()
		if sent != nil || ss.recvNote != nil {
			if !ss.grNotify.Load() || isHardReset(sent) || isHardReset(ss.recvNote) {
				return nil
			}
		}
	}
	var out []schema.Family
	for _, f := range gr.Families {
		if gr.Time > 0 && slices.Contains(ss.families, f.Family) {
			out = append(out, family(f.Family))
		}
	}
	for f, d := range ss.peerLLGR {
		if d > 0 && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func isHardReset(n *bgpwire.Notification) bool {
	return n != nil && n.Code == bgpwire.CodeCease && n.Subcode == bgpwire.SubcodeHardReset
}

// hardReset wraps a NOTIFICATION the collector sends in a Cease / Hard
// Reset when the notification bit is negotiated and RFC 8538 5 asks for
// a hard reset (max prefixes, shutdown, de-configured, reset).
func (ss *session) hardReset(n bgpwire.Notification) bgpwire.Notification {
	if !ss.grNotify.Load() || n.Code != bgpwire.CodeCease {
		return n
	}
	switch n.Subcode {
	case bgpwire.SubcodeMaxPrefixes, bgpwire.SubcodeAdminShutdown, bgpwire.SubcodePeerDeconfigured, bgpwire.SubcodeAdminReset:
		return bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeHardReset, Data: append([]byte{n.Code, n.Subcode}, n.Data...)}
	}
	return n
}

// restartGracefully ends the session keeping the routes of families
// kept, stale: the others are withdrawn now, and the peer is
// "restarting" until a new session takes the routes or its restart time
// runs out.
func (ss *session) restartGracefully(err error, note *schema.Notification, kept []schema.Family) {
	wait := time.Duration(ss.peerGR.Time) * time.Second
	r := &restart{peer: ss.peer, peerASN: ss.peerASN, next: time.Now().Add(wait), llgr: ss.peerLLGR}
	if ss.stale != nil {
		r.stale = ss.stale.stale // routes still stale from the restart before
		ss.stale = nil
	}
	gone := "graceful restart: the peer keeps no routes of the family"
	for _, f := range slices.Clone(r.stale.fams) {
		if !slices.Contains(kept, f.family) {
			fr, _ := r.stale.take(f.family)
			ss.srv.emitFlush(ss.peer, ss.peerASN, &fr, 0, gone)
		}
	}
	var zero schema.RouteCounts
	for _, f := range slices.Clone(ss.rib.fams) {
		fr, _ := ss.rib.take(f.family)
		if slices.Contains(kept, f.family) {
			r.stale.adopt(fr)
			continue
		}
		ss.srv.emitFlush(ss.peer, ss.peerASN, &fr, 0, gone)
		zero = append(zero, schema.FamilyCount{Family: f.family})
	}
	ev := ss.event(schema.TypePeerState, nil)
	ev.State = schema.StateRestarting
	ev.Notification = note
	why := downReason(err)
	if ss.restarted.Load() {
		why = "the peer opened a new session"
	}
	ev.Reason = fmt.Sprintf("graceful restart: %s; its routes are kept, stale, for up to %s", why, wait)
	if len(r.llgr) > 0 {
		ev.Reason += " (then long-lived, RFC 9494)"
	}
	ev.Routes = append(r.stale.counts(), zero...)
	slices.SortFunc(ev.Routes, func(a, b schema.FamilyCount) int { return compareFamily(a.Family, b.Family) })
	ss.log.Info("peer restarting gracefully: routes kept", "reason", why, "restart_time", wait, "routes", fmt.Sprint(ev.Routes))
	ss.srv.emit(&ev, time.Now())
	ss.srv.holdRestart(r)
}

// startStale runs as a session of a restarting peer comes up: the stale
// routes of families whose forwarding state the new OPEN does not keep
// (RFC 4724 4.2) are withdrawn, the others wait for the End-of-RIB, for
// at most StaleTime.
func (ss *session) startStale() {
	if ss.stale == nil {
		return
	}
	for _, f := range slices.Clone(ss.stale.stale.fams) {
		if !ss.keepsForwarding(f.family) {
			fr, _ := ss.stale.stale.take(f.family)
			ss.srv.emitFlush(ss.peer, ss.peerASN, &fr, 0, "graceful restart: the peer's new session does not keep the family's forwarding state")
		}
	}
	ss.staleUntil = time.Now().Add(ss.srv.cfg.StaleTime)
	ss.staleDone()
}

// keepsForwarding says whether the session's OPEN kept the forwarding
// state of family f (its graceful restart capability has f with the F
// bit) and f was negotiated.
func (ss *session) keepsForwarding(f schema.Family) bool {
	if ss.peerGR == nil || !slices.ContainsFunc(ss.families, func(n bgpwire.Family) bool { return family(n) == f }) {
		return false
	}
	for _, g := range ss.peerGR.Families {
		if family(g.Family) == f && g.Flags&grForwarding != 0 {
			return true
		}
	}
	return ss.llgrForwarding[f]
}

// staleUpdate takes the routes an UPDATE's event names out of the stale
// ones (counting those it announces again as duplicates or implicit
// withdrawals, with ss.hashes) and adds the stale count to its
// families' counts. At an End-of-RIB, staleEndOfRIB withdraws the
// family's routes still stale.
func (ss *session) staleUpdate(ev *schema.Event) {
	if ss.stale == nil {
		return
	}
	t := ss.stale.stale.forget(ev, ss.hashes)
	ev.Duplicates += t.duplicates
	ev.ImplicitWithdrawals += t.implicit
	for i := range ev.Routes {
		ev.Routes[i].Routes += uint64(ss.stale.stale.count(ev.Routes[i].Family))
	}
}

// staleEndOfRIB withdraws the stale routes of family f, at the peer's
// End-of-RIB for it.
func (ss *session) staleEndOfRIB(f schema.Family) {
	if ss.stale == nil {
		return
	}
	if fr, ok := ss.stale.stale.take(f); ok {
		ss.srv.emitFlush(ss.peer, ss.peerASN, &fr, ss.rib.count(f), "graceful restart: not announced again before the End-of-RIB")
	}
	ss.staleDone()
}

// staleTimeout withdraws every stale route once StaleTime has passed
// since the session came up without the End-of-RIBs that would have.
func (ss *session) staleTimeout(now time.Time) {
	if ss.stale == nil || now.Before(ss.staleUntil) {
		return
	}
	for _, f := range slices.Clone(ss.stale.stale.fams) {
		fr, _ := ss.stale.stale.take(f.family)
		ss.srv.emitFlush(ss.peer, ss.peerASN, &fr, ss.rib.count(f.family), fmt.Sprintf("stale: no End-of-RIB or EoRR within %s", ss.srv.cfg.StaleTime))
	}
	ss.staleDone()
}

// staleDone ends the restart (or refresh) once no route is stale.
func (ss *session) staleDone() {
	if ss.stale != nil && len(ss.stale.stale.fams) == 0 {
		ss.log.Info("no stale routes left: graceful restart or route refresh complete")
		ss.stale = nil
	}
}

// withStale adds the stale routes to counts of every family (a
// KEEPALIVE's).
func (ss *session) withStale(counts schema.RouteCounts) schema.RouteCounts {
	if ss.stale == nil {
		return counts
	}
	for i := range counts {
		counts[i].Routes += uint64(ss.stale.stale.count(counts[i].Family))
	}
	for _, f := range ss.stale.stale.fams {
		if !slices.ContainsFunc(counts, func(c schema.FamilyCount) bool { return c.Family == f.family }) {
			counts = append(counts, schema.FamilyCount{Family: f.family, Routes: uint64(f.n)})
		}
	}
	slices.SortFunc(counts, func(a, b schema.FamilyCount) int { return compareFamily(a.Family, b.Family) })
	return counts
}

func compareFamily(a, b schema.Family) int {
	if a.AFI != b.AFI {
		return int(a.AFI) - int(b.AFI)
	}
	return int(a.SAFI) - int(b.SAFI)
}
