package bgpwire

// reader is a bounds-checked cursor over wire bytes, shaped like
// cryptobyte.String: every read reports whether enough bytes were left,
// and all length arithmetic is done in int.
type reader struct {
	b   []byte
	off int // offset of b[0] in the enclosing message, for error reports
}

func newReader(b []byte, off int) reader { return reader{b: b, off: off} }

func (r *reader) len() int    { return len(r.b) }
func (r *reader) empty() bool { return len(r.b) == 0 }

// read consumes n bytes.
func (r *reader) read(n int) ([]byte, bool) {
	if n < 0 || n > len(r.b) {
		return nil, false
	}
	v := r.b[:n]
	r.b = r.b[n:]
	r.off += n
	return v, true
}

func (r *reader) u8(v *uint8) bool {
	if len(r.b) < 1 {
		return false
	}
	*v = r.b[0]
	r.b = r.b[1:]
	r.off++
	return true
}

func (r *reader) u16(v *uint16) bool {
	if len(r.b) < 2 {
		return false
	}
	*v = uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	r.off += 2
	return true
}

func (r *reader) u32(v *uint32) bool {
	if len(r.b) < 4 {
		return false
	}
	*v = uint32(r.b[0])<<24 | uint32(r.b[1])<<16 | uint32(r.b[2])<<8 | uint32(r.b[3])
	r.b = r.b[4:]
	r.off += 4
	return true
}

func (r *reader) u64(v *uint64) bool {
	var hi, lo uint32
	if len(r.b) < 8 {
		return false
	}
	r.u32(&hi)
	r.u32(&lo)
	*v = uint64(hi)<<32 | uint64(lo)
	return true
}

// sub consumes n bytes and returns them as a child reader.
func (r *reader) sub(n int, child *reader) bool {
	off := r.off
	b, ok := r.read(n)
	if !ok {
		return false
	}
	*child = reader{b: b, off: off}
	return true
}

// lenPrefixed8 reads a one-byte length and that many bytes as a child.
// On failure r is unchanged.
func (r *reader) lenPrefixed8(child *reader) bool {
	b := r.b
	if len(b) < 1 || int(b[0]) > len(b)-1 {
		return false
	}
	n := 1 + int(b[0])
	*child = reader{b: b[1:n], off: r.off + 1}
	r.b, r.off = b[n:], r.off+n
	return true
}

// lenPrefixed16 reads a two-byte length and that many bytes as a child.
// On failure r is unchanged.
func (r *reader) lenPrefixed16(child *reader) bool {
	b := r.b
	if len(b) < 2 {
		return false
	}
	n := 2 + (int(b[0])<<8 | int(b[1]))
	if n > len(b) {
		return false
	}
	*child = reader{b: b[2:n], off: r.off + 2}
	r.b, r.off = b[n:], r.off+n
	return true
}
func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func appendU16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }
func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func putU16(b []byte, v uint16) { b[0], b[1] = byte(v>>8), byte(v) }
