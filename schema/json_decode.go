package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// DecodeError reports JSON that DecodeJSON cannot read into an Event: bad
// syntax, or a value that does not fit its field.
type DecodeError struct {
	// Field is the path of the field being read ("announcements[1].next_hop"),
	// empty outside any field.
	Field string
	// Offset is the byte offset in the input of the bad value or character.
	Offset int
	Err    error
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("event: %v at byte %d", e.Err, e.Offset)
	}
	return fmt.Sprintf("event: field %q: %v at byte %d", e.Field, e.Err, e.Offset)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// DecodeJSON reads one event's JSON object, as AppendJSON writes it or in
// any equivalent form, into e. It accepts exactly what encoding/json's
// Unmarshal into a zero Event accepts and produces the same Event (keys
// in any order and matched without regard to case as encoding/json
// matches them, unknown keys ignored, null leaving a field as it is or
// clearing a slice or pointer, duplicate keys merged as encoding/json
// merges them), without reflection. A JSON null input leaves e zero.
//
// DecodeJSON resets e first, but reuses what e holds so that decoding
// many events into one Event allocates little: the backing arrays of
// Path (and of each segment's ASNs), Community, LargeCommunity,
// ClusterList, OtherAttrs, Announcements (and each one's Prefixes,
// PathIDs, Labels), Withdrawals and Withdrawn (and each one's Prefixes,
// PathIDs, Labels), Routes, and the values that MED, LocalPref, OTC, AIGP,
// Aggregator, Notification, Open and RouteRefresh point to. A slice whose
// field is absent from the input is left nil, so its array is not kept.
// Strings (ID, Host, Reason, Raw, ...) and ExtCommunity values are always
// new. So pass an Event you are done with, copies included (a copy of an
// Event shares its slices and pointers), whose arrays it owns alone: a
// zero Event, or one filled by DecodeJSON.
//
// Errors are *DecodeError, naming the field and the byte offset.
func (e *Event) DecodeJSON(data []byte) error {
	d := decoder{data: data}
	err := d.top(e)
	if err == errDuplicate {
		// A key appeared twice in one object. encoding/json decodes the
		// second value into what the first left (slices are reused in
		// place, pointed-to structs merged); the exact mode does the same
		// on a fresh Event.
		*e = Event{}
		d = decoder{data: data, exact: true}
		err = d.top(e)
	}
	return err
}

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

// errDuplicate makes DecodeJSON start again in exact mode. It never
// reaches the caller.
var errDuplicate = errors.New("duplicate key")

// decoder reads JSON text. In the default (fast) mode every key may
// appear once per object, so each slice is read from empty and each
// element read is reset first: reused arrays hold stale values. In exact
// mode (after a duplicate key, on a fresh Event) elements are decoded in
// place as encoding/json does.
type decoder struct {
	data    []byte
	pos     int
	depth   int
	exact   bool
	scratch []byte // unquoted strings with escapes
	fold    []byte // case-folded keys
}

// Errors.

func (d *decoder) errAt(off int, format string, args ...any) error {
	return &DecodeError{Offset: off, Err: fmt.Errorf(format, args...)}
}

func (d *decoder) syntax() error {
	if d.pos >= len(d.data) {
		return d.errAt(d.pos, "unexpected end of JSON input")
	}
	return d.errAt(d.pos, "invalid character %s", quoteChar(d.data[d.pos]))
}

// typeErr reports a value of the wrong JSON type starting at off.
func (d *decoder) typeErr(off int, want string) error {
	got := "end of input"
	if off < len(d.data) {
		switch c := d.data[off]; c {
		case '{':
			got = "object"
		case '[':
			got = "array"
		case '"':
			got = "string"
		case 't', 'f':
			got = "bool"
		case 'n':
			got = "null"
		default:
			if c == '-' || c >= '0' && c <= '9' {
				got = "number"
			} else {
				return d.syntax()
			}
		}
	}
	return d.errAt(off, "want %s, got %s", want, got)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(c))
	return "'" + s[1:len(s)-1] + "'"
}

// within prefixes the field path of a *DecodeError with name, a key or
// an index ("[3]").
func within(err error, name string) error {
	var de *DecodeError
	if errors.As(err, &de) {
		switch {
		case de.Field == "":
			de.Field = name
		case de.Field[0] == '[':
			de.Field = name + de.Field
		default:
			de.Field = name + "." + de.Field
		}
	}
	return err
}

func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// Tokens.

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next byte, 0 at the end of the input.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// literal reads the word (true, false or null) at d.pos.
func (d *decoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			return d.syntax()
		}
		d.pos++
	}
	return nil
}

// number reads a number at d.pos and reports whether it is a plain
// unsigned integer (no sign, fraction or exponent).
func (d *decoder) number() (uint bool, err error) {
	b := d.data
	i := d.pos
	uint = true
	if i < len(b) && b[i] == '-' {
		i++
		uint = false
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	default:
		d.pos = i
		return false, d.syntax()
	}
	if i < len(b) && b[i] == '.' {
		uint = false
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.pos = i
			return false, d.syntax()
		}
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		uint = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.pos = i
			return false, d.syntax()
		}
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	d.pos = i
	return uint, nil
}

