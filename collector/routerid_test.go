package collector

import (
	"net/netip"
	"testing"
)

func TestDefaultRouterID(t *testing.T) {
	for _, listen := range []string{"192.0.2.10:179", "[::ffff:192.0.2.10]:179"} {
		if got := DefaultRouterID(listen); got != netip.MustParseAddr("192.0.2.10") {
			t.Errorf("DefaultRouterID(%q) = %s, want the listen address", listen, got)
		}
	}
	host := DefaultRouterID("127.0.0.1:1179")
	for _, listen := range []string{"127.0.0.1:1179", "0.0.0.0:179", ":179", "[::]:179", "[2001:db8::1]:179", "127.0.0.5:179"} {
		got := DefaultRouterID(listen)
		if got != host {
			t.Errorf("DefaultRouterID(%q) = %s, want the host's %s", listen, got, host)
		}
	}
	if !host.Is4() || host.IsLoopback() || host.IsUnspecified() || !netip.MustParsePrefix("10.0.0.0/8").Contains(host) {
		t.Errorf("host router id %s", host)
	}
	for _, id := range []string{"a", "b", "machine-id:0123", "hostname:x"} {
		a := hostRouterID(id).As4()
		if a[0] != 10 || a[3] == 0 || a[3] == 255 {
			t.Errorf("hostRouterID(%q) = %v", id, a)
		}
		if hostRouterID(id) != hostRouterID(id) {
			t.Errorf("hostRouterID(%q) not stable", id)
		}
	}
}
