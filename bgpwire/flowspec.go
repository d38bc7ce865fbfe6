package bgpwire

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// FlowType is the type of a FlowSpec component (RFC 8955, RFC 8956).
type FlowType uint8

// FlowSpec component types.
const (
	FlowDestination FlowType = 1
	FlowSource      FlowType = 2
	FlowProtocol    FlowType = 3 // IPv4 protocol; IPv6 next header
	FlowPort        FlowType = 4
	FlowDstPort     FlowType = 5
	FlowSrcPort     FlowType = 6
	FlowICMPType    FlowType = 7
	FlowICMPCode    FlowType = 8
	FlowTCPFlags    FlowType = 9
	FlowPacketLen   FlowType = 10
	FlowDSCP        FlowType = 11
	FlowFragment    FlowType = 12
	FlowLabel       FlowType = 13 // IPv6 only
)

var flowNames = [...]string{
	FlowDestination: "destination", FlowSource: "source", FlowProtocol: "protocol", FlowPort: "port",
	FlowDstPort: "destination-port", FlowSrcPort: "source-port", FlowICMPType: "icmp-type",
	FlowICMPCode: "icmp-code", FlowTCPFlags: "tcp-flags", FlowPacketLen: "packet-length",
	FlowDSCP: "dscp", FlowFragment: "fragment", FlowLabel: "flow-label",
}

func (t FlowType) String() string {
	if int(t) < len(flowNames) && flowNames[t] != "" {
		return flowNames[t]
	}
	return "type-" + strconv.Itoa(int(t))
}

// isBitmask reports whether the component uses bitmask operators.
func (t FlowType) isBitmask() bool { return t == FlowTCPFlags || t == FlowFragment }

// Operator bits of FlowSpec numeric and bitmask operators.
const (
	FlowOpEnd   uint8 = 0x80
	FlowOpAnd   uint8 = 0x40
	FlowOpLen   uint8 = 0x30 // value length 1<<((op&0x30)>>4) octets
	FlowOpLT    uint8 = 0x04 // numeric
	FlowOpGT    uint8 = 0x02 // numeric
	FlowOpEQ    uint8 = 0x01 // numeric
	FlowOpNot   uint8 = 0x02 // bitmask
	FlowOpMatch uint8 = 0x01 // bitmask
)

// FlowOp is one operator/value pair of a numeric or bitmask component.
// Op is the operator octet as on the wire (its end bit is recomputed by
// the encoder).
type FlowOp struct {
	Op    uint8
	Value uint64
}

// FlowComponent is one component of a FlowSpec NLRI: a prefix (types 1
// and 2) or a list of operators.
type FlowComponent struct {
	Type   FlowType
	Prefix netip.Prefix // destination and source
	Offset uint8        // IPv6 prefix offset (RFC 8956)
	Ops    []FlowOp
}

// FlowSpec is a decoded FlowSpec NLRI (RFC 8955 for IPv4, RFC 8956 for
// IPv6; with an RD for the VPN SAFI).
type FlowSpec struct {
	RD         RD
	Components []FlowComponent
}

// ErrFlowSpec is wrapped by FlowSpec decoding errors.
var ErrFlowSpec = errors.New("malformed flowspec")

