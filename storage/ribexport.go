package storage

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	"github.com/vantage-bgp/vantage/schema"
)

// The reading of a RIB export (DB.RIB): the routes current at a time, in
// TABLE_DUMP_V2 order, at the speed of an MRT reader. ClickHouse (18.16)
// takes longer to sort a million routes with their attributes than
// bgpdump takes to read them back, so the store is read without ORDER
// BY, one range of prefixes at a time (ranges of about ribChunkRows rows,
// planned from a count of rows per /16 of IPv4 and /32 of IPv6, which the
// primary key prunes to), and each range is sorted here. Rows are
// scanned into fixed, reused destinations: the attributes that are arrays
// or text come in one string per row, which ClickHouse joins, and are
// parsed here into reused slices. The next range is read while the
// previous one is handed out.

// ribChunkRows is about how many rows a RIB export reads and sorts at
// once (two such ranges are held: the one handed out and the next).
var ribChunkRows uint64 = 1 << 17

// bin16 is a FixedString(16) column's value, scanned without an
// allocation (clickhouse-go hands an encoding.BinaryUnmarshaler the
// column's bytes).
type bin16 [16]byte

func (f *bin16) UnmarshalBinary(b []byte) error {
	if len(b) != 16 {
		return fmt.Errorf("FixedString(16) of %d bytes", len(b))
	}
	copy(f[:], b)
	return nil
}

// downKey is a peer of a collector: the key of the down times.
type downKey struct {
	host string
	peer bin16
}

// ribRange is the rows of one family with prefixes from lo to hi.
type ribRange struct {
	family schema.Family
	lo, hi bin16
	rows   uint64
}

// ribRow is a stored route event as a RIB export reads it.
type ribRow struct {
	prefix, peer    bin16
	nextHop         bin16
	us              uint64
	pathID, peerASN uint32
	blob, blobEnd   uint32 // the row's text in its chunk's blob
	host            uint32 // index of the row's host in its chunk's hosts
	plen            uint8
	// The key text starts the row's text: the RD, and for a route of a
	// family without IP prefixes (FlowSpec, EVPN, ...) a 0x01 byte and
	// its NLRI text.
	keyLen       uint16
	kind, origin int8
}

// ribColumns is the select list of a range's rows, scanned into a
// ribRow's fields in this order. The text fields, separated by NUL
// bytes: the RD (and for a route of a family without IP prefixes a 0x01
// byte and the NLRI text), the AS path, the communities (decimal), the
// large communities (their stored text), the attrs column (attrtext.go),
// and last the host.
const ribColumns = `prefix, prefix_len, peer, peer_asn, path_id, ts_us, kind, origin, next_hop,
  concat(rd, if(nlri = '', '', concat('\x01', nlri)), '\0', as_path, '\0', arrayStringConcat(arrayMap(x -> toString(x), communities), ' '),
    '\0', arrayStringConcat(large_communities, ' '), '\0', attrs, '\0', host)`

// ribChunk is the rows of a range, and their order. Its rows hold no
// pointers (hosts are indexes of hosts), so that the garbage collector
// has nothing to scan in them.
type ribChunk struct {
	r      ribRange
	rows   []ribRow
	blob   []byte
	order  []int32
	hosts  []string
	hostIx map[string]uint32
	// nlri: the range holds routes of a family without IP prefixes, whose
	// NLRI bytes only the announcing UPDATEs hold: messages has those.
	nlri     bool
	messages map[messageKey][]byte
}

// messageKey is a stored UPDATE: a peer's at a time.
type messageKey struct {
	host string
	peer bin16
	us   uint64
}

