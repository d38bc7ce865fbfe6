package collector

import (
	"slices"
	"strings"

	"github.com/vantage-bgp/vantage/bgpwire"
)

// Families are the address families the collector offers in its OPEN
// (a multiprotocol capability each) and accepts: every family bgpwire
// decodes into events (DESIGN.md's list).
var Families = []bgpwire.Family{
	bgpwire.IPv4Unicast, bgpwire.IPv6Unicast,
	bgpwire.IPv4Multicast, bgpwire.IPv6Multicast,
	bgpwire.IPv4Labeled, bgpwire.IPv6Labeled,
	bgpwire.IPv4VPN, bgpwire.IPv6VPN,
	bgpwire.IPv4FlowSpec, bgpwire.IPv6FlowSpec,
	bgpwire.L2VPNEVPN, bgpwire.L2VPNVPLS,
	bgpwire.LinkState,
}

// commonFamilies returns the families both OPENs offer, in the order of
// ours (RFC 4760: a family is usable when both sides announced it).
func commonFamilies(mine, theirs *bgpwire.Open) []bgpwire.Family {
	t := theirs.Families()
	var fs []bgpwire.Family
	for _, f := range mine.Families() {
		if slices.Contains(t, f) {
			fs = append(fs, f)
		}
	}
	return fs
}

// familyList writes families as "ipv4/unicast ipv6/unicast".
func familyList(fs []bgpwire.Family) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.String())
	}
	return b.String()
}

// appendEndOfRIB appends an End-of-RIB marker for f (RFC 4724 section 2):
// an empty UPDATE for IPv4 unicast, else an UPDATE whose only attribute
// is an MP_UNREACH_NLRI of the family without NLRI.
func appendEndOfRIB(dst []byte, f bgpwire.Family) []byte {
	if f == bgpwire.IPv4Unicast {
		return append(bgpwire.AppendHeader(dst, bgpwire.MsgUpdate, 4), 0, 0, 0, 0)
	}
	dst = bgpwire.AppendHeader(dst, bgpwire.MsgUpdate, 10)
	return append(dst,
		0, 0, // withdrawn routes length
		0, 6, // path attributes length
		0x80, byte(bgpwire.AttrMPUnreach), 3, // optional, MP_UNREACH_NLRI, length 3
		byte(f.AFI>>8), byte(f.AFI), byte(f.SAFI))
}