// DecodeFlowSpec decodes one FlowSpec NLRI, length prefix included (as
// kept in NLRI.Raw), of family f.
func DecodeFlowSpec(raw []byte, f Family) (FlowSpec, error) {
	var fs FlowSpec
	r := newReader(raw, 0)
	if r.len() < 1 {
		return fs, fmt.Errorf("%w: empty: %w", ErrFlowSpec, ErrTruncated)
	}
	l := int(raw[0])
	hl := 1
	if l >= 0xf0 {
		if r.len() < 2 {
			return fs, fmt.Errorf("%w: length: %w", ErrFlowSpec, ErrTruncated)
		}
		l, hl = int(be16(raw)&0x0fff), 2
	}
	r.read(hl)
	var body reader
	if !r.sub(l, &body) || !r.empty() {
		return fs, fmt.Errorf("%w: length %d does not match %d bytes", ErrFlowSpec, l, len(raw)-hl)
	}
	if f.SAFI == SAFIFlowSpecVPN {
		rd, ok := body.read(8)
		if !ok {
			return fs, fmt.Errorf("%w: route distinguisher: %w", ErrFlowSpec, ErrTruncated)
		}
		fs.RD = RD(rd)
	}
	v6 := f.AFI == AFIIPv6
	last := FlowType(0)
	for !body.empty() {
		var c FlowComponent
		var t uint8
		off := body.off
		body.u8(&t)
		c.Type = FlowType(t)
		if c.Type <= last {
			return fs, fmt.Errorf("%w: component %s at byte %d out of order", ErrFlowSpec, c.Type, off)
		}
		last = c.Type
		switch c.Type {
		case FlowDestination, FlowSource:
			var bits uint8
			if !body.u8(&bits) {
				return fs, fmt.Errorf("%w: %s prefix at byte %d: %w", ErrFlowSpec, c.Type, off, ErrTruncated)
			}
			alen := 4
			if v6 {
				alen = 16
				if !body.u8(&c.Offset) {
					return fs, fmt.Errorf("%w: %s offset at byte %d: %w", ErrFlowSpec, c.Type, off, ErrTruncated)
				}
			}
			if int(bits) > alen*8 || c.Offset > bits {
				return fs, fmt.Errorf("%w: %s prefix length %d offset %d at byte %d", ErrFlowSpec, c.Type, bits, c.Offset, off)
			}
			// RFC 8956: the pattern holds bits offset..length-1.
			pb, ok := body.read((int(bits) - int(c.Offset) + 7) / 8)
			if !ok {
				return fs, fmt.Errorf("%w: %s prefix at byte %d: %w", ErrFlowSpec, c.Type, off, ErrTruncated)
			}
			if v6 {
				var a [16]byte
				copyBits(a[:], int(c.Offset), pb, int(bits)-int(c.Offset))
				c.Prefix = netip.PrefixFrom(netip.AddrFrom16(a), int(bits)).Masked()
			} else {
				c.Prefix = makePrefix(pb, int(bits), true)
			}
		case FlowProtocol, FlowPort, FlowDstPort, FlowSrcPort, FlowICMPType, FlowICMPCode,
			FlowTCPFlags, FlowPacketLen, FlowDSCP, FlowFragment, FlowLabel:
			for {
				var op uint8
				if !body.u8(&op) {
					return fs, fmt.Errorf("%w: %s operator at byte %d: %w", ErrFlowSpec, c.Type, off, ErrTruncated)
				}
				vb, ok := body.read(1 << ((op & FlowOpLen) >> 4))
				if !ok {
					return fs, fmt.Errorf("%w: %s value at byte %d: %w", ErrFlowSpec, c.Type, off, ErrTruncated)
				}
				var v uint64
				for _, x := range vb {
					v = v<<8 | uint64(x)
				}
				c.Ops = append(c.Ops, FlowOp{Op: op, Value: v})
				if op&FlowOpEnd != 0 {
					break
				}
			}
		default:
			return fs, fmt.Errorf("%w: unknown component type %d at byte %d", ErrFlowSpec, t, off)
		}
		fs.Components = append(fs.Components, c)
	}
	return fs, nil
}

// AppendWire appends the NLRI, length prefix included, for family f.
func (fs *FlowSpec) AppendWire(dst []byte, f Family) []byte {
	var b []byte
	if f.SAFI == SAFIFlowSpecVPN {
		b = append(b, fs.RD[:]...)
	}
	for _, c := range fs.Components {
		b = append(b, byte(c.Type))
		switch c.Type {
		case FlowDestination, FlowSource:
			bits := c.Prefix.Bits()
			b = append(b, byte(bits))
			if f.AFI == AFIIPv6 {
				b = append(b, c.Offset)
				a := c.Prefix.Addr().As16()
				n := bits - int(c.Offset)
				if n < 0 {
					n = 0
				}
				pat := make([]byte, (n+7)/8)
				for i := range n {
					k := int(c.Offset) + i
					if a[k/8]&(0x80>>(k%8)) != 0 {
						pat[i/8] |= 0x80 >> (i % 8)
					}
				}
				b = append(b, pat...)
			} else {
				a := c.Prefix.Addr().As4()
				b = append(b, a[:(bits+7)/8]...)
			}
		default:
			for i, o := range c.Ops {
				n := 1
				switch {
				case o.Value > 0xffffffff:
					n = 8
				case o.Value > 0xffff:
					n = 4
				case o.Value > 0xff:
					n = 2
				}
				if w := 1 << ((o.Op & FlowOpLen) >> 4); w > n {
					n = w // keep the wire width
				}
				op := o.Op &^ (FlowOpEnd | FlowOpLen)
				switch n {
				case 2:
					op |= 0x10
				case 4:
					op |= 0x20
				case 8:
					op |= 0x30
				}
				if i == len(c.Ops)-1 {
					op |= FlowOpEnd
				}
				b = append(b, op)
				for k := n - 1; k >= 0; k-- {
					b = append(b, byte(o.Value>>(8*k)))
				}
			}
		}
	}
	if len(b) >= 0xf0 {
		dst = appendU16(dst, 0xf000|uint16(len(b)))
	} else {
		dst = append(dst, byte(len(b)))
	}
	return append(dst, b...)
}

