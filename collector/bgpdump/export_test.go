package bgpdump

import "net/netip"

// FormatIPv6 exposes appendIPv6 to the tests.
func FormatIPv6(s string) string {
	a := netip.MustParseAddr(s).As16()
	return string(appendIPv6(nil, a[:]))
}
