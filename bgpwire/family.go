package bgpwire

import "strconv"

// AFI is an address family identifier.
type AFI uint16

// SAFI is a subsequent address family identifier.
type SAFI uint8

// Address families (IANA).
const (
	AFIIPv4  AFI = 1
	AFIIPv6  AFI = 2
	AFIL2VPN AFI = 25
	AFILS    AFI = 16388
)

// Subsequent address families (IANA).
const (
	SAFIUnicast      SAFI = 1
	SAFIMulticast    SAFI = 2
	SAFILabeled      SAFI = 4
	SAFIMVPN         SAFI = 5
	SAFIVPLS         SAFI = 65
	SAFIEVPN         SAFI = 70
	SAFILS           SAFI = 71
	SAFILSVPN        SAFI = 72
	SAFISRPolicy     SAFI = 73
	SAFIMUP          SAFI = 85
	SAFIVPN          SAFI = 128
	SAFIVPNMulticast SAFI = 129
	SAFIRTC          SAFI = 132
	SAFIFlowSpec     SAFI = 133
	SAFIFlowSpecVPN  SAFI = 134
)

func (a AFI) String() string {
	switch a {
	case AFIIPv4:
		return "ipv4"
	case AFIIPv6:
		return "ipv6"
	case AFIL2VPN:
		return "l2vpn"
	case AFILS:
		return "ls"
	}
	return strconv.Itoa(int(a))
}

func (s SAFI) String() string {
	switch s {
	case SAFIUnicast:
		return "unicast"
	case SAFIMulticast:
		return "multicast"
	case SAFILabeled:
		return "labeled"
	case SAFIMVPN:
		return "mvpn"
	case SAFIVPLS:
		return "vpls"
	case SAFIEVPN:
		return "evpn"
	case SAFILS:
		return "ls"
	case SAFILSVPN:
		return "ls-vpn"
	case SAFISRPolicy:
		return "sr-policy"
	case SAFIMUP:
		return "mup"
	case SAFIVPN:
		return "vpn"
	case SAFIVPNMulticast:
		return "vpn-multicast"
	case SAFIRTC:
		return "rtc"
	case SAFIFlowSpec:
		return "flowspec"
	case SAFIFlowSpecVPN:
		return "flowspec-vpn"
	}
	return strconv.Itoa(int(s))
}

// Family is an AFI/SAFI pair.
type Family struct {
	AFI  AFI
	SAFI SAFI
}

// Families with names (DESIGN.md: AFI/SAFI in lower case).
var (
	IPv4Unicast     = Family{AFIIPv4, SAFIUnicast}
	IPv6Unicast     = Family{AFIIPv6, SAFIUnicast}
	IPv4Multicast   = Family{AFIIPv4, SAFIMulticast}
	IPv6Multicast   = Family{AFIIPv6, SAFIMulticast}
	IPv4Labeled     = Family{AFIIPv4, SAFILabeled}
	IPv6Labeled     = Family{AFIIPv6, SAFILabeled}
	IPv4VPN         = Family{AFIIPv4, SAFIVPN}
	IPv6VPN         = Family{AFIIPv6, SAFIVPN}
	IPv4FlowSpec    = Family{AFIIPv4, SAFIFlowSpec}
	IPv6FlowSpec    = Family{AFIIPv6, SAFIFlowSpec}
	IPv4FlowSpecVPN = Family{AFIIPv4, SAFIFlowSpecVPN}
	IPv6FlowSpecVPN = Family{AFIIPv6, SAFIFlowSpecVPN}
	L2VPNEVPN       = Family{AFIL2VPN, SAFIEVPN}
	L2VPNVPLS       = Family{AFIL2VPN, SAFIVPLS}
	LinkState       = Family{AFILS, SAFILS}
)

// String writes the family as AFI/SAFI names in lower case
// ("ipv4/unicast", "l2vpn/evpn", "ls/ls"), with numbers for parts
// without a name.
func (f Family) String() string { return f.AFI.String() + "/" + f.SAFI.String() }

// addrLen is the byte length of an address of the family's AFI, or 0.
func (f Family) addrLen() int {
	switch f.AFI {
	case AFIIPv4:
		return 4
	case AFIIPv6:
		return 16
	}
	return 0
}
