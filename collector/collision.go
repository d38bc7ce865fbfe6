package collector

import (
	"errors"

	"github.com/vantage-bgp/vantage/bgpwire"
)

// errCollision ends a connection that lost a collision (RFC 4271 6.8): it
// gets a Cease NOTIFICATION 6/7 and is closed.
var errCollision = errors.New("connection collision: the peer has a session already")

// claim makes ss the session of its peer, now that the peer's OPEN
// (theirs) has arrived, resolving a collision with a session the peer
// has already (RFC 4271 6.8):
//   - with an established session, the new connection loses
//     (errCollision), unless both sessions' OPENs have the graceful
//     restart capability: then the peer restarted, and the old session
//     ends as if its connection had been reset (RFC 4724 4.2);
//   - with one that has the peer's OPEN but not yet its KEEPALIVE
//     (OpenConfirm), the connection opened by the side with the lower BGP
//     identifier is closed; when both came from the peer, the new one.
//
// When ss wins, the session it displaces gets the Cease 6/7 and is
// stopped; claim returns it, and ss waits for it to end before it goes
// on, so that the peer's events stay in order.
func (s *Server) claim(ss *session, theirs *bgpwire.Open) (prev *session, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.sessions[ss.peer]
	if old == nil || old.isFinished() {
		s.sessions[ss.peer] = ss
		return nil, nil
	}
	if old.established.Load() {
		if _, gr := theirs.Capability(bgpwire.CapGracefulRestart); gr && old.peerGR != nil {
			// RFC 4724 4.2: the peer restarted; the old session ends as
			// if its connection had been reset, keeping its routes.
			old.log.Info("the peer opened a new session with graceful restart: ending this one, keeping its routes")
			old.restarted.Store(true)
			old.stop()
			s.sessions[ss.peer] = ss
			return old, nil
		}
		return nil, errCollision
	}
	loser := ss
	if old.active != ss.active {
		// The side whose BGP identifier is lower closes the connection
		// it opened itself.
		localLower := s.cfg.RouterID.Less(theirs.RouterID)
		if localLower == ss.active {
			loser = ss
		} else {
			loser = old
		}
	}
	if loser == ss {
		return nil, errCollision
	}
	old.log.Info("connection collision: closing this connection for a newer one", "active", old.active)
	old.notify(bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeCollisionResolution})
	old.stop()
	s.sessions[ss.peer] = ss
	return old, nil
}

// hasOther says whether the peer of ss has another session, opening or
// up, or is restarting gracefully: a connection of the peer that fails
// then says nothing of its state.
func (s *Server) hasOther(ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.sessions[ss.peer]
	return o != nil && o != ss && !o.isFinished() || s.restarts[ss.peer] != nil
}
