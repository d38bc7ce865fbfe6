package bgpwire

import (
	"errors"
	"fmt"
	"strings"
)

// CapabilityCode identifies a capability (IANA registry).
type CapabilityCode uint8

// Capability codes.
const (
	CapMultiprotocol        CapabilityCode = 1
	CapRouteRefresh         CapabilityCode = 2
	CapORF                  CapabilityCode = 3
	CapExtendedNextHop      CapabilityCode = 5
	CapExtendedMessage      CapabilityCode = 6
	CapRole                 CapabilityCode = 9
	CapGracefulRestart      CapabilityCode = 64
	CapFourOctetAS          CapabilityCode = 65
	CapAddPath              CapabilityCode = 69
	CapEnhancedRouteRefresh CapabilityCode = 70
	CapLongLivedGR          CapabilityCode = 71
	CapFQDN                 CapabilityCode = 73
	CapSoftwareVersion      CapabilityCode = 75
	CapRouteRefreshCisco    CapabilityCode = 128
)

func (c CapabilityCode) String() string {
	switch c {
	case CapMultiprotocol:
		return "multiprotocol"
	case CapRouteRefresh:
		return "route-refresh"
	case CapORF:
		return "orf"
	case CapExtendedNextHop:
		return "extended-nexthop"
	case CapExtendedMessage:
		return "extended-message"
	case CapRole:
		return "role"
	case CapGracefulRestart:
		return "graceful-restart"
	case CapFourOctetAS:
		return "asn4"
	case CapAddPath:
		return "add-path"
	case CapEnhancedRouteRefresh:
		return "enhanced-route-refresh"
	case CapLongLivedGR:
		return "long-lived-graceful-restart"
	case CapFQDN:
		return "fqdn"
	case CapSoftwareVersion:
		return "software-version"
	case CapRouteRefreshCisco:
		return "route-refresh-cisco"
	}
	return fmt.Sprintf("capability-%d", uint8(c))
}

// AddPathMode is the send/receive field of an ADD-PATH capability tuple.
type AddPathMode uint8

// ADD-PATH modes (RFC 7911).
const (
	AddPathReceive AddPathMode = 1
	AddPathSend    AddPathMode = 2
	AddPathBoth    AddPathMode = 3
)

func (m AddPathMode) String() string {
	switch m {
	case AddPathReceive:
		return "receive"
	case AddPathSend:
		return "send"
	case AddPathBoth:
		return "send/receive"
	}
	return fmt.Sprintf("mode-%d", uint8(m))
}

// AddPathFamily is one tuple of the ADD-PATH capability.
type AddPathFamily struct {
	Family Family
	Mode   AddPathMode
}

// GRFamily is one family of the graceful restart capability.
type GRFamily struct {
	Family Family
	Flags  uint8 // 0x80: forwarding state preserved
}

// GracefulRestart is the graceful restart capability (RFC 4724).
type GracefulRestart struct {
	Flags    uint8  // the 4 high bits: 0x8 restart state, 0x4 notification (RFC 8538)
	Time     uint16 // restart time in seconds (12 bits)
	Families []GRFamily
}

// LLGRFamily is one family of the long-lived graceful restart capability.
type LLGRFamily struct {
	Family    Family
	Flags     uint8
	StaleTime uint32 // 24 bits, seconds
}

// NextHopFamily is one tuple of the extended next hop capability
// (RFC 8950): NLRI of the family may carry next hops of NextHopAFI.
type NextHopFamily struct {
	AFI        AFI
	SAFI       uint16 // a 2-octet field in this capability
	NextHopAFI AFI
}

// Role is the BGP role (RFC 9234).
type Role uint8

// BGP roles.
const (
	RoleProvider Role = 0
	RoleRS       Role = 1
	RoleRSClient Role = 2
	RoleCustomer Role = 3
	RolePeer     Role = 4
)

func (r Role) String() string {
	switch r {
	case RoleProvider:
		return "provider"
	case RoleRS:
		return "rs"
	case RoleRSClient:
		return "rs-client"
	case RoleCustomer:
		return "customer"
	case RolePeer:
		return "peer"
	}
	return fmt.Sprintf("role-%d", uint8(r))
}

