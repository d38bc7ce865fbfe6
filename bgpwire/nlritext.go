package bgpwire

import (
	"fmt"
	"strconv"
)

// Text writes the NLRI in its canonical text form for family f: the
// prefix for IP families (with "rd RD", "label N" and "path-id N" when
// present), the typed decoders' String for FlowSpec, EVPN, VPLS and
// BGP-LS, and 0xHEX for anything else, including NLRI that do not decode.
func (n *NLRI) Text(f Family) string {
	s := n.text(f)
	if n.PathID != 0 {
		s += " path-id " + strconv.FormatUint(uint64(n.PathID), 10)
	}
	return s
}

func (n *NLRI) text(f Family) string {
	if n.Prefix.IsValid() {
		s := n.Prefix.String()
		if !n.RD.IsZero() {
			s = "rd " + n.RD.String() + " " + s
		}
		for i := range n.Labels.Len() {
			s += " label " + strconv.FormatUint(uint64(n.Labels.At(i)), 10)
		}
		return s
	}
	switch {
	case f.SAFI == SAFIFlowSpec || f.SAFI == SAFIFlowSpecVPN:
		if fs, err := DecodeFlowSpec(n.Raw, f); err == nil {
			return fs.String()
		}
	case f == L2VPNEVPN:
		if e, err := DecodeEVPN(n.Raw); err == nil {
			return e.String()
		}
	case f == L2VPNVPLS:
		if v, err := DecodeVPLS(n.Raw); err == nil {
			return v.String()
		}
	case f.AFI == AFILS:
		if ls, err := DecodeLS(n.Raw); err == nil {
			return ls.String()
		}
	}
	return fmt.Sprintf("0x%x", n.Raw)
}
