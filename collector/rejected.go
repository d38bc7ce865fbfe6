package collector

import (
	"net/netip"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// emitRejected records a connection the collector refused before any
// OPEN (no peer rule matches its address, a disabled neighbor) as a
// RIS_PEER_STATE down event with the reason, so that the refusal shows in
// the stream and among the peers. Called from Serve's accept loop, while
// the events channel is open.
func (s *Server) emitRejected(peer netip.Addr, reason string) {
	ev := schema.Event{Type: schema.TypePeerState, Peer: peer, State: schema.StateDown, Reason: "rejected: " + reason}
	s.emit(&ev, time.Now())
}
