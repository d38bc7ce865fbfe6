package collector

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setMD5 sets (or, with key "", removes) the TCP MD5 key (RFC 2385) of the
// peers in p on the socket fd, whose address family is v6 or IPv4. It uses
// TCP_MD5SIG_EXT with a prefix length, so a range of peers (dynamic
// neighbors) shares one key. On an IPv6 socket, IPv4 peers are keyed by
// their IPv4-mapped addresses, with their IPv4 prefix length.
func setMD5(fd uintptr, v6 bool, p netip.Prefix, key string) error {
	var sig unix.TCPMD5Sig
	addr, bits := p.Addr(), p.Bits()
	switch {
	case v6:
		if addr.Is4() {
			// The prefix length stays the IPv4 one: the kernel keys a
			// mapped address as the IPv4 address it maps.
			addr = netip.AddrFrom16(addr.As16())
		}
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&sig.Addr))
		sa.Family = unix.AF_INET6
		sa.Addr = addr.As16()
	case addr.Is4():
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sig.Addr))
		sa.Family = unix.AF_INET
		sa.Addr = addr.As4()
	default:
		return nil // an IPv6 peer cannot reach an IPv4 socket
	}
	sig.Keylen = uint16(copy(sig.Key[:], key))
	if bits == addr.BitLen() {
		// One address: plain TCP_MD5SIG, which every kernel with MD5
		// has (and gVisor-like kernels without TCP_MD5SIG_EXT too).
		if err := unix.SetsockoptTCPMD5Sig(int(fd), unix.IPPROTO_TCP, unix.TCP_MD5SIG, &sig); err != nil {
			return fmt.Errorf("TCP MD5 key for %s: %w", p, err)
		}
		return nil
	}
	sig.Flags = unix.TCP_MD5SIG_FLAG_PREFIX
	sig.Prefixlen = uint8(bits)
	if err := unix.SetsockoptTCPMD5Sig(int(fd), unix.IPPROTO_TCP, unix.TCP_MD5SIG_EXT, &sig); err != nil {
		return fmt.Errorf("TCP MD5 key for the range %s (TCP_MD5SIG_EXT, Linux 4.13): %w", p, err)
	}
	return nil
}

// isV6 says whether a socket bound to a is an IPv6 one.
func isV6(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.To4() == nil
}

// rawControl runs f on the socket of c (a listener or a connection).
func rawControl(c any, f func(fd uintptr) error) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return fmt.Errorf("%T has no socket", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(fd) }); err != nil {
		return err
	}
	return ferr
}

// setMinTTL turns on GTSM (RFC 5082) for a peer at most hops away: the
// kernel drops segments that arrive with a TTL (hop limit) below 256-hops.
func setMinTTL(fd uintptr, v6 bool, hops int) error {
	if v6 {
		// An IPv6 socket may carry IPv4 (mapped) peers too: set both.
		if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MINHOPCOUNT, 256-hops); err != nil {
			return fmt.Errorf("IPV6_MINHOPCOUNT: %w", err)
		}
		unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MINTTL, 256-hops)
		return nil
	}
	if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MINTTL, 256-hops); err != nil {
		return fmt.Errorf("IP_MINTTL: %w", err)
	}
	return nil
}

// setTTL makes the socket send with TTL (hop limit) 255, as GTSM wants of
// both speakers.
func setTTL(fd uintptr, v6 bool) error {
	if v6 {
		unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TTL, 255)
		return unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 255)
	}
	return unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TTL, 255)
}