var tcpFlagNames = [8]string{"fin", "syn", "rst", "push", "ack", "urgent", "ece", "cwr"}
var fragmentNames = [8]string{"dont-fragment", "is-fragment", "first-fragment", "last-fragment"}

// String writes the canonical text form: components separated by
// spaces, each its name and value; prefixes as CIDR (IPv6 with /OFFSET
// when the offset is not zero); numeric operators as =V, >V, >=V, <V,
// <=V, !=V, true, false; bitmask operators as [!][=]NAME+NAME; an
// operator ANDed to the previous one is prefixed with &, ORed ones are
// separated by spaces. A VPN route starts with "rd RD".
func (fs *FlowSpec) String() string {
	var b strings.Builder
	if !fs.RD.IsZero() {
		b.WriteString("rd " + fs.RD.String())
	}
	for _, c := range fs.Components {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.Type.String())
		b.WriteByte(' ')
		b.WriteString(c.ValueString())
	}
	return b.String()
}

// ValueString writes the component's value as in String.
func (c *FlowComponent) ValueString() string {
	if c.Type == FlowDestination || c.Type == FlowSource {
		s := c.Prefix.String()
		if c.Offset != 0 {
			s += "/" + strconv.Itoa(int(c.Offset))
		}
		return s
	}
	var b strings.Builder
	for i, o := range c.Ops {
		if i > 0 {
			if o.Op&FlowOpAnd != 0 {
				b.WriteByte('&')
			} else {
				b.WriteByte(' ')
			}
		}
		if c.Type.isBitmask() {
			if o.Op&FlowOpNot != 0 {
				b.WriteByte('!')
			}
			if o.Op&FlowOpMatch != 0 {
				b.WriteByte('=')
			}
			b.WriteString(bitNames(c.Type, o.Value))
			continue
		}
		switch o.Op & 7 {
		case 0:
			b.WriteString("false")
			continue
		case 7:
			b.WriteString("true")
			continue
		case FlowOpEQ:
			b.WriteByte('=')
		case FlowOpGT:
			b.WriteByte('>')
		case FlowOpGT | FlowOpEQ:
			b.WriteString(">=")
		case FlowOpLT:
			b.WriteByte('<')
		case FlowOpLT | FlowOpEQ:
			b.WriteString("<=")
		case FlowOpLT | FlowOpGT:
			b.WriteString("!=")
		}
		b.WriteString(strconv.FormatUint(o.Value, 10))
	}
	return b.String()
}

func bitNames(t FlowType, v uint64) string {
	names := tcpFlagNames[:]
	if t == FlowFragment {
		names = fragmentNames[:]
	}
	var parts []string
	for i := range 8 {
		if v&(1<<i) != 0 && names[i] != "" {
			parts = append(parts, names[i])
			v &^= 1 << i
		}
	}
	if v != 0 || len(parts) == 0 {
		parts = append(parts, "0x"+strconv.FormatUint(v, 16))
	}
	return strings.Join(parts, "+")
}

// copyBits copies n bits of src (from its first bit) into dst starting at
// bit off.
func copyBits(dst []byte, off int, src []byte, n int) {
	for i := range n {
		if src[i/8]&(0x80>>(i%8)) != 0 {
			k := off + i
			dst[k/8] |= 0x80 >> (k % 8)
		}
	}
}