// rawString reads a string at d.pos (which holds '"') and returns its
// bytes between the quotes, and whether they need unquoting (escapes or
// invalid UTF-8, which encoding/json replaces with U+FFFD).
func (d *decoder) rawString() (raw []byte, slow bool, err error) {
	b := d.data
	start := d.pos + 1
	hi := false
	for i := start; i < len(b); {
		// Skip plain bytes: none below ' ', '"', '\\' or above 0x7f.
		// Eight at a time in long strings.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			const ones, highs = 0x0101010101010101, 0x8080808080808080
			q, bs := x^(ones*'"'), x^(ones*'\\')
			if ((x-ones*' ')|(q-ones)|(bs-ones)|x)&highs != 0 {
				break
			}
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			d.pos = i + 1
			raw = b[start:i]
			if hi && !slow {
				slow = !utf8.Valid(raw)
			}
			return raw, slow, nil
		case c == '\\':
			slow = true
			if i+1 >= len(b) {
				d.pos = i + 1
				return nil, false, d.syntax()
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for j := i + 2; j < i+6; j++ {
					if j >= len(b) || unhex(b[j]) < 0 {
						d.pos = j
						return nil, false, d.syntax()
					}
				}
				i += 6
			default:
				d.pos = i + 1
				return nil, false, d.syntax()
			}
		case c < ' ':
			d.pos = i
			return nil, false, d.syntax()
		default:
			if c >= utf8.RuneSelf {
				hi = true
			}
			i++
		}
	}
	d.pos = len(b)
	return nil, false, d.syntax()
}

// plain marks the bytes that stand for themselves in a JSON string.
var plain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func unhex(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// u4 reads a \u escape (a backslash, a u and four hex digits) at the
// start of s, -1 if there is none.
func u4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		r = r<<4 | unhex(c)
	}
	return r
}

// appendUnquoted appends the text of the string whose checked contents
// are s, as encoding/json unquotes it: invalid UTF-8 and unpaired
// surrogates become U+FFFD.
func appendUnquoted(b, s []byte) []byte {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch s[r+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := u4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, u4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // " \ /
				b = append(b, s[r+1])
			}
			r += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return b
}

// textBytes reads a string at d.pos and returns its text, which is valid
// until the next string is read.
func (d *decoder) textBytes() ([]byte, error) {
	raw, slow, err := d.rawString()
	if err != nil || !slow {
		return raw, err
	}
	d.scratch = appendUnquoted(d.scratch[:0], raw)
	return d.scratch, nil
}

// Containers. An object is read as
//
//	more, err := d.begin('{', '}')
//	for more && err == nil { k, err = d.key(); ...value...; more, err = d.next('}') }
//
// with no err declared inside the loop.

func (d *decoder) begin(open, close byte) (more bool, err error) {
	if d.peek() != open {
		return false, d.syntax()
	}
	if d.depth++; d.depth > maxDepth {
		return false, d.errAt(d.pos, "exceeded max depth")
	}
	d.pos++
	d.ws()
	if d.peek() == close {
		d.pos++
		d.depth--
		return false, nil
	}
	return true, nil
}

// next reads what follows a value in a container: a comma (more to
// come) or the closing byte.
func (d *decoder) next(close byte) (more bool, err error) {
	d.ws()
	switch d.peek() {
	case ',':
		d.pos++
		d.ws()
		return true, nil
	case close:
		d.pos++
		d.depth--
		return false, nil
	}
	return false, d.syntax()
}

// key reads an object key and the colon after it, and leaves d.pos at
// the value.
func (d *decoder) key() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.syntax()
	}
	k, err := d.textBytes()
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.peek() != ':' {
		return nil, d.syntax()
	}
	d.pos++
	d.ws()
	return k, nil
}

// lookup finds the field of key k with match: the exact name first, then
// the name under encoding/json's case folding (ASCII letters and the
// runes that fold to them, such as U+212A KELVIN SIGN).
func (d *decoder) lookup(k []byte, match func([]byte) int) int {
	if f := match(k); f != 0 {
		return f
	}
	plain := true
	for _, c := range k {
		if c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			plain = false
			break
		}
	}
	if plain {
		return 0
	}
	b := d.fold[:0]
	for i := 0; i < len(k); {
		c := k[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(k[i:])
		r = foldRune(r)
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b = utf8.AppendRune(b, r)
		i += n
	}
	d.fold = b
	return match(b)
}

// foldRune returns the smallest rune of r's case-folding orbit, as
// encoding/json folds keys.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// skip reads and checks any value.
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '{':
		more, err := d.begin('{', '}')
		for more && err == nil {
			if _, err = d.key(); err != nil {
				return err
			}
			if err = d.skip(); err != nil {
				return err
			}
			more, err = d.next('}')
		}
		return err
	case c == '[':
		more, err := d.begin('[', ']')
		for more && err == nil {
			if err = d.skip(); err != nil {
				return err
			}
			more, err = d.next(']')
		}
		return err
	case c == '"':
		_, _, err := d.rawString()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		_, err := d.number()
		return err
	}
	return d.syntax()
}

// Scalars. Each reads a value of its type or null (null=true, the field
// unchanged, as encoding/json leaves it).

func (d *decoder) isNull() (bool, error) {
	if d.peek() != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

// uintValue reads an unsigned integer no larger than max.
func (d *decoder) uintValue(max uint64) (v uint64, null bool, err error) {
	start := d.pos
	c := d.peek()
	if c == 'n' {
		return 0, true, d.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, d.typeErr(start, "number")
	}
	isUint, err := d.number()
	if err != nil {
		return 0, false, err
	}
	v, ok := parseUint(d.data[start:d.pos], max)
	if !isUint || !ok {
		return 0, false, d.errAt(start, "bad number %s (want an integer from 0 to %d)", d.data[start:d.pos], max)
	}
	return v, false, nil
}

// parseUint parses decimal digits (at least one) into a value no larger
// than max, as strconv.ParseUint does.
func parseUint(b []byte, max uint64) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	return v, v <= max
}

