package bgpwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MRTType is the type field of an MRT common header (RFC 6396).
type MRTType uint16

// MRT types. The ones before MRTOSPFv2 are deprecated; of those only
// MRTBGP (type 5, in RIPE RIS files of 1999-2000) is decoded.
const (
	MRTNull       MRTType = 0
	MRTStart      MRTType = 1
	MRTDie        MRTType = 2
	MRTIAmDead    MRTType = 3
	MRTPeerDown   MRTType = 4
	MRTBGP        MRTType = 5
	MRTRIP        MRTType = 6
	MRTIDRP       MRTType = 7
	MRTRIPng      MRTType = 8
	MRTBGP4Plus   MRTType = 9
	MRTBGP4Plus01 MRTType = 10
	MRTOSPFv2     MRTType = 11
	MRTTableDump  MRTType = 12
	MRTTableDump2 MRTType = 13
	MRTBGP4MP     MRTType = 16
	MRTBGP4MPET   MRTType = 17
	MRTISIS       MRTType = 32
	MRTISISET     MRTType = 33
	MRTOSPFv3     MRTType = 48
	MRTOSPFv3ET   MRTType = 49
)

func (t MRTType) String() string {
	switch t {
	case MRTBGP:
		return "BGP"
	case MRTTableDump:
		return "TABLE_DUMP"
	case MRTTableDump2:
		return "TABLE_DUMP_V2"
	case MRTBGP4MP:
		return "BGP4MP"
	case MRTBGP4MPET:
		return "BGP4MP_ET"
	}
	return fmt.Sprintf("type(%d)", uint16(t))
}

// TABLE_DUMP subtypes (the 32-bit AS ones are bgpdump's extension).
const (
	TableDumpIPv4      uint16 = 1
	TableDumpIPv6      uint16 = 2
	TableDumpIPv4AS4   uint16 = 3
	TableDumpIPv6AS4   uint16 = 4
	tableDumpMaxSubtyp uint16 = 4
)

// TABLE_DUMP_V2 subtypes (RFC 6396, RFC 6397, RFC 8050).
const (
	TD2PeerIndexTable          uint16 = 1
	TD2RIBIPv4Unicast          uint16 = 2
	TD2RIBIPv4Multicast        uint16 = 3
	TD2RIBIPv6Unicast          uint16 = 4
	TD2RIBIPv6Multicast        uint16 = 5
	TD2RIBGeneric              uint16 = 6
	TD2GeoPeerTable            uint16 = 7
	TD2RIBIPv4UnicastAddPath   uint16 = 8
	TD2RIBIPv4MulticastAddPath uint16 = 9
	TD2RIBIPv6UnicastAddPath   uint16 = 10
	TD2RIBIPv6MulticastAddPath uint16 = 11
	TD2RIBGenericAddPath       uint16 = 12
	td2MaxSubtype              uint16 = 12
	bgp4mpMaxSubtype           uint16 = 11
	bgpMaxSubtype              uint16 = 7
	mrtETHeaderLen                    = 4
	mrtHeaderLen                      = 12
	mrtMaxRecordLen                   = 64 << 20 // far above any real record
	mrtResyncWindow                   = 4 << 20  // how far the reader looks for the next record
	mrtResyncTimeWindow               = 7 * 86400
)

// BGP4MP and BGP4MP_ET subtypes (RFC 6396, RFC 8050).
const (
	BGP4MPStateChange            uint16 = 0
	BGP4MPMessage                uint16 = 1
	BGP4MPEntry                  uint16 = 2 // obsolete, written by OpenBGPD
	BGP4MPSnapshot               uint16 = 3 // obsolete
	BGP4MPMessageAS4             uint16 = 4
	BGP4MPStateChangeAS4         uint16 = 5
	BGP4MPMessageLocal           uint16 = 6
	BGP4MPMessageAS4Local        uint16 = 7
	BGP4MPMessageAddPath         uint16 = 8
	BGP4MPMessageAS4AddPath      uint16 = 9
	BGP4MPMessageLocalAddPath    uint16 = 10
	BGP4MPMessageAS4LocalAddPath uint16 = 11
	bgp4mpSubtypeNone            uint16 = 0xffff
	mrtBGPSubtypeNull            uint16 = 0
	mrtBGPSubtypeUpdate          uint16 = 1
	mrtBGPSubtypePrefUpdate      uint16 = 2
	mrtBGPSubtypeStateChange     uint16 = 3
	mrtBGPSubtypeSync            uint16 = 4
	mrtBGPSubtypeOpen            uint16 = 5
	mrtBGPSubtypeNotify          uint16 = 6
	mrtBGPSubtypeKeepalive       uint16 = 7
	mrtTD1EntryFixedIPv4                = 22
	mrtTD1EntryFixedIPv6                = 46
	mrtTD1MaxShortfall                  = 64
)