// Capability is one capability of an OPEN message. Code says which of the
// typed fields is meaningful; Value always holds the raw value bytes (the
// encoder writes Value, so capabilities built with the constructors below
// or decoded from the wire round-trip; unknown capabilities are kept as
// Value only).
type Capability struct {
	Code  CapabilityCode
	Value []byte

	Family          Family          // multiprotocol
	ASN             uint32          // asn4
	AddPath         []AddPathFamily // add-path
	GracefulRestart GracefulRestart // graceful-restart
	LLGR            []LLGRFamily    // long-lived-graceful-restart
	NextHops        []NextHopFamily // extended-nexthop
	Role            Role            // role
	Hostname        string          // fqdn
	Domain          string          // fqdn
	Software        string          // software-version

	param int // index of the optional parameter that carried it
}

// errCapLength is wrapped by capability length errors.
var errCapLength = errors.New("bad capability length")

func (c *Capability) decodeValue() error {
	v := c.Value
	bad := func(want string) error { return fmt.Errorf("%w %d, want %s", errCapLength, len(v), want) }
	switch c.Code {
	case CapMultiprotocol:
		if len(v) != 4 {
			return bad("4")
		}
		c.Family = Family{AFI(be16(v)), SAFI(v[3])}
	case CapRouteRefresh, CapEnhancedRouteRefresh, CapExtendedMessage, CapRouteRefreshCisco:
		if len(v) != 0 {
			return bad("0")
		}
	case CapFourOctetAS:
		if len(v) != 4 {
			return bad("4")
		}
		c.ASN = be32(v)
	case CapAddPath:
		if len(v)%4 != 0 {
			return bad("a multiple of 4")
		}
		for i := 0; i < len(v); i += 4 {
			c.AddPath = append(c.AddPath, AddPathFamily{Family{AFI(be16(v[i:])), SAFI(v[i+2])}, AddPathMode(v[i+3])})
		}
	case CapGracefulRestart:
		if len(v) < 2 || (len(v)-2)%4 != 0 {
			return bad("2 plus a multiple of 4")
		}
		c.GracefulRestart.Flags = v[0] >> 4
		c.GracefulRestart.Time = be16(v) & 0x0fff
		for i := 2; i < len(v); i += 4 {
			c.GracefulRestart.Families = append(c.GracefulRestart.Families, GRFamily{Family{AFI(be16(v[i:])), SAFI(v[i+2])}, v[i+3]})
		}
	case CapLongLivedGR:
		if len(v)%7 != 0 {
			return bad("a multiple of 7")
		}
		for i := 0; i < len(v); i += 7 {
			c.LLGR = append(c.LLGR, LLGRFamily{Family{AFI(be16(v[i:])), SAFI(v[i+2])}, v[i+3], uint32(v[i+4])<<16 | uint32(v[i+5])<<8 | uint32(v[i+6])})
		}
	case CapExtendedNextHop:
		if len(v)%6 != 0 {
			return bad("a multiple of 6")
		}
		for i := 0; i < len(v); i += 6 {
			c.NextHops = append(c.NextHops, NextHopFamily{AFI(be16(v[i:])), be16(v[i+2:]), AFI(be16(v[i+4:]))})
		}
	case CapRole:
		if len(v) != 1 {
			return bad("1")
		}
		c.Role = Role(v[0])
	case CapFQDN:
		// draft-walton-bgp-hostname-capability: length-prefixed host and
		// domain names.
		r := newReader(v, 0)
		var h, d reader
		if !r.lenPrefixed8(&h) || !r.lenPrefixed8(&d) || !r.empty() {
			return bad("two length-prefixed names")
		}
		c.Hostname, c.Domain = string(h.b), string(d.b)
	case CapSoftwareVersion:
		// draft-ietf-idr-software-version: one length-prefixed string.
		r := newReader(v, 0)
		var s reader
		if !r.lenPrefixed8(&s) || !r.empty() {
			return bad("a length-prefixed string")
		}
		c.Software = string(s.b)
	}
	return nil
}