func (d *decoder) floatValue() (v float64, null bool, err error) {
	start := d.pos
	c := d.peek()
	if c == 'n' {
		return 0, true, d.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, d.typeErr(start, "number")
	}
	if _, err := d.number(); err != nil {
		return 0, false, err
	}
	v, err = strconv.ParseFloat(string(d.data[start:d.pos]), 64)
	if err != nil {
		return 0, false, d.errAt(start, "bad number %s (out of range)", d.data[start:d.pos])
	}
	return v, false, nil
}

func (d *decoder) boolValue() (v, null bool, err error) {
	switch d.peek() {
	case 't':
		return true, false, d.literal("true")
	case 'f':
		return false, false, d.literal("false")
	case 'n':
		return false, true, d.literal("null")
	}
	return false, false, d.typeErr(d.pos, "bool")
}

// stringValue reads a string into a new Go string.
func (d *decoder) stringValue() (s string, null bool, err error) {
	switch d.peek() {
	case '"':
		b, err := d.textBytes()
		return string(b), false, err
	case 'n':
		return "", true, d.literal("null")
	}
	return "", false, d.typeErr(d.pos, "string")
}

// textValue reads a string for a TextUnmarshaler field; the bytes are
// valid until the next string is read.
func (d *decoder) textValue() (b []byte, null bool, err error) {
	switch d.peek() {
	case '"':
		b, err := d.textBytes()
		return b, false, err
	case 'n':
		return nil, true, d.literal("null")
	}
	return nil, false, d.typeErr(d.pos, "string")
}

// unsafeString views b as a string for a parse that keeps no reference to
// it on success (netip's parsers intern zones with unique.Make, which
// copies). Their errors do refer to it, so they are never kept.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// addrValue reads an address as netip.Addr.UnmarshalText does ("" is the
// zero Addr); null leaves *a as it is.
func (d *decoder) addrValue(a *netip.Addr) error {
	start := d.pos
	b, null, err := d.textValue()
	if err != nil || null {
		return err
	}
	if len(b) == 0 {
		*a = netip.Addr{}
		return nil
	}
	v, err := netip.ParseAddr(unsafeString(b))
	if err != nil {
		return d.errAt(start, "bad address %q", b)
	}
	*a = v
	return nil
}

// prefixValue reads a prefix as netip.Prefix.UnmarshalText does.
func (d *decoder) prefixValue(p *netip.Prefix) error {
	start := d.pos
	b, null, err := d.textValue()
	if err != nil || null {
		return err
	}
	if len(b) == 0 {
		*p = netip.Prefix{}
		return nil
	}
	v, err := netip.ParsePrefix(unsafeString(b))
	if err != nil {
		return d.errAt(start, "bad prefix %q", b)
	}
	*p = v
	return nil
}

// familyValue reads a family as Family.UnmarshalText does.
func (d *decoder) familyValue(f *Family) error {
	start := d.pos
	b, null, err := d.textValue()
	if err != nil || null {
		return err
	}
	v, ok := parseFamily(b)
	if !ok {
		return d.errAt(start, "bad family %q (want a name such as ipv4/unicast, or AFI/SAFI numbers)", b)
	}
	*f = v
	return nil
}

// parseFamily reads a family as ParseFamily does, without allocating
// for the unicast families.
func parseFamily(b []byte) (Family, bool) {
	switch string(b) {
	case "ipv4/unicast":
		return IPv4Unicast, true
	case "ipv6/unicast":
		return IPv6Unicast, true
	}
	f, err := ParseFamily(string(b))
	return f, err == nil
}

// Slices.

// Each slice field is read by a loop of this shape (elem being one of
// the *Elem functions; they are not passed as func values, which would
// make the decoder escape to the heap):
//
//	if null, err := d.arrayStart(); null || err != nil { return nil, err }
//	more, err := d.begin('[', ']')
//	n := 0
//	for ; more && err == nil; more, err = d.next(']') {
//		s = grow(s, n)
//		if err = elem(d, &s[n]); err != nil { return s, within(err, index(n)) }
//		n++
//	}
//	return cut(d, s, n), err
//
// It reads an array as encoding/json reads it into a slice: elements
// before len(s) are decoded in place, further ones appended (within cap
// when there is room), the slice is cut to the number read, and [] is an
// empty, non-nil slice; null makes the slice nil.

// arrayStart starts a slice field: null (null=true) or an array.
func (d *decoder) arrayStart() (null bool, err error) {
	switch d.peek() {
	case '[':
		return false, nil
	case 'n':
		return true, d.literal("null")
	}
	return false, d.typeErr(d.pos, "array")
}

// grow makes element n of s (n <= len(s)) exist.
func grow[T any](s []T, n int) []T {
	if n < len(s) {
		return s
	}
	if n < cap(s) {
		return s[:n+1]
	}
	var zero T
	return append(s, zero)
}

// cut ends a slice after n elements were read.
func cut[T any](d *decoder, s []T, n int) []T {
	s = s[:n]
	if n == 0 && (s == nil || d.exact) {
		return make([]T, 0)
	}
	return s
}

