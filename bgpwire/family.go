package bgpwire

import "fmt"

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
	SAFIUnicast     SAFI = 1
	SAFIMulticast   SAFI = 2
	SAFILabeled     SAFI = 4
	SAFIVPLS        SAFI = 65
	SAFIEVPN        SAFI = 70
	SAFILS          SAFI = 71
	SAFIVPN         SAFI = 128
	SAFIFlowSpec    SAFI = 133
	SAFIFlowSpecVPN SAFI = 134
)

// Family is an AFI/SAFI pair.
type Family struct {
	AFI  AFI
	SAFI SAFI
}

// Common families.
var (
	IPv4Unicast = Family{AFIIPv4, SAFIUnicast}
	IPv6Unicast = Family{AFIIPv6, SAFIUnicast}
)

func (f Family) String() string { return fmt.Sprintf("%d/%d", f.AFI, f.SAFI) }

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