// Deprecated type-5 BGP subtypes (RFC 6396 section 5.4, from MRTd).
const (
	MRTBGPUpdate      = mrtBGPSubtypeUpdate
	MRTBGPStateChange = mrtBGPSubtypeStateChange
	MRTBGPOpen        = mrtBGPSubtypeOpen
	MRTBGPNotify      = mrtBGPSubtypeNotify
	MRTBGPKeepalive   = mrtBGPSubtypeKeepalive
)

// MRTHeader is the MRT common header; for BGP4MP_ET records it includes
// the microsecond timestamp (and Length excludes those 4 bytes).
type MRTHeader struct {
	Timestamp    uint32
	Microseconds uint32
	Type         MRTType
	Subtype      uint16
	// Length is the length of the body that follows the header (for
	// BGP4MP_ET, without the microsecond field).
	Length int
}

// MRTRecord is one record as read from the stream. Body aliases the
// reader's buffer and is valid until the next call to Next.
type MRTRecord struct {
	Header MRTHeader
	Body   []byte
	// Offset is the byte offset of the record's header in the
	// (decompressed) stream; Index numbers records from 1.
	Offset int64
	Index  int
}

// MRTWarning is a problem with the framing of an MRT stream that the
// reader recovered from (or, at the end of the stream, stopped at).
type MRTWarning struct {
	Offset int64 // byte offset in the decompressed stream
	Record int   // number of the record concerned (1-based)
	Err    error
}

func (w *MRTWarning) Error() string {
	return fmt.Sprintf("record %d at byte %d: %v", w.Record, w.Offset, w.Err)
}

func (w *MRTWarning) Unwrap() error { return w.Err }

// Errors the MRT reader reports in warnings.
var (
	// ErrMRTDamaged is wrapped by warnings about bytes skipped to find the
	// next record.
	ErrMRTDamaged = errors.New("damaged MRT framing")
	// ErrMRTTruncated is wrapped by the warning about a stream that ends
	// inside a record.
	ErrMRTTruncated = errors.New("stream ends inside a record")
)

// MRTReader splits a stream of MRT records. It reads through a buffer of
// its own that grows only to the largest record (plus look-ahead), so its
// steady state allocates nothing and its memory is bounded.
//
// Damaged framing (a header that cannot be right) is recovered from by
// looking for the next plausible record; every recovery is reported to
// Warn. A stream that ends inside a record is reported the same way and
// Next then returns io.EOF.
type MRTReader struct {
	// Warn, when set, is called for every framing problem recovered from.
	Warn func(*MRTWarning)

	r     io.Reader
	buf   []byte
	start int   // next unread byte
	end   int   // end of valid data
	off   int64 // stream offset of buf[0]
	eof   bool
	rerr  error  // first read error other than io.EOF
	n     int    // records returned
	last  uint32 // timestamp of the last record returned (when n > 0)
	// td1Fixed counts TABLE_DUMP records whose declared length was too
	// short for their entries.
	td1Fixed int
	// ahead is the header of the record at stream offset aheadAt-1 (0:
	// none), parsed and found valid by the look-ahead of the previous call
	// to Next, so that Next does not parse and validate it a second time.
	ahead   MRTHeader
	aheadAt int64
	rec     MRTRecord // the record Next returns
}

// NewMRTReader returns a reader of the MRT records in r (already
// decompressed; see OpenMRT for files).
func NewMRTReader(r io.Reader) *MRTReader {
	return &MRTReader{r: r, buf: make([]byte, 64<<10)}
}