func (d *decoder) uint32s(s []uint32) ([]uint32, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = uint32Elem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) labels(s [][]uint32) ([][]uint32, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = labelsElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) strings(s []string) ([]string, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = stringElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) prefixes(s []netip.Prefix) ([]netip.Prefix, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = prefixElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) addrs(s []netip.Addr) ([]netip.Addr, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = addrElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) communities(s []Community) ([]Community, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = communityElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) largeCommunities(s []LargeCommunity) ([]LargeCommunity, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = largeCommunityElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) extCommunities(s []ExtCommunity) ([]ExtCommunity, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = extCommunityElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) rawAttrs(s []RawAttribute) ([]RawAttribute, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = rawAttrElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) announcements(s []Announcement) ([]Announcement, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = announcementElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

func (d *decoder) nlriSets(s []NLRISet) ([]NLRISet, error) {
	if null, err := d.arrayStart(); null || err != nil {
		return nil, err
	}
	more, err := d.begin('[', ']')
	n := 0
	for ; more && err == nil; more, err = d.next(']') {
		s = grow(s, n)
		if err = withdrawnElem(d, &s[n]); err != nil {
			return s, within(err, index(n))
		}
		n++
	}
	return cut(d, s, n), err
}

// reuse returns the array of spare to decode a slice into in fast mode,
// and cur (what the field holds) in exact mode.
func reuse[T any](d *decoder, cur, spare []T) []T {
	if d.exact {
		return cur
	}
	return spare[:0]
}

func uint32Elem(d *decoder, p *uint32) error {
	v, null, err := d.uintValue(math.MaxUint32)
	if !null {
		*p = uint32(v)
	} else if !d.exact {
		*p = 0
	}
	return err
}

func prefixElem(d *decoder, p *netip.Prefix) error {
	if !d.exact {
		*p = netip.Prefix{}
	}
	return d.prefixValue(p)
}

func addrElem(d *decoder, p *netip.Addr) error {
	if !d.exact {
		*p = netip.Addr{}
	}
	return d.addrValue(p)
}

func stringElem(d *decoder, p *string) error {
	s, null, err := d.stringValue()
	if !null {
		*p = s
	} else if !d.exact {
		*p = ""
	}
	return err
}

func labelsElem(d *decoder, p *[]uint32) error {
	s := *p
	if !d.exact {
		s = s[:0]
	}
	s, err := d.uint32s(s)
	*p = s
	return err
}

// fixedUints reads an array into the fixed-size array a, as
// encoding/json does: missing elements are zeroed, extra ones skipped.
func fixedUints[T uint16 | uint32](d *decoder, a []T, max uint64) error {
	more, err := d.begin('[', ']')
	n := 0
	for more && err == nil {
		if n < len(a) {
			v, null, err := d.uintValue(max)
			if err != nil {
				return within(err, index(n))
			}
			if !null {
				a[n] = T(v)
			}
		} else if err := d.skip(); err != nil {
			return err
		}
		n++
		more, err = d.next(']')
	}
	if err != nil {
		return err
	}
	for ; n < len(a); n++ {
		a[n] = 0
	}
	return nil
}

func communityElem(d *decoder, p *Community) error {
	if !d.exact {
		*p = Community{}
	}
	if null, err := d.isNull(); null || err != nil {
		return err
	}
	if d.peek() != '[' {
		return d.typeErr(d.pos, "array")
	}
	return fixedUints(d, p[:], math.MaxUint16)
}

func largeCommunityElem(d *decoder, p *LargeCommunity) error {
	if !d.exact {
		*p = LargeCommunity{}
	}
	if null, err := d.isNull(); null || err != nil {
		return err
	}
	if d.peek() != '[' {
		return d.typeErr(d.pos, "array")
	}
	return fixedUints(d, p[:], math.MaxUint32)
}

func extCommunityElem(d *decoder, p *ExtCommunity) error {
	start := d.pos
	b, null, err := d.textValue()
	if err != nil {
		return err
	}
	if null {
		*p = nil
		return nil
	}
	var c ExtCommunity
	if err := c.UnmarshalText(b); err != nil {
		return d.errAt(start, "bad extended community %q (want rt:ASN:N, rt:IP:N, soo:..., or 0xHEX of 8 or 20 bytes)", b)
	}
	*p = c
	return nil
}

// Objects. Each object reader keeps a bit per field seen, and returns
// errDuplicate in fast mode when a key comes twice.

// seen records field f in *mask; it reports a duplicate in fast mode.
func (d *decoder) seen(mask *uint64, f int) error {
	bit := uint64(1) << f
	if *mask&bit != 0 && !d.exact {
		return errDuplicate
	}
	*mask |= bit
	return nil
}

// structStart checks that a struct value (not a pointer) starts here:
// null leaves it unchanged (null=true).
func (d *decoder) structStart() (null bool, err error) {
	switch d.peek() {
	case '{':
		return false, nil
	case 'n':
		return true, d.literal("null")
	}
	return false, d.typeErr(d.pos, "object")
}

const (
	fNone = iota
	fTimestamp
	fPeer
	fPeerASN
	fID
	fHost
	fType
	fSeq
	fPath
	fCommunity
	fOrigin
	fMED
	fLocalPref
	fAggregator
	fAtomicAggregate
	fLargeCommunity
	fExtCommunity
	fOriginatorID
	fClusterList
	fOTC
	fAIGP
	fOtherAttrs
	fAnnouncements
	fWithdrawals
	fWithdrawn
	fEndOfRIB
	fRoutes
	fDuplicates
	fImplicitWithdrawals
	fState
	fReason
	fNotification
	fOpen
	fRouteRefresh
	fRaw
	fImported
	fLocalAddress
)

func eventField(k []byte) int {
	switch string(k) {
	case "timestamp":
		return fTimestamp
	case "peer":
		return fPeer
	case "peer_asn":
		return fPeerASN
	case "id":
		return fID
	case "host":
		return fHost
	case "type":
		return fType
	case "seq":
		return fSeq
	case "path":
		return fPath
	case "community":
		return fCommunity
	case "origin":
		return fOrigin
	case "med":
		return fMED
	case "local_pref":
		return fLocalPref
	case "aggregator":
		return fAggregator
	case "atomic_aggregate":
		return fAtomicAggregate
	case "large_community":
		return fLargeCommunity
	case "ext_community":
		return fExtCommunity
	case "originator_id":
		return fOriginatorID
	case "cluster_list":
		return fClusterList
	case "otc":
		return fOTC
	case "aigp":
		return fAIGP
	case "other_attributes":
		return fOtherAttrs
	case "announcements":
		return fAnnouncements
	case "withdrawals":
		return fWithdrawals
	case "withdrawn":
		return fWithdrawn
	case "end_of_rib":
		return fEndOfRIB
	case "routes":
		return fRoutes
	case "duplicates":
		return fDuplicates
	case "implicit_withdrawals":
		return fImplicitWithdrawals
	case "state":
		return fState
	case "reason":
		return fReason
	case "notification":
		return fNotification
	case "open":
		return fOpen
	case "route_refresh":
		return fRouteRefresh
	case "raw":
		return fRaw
	case "imported":
		return fImported
	case "local_address":
		return fLocalAddress
	}
	return fNone
}

var fieldNames = [...]string{
	fTimestamp: "timestamp", fPeer: "peer", fPeerASN: "peer_asn", fID: "id", fHost: "host",
	fType: "type", fSeq: "seq", fPath: "path", fCommunity: "community", fOrigin: "origin",
	fMED: "med", fLocalPref: "local_pref", fAggregator: "aggregator",
	fAtomicAggregate: "atomic_aggregate", fLargeCommunity: "large_community",
	fExtCommunity: "ext_community", fOriginatorID: "originator_id", fClusterList: "cluster_list",
	fOTC: "otc", fAIGP: "aigp", fOtherAttrs: "other_attributes", fAnnouncements: "announcements",
	fWithdrawals: "withdrawals", fWithdrawn: "withdrawn", fEndOfRIB: "end_of_rib", fRoutes: "routes",
	fDuplicates: "duplicates", fImplicitWithdrawals: "implicit_withdrawals", fState: "state",
	fReason: "reason", fNotification: "notification", fOpen: "open", fRouteRefresh: "route_refresh",
	fRaw: "raw", fImported: "imported", fLocalAddress: "local_address",
}

// top reads the whole input into e.
func (d *decoder) top(e *Event) error {
	old := *e // spares, in fast mode
	*e = Event{}
	d.ws()
	switch d.peek() {
	case '{':
		if err := d.event(e, &old); err != nil {
			return err
		}
	case 'n':
		if err := d.literal("null"); err != nil {
			return err
		}
	default:
		return d.typeErr(d.pos, "an object")
	}
	d.ws()
	if d.pos != len(d.data) {
		return d.errAt(d.pos, "invalid character %s after top-level value", quoteChar(d.data[d.pos]))
	}
	return nil
}

func (d *decoder) event(e, old *Event) error {
	var mask uint64
	more, err := d.begin('{', '}')
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		f := d.lookup(k, eventField)
		if f == fNone {
			if err := d.skip(); err != nil {
				return err
			}
		} else {
			if err := d.seen(&mask, f); err != nil {
				return err
			}
			if err := d.eventValue(e, old, f); err != nil {
				return within(err, fieldNames[f])
			}
		}
		more, err = d.next('}')
	}
	return err
}