// RIB calls fn for every route of q current at q.At, by the rule of Routes
// (the latest event of the route at or before At is an announcement made
// after its peer's last down state), from the latest snapshot and the
// events since. Routes come ordered by AFI, SAFI, prefix, host, peer and
// path ID: a TABLE_DUMP_V2 RIB's order, each prefix's routes together;
// the routes of a family without IP prefixes (FlowSpec, EVPN, ...) by RD
// and NLRI text, each with the UPDATE that announced it (Message).
// The route passed to fn, and every slice in it, is valid only during the
// call (they are reused); its Seq and ID are not read.
func (db *DB) RIB(ctx context.Context, q RIBQuery, fn func(*Route) error) error {
	where, args, err := q.where()
	if err != nil {
		return err
	}
	d, err := db.lastDowns(ctx, q.At, netip.Addr{}, q.Host)
	if err != nil {
		return err
	}
	downs := make(map[downKey]uint64, len(d))
	for k, us := range d {
		host, peer, _ := strings.Cut(k, "|")
		b, err := hex.DecodeString(peer)
		if err != nil || len(b) != 16 {
			return fmt.Errorf("rib: peer down times: bad peer %q", peer)
		}
		downs[downKey{host, bin16(b)}] = us
	}
	snap, err := db.snapshotAt(ctx, uint64(max(q.At.UnixMicro(), 0)), false)
	if err != nil {
		return err
	}
	ranges, err := db.ribRanges(ctx, snap, where, args)
	if err != nil {
		return err
	}

	// The ranges are read by a goroutine, one ahead of the one handed out.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan *ribChunk, 2)
	free <- &ribChunk{hostIx: map[string]uint32{}}
	free <- &ribChunk{hostIx: map[string]uint32{}}
	ready := make(chan *ribChunk)
	readErr := make(chan error, 1)
	go func() {
		defer close(ready)
		for _, r := range ranges {
			var c *ribChunk
			select {
			case c = <-free:
			case <-ctx.Done():
				return
			}
			if err := db.readRIBRange(ctx, snap, where, args, r, c); err != nil {
				readErr <- err
				return
			}
			select {
			case ready <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	var e ribEmitter
	for c := range ready {
		err := e.emit(c, downs, fn)
		free <- c
		if err != nil {
			cancel()
			for range ready {
			}
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	select {
	case err := <-readErr:
		return err
	default:
	}
	return ctx.Err()
}

// ribRanges plans the ranges of a RIB export: consecutive /16s of IPv4
// and /32s of IPv6 prefixes of one family, each range about ribChunkRows
// rows (one /16 or /32 may make a range longer).
func (db *DB) ribRanges(ctx context.Context, snap snapshotRef, where []string, args []any) ([]ribRange, error) {
	src, args := routeSource(snap, where, args)
	rows, err := db.conn.Query(ctx, `SELECT afi, safi, if(afi = 1, substring(prefix, 1, 14), substring(prefix, 1, 4)) AS b, count()
FROM `+src+` AS r GROUP BY afi, safi, b ORDER BY afi, safi, b`, args...)
	if err != nil {
		return nil, fmt.Errorf("rib: prefix counts: %w", err)
	}
	defer rows.Close()
	var out []ribRange
	for rows.Next() {
		var f schema.Family
		var b string
		var n uint64
		if err := rows.Scan(&f.AFI, &f.SAFI, &b, &n); err != nil {
			return nil, fmt.Errorf("rib: prefix counts: scan: %w", err)
		}
		var lo, hi bin16
		copy(lo[:], b)
		copy(hi[:], b)
		for i := len(b); i < 16; i++ {
			hi[i] = 0xff
		}
		if k := len(out) - 1; k >= 0 && out[k].family == f && out[k].rows+n <= ribChunkRows {
			out[k].hi, out[k].rows = hi, out[k].rows+n
			continue
		}
		out = append(out, ribRange{family: f, lo: lo, hi: hi, rows: n})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rib: prefix counts: %w", err)
	}
	return out, nil
}

// readRIBRange reads the rows of range r into c, and sorts them by
// prefix, host, peer and path ID, each route's latest event first (an
// announcement before a withdrawal of the same time: a message that
// withdraws and announces a route at once announces it, RFC 4271).
func (db *DB) readRIBRange(ctx context.Context, snap snapshotRef, where []string, args []any, r ribRange, c *ribChunk) error {
	// The range's row count is known: room for them at once.
	c.r = r
	c.rows = slices.Grow(c.rows[:0], int(min(r.rows, 1<<24)))
	c.order = slices.Grow(c.order[:0], int(min(r.rows, 1<<24)))
	c.blob = slices.Grow(c.blob[:0], int(min(r.rows, 1<<24))*64)
	c.hosts = c.hosts[:0]
	c.nlri, c.messages = false, nil
	clear(c.hostIx)
	where = append(slices.Clone(where), "afi = toUInt16(?)", "safi = toUInt8(?)",
		"prefix >= "+fixed16Param, "prefix <= "+fixed16Param)
	args = append(slices.Clone(args), r.family.AFI, r.family.SAFI, fixed16Arg(r.lo), fixed16Arg(r.hi))
	src, args := routeSource(snap, where, args)
	rows, err := db.conn.Query(ctx, "SELECT "+ribColumns+" FROM "+src+" AS r", args...)
	if err != nil {
		return fmt.Errorf("rib: %w", err)
	}
	defer rows.Close()
	var cur ribRow
	var text string
	dest := []any{&cur.prefix, &cur.plen, &cur.peer, &cur.peerASN, &cur.pathID, &cur.us, &cur.kind, &cur.origin,
		&cur.nextHop, &text}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("rib: scan: %w", err)
		}
		host := text[strings.LastIndexByte(text, 0)+1:]
		h, ok := c.hostIx[host]
		if !ok {
			h = uint32(len(c.hosts))
			c.hosts = append(c.hosts, host)
			c.hostIx[host] = h
		}
		cur.host = h
		key := strings.IndexByte(text, 0)
		if key < 0 || key > 0xffff {
			return fmt.Errorf("rib: a stored route's RD and NLRI text of %d bytes", len(text))
		}
		cur.keyLen = uint16(key)
		c.nlri = c.nlri || strings.IndexByte(text[:key], 1) >= 0
		cur.blob = uint32(len(c.blob))
		c.blob = append(c.blob, text[:len(text)-len(host)]...)
		cur.blobEnd = uint32(len(c.blob))
		c.order = append(c.order, int32(len(c.rows)))
		c.rows = append(c.rows, cur)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rib: %w", err)
	}
	if c.nlri {
		if err := db.readRIBMessages(ctx, c); err != nil {
			return err
		}
	}
	rs, hosts, blob := c.rows, c.hosts, c.blob
	slices.SortFunc(c.order, func(i, j int32) int {
		a, b := &rs[i], &rs[j]
		if c := bytes.Compare(a.prefix[:], b.prefix[:]); c != 0 {
			return c
		}
		if a.plen != b.plen {
			return int(a.plen) - int(b.plen)
		}
		if a.keyLen != 0 || b.keyLen != 0 {
			if c := bytes.Compare(blob[a.blob:a.blob+uint32(a.keyLen)], blob[b.blob:b.blob+uint32(b.keyLen)]); c != 0 {
				return c
			}
		}
		if a.host != b.host {
			if c := strings.Compare(hosts[a.host], hosts[b.host]); c != 0 {
				return c
			}
		}
		if c := bytes.Compare(a.peer[:], b.peer[:]); c != 0 {
			return c
		}
		if a.pathID != b.pathID {
			return cmpU32(a.pathID, b.pathID)
		}
		if a.us != b.us {
			if a.us > b.us {
				return -1
			}
			return 1
		}
		return int(a.kind) - int(b.kind)
	})
	return nil
}

func cmpU32(a, b uint32) int {
	if a < b {
		return -1
	}
	return 1
}

// kindAnnounce is the Enum8 value of kind 'announce'.
const kindAnnounce = 1

// ribEmitter hands out the routes of the chunks, reusing one Route.
type ribEmitter struct {
	route Route
	attrs attrScratch
	// Reused storage of the route's slices.
	path  schema.ASPath
	asns  []uint32
	comms []schema.Community
	large []schema.LargeCommunity
}

// emit calls fn for the current routes of c: of each route's rows, the
// first (its latest event), when it is an announcement after its peer's
// last down.
func (e *ribEmitter) emit(c *ribChunk, downs map[downKey]uint64, fn func(*Route) error) error {
	for i, k := range c.order {
		row := &c.rows[k]
		if i > 0 {
			p := &c.rows[c.order[i-1]]
			if p.prefix == row.prefix && p.plen == row.plen && p.host == row.host && p.peer == row.peer && p.pathID == row.pathID &&
				string(c.blob[p.blob:p.blob+uint32(p.keyLen)]) == string(c.blob[row.blob:row.blob+uint32(row.keyLen)]) {
				continue
			}
		}
		if row.kind != kindAnnounce {
			continue
		}
		host := c.hosts[row.host]
		if down, ok := downs[downKey{host, row.peer}]; ok && row.us <= down {
			continue
		}
		if err := e.fill(c, row); err != nil {
			return fmt.Errorf("rib: %s %s: %w", host, schema.PrefixFrom16(row.prefix, row.plen), err)
		}
		if err := fn(&e.route); err != nil {
			return err
		}
	}
	return nil
}

// fill sets e.route to row, reusing its slices.
func (e *ribEmitter) fill(c *ribChunk, row *ribRow) error {
	r := &e.route
	*r = Route{
		Host:    c.hosts[row.host],
		Peer:    schema.AddrFrom16(row.peer),
		PeerASN: row.peerASN,
		Family:  c.r.family,
		Prefix:  schema.PrefixFrom16(row.prefix, row.plen),
		PathID:  row.pathID,
		NextHop: schema.AddrFrom16(row.nextHop),
		Origin:  schema.Origin(row.origin),
		Time:    usTime(row.us),
	}
	text := c.blob[row.blob:row.blobEnd]
	var fields [5][]byte
	for i := range fields {
		j := bytes.IndexByte(text, 0)
		if j < 0 {
			return errors.New("stored route: malformed text fields")
		}
		fields[i], text = text[:j], text[j+1:]
	}
	if rd, nlri, ok := bytes.Cut(fields[0], []byte{1}); ok {
		r.RD, r.NLRI, r.Prefix = string(rd), string(nlri), netip.Prefix{}
		r.Message = c.messages[messageKey{r.Host, row.peer, row.us}]
	} else if len(fields[0]) > 0 {
		r.RD = string(fields[0])
	}
	var err error
	if e.path, e.asns, err = appendASPath(e.path[:0], e.asns[:0], fields[1]); err != nil {
		return err
	}
	r.Path = nilIfEmpty(e.path)
	comms, large := e.comms[:0], e.large[:0]
	for tok := range bytes.FieldsSeq(fields[2]) {
		v, err := parseUint(tok, 32)
		if err != nil {
			return fmt.Errorf("community %q: %w", tok, err)
		}
		comms = append(comms, schema.CommunityFromUint32(uint32(v)))
	}
	r.Community = nilIfEmpty(comms)
	for tok := range bytes.FieldsSeq(fields[3]) {
		c, err := parseLarge(string(tok))
		if err != nil {
			return err
		}
		large = append(large, c)
	}
	r.LargeCommunity = nilIfEmpty(large)
	e.comms, e.large = comms, large
	return parseAttrText(fields[4], r, &e.attrs)
}

// nilIfEmpty returns s, nil when it is empty (as a scanned route has it).
func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// parseUint parses a decimal number of at most bits bits.
func parseUint(b []byte, bits int) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, fmt.Errorf("bad number %q", b)
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad number %q", b)
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, fmt.Errorf("number %q out of range", b)
		}
		v = v*10 + d
	}
	if bits < 64 && v >= 1<<bits {
		return 0, fmt.Errorf("number %q out of range", b)
	}
	return v, nil
}

