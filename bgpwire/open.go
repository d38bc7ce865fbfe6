package bgpwire

import (
	"fmt"
	"net/netip"
)

// CapabilityCode identifies a capability (IANA registry).
type CapabilityCode uint8

// Capability codes.
const (
	CapMultiprotocol        CapabilityCode = 1
	CapRouteRefresh         CapabilityCode = 2
	CapExtendedNextHop      CapabilityCode = 5
	CapExtendedMessage      CapabilityCode = 6
	CapRole                 CapabilityCode = 9
	CapGracefulRestart      CapabilityCode = 64
	CapFourOctetAS          CapabilityCode = 65
	CapAddPath              CapabilityCode = 69
	CapEnhancedRouteRefresh CapabilityCode = 70
	CapLongLivedGR          CapabilityCode = 71
	CapFQDN                 CapabilityCode = 73
)

func (c CapabilityCode) String() string {
	switch c {
	case CapMultiprotocol:
		return "multiprotocol"
	case CapRouteRefresh:
		return "route-refresh"
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

// AddPathFamily is one tuple of the ADD-PATH capability.
type AddPathFamily struct {
	Family Family
	Mode   AddPathMode
}

// Capability is one capability of an OPEN message. Code says which of the
// typed fields is meaningful; Value always holds the raw value bytes.
type Capability struct {
	Code  CapabilityCode
	Value []byte

	Family  Family          // multiprotocol
	ASN     uint32          // asn4
	AddPath []AddPathFamily // add-path
}

// Open is an OPEN message.
type Open struct {
	Version      uint8
	MyAS         uint16 // the 2-octet field; AS_TRANS (23456) when the AS is larger
	HoldTime     uint16
	RouterID     netip.Addr
	Capabilities []Capability
	// OtherParams holds optional parameters that are not capabilities,
	// as type followed by value.
	OtherParams [][]byte
}

// ASTrans is the 2-octet AS used in place of a 4-octet AS (RFC 6793).
const ASTrans = 23456

// ASN returns the speaker's AS: the 4-octet AS capability if present,
// else the MyAS field.
func (o *Open) ASN() uint32 {
	for _, c := range o.Capabilities {
		if c.Code == CapFourOctetAS {
			return c.ASN
		}
	}
	return uint32(o.MyAS)
}

// Capability returns the first capability with the code.
func (o *Open) Capability(code CapabilityCode) (Capability, bool) {
	for _, c := range o.Capabilities {
		if c.Code == code {
			return c, true
		}
	}
	return Capability{}, false
}

// Families returns the multiprotocol families announced. An OPEN without
// multiprotocol capabilities implies IPv4 unicast.
func (o *Open) Families() []Family {
	var fs []Family
	for _, c := range o.Capabilities {
		if c.Code == CapMultiprotocol {
			fs = append(fs, c.Family)
		}
	}
	if len(fs) == 0 {
		fs = []Family{IPv4Unicast}
	}
	return fs
}

// DecodeOpen decodes an OPEN body (the message without its header),
// including RFC 9072 extended optional parameters. The result does not
// alias body.
func DecodeOpen(body []byte) (*Open, error) {
	const op = "open"
	r := newReader(body, HeaderLen)
	o := &Open{}
	var id []byte
	var plen uint8
	if !r.u8(&o.Version) || !r.u16(&o.MyAS) || !r.u16(&o.HoldTime) {
		return nil, newError(op, r.off, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	id, _ = r.read(4)
	if id == nil || !r.u8(&plen) {
		return nil, newError(op, r.off, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	o.RouterID = netip.AddrFrom4([4]byte(id))
	if o.Version != 4 {
		e := errorf(op, HeaderLen, CodeOpenMessage, SubcodeUnsupportedVersion, ActionSessionReset, "version %d, want 4", o.Version)
		e.Data = []byte{0, 4}
		return nil, e
	}
	if o.HoldTime == 1 || o.HoldTime == 2 {
		return nil, errorf(op, HeaderLen+3, CodeOpenMessage, SubcodeUnacceptableHoldTime, ActionSessionReset, "hold time %d s", o.HoldTime)
	}
	var params reader
	extended := false
	if plen == 255 && r.len() >= 1 && r.b[0] == 255 {
		// RFC 9072: non-ext type 255, then a 2-octet length.
		var t uint8
		r.u8(&t)
		if !r.lenPrefixed16(&params) {
			return nil, newError(op+": extended optional parameters", r.off, CodeOpenMessage, SubcodeUnsupportedOptParam, ActionSessionReset, ErrTruncated)
		}
		extended = true
	} else if !r.sub(int(plen), &params) {
		return nil, newError(op+": optional parameters", r.off, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	if !r.empty() {
		return nil, errorf(op, r.off, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, "%d bytes after optional parameters", r.len())
	}
	for !params.empty() {
		var t uint8
		var val reader
		start := params.off
		ok := params.u8(&t)
		if extended {
			ok = ok && params.lenPrefixed16(&val)
		} else {
			ok = ok && params.lenPrefixed8(&val)
		}
		if !ok {
			return nil, newError(op+": optional parameter", start, CodeOpenMessage, SubcodeUnsupportedOptParam, ActionSessionReset, ErrTruncated)
		}
		if t != 2 {
			o.OtherParams = append(o.OtherParams, append([]byte{t}, val.b...))
			continue
		}
		for !val.empty() {
			var c Capability
			var code uint8
			var cv reader
			cstart := val.off
			if !val.u8(&code) || !val.lenPrefixed8(&cv) {
				return nil, newError(op+": capability", cstart, CodeOpenMessage, SubcodeUnsupportedOptParam, ActionSessionReset, ErrTruncated)
			}
			c.Code = CapabilityCode(code)
			c.Value = append([]byte(nil), cv.b...)
			if err := c.decodeValue(); err != nil {
				return nil, errorf(op+": capability "+c.Code.String(), cstart, CodeOpenMessage, 0, ActionSessionReset, "%v", err)
			}
			o.Capabilities = append(o.Capabilities, c)
		}
	}
	return o, nil
}

func (c *Capability) decodeValue() error {
	v := c.Value
	switch c.Code {
	case CapMultiprotocol:
		if len(v) != 4 {
			return fmt.Errorf("length %d, want 4", len(v))
		}
		c.Family = Family{AFI(be16(v)), SAFI(v[3])}
	case CapFourOctetAS:
		if len(v) != 4 {
			return fmt.Errorf("length %d, want 4", len(v))
		}
		c.ASN = be32(v)
	case CapAddPath:
		if len(v)%4 != 0 {
			return fmt.Errorf("length %d is not a multiple of 4", len(v))
		}
		for i := 0; i < len(v); i += 4 {
			c.AddPath = append(c.AddPath, AddPathFamily{Family{AFI(be16(v[i:])), SAFI(v[i+2])}, AddPathMode(v[i+3])})
		}
	}
	return nil
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

// AppendWire appends the whole OPEN message. Capabilities are written
// from their Value bytes, each in its own optional parameter; RFC 9072
// extended parameters are used when they do not fit in 255 bytes.
func (o *Open) AppendWire(dst []byte) []byte {
	var params []byte
	for _, c := range o.Capabilities {
		params = append(params, 2, byte(2+len(c.Value)), byte(c.Code), byte(len(c.Value)))
		params = append(params, c.Value...)
	}
	for _, p := range o.OtherParams {
		params = append(params, p[0], byte(len(p)-1))
		params = append(params, p[1:]...)
	}
	id := o.RouterID.As4()
	body := []byte{o.Version, byte(o.MyAS >> 8), byte(o.MyAS), byte(o.HoldTime >> 8), byte(o.HoldTime), id[0], id[1], id[2], id[3]}
	if len(params) <= 255 {
		body = append(body, byte(len(params)))
		body = append(body, params...)
	} else {
		// RFC 9072: re-encode every parameter with a 2-octet length.
		var ext []byte
		for _, c := range o.Capabilities {
			ext = append(ext, 2)
			ext = appendU16(ext, uint16(2+len(c.Value)))
			ext = append(ext, byte(c.Code), byte(len(c.Value)))
			ext = append(ext, c.Value...)
		}
		for _, p := range o.OtherParams {
			ext = append(ext, p[0])
			ext = appendU16(ext, uint16(len(p)-1))
			ext = append(ext, p[1:]...)
		}
		body = append(body, 255, 255)
		body = appendU16(body, uint16(len(ext)))
		body = append(body, ext...)
	}
	dst = AppendHeader(dst, MsgOpen, len(body))
	return append(dst, body...)
}