func (d *decoder) eventValue(e, old *Event, f int) error {
	start := d.pos
	var err error
	switch f {
	case fTimestamp:
		v, null, err := d.floatValue()
		if !null && err == nil {
			e.Timestamp = v
		}
		return err
	case fPeer:
		return d.addrValue(&e.Peer)
	case fPeerASN:
		return d.quotedASN(&e.PeerASN)
	case fID:
		return stringField(d, &e.ID)
	case fHost:
		return stringField(d, &e.Host)
	case fType:
		b, null, err := d.textValue()
		if err != nil || null {
			return err
		}
		t, ok := parseType(b)
		if !ok {
			return d.errAt(start, "unknown event type %q", b)
		}
		e.Type = t
	case fSeq:
		v, null, err := d.uintValue(math.MaxUint64)
		if !null && err == nil {
			e.Seq = v
		}
		return err
	case fPath:
		e.Path, err = d.path(reuse(d, e.Path, old.Path))
	case fCommunity:
		e.Community, err = d.communities(reuse(d, e.Community, old.Community))
	case fOrigin:
		b, null, err := d.textValue()
		if err != nil || null {
			return err
		}
		switch string(b) {
		case "IGP":
			e.Origin = OriginIGP
		case "EGP":
			e.Origin = OriginEGP
		case "INCOMPLETE":
			e.Origin = OriginIncomplete
		default:
			if e.Origin.UnmarshalText(b) != nil {
				return d.errAt(start, "bad origin %q (want IGP, EGP or INCOMPLETE)", b)
			}
		}
	case fMED:
		return uintPointer(d, &e.MED, old.MED, math.MaxUint32)
	case fLocalPref:
		return uintPointer(d, &e.LocalPref, old.LocalPref, math.MaxUint32)
	case fOTC:
		return uintPointer(d, &e.OTC, old.OTC, math.MaxUint32)
	case fAIGP:
		return uintPointer(d, &e.AIGP, old.AIGP, math.MaxUint64)
	case fAggregator:
		p, err := pointerField(d, &e.Aggregator, old.Aggregator)
		if p == nil || err != nil {
			return err
		}
		return d.aggregator(p)
	case fAtomicAggregate:
		v, null, err := d.boolValue()
		if !null && err == nil {
			e.AtomicAggregate = v
		}
		return err
	case fImported:
		v, null, err := d.boolValue()
		if !null && err == nil {
			e.Imported = v
		}
		return err
	case fLargeCommunity:
		e.LargeCommunity, err = d.largeCommunities(reuse(d, e.LargeCommunity, old.LargeCommunity))
	case fExtCommunity:
		// Each ExtCommunity is new; the array holding them is reused.
		e.ExtCommunity, err = d.extCommunities(reuse(d, e.ExtCommunity, old.ExtCommunity))
	case fOriginatorID:
		return d.addrValue(&e.OriginatorID)
	case fLocalAddress:
		return d.addrValue(&e.LocalAddress)
	case fClusterList:
		e.ClusterList, err = d.addrs(reuse(d, e.ClusterList, old.ClusterList))
	case fOtherAttrs:
		e.OtherAttrs, err = d.rawAttrs(reuse(d, e.OtherAttrs, old.OtherAttrs))
	case fAnnouncements:
		e.Announcements, err = d.announcements(reuse(d, e.Announcements, old.Announcements))
	case fWithdrawals:
		e.Withdrawals, err = d.prefixes(reuse(d, e.Withdrawals, old.Withdrawals))
	case fWithdrawn:
		e.Withdrawn, err = d.nlriSets(reuse(d, e.Withdrawn, old.Withdrawn))
	case fEndOfRIB:
		return d.familyValue(&e.EndOfRIB)
	case fRoutes:
		e.Routes, err = d.routeCounts(reuse(d, e.Routes, old.Routes))
	case fDuplicates:
		return uintField(d, &e.Duplicates, math.MaxUint32)
	case fImplicitWithdrawals:
		return uintField(d, &e.ImplicitWithdrawals, math.MaxUint32)
	case fState:
		b, null, err := d.textValue()
		if err != nil || null {
			return err
		}
		switch string(b) {
		case "connected":
			e.State = StateConnected
		case "down":
			e.State = StateDown
		case "restarting":
			e.State = StateRestarting
		case "":
			e.State = StateUnknown
		default:
			return d.errAt(start, "unknown peer state %q", b)
		}
	case fReason:
		return stringField(d, &e.Reason)
	case fNotification:
		p, err := pointerField(d, &e.Notification, old.Notification)
		if p == nil || err != nil {
			return err
		}
		return d.notification(p)
	case fOpen:
		p, err := pointerField(d, &e.Open, old.Open)
		if p == nil || err != nil {
			return err
		}
		return d.open(p)
	case fRouteRefresh:
		p, err := pointerField(d, &e.RouteRefresh, old.RouteRefresh)
		if p == nil || err != nil {
			return err
		}
		return d.routeRefresh(p)
	case fRaw:
		return stringField(d, &e.Raw)
	}
	return err
}

