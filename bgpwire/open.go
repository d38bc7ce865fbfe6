package bgpwire

import (
	"net/netip"
)

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
	// Extended is true when the optional parameters used the RFC 9072
	// extended length encoding.
	Extended bool

	nparams int // number of capability optional parameters on the wire
}

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
	o := &Open{}
	if err := o.Decode(body); err != nil {
		return nil, err
	}
	return o, nil
}

// Decode decodes an OPEN body into o. The result does not alias body.
func (o *Open) Decode(body []byte) error {
	const op = "open"
	*o = Open{Capabilities: o.Capabilities[:0]}
	r := newReader(body, HeaderLen)
	var id []byte
	var plen uint8
	if !r.u8(&o.Version) || !r.u16(&o.MyAS) || !r.u16(&o.HoldTime) {
		return newError(op, r.off, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	id, _ = r.read(4)
	if id == nil || !r.u8(&plen) {
		return newError(op, r.off, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	o.RouterID = netip.AddrFrom4([4]byte(id))
	if o.Version != 4 {
		e := errorf(op, HeaderLen, CodeOpenMessage, SubcodeUnsupportedVersion, ActionSessionReset, "version %d, want 4", o.Version)
		e.Data = []byte{0, 4}
		return e
	}
	if o.HoldTime == 1 || o.HoldTime == 2 {
		return errorf(op, HeaderLen+3, CodeOpenMessage, SubcodeUnacceptableHoldTime, ActionSessionReset, "hold time %d s", o.HoldTime)
	}
	var params reader
	if plen == 255 && r.len() >= 1 && r.b[0] == 255 {
		// RFC 9072: non-ext type 255, then a 2-octet length.
		var t uint8
		r.u8(&t)
		if !r.lenPrefixed16(&params) {
			return newError(op+": extended optional parameters", r.off, CodeOpenMessage, SubcodeUnsupportedOptParam, ActionSessionReset, ErrTruncated)
		}
		o.Extended = true
	} else if !r.sub(int(plen), &params) {
		return newError(op+": optional parameters", r.off, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	if !r.empty() {
		return errorf(op, r.off, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, "%d bytes after optional parameters", r.len())
	}
	for !params.empty() {
		var t uint8
		var val reader
		start := params.off
		ok := params.u8(&t)
		if o.Extended {
			ok = ok && params.lenPrefixed16(&val)
		} else {
			ok = ok && params.lenPrefixed8(&val)
		}
		if !ok {
			return newError(op+": optional parameter", start, CodeOpenMessage, SubcodeUnsupportedOptParam, ActionSessionReset, ErrTruncated)
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
				return newError(op+": capability", cstart, CodeOpenMessage, SubcodeUnsupportedOptParam, ActionSessionReset, ErrTruncated)
			}
			c.Code = CapabilityCode(code)
			c.Value = append([]byte{}, cv.b...)
			c.param = o.nparams
			if err := c.decodeValue(); err != nil {
				e := newError(op+": capability "+c.Code.String(), cstart, CodeOpenMessage, SubcodeUnsupportedCapability, ActionSessionReset, err)
				e.Data = append([]byte{code, byte(len(cv.b))}, cv.b...)
				return e
			}
			o.Capabilities = append(o.Capabilities, c)
		}
		o.nparams++
	}
	return nil
}

// AppendWire appends the whole OPEN message. Capabilities are written
// from their Value bytes, grouped into optional parameters as they were
// decoded (each in its own parameter when built by hand); RFC 9072
// extended parameters are used when Extended is set or the parameters do
// not fit in 255 bytes.
func (o *Open) AppendWire(dst []byte) []byte {
	start := len(dst)
	dst = AppendHeader(dst, MsgOpen, 0)
	version := o.Version
	if version == 0 {
		version = 4
	}
	id := o.RouterID.As4()
	dst = append(dst, version, byte(o.MyAS>>8), byte(o.MyAS), byte(o.HoldTime>>8), byte(o.HoldTime), id[0], id[1], id[2], id[3])
	plenAt := len(dst)
	ext := o.Extended
	for {
		dst = dst[:plenAt]
		if ext {
			dst = append(dst, 255, 255, 0, 0)
		} else {
			dst = append(dst, 0)
		}
		pstart := len(dst)
		for i := 0; i < len(o.Capabilities); {
			// One optional parameter holds the run of capabilities that
			// shared one on the wire.
			j := i + 1
			for j < len(o.Capabilities) && o.Capabilities[j].param == o.Capabilities[i].param && o.nparams > 0 {
				j++
			}
			dst = append(dst, 2)
			lenAt := len(dst)
			if ext {
				dst = append(dst, 0, 0)
			} else {
				dst = append(dst, 0)
			}
			vstart := len(dst)
			for _, c := range o.Capabilities[i:j] {
				dst = append(dst, byte(c.Code), byte(len(c.Value)))
				dst = append(dst, c.Value...)
			}
			if ext {
				putU16(dst[lenAt:], uint16(len(dst)-vstart))
			} else {
				dst[lenAt] = byte(len(dst) - vstart)
			}
			i = j
		}
		for _, p := range o.OtherParams {
			if len(p) == 0 {
				continue
			}
			dst = append(dst, p[0])
			if ext {
				dst = appendU16(dst, uint16(len(p)-1))
			} else {
				dst = append(dst, byte(len(p)-1))
			}
			dst = append(dst, p[1:]...)
		}
		plen := len(dst) - pstart
		if ext {
			putU16(dst[plenAt+2:], uint16(plen))
			break
		}
		if plen <= 255 {
			dst[plenAt] = byte(plen)
			break
		}
		ext = true
	}
	putU16(dst[start+16:], uint16(len(dst)-start))
	return dst
}