// NewMRTReaderBytes returns a reader of the MRT records in b, a whole
// decompressed stream already in memory (a file read or mapped whole, say).
// Records alias b; nothing is copied.
func NewMRTReaderBytes(b []byte) *MRTReader {
	return &MRTReader{buf: b, end: len(b), eof: true}
}

// Offset returns the stream offset just past the last record returned.
func (m *MRTReader) Offset() int64 { return m.off + int64(m.start) }

// Records returns the number of records returned so far.
func (m *MRTReader) Records() int { return m.n }

// fill makes at least n bytes available from start, unless the stream
// ends first. It reports whether they are.
func (m *MRTReader) fill(n int) bool {
	if m.end-m.start >= n {
		return true // inlined: the common case costs no call
	}
	return m.fillSlow(n)
}

func (m *MRTReader) fillSlow(n int) bool {
	for m.end-m.start < n {
		if m.eof {
			return false
		}
		if m.start+n > len(m.buf) {
			if n > len(m.buf)/2 {
				nb := make([]byte, max(2*len(m.buf), 2*n))
				copy(nb, m.buf[m.start:m.end])
				m.buf = nb
			} else {
				copy(m.buf, m.buf[m.start:m.end])
			}
			m.off += int64(m.start)
			m.end -= m.start
			m.start = 0
		}
		k, err := m.r.Read(m.buf[m.end:])
		m.end += k
		if err != nil {
			m.eof = true
			if !errors.Is(err, io.EOF) {
				m.rerr = err
			}
		}
	}
	return true
}

func parseMRTHeader(b []byte) MRTHeader {
	_ = b[mrtHeaderLen-1] // one bounds check for the four loads
	return MRTHeader{
		Timestamp: binary.BigEndian.Uint32(b),
		Type:      MRTType(binary.BigEndian.Uint16(b[4:])),
		Subtype:   binary.BigEndian.Uint16(b[6:]),
		Length:    int(binary.BigEndian.Uint32(b[8:])),
	}
}

// validHeader reports whether a header can start a record: a known type
// and subtype and a possible length.
func validHeader(h MRTHeader) bool {
	if uint(h.Length) > mrtMaxRecordLen {
		return false
	}
	if h.Type == MRTBGP4MP || (h.Type == MRTBGP4MPET && h.Length >= mrtETHeaderLen) {
		return h.Subtype <= bgp4mpMaxSubtype // the common case first
	}
	switch h.Type {
	case MRTBGP:
		return h.Subtype <= bgpMaxSubtype
	case MRTTableDump:
		return h.Subtype >= 1 && h.Subtype <= tableDumpMaxSubtyp && h.Length >= mrtTD1EntryFixedIPv4
	case MRTTableDump2:
		return h.Subtype >= 1 && h.Subtype <= td2MaxSubtype
	case MRTBGP4MP:
		return h.Subtype <= bgp4mpMaxSubtype
	case MRTBGP4MPET:
		return h.Subtype <= bgp4mpMaxSubtype && h.Length >= mrtETHeaderLen
	case MRTOSPFv2, MRTISIS, MRTISISET, MRTOSPFv3, MRTOSPFv3ET:
		// Not decoded, but a stream may hold them.
		return h.Length <= 1<<20
	}
	// The other deprecated types (0-4, 6-10) are not accepted: no archive
	// has them, and accepting them would make damaged bytes look valid.
	return false
}

func (m *MRTReader) warn(off int64, rec int, err error) {
	if m.Warn != nil {
		m.Warn(&MRTWarning{Offset: off, Record: rec, Err: err})
	}
}

// Err returns the first read error of the underlying reader other than
// io.EOF (a decompression error, say), or nil.
func (m *MRTReader) Err() error { return m.rerr }