func parseType(b []byte) (Type, bool) {
	switch string(b) {
	case "UPDATE":
		return TypeUpdate, true
	case "UNKNOWN":
		return TypeUnknown, true
	case "OPEN":
		return TypeOpen, true
	case "NOTIFICATION":
		return TypeNotification, true
	case "KEEPALIVE":
		return TypeKeepalive, true
	case "ROUTE_REFRESH":
		return TypeRouteRefresh, true
	case "RIS_PEER_STATE":
		return TypePeerState, true
	}
	return 0, false
}

func stringField(d *decoder, p *string) error {
	s, null, err := d.stringValue()
	if !null && err == nil {
		*p = s
	}
	return err
}

// uintPointer reads a number into a pointer field (reusing spare in
// fast mode); null sets it to nil.
func uintPointer[T uint32 | uint64](d *decoder, p **T, spare *T, max uint64) error {
	v, null, err := d.uintValue(max)
	if err != nil {
		return err
	}
	if null {
		*p = nil
		return nil
	}
	q := *p
	if q == nil && !d.exact {
		q = spare
	}
	if q == nil {
		q = new(T)
	}
	*q = T(v)
	*p = q
	return nil
}

// pointerField starts a pointer-to-struct field: null sets it to nil and
// returns nil; an object returns the struct to read it into, reset
// spare in fast mode, what *p points to (merged into, as encoding/json
// does) in exact mode.
func pointerField[T any](d *decoder, p **T, spare *T) (*T, error) {
	if null, err := d.structStart(); null || err != nil {
		*p = nil
		return nil, err
	}
	q := *p
	if !d.exact {
		q = spare
		if q != nil {
			var zero T
			*q = zero
		}
	}
	if q == nil {
		q = new(T)
	}
	*p = q
	return q, nil
}

// quotedASN reads PeerASN's `json:",string"` form: a string holding a
// number, as encoding/json reads it (null, and "null", leave it as it is).
func (d *decoder) quotedASN(p *uint32) error {
	start := d.pos
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '"':
	default:
		if err := d.skip(); err != nil {
			return err
		}
		return d.errAt(start, "want a string holding a number")
	}
	b, err := d.textBytes()
	if err != nil {
		return err
	}
	if string(b) == "null" {
		return nil
	}
	v, ok := parseUint(b, math.MaxUint32)
	if !ok {
		return d.errAt(start, "bad ASN %q (want a number from 0 to 4294967295 in a string)", b)
	}
	*p = uint32(v)
	return nil
}

