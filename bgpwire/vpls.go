package bgpwire

import (
	"errors"
	"fmt"
)

// VPLS is a decoded VPLS NLRI (RFC 4761 section 3.2.2).
type VPLS struct {
	RD          RD
	VEID        uint16
	BlockOffset uint16
	BlockSize   uint16
	LabelBase   uint32 // 20-bit label
}

// ErrVPLS is wrapped by VPLS decoding errors.
var ErrVPLS = errors.New("malformed vpls nlri")

// DecodeVPLS decodes one VPLS NLRI (2-octet length, value), as kept in
// NLRI.Raw.
func DecodeVPLS(raw []byte) (VPLS, error) {
	var v VPLS
	if len(raw) != 19 || be16(raw) != 17 {
		return v, fmt.Errorf("%w: %d bytes, want 19 with length 17", ErrVPLS, len(raw))
	}
	v.RD = RD(raw[2:10])
	v.VEID, v.BlockOffset, v.BlockSize = be16(raw[10:]), be16(raw[12:]), be16(raw[14:])
	v.LabelBase = (uint32(raw[16])<<16 | uint32(raw[17])<<8 | uint32(raw[18])) >> 4
	return v, nil
}

// String writes the canonical text form.
func (v *VPLS) String() string {
	return fmt.Sprintf("rd %s ve-id %d offset %d size %d label-base %d", v.RD, v.VEID, v.BlockOffset, v.BlockSize, v.LabelBase)
}

// AppendWire appends the NLRI, length included.
func (v *VPLS) AppendWire(dst []byte) []byte {
	dst = appendU16(dst, 17)
	dst = append(dst, v.RD[:]...)
	dst = appendU16(appendU16(appendU16(dst, v.VEID), v.BlockOffset), v.BlockSize)
	l := v.LabelBase<<4 | 1
	return append(dst, byte(l>>16), byte(l>>8), byte(l))
}