// readRIBMessages reads the stored UPDATEs that announced the routes of c
// (a range of a family without IP prefixes: FlowSpec, EVPN, ...), whose
// NLRI bytes only the messages hold: those of its family and time span,
// kept on the first row of their event (its prefix columns zero, as a
// route without an IP prefix has them). A route whose UPDATE is not
// stored (collector.store_raw off, a RIB dump's route) gets none.
func (db *DB) readRIBMessages(ctx context.Context, c *ribChunk) error {
	lo, hi := uint64(math.MaxUint64), uint64(0)
	for i := range c.rows {
		lo, hi = min(lo, c.rows[i].us), max(hi, c.rows[i].us)
	}
	if lo > hi {
		return nil
	}
	rows, err := db.conn.Query(ctx, `SELECT host, peer, ts_us, raw FROM route_events
WHERE afi = toUInt16(?) AND safi = toUInt8(?) AND prefix = `+fixed16Param+` AND prefix_len = 0
  AND ts >= toDateTime(toUInt32(?)) AND ts_us >= toUInt64(?) AND ts_us <= toUInt64(?) AND raw != ''`,
		c.r.family.AFI, c.r.family.SAFI, fixed16Arg(bin16{}), uint32(min(lo/1e6, math.MaxUint32)), lo, hi)
	if err != nil {
		return fmt.Errorf("rib: the UPDATEs of %s routes: %w", c.r.family, err)
	}
	defer rows.Close()
	c.messages = map[messageKey][]byte{}
	var k messageKey
	var raw string
	for rows.Next() {
		if err := rows.Scan(&k.host, &k.peer, &k.us, &raw); err != nil {
			return fmt.Errorf("rib: the UPDATEs of %s routes: scan: %w", c.r.family, err)
		}
		c.messages[k] = []byte(raw)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rib: the UPDATEs of %s routes: %w", c.r.family, err)
	}
	return nil
}