// path reads an AS_PATH as ASPath.UnmarshalJSON does into a zero ASPath:
// ASNs (or null, read as 0) join a sequence, arrays are AS_SETs, objects
// confederation segments, and [] is nil.
func (d *decoder) path(s ASPath) (ASPath, error) {
	switch d.peek() {
	case 'n':
		return nil, d.literal("null")
	case '[':
	default:
		return s, d.typeErr(d.pos, "array")
	}
	s = s[:0]
	more, err := d.begin('[', ']')
	i := 0
	for more && err == nil {
		if err := d.pathItem(&s); err != nil {
			return s, within(err, index(i))
		}
		i++
		more, err = d.next(']')
	}
	if len(s) == 0 {
		s = nil
	}
	return s, err
}

// segment appends a segment of type t to s, reusing the array's next
// slot and its ASNs (cut to empty), and returns it.
func segment(s *ASPath, t SegmentType) *Segment {
	n := len(*s)
	if n < cap(*s) {
		*s = (*s)[:n+1]
	} else {
		*s = append(*s, Segment{})
	}
	seg := &(*s)[n]
	seg.Type = t
	seg.ASNs = seg.ASNs[:0]
	return seg
}

func (d *decoder) pathItem(s *ASPath) error {
	start := d.pos
	switch c := d.peek(); {
	case c == 'n' || c == '-' || c >= '0' && c <= '9':
		v, _, err := d.uintValue(math.MaxUint32)
		if err != nil {
			return d.errAt(start, "bad AS_PATH element %s (want an ASN, an array of ASNs or a confederation segment)", d.data[start:max(d.pos, start)])
		}
		if n := len(*s); n > 0 && (*s)[n-1].Type == SegmentSequence {
			(*s)[n-1].ASNs = append((*s)[n-1].ASNs, uint32(v))
		} else {
			seg := segment(s, SegmentSequence)
			seg.ASNs = append(seg.ASNs, uint32(v))
		}
		return nil
	case c == '[':
		seg := segment(s, SegmentSet)
		more, err := d.begin('[', ']')
		for more && err == nil {
			var v uint64
			if v, _, err = d.uintValue(math.MaxUint32); err != nil {
				return err
			}
			seg.ASNs = append(seg.ASNs, uint32(v))
			more, err = d.next(']')
		}
		if seg.ASNs == nil {
			seg.ASNs = make([]uint32, 0)
		}
		return err
	case c == '{':
		// A fresh struct{confed_sequence, confed_set []uint32}, read in
		// exact mode: encoding/json reads it into zero slices.
		var seq, set []uint32
		exact := d.exact
		d.exact = true
		defer func() { d.exact = exact }()
		more, err := d.begin('{', '}')
		for more && err == nil {
			var k []byte
			if k, err = d.key(); err != nil {
				return err
			}
			switch d.lookup(k, confedField) {
			case 1:
				seq, err = d.uint32s(seq)
			case 2:
				set, err = d.uint32s(set)
			default:
				err = d.skip()
			}
			if err != nil {
				return err
			}
			more, err = d.next('}')
		}
		if err != nil {
			return err
		}
		if seq != nil {
			segment(s, SegmentConfedSequence).ASNs = seq
		} else {
			segment(s, SegmentConfedSet).ASNs = set
		}
		return nil
	}
	if err := d.skip(); err != nil {
		return err
	}
	return d.errAt(start, "bad AS_PATH element %s (want an ASN, an array of ASNs or a confederation segment)", d.data[start:d.pos])
}

func confedField(k []byte) int {
	switch string(k) {
	case "confed_sequence":
		return 1
	case "confed_set":
		return 2
	}
	return 0
}

func (d *decoder) aggregator(a *Aggregator) error {
	var mask uint64
	more, err := d.begin('{', '}')
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		f := d.lookup(k, aggregatorField)
		if f != 0 {
			if err := d.seen(&mask, f); err != nil {
				return err
			}
		}
		switch f {
		case 1:
			err = uintField(d, &a.ASN, math.MaxUint32)
		case 2:
			err = d.addrValue(&a.Address)
		default:
			err = d.skip()
		}
		if err != nil {
			return within(err, aggregatorNames[f])
		}
		more, err = d.next('}')
	}
	return err
}

var aggregatorNames = [...]string{"", "asn", "address"}

func aggregatorField(k []byte) int {
	switch string(k) {
	case "asn":
		return 1
	case "address":
		return 2
	}
	return 0
}

func uintField[T uint8 | uint16 | uint32 | uint64](d *decoder, p *T, max uint64) error {
	v, null, err := d.uintValue(max)
	if !null && err == nil {
		*p = T(v)
	}
	return err
}

func boolField(d *decoder, p *bool) error {
	v, null, err := d.boolValue()
	if !null && err == nil {
		*p = v
	}
	return err
}

var notificationNames = [...]string{"", "code", "subcode", "reason", "data", "sent"}

func notificationField(k []byte) int {
	switch string(k) {
	case "code":
		return 1
	case "subcode":
		return 2
	case "reason":
		return 3
	case "data":
		return 4
	case "sent":
		return 5
	}
	return 0
}

func (d *decoder) notification(n *Notification) error {
	var mask uint64
	more, err := d.begin('{', '}')
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		f := d.lookup(k, notificationField)
		if f != 0 {
			if err := d.seen(&mask, f); err != nil {
				return err
			}
		}
		switch f {
		case 1:
			err = uintField(d, &n.Code, math.MaxUint8)
		case 2:
			err = uintField(d, &n.Subcode, math.MaxUint8)
		case 3:
			err = stringField(d, &n.Reason)
		case 4:
			err = stringField(d, &n.Data)
		case 5:
			err = boolField(d, &n.Sent)
		default:
			err = d.skip()
		}
		if err != nil {
			return within(err, notificationNames[f])
		}
		more, err = d.next('}')
	}
	return err
}

var openNames = [...]string{"", "version", "asn", "hold_time", "router_id", "capabilities", "sent"}

