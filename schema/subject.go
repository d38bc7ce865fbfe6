package schema

import (
	"net/netip"
	"strconv"
)

// Events travel on NATS subjects of five tokens after the prefix:
//
//	vantage.events.<host>.<TYPE>.<peer ASN>.<peer address>
//
// for example vantage.events.rrc-local.UPDATE.65001.192_0_2_1 and
// vantage.events.rrc-local.UPDATE.65001.2001:db8::1, so that consumers
// filter on the server by collector, message type, peer AS and peer
// address: vantage.events.*.UPDATE.> (every UPDATE),
// vantage.events.*.*.65001.> (everything from AS 65001),
// vantage.events.rrc-local.*.*.192_0_2_1 (one peer of one collector).
//
// In a token, characters NATS gives a meaning to ('.', '*', '>', white
// space) are written '_': an IPv4 address 192.0.2.1 becomes 192_0_2_1; an
// IPv6 address is written as netip prints it (colons are allowed); an
// empty host is "_". TYPE is the event type's RIS Live name (UPDATE, OPEN,
// NOTIFICATION, KEEPALIVE, ROUTE_REFRESH, RIS_PEER_STATE).

// SubjectPrefix starts every event subject.
const SubjectPrefix = "vantage.events"

// Subject returns the subject an event is published on.
func Subject(ev *Event) string { return string(AppendSubject(nil, ev)) }

// AppendSubject appends the subject of an event to dst.
func AppendSubject(dst []byte, ev *Event) []byte {
	dst = append(dst, SubjectPrefix...)
	dst = append(dst, '.')
	dst = appendToken(dst, ev.Host)
	dst = append(dst, '.')
	dst = append(dst, ev.Type.String()...)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(ev.PeerASN), 10)
	dst = append(dst, '.')
	return AppendPeerToken(dst, ev.Peer)
}

// SubjectFilter returns the subject that matches the events of a host, a
// type, a peer AS and a peer address; an empty argument (or a zero
// address) matches any.
func SubjectFilter(host, typ, peerASN string, peer netip.Addr) string {
	b := append([]byte(SubjectPrefix), '.')
	for _, tok := range []string{host, typ, peerASN} {
		if tok == "" {
			b = append(b, '*')
		} else {
			b = appendToken(b, tok)
		}
		b = append(b, '.')
	}
	if !peer.IsValid() {
		return string(append(b, '*'))
	}
	return string(AppendPeerToken(b, peer))
}

// AppendPeerToken appends the subject token of a peer address.
func AppendPeerToken(dst []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(dst, '_')
	}
	start := len(dst)
	dst = a.AppendTo(dst)
	for i := start; i < len(dst); i++ {
		if dst[i] == '.' {
			dst[i] = '_'
		}
	}
	return dst
}

// appendToken appends s as one subject token.
func appendToken(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '_')
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			dst = append(dst, '_')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