// Next returns the next record, which stays valid until the next call
// (its Body aliases the reader's buffer). At the end of the stream it
// returns io.EOF; any other error comes from the underlying reader.
func (m *MRTReader) Next() (*MRTRecord, error) {
	// The fast path: the header here was parsed and checked by the
	// look-ahead of the previous call, the record and the next header are
	// in the buffer, and the next header looks sound.
	if m.aheadAt == m.off+int64(m.start)+1 && slowPaths&fastRecord == 0 {
		h := m.ahead
		total := mrtHeaderLen + h.Length
		if m.end-m.start >= total+mrtHeaderLen {
			next := m.start + total
			nh := parseMRTHeader(m.buf[next : next+mrtHeaderLen])
			if (nh.Type == MRTBGP4MP && nh.Subtype <= bgp4mpMaxSubtype && uint(nh.Length) <= mrtMaxRecordLen) || validHeader(nh) {
				m.ahead, m.aheadAt = nh, m.aheadAt+int64(total)
				rec := &m.rec
				rec.Header, rec.Offset = h, m.off+int64(m.start)
				rec.Body = m.buf[m.start+mrtHeaderLen : m.start+total]
				if h.Type == MRTBGP4MPET { // validHeader made sure of the 4 bytes
					rec.Header.Microseconds = be32(rec.Body)
					rec.Body = rec.Body[mrtETHeaderLen:]
					rec.Header.Length -= mrtETHeaderLen
				}
				m.start += total
				m.n++
				rec.Index = m.n
				m.last = h.Timestamp
				return rec, nil
			}
		}
	}
	return m.next()
}

// next is Next the general way: it fills the buffer, checks the framing
// and recovers from damage.
func (m *MRTReader) next() (*MRTRecord, error) {
	for {
		if !m.fill(mrtHeaderLen) {
			if n := m.end - m.start; n > 0 {
				m.warn(m.Offset(), m.n+1, fmt.Errorf("%w: %d bytes of a record header", ErrMRTTruncated, n))
				m.start = m.end
			}
			if m.rerr != nil {
				return nil, m.rerr
			}
			return nil, io.EOF
		}
		var h MRTHeader
		if m.aheadAt == m.Offset()+1 {
			h = m.ahead
		} else {
			h = parseMRTHeader(m.buf[m.start:])
			if !validHeader(h) {
				m.resync()
				continue
			}
		}
		total := mrtHeaderLen + h.Length
		if !m.fill(total) {
			m.warn(m.Offset(), m.n+1, fmt.Errorf("%w: %s record of %d bytes, %d present", ErrMRTTruncated, h.Type, total, m.end-m.start))
			m.start = m.end
			continue
		}
		// Check that the next record starts where this one says it ends;
		// if not, the declared length may be wrong.
		nextOK := m.end-m.start == total // the stream ends right here
		if m.fill(total + mrtHeaderLen) {
			nh := parseMRTHeader(m.buf[m.start+total:])
			if nextOK = validHeader(nh); nextOK {
				m.ahead, m.aheadAt = nh, m.Offset()+int64(total)+1
			}
		}
		if !nextOK {
			if t, ok := m.fixTD1Length(h, total); ok {
				total = t
				h.Length = t - mrtHeaderLen
			} else if next, ok := m.findNext(1, h.Timestamp); ok && next < total {
				if next < mrtHeaderLen+minBody(h) {
					// Not even this record's header is whole.
					m.warn(m.Offset(), m.n+1, fmt.Errorf("%w: record header cut short; skipped %d bytes to the next record", ErrMRTDamaged, next))
					m.start += next
					continue
				}
				m.warn(m.Offset(), m.n+1, fmt.Errorf("%w: declared length %d overruns the next record, which starts at byte %d", ErrMRTDamaged, h.Length, m.Offset()+int64(next)))
				total = next
				h.Length = total - mrtHeaderLen
			}
		}
		rec := MRTRecord{Header: h, Offset: m.Offset()}
		body := m.buf[m.start+mrtHeaderLen : m.start+total]
		if h.Type == MRTBGP4MPET {
			if len(body) < mrtETHeaderLen {
				m.warn(m.Offset(), m.n+1, fmt.Errorf("%w: BGP4MP_ET record too short for its microseconds", ErrMRTDamaged))
				m.start += total
				continue
			}
			rec.Header.Microseconds = be32(body)
			body = body[mrtETHeaderLen:]
			rec.Header.Length -= mrtETHeaderLen
		}
		rec.Body = body
		m.start += total
		m.n++
		rec.Index = m.n
		m.last = h.Timestamp
		m.rec = rec
		return &m.rec, nil
	}
}

// minBody is the least body a record of the header's type can have.
func minBody(h MRTHeader) int {
	if h.Type == MRTBGP4MPET {
		return mrtETHeaderLen
	}
	return 0
}