// String writes the capability as "name" or "name value".
func (c *Capability) String() string {
	var b strings.Builder
	b.WriteString(c.Code.String())
	switch c.Code {
	case CapMultiprotocol:
		b.WriteString(" " + c.Family.String())
	case CapFourOctetAS:
		fmt.Fprintf(&b, " %d", c.ASN)
	case CapAddPath:
		for _, f := range c.AddPath {
			fmt.Fprintf(&b, " %s:%s", f.Family, f.Mode)
		}
	case CapGracefulRestart:
		fmt.Fprintf(&b, " time=%d flags=0x%x", c.GracefulRestart.Time, c.GracefulRestart.Flags)
		for _, f := range c.GracefulRestart.Families {
			fmt.Fprintf(&b, " %s:0x%02x", f.Family, f.Flags)
		}
	case CapLongLivedGR:
		for _, f := range c.LLGR {
			fmt.Fprintf(&b, " %s:0x%02x:%d", f.Family, f.Flags, f.StaleTime)
		}
	case CapExtendedNextHop:
		for _, f := range c.NextHops {
			fmt.Fprintf(&b, " %s/%d:%s", f.AFI, f.SAFI, f.NextHopAFI)
		}
	case CapRole:
		b.WriteString(" " + c.Role.String())
	case CapFQDN:
		fmt.Fprintf(&b, " %q %q", c.Hostname, c.Domain)
	case CapSoftwareVersion:
		fmt.Fprintf(&b, " %q", c.Software)
	case CapRouteRefresh, CapEnhancedRouteRefresh, CapExtendedMessage, CapRouteRefreshCisco:
	default:
		if len(c.Value) > 0 {
			fmt.Fprintf(&b, " 0x%x", c.Value)
		}
	}
	return b.String()
}

// MultiprotocolCapability builds a multiprotocol capability.
func MultiprotocolCapability(f Family) Capability {
	return Capability{Code: CapMultiprotocol, Family: f, Value: []byte{byte(f.AFI >> 8), byte(f.AFI), 0, byte(f.SAFI)}}
}

// FourOctetASCapability builds a 4-octet AS capability.
func FourOctetASCapability(asn uint32) Capability {
	return Capability{Code: CapFourOctetAS, ASN: asn, Value: appendU32(nil, asn)}
}

// AddPathCapability builds an ADD-PATH capability.
func AddPathCapability(fams ...AddPathFamily) Capability {
	c := Capability{Code: CapAddPath, AddPath: fams}
	for _, f := range fams {
		c.Value = append(appendU16(c.Value, uint16(f.Family.AFI)), byte(f.Family.SAFI), byte(f.Mode))
	}
	return c
}

// EmptyCapability builds a capability without a value (route refresh,
// enhanced route refresh, extended message).
func EmptyCapability(code CapabilityCode) Capability {
	return Capability{Code: code, Value: []byte{}}
}

// GracefulRestartCapability builds a graceful restart capability.
func GracefulRestartCapability(gr GracefulRestart) Capability {
	c := Capability{Code: CapGracefulRestart, GracefulRestart: gr}
	c.Value = appendU16(nil, uint16(gr.Flags&0xf)<<12|gr.Time&0x0fff)
	for _, f := range gr.Families {
		c.Value = append(appendU16(c.Value, uint16(f.Family.AFI)), byte(f.Family.SAFI), f.Flags)
	}
	return c
}

// LLGRCapability builds a long-lived graceful restart capability.
func LLGRCapability(fams ...LLGRFamily) Capability {
	c := Capability{Code: CapLongLivedGR, LLGR: fams}
	for _, f := range fams {
		c.Value = append(appendU16(c.Value, uint16(f.Family.AFI)), byte(f.Family.SAFI), f.Flags,
			byte(f.StaleTime>>16), byte(f.StaleTime>>8), byte(f.StaleTime))
	}
	return c
}

// ExtendedNextHopCapability builds an extended next hop capability.
func ExtendedNextHopCapability(fams ...NextHopFamily) Capability {
	c := Capability{Code: CapExtendedNextHop, NextHops: fams}
	for _, f := range fams {
		c.Value = appendU16(appendU16(appendU16(c.Value, uint16(f.AFI)), f.SAFI), uint16(f.NextHopAFI))
	}
	return c
}

// RoleCapability builds a BGP role capability.
func RoleCapability(r Role) Capability {
	return Capability{Code: CapRole, Role: r, Value: []byte{byte(r)}}
}

// FQDNCapability builds an FQDN (hostname) capability. Names are cut to
// 255 bytes.
func FQDNCapability(host, domain string) Capability {
	host, domain = host[:min(len(host), 255)], domain[:min(len(domain), 255)]
	c := Capability{Code: CapFQDN, Hostname: host, Domain: domain}
	c.Value = append(append(c.Value, byte(len(host))), host...)
	c.Value = append(append(c.Value, byte(len(domain))), domain...)
	return c
}
