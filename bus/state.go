package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/schema"
)

// PeerLast is what the log last holds of one peer of a collector.
type PeerLast struct {
	Peer    netip.Addr
	PeerASN uint32
	// Seq and TimestampMicros are those of the peer's last event.
	Seq             uint64
	TimestampMicros int64
	// Up is true when the peer's last RIS_PEER_STATE event is "connected"
	// or "restarting" (graceful restart: its routes kept, stale): the
	// collector stopped (or died) with the session, or its routes, up.
	Up bool
}

// LastPeerStates reads the last event of every subject of a collector
// (host) from the log, and returns per peer its last sequence number and
// timestamp and whether its session was last seen up.
func LastPeerStates(ctx context.Context, c *Conn, host string) (map[netip.Addr]PeerLast, error) {
	filter := schema.SubjectFilter(host, "", "", netip.Addr{})
	info, err := c.Stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("read the log's subjects %s: %w", filter, err)
	}
	peers := map[netip.Addr]PeerLast{}
	stateSeq := map[netip.Addr]uint64{} // seq of the last RIS_PEER_STATE event
	for subj := range info.State.Subjects {
		msg, err := c.Stream.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read the last event of %s: %w", subj, err)
		}
		var ev struct {
			Timestamp float64          `json:"timestamp"`
			Peer      netip.Addr       `json:"peer"`
			PeerASN   uint32           `json:"peer_asn,string"`
			Seq       uint64           `json:"seq"`
			Type      schema.Type      `json:"type"`
			State     schema.PeerState `json:"state"`
		}
		if err := json.Unmarshal(msg.Data, &ev); err != nil || !ev.Peer.IsValid() {
			continue
		}
		p := peers[ev.Peer]
		p.Peer = ev.Peer
		if ev.Seq >= p.Seq {
			p.Seq, p.PeerASN = ev.Seq, ev.PeerASN
		}
		us := int64(ev.Timestamp*1e6 + 0.5)
		p.TimestampMicros = max(p.TimestampMicros, us)
		if ev.Type == schema.TypePeerState && ev.Seq >= stateSeq[ev.Peer] {
			stateSeq[ev.Peer] = ev.Seq
			p.Up = ev.State == schema.StateConnected || ev.State == schema.StateRestarting
		}
		peers[ev.Peer] = p
	}
	return peers, nil
}
