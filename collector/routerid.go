package collector

import (
	"crypto/sha256"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strings"
)

// DefaultRouterID is the BGP identifier of a collector whose config sets
// none. When listen ("ADDR:PORT") is a specific IPv4 address that is not
// loopback, it is that address: unique among the peers' view of the
// network, as a router's interface address is. Otherwise (loopback,
// unspecified or IPv6 listen addresses) it is derived from a stable host
// identifier, /etc/machine-id or else the hostname, hashed into an
// address of 10.0.0.0/8 other than its .0 and .255 ends. It is never
// 127.0.0.1 or 0.0.0.0, which speakers on a lab or IXP box commonly use
// as theirs (a peer with the same identifier is refused, RFC 4271 6.2).
func DefaultRouterID(listen string) netip.Addr {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if a.Is4() && !a.IsLoopback() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return a
		}
	}
	return hostRouterID(hostIdentifier())
}

// hostIdentifier is a string that stays the same across runs on one host.
func hostIdentifier() string {
	for _, f := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(f); err == nil {
			if s := strings.TrimSpace(string(b)); s != "" {
				return "machine-id:" + s
			}
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return "hostname:" + h
	}
	return "vantage"
}

// hostRouterID hashes id into 10.0.0.1-10.255.255.254, avoiding the
// addresses ending in .0 and .255.
func hostRouterID(id string) netip.Addr {
	sum := sha256.Sum256([]byte("vantage router id\x00" + id))
	v := binary.BigEndian.Uint32(sum[:4]) & 0x00ffffff
	if b := byte(v); b == 0 || b == 255 {
		v ^= 0x80 // .0 -> .128, .255 -> .127
	}
	return netip.AddrFrom4([4]byte{10, byte(v >> 16), byte(v >> 8), byte(v)})
}