// plausibleAt reports whether a record that can be trusted starts rel
// bytes after start: a valid header, a timestamp near ts, and either the
// end of the stream or another valid header right after it.
func (m *MRTReader) plausibleAt(rel int, ts uint32) bool {
	if !m.fill(rel + mrtHeaderLen) {
		return false
	}
	h := parseMRTHeader(m.buf[m.start+rel:])
	if !validHeader(h) {
		return false
	}
	d := int64(h.Timestamp) - int64(ts)
	if d < -mrtResyncTimeWindow || d > mrtResyncTimeWindow {
		return false
	}
	next := rel + mrtHeaderLen + h.Length
	if !m.fill(next + mrtHeaderLen) {
		return m.eof && m.start+next == m.end
	}
	return validHeader(parseMRTHeader(m.buf[m.start+next:]))
}

// findNext looks for a plausible record start at least from bytes after
// start, within the resync window, and returns its distance from start.
// When there is none it returns how far it looked: the end of the window
// or the last place the stream could hold a record header.
func (m *MRTReader) findNext(from int, ts uint32) (int, bool) {
	rel := from
	for ; rel < mrtResyncWindow; rel++ {
		if !m.fill(rel + mrtHeaderLen) {
			return rel, false
		}
		if m.plausibleAt(rel, ts) {
			return rel, true
		}
	}
	return rel, false
}

// resync skips the damaged bytes at start up to the next plausible
// record, or, when there is none within the window, the bytes searched
// (the rest of the stream when it ends first).
func (m *MRTReader) resync() {
	off := m.Offset()
	ts := m.last
	if m.n == 0 {
		ts = parseMRTHeader(m.buf[m.start:]).Timestamp
	}
	next, ok := m.findNext(1, ts)
	if !ok {
		// Skip what was searched, or all the rest when the stream ends
		// too soon after it for another record header.
		skipped := next
		if !m.fill(next + mrtHeaderLen) {
			skipped = m.end - m.start
		}
		m.start += skipped
		m.warn(off, m.n+1, fmt.Errorf("%w: no record header found in the next %d bytes, skipped them", ErrMRTDamaged, skipped))
		return
	}
	m.warn(off, m.n+1, fmt.Errorf("%w: skipped %d bytes to the next record", ErrMRTDamaged, next))
	m.start += next
}

// fixTD1Length handles early RIS TABLE_DUMP files whose records batch
// several entries and declare a length a few bytes short of what was
// written: when walking the entries overruns the declared length by a
// little and a valid header follows the last entry, the entries' length
// is used. It returns the record's total length.
func (m *MRTReader) fixTD1Length(h MRTHeader, total int) (int, bool) {
	if h.Type != MRTTableDump {
		return 0, false
	}
	fixed := mrtTD1EntryFixedIPv4
	if h.Subtype == TableDumpIPv6 || h.Subtype == TableDumpIPv6AS4 {
		fixed = mrtTD1EntryFixedIPv6
	}
	if h.Subtype == TableDumpIPv4AS4 || h.Subtype == TableDumpIPv6AS4 {
		fixed += 2
	}
	pos := mrtHeaderLen
	for pos < total {
		if !m.fill(pos + fixed) {
			return 0, false
		}
		pos += fixed + int(be16(m.buf[m.start+pos+fixed-2:]))
	}
	if pos == total || pos-total > mrtTD1MaxShortfall {
		return 0, false
	}
	if !m.fill(pos + mrtHeaderLen) {
		if !(m.eof && m.start+pos == m.end) {
			return 0, false
		}
	} else if !validHeader(parseMRTHeader(m.buf[m.start+pos:])) {
		return 0, false
	}
	if m.td1Fixed == 0 {
		m.warn(m.Offset(), m.n+1, fmt.Errorf("%w: TABLE_DUMP record declares %d bytes but its entries take %d; using the entries' length (reported once per stream)", ErrMRTDamaged, h.Length, pos-mrtHeaderLen))
	}
	m.td1Fixed++
	return pos, true
}

// TD1LengthFixes returns how many TABLE_DUMP records had a declared
// length shorter than their entries (see MRTReader).
func (m *MRTReader) TD1LengthFixes() int { return m.td1Fixed }