func openField(k []byte) int {
	switch string(k) {
	case "version":
		return 1
	case "asn":
		return 2
	case "hold_time":
		return 3
	case "router_id":
		return 4
	case "capabilities":
		return 5
	case "sent":
		return 6
	}
	return 0
}

func (d *decoder) open(o *Open) error {
	var mask uint64
	more, err := d.begin('{', '}')
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		f := d.lookup(k, openField)
		if f != 0 {
			if err := d.seen(&mask, f); err != nil {
				return err
			}
		}
		switch f {
		case 1:
			err = uintField(d, &o.Version, math.MaxUint8)
		case 2:
			err = uintField(d, &o.ASN, math.MaxUint32)
		case 3:
			err = uintField(d, &o.HoldTime, math.MaxUint16)
		case 4:
			err = d.addrValue(&o.RouterID)
		case 5:
			o.Capabilities, err = d.strings(o.Capabilities)
		case 6:
			err = boolField(d, &o.Sent)
		default:
			err = d.skip()
		}
		if err != nil {
			return within(err, openNames[f])
		}
		more, err = d.next('}')
	}
	return err
}

var routeRefreshNames = [...]string{"", "family", "subtype"}

func routeRefreshField(k []byte) int {
	switch string(k) {
	case "family":
		return 1
	case "subtype":
		return 2
	}
	return 0
}

func (d *decoder) routeRefresh(r *RouteRefresh) error {
	var mask uint64
	more, err := d.begin('{', '}')
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		f := d.lookup(k, routeRefreshField)
		if f != 0 {
			if err := d.seen(&mask, f); err != nil {
				return err
			}
		}
		switch f {
		case 1:
			err = d.familyValue(&r.Family)
		case 2:
			err = stringField(d, &r.Subtype)
		default:
			err = d.skip()
		}
		if err != nil {
			return within(err, routeRefreshNames[f])
		}
		more, err = d.next('}')
	}
	return err
}

var rawAttrNames = [...]string{"", "flags", "code", "value"}

func rawAttrField(k []byte) int {
	switch string(k) {
	case "flags":
		return 1
	case "code":
		return 2
	case "value":
		return 3
	}
	return 0
}

func rawAttrElem(d *decoder, a *RawAttribute) error {
	if !d.exact {
		*a = RawAttribute{}
	}
	if null, err := d.structStart(); null || err != nil {
		return err
	}
	var mask uint64
	more, err := d.begin('{', '}')
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		f := d.lookup(k, rawAttrField)
		if f != 0 {
			if err := d.seen(&mask, f); err != nil {
				return err
			}
		}
		switch f {
		case 1:
			err = uintField(d, &a.Flags, math.MaxUint8)
		case 2:
			err = uintField(d, &a.Code, math.MaxUint8)
		case 3:
			err = stringField(d, &a.Value)
		default:
			err = d.skip()
		}
		if err != nil {
			return within(err, rawAttrNames[f])
		}
		more, err = d.next('}')
	}
	return err
}

const (
	nFamily = 1 + iota
	nPrefixes
	nPathIDs
	nLabels
	nRDs
	nNLRI
	nNextHop
	nNextHopLinkLocal
)

var nlriNames = [...]string{"", "family", "prefixes", "path_ids", "labels", "rds", "nlri", "next_hop", "next_hop_link_local"}

func nlriField(k []byte) int {
	switch string(k) {
	case "family":
		return nFamily
	case "prefixes":
		return nPrefixes
	case "path_ids":
		return nPathIDs
	case "labels":
		return nLabels
	case "rds":
		return nRDs
	case "nlri":
		return nNLRI
	case "next_hop":
		return nNextHop
	case "next_hop_link_local":
		return nNextHopLinkLocal
	}
	return 0
}

func announcementElem(d *decoder, a *Announcement) error {
	if !d.exact {
		a.NextHop, a.NextHopLinkLocal = netip.Addr{}, netip.Addr{}
	}
	return d.nlriSet(&a.NLRISet, a)
}

func withdrawnElem(d *decoder, s *NLRISet) error {
	return d.nlriSet(s, nil)
}

// nlriSet reads an NLRISet, or an Announcement (a not nil) whose NLRISet
// s is.
func (d *decoder) nlriSet(s *NLRISet, a *Announcement) error {
	old := *s
	if !d.exact {
		*s = NLRISet{}
	}
	if null, err := d.structStart(); null || err != nil {
		return err
	}
	var mask uint64
	more, err := d.begin('{', '}')
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		f := d.lookup(k, nlriField)
		if a == nil && f >= nNextHop {
			f = 0
		}
		if f != 0 {
			if err := d.seen(&mask, f); err != nil {
				return err
			}
		}
		switch f {
		case nFamily:
			err = d.familyValue(&s.Family)
		case nPrefixes:
			s.Prefixes, err = d.prefixes(reuse(d, s.Prefixes, old.Prefixes))
		case nPathIDs:
			s.PathIDs, err = d.uint32s(reuse(d, s.PathIDs, old.PathIDs))
		case nLabels:
			s.Labels, err = d.labels(reuse(d, s.Labels, old.Labels))
		case nRDs:
			s.RDs, err = d.strings(s.RDs)
		case nNLRI:
			s.NLRI, err = d.strings(s.NLRI)
		case nNextHop:
			err = d.addrValue(&a.NextHop)
		case nNextHopLinkLocal:
			err = d.addrValue(&a.NextHopLinkLocal)
		default:
			err = d.skip()
		}
		if err != nil {
			return within(err, nlriNames[f])
		}
		more, err = d.next('}')
	}
	return err
}
