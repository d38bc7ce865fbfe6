package collector

import (
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// TestFamilyNamesAgree: bgpwire and schema each name families (neither may
// import the other); every family bgpwire decodes has the same name in
// both, and the name reads back as the same family.
func TestFamilyNamesAgree(t *testing.T) {
	for _, f := range []bgpwire.Family{
		bgpwire.IPv4Unicast, bgpwire.IPv6Unicast, bgpwire.IPv4Multicast, bgpwire.IPv6Multicast,
		bgpwire.IPv4Labeled, bgpwire.IPv6Labeled, bgpwire.IPv4VPN, bgpwire.IPv6VPN,
		bgpwire.IPv4FlowSpec, bgpwire.IPv6FlowSpec, bgpwire.IPv4FlowSpecVPN, bgpwire.IPv6FlowSpecVPN,
		bgpwire.L2VPNEVPN, bgpwire.L2VPNVPLS, bgpwire.LinkState,
	} {
		s := family(f)
		if s.String() != f.String() {
			t.Errorf("family %d/%d: schema names it %q, bgpwire %q", f.AFI, f.SAFI, s.String(), f.String())
		}
		back, err := schema.ParseFamily(f.String())
		if err != nil || back != s {
			t.Errorf("family %q reads back as %v, %v", f.String(), back, err)
		}
	}
}
