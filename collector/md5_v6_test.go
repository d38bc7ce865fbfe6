package collector

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testenv"
)

// dialMD5 connects from local to addr with key on the socket; ok says
// whether the handshake completed.
func dialMD5(t *testing.T, local, addr, key string) bool {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: time.Second,
		Control: func(network, _ string, c syscall.RawConn) error {
			var err error
			c.Control(func(fd uintptr) {
				err = setMD5(fd, network == "tcp6", netip.PrefixFrom(ap.Addr(), ap.Addr().BitLen()), key)
			})
			return err
		}}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// TestMD5DualStack: on an IPv6 listener, an IPv4 range's key is set on
// its IPv4-mapped addresses and an IPv6 neighbor's as is; a client with
// the key gets through, one with another key does not.
func TestMD5DualStack(t *testing.T) {
	ln, err := Listen("[::]:0")
	if err != nil {
		testenv.Skipf(t, "no IPv6 listener: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for _, k := range []struct{ p, key string }{{"127.0.0.64/26", "four"}, {"127.0.0.5/32", "five"}, {"::1/128", "six"}} {
		if err := rawControl(ln, func(fd uintptr) error { return setMD5(fd, true, netip.MustParsePrefix(k.p), k.key) }); err != nil {
			t.Fatal(err)
		}
	}
	port := ln.Addr().(*net.TCPAddr).Port
	v4 := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String()
	if !dialMD5(t, "127.0.0.70", v4, "four") {
		t.Error("IPv4 client in the range with the key: not accepted")
	}
	if dialMD5(t, "127.0.0.71", v4, "wrong") {
		t.Error("IPv4 client in the range with a wrong key: accepted")
	}
	if !dialMD5(t, "127.0.0.5", v4, "five") {
		t.Error("IPv4 neighbor with its key: not accepted")
	}
	v6 := netip.AddrPortFrom(netip.MustParseAddr("::1"), uint16(port)).String()
	if !dialMD5(t, "::1", v6, "six") {
		t.Error("IPv6 client with the key: not accepted")
	}
	if dialMD5(t, "::1", v6, "four") {
		t.Error("IPv6 client with a wrong key: accepted")
	}
}
