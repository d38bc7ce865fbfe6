package storage

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// Match says which stored prefixes a RoutesQuery selects.
type Match uint8

// Match kinds.
const (
	// MatchExact selects the queried prefix only.
	MatchExact Match = iota
	// MatchLongest selects the most specific stored prefix that covers the
	// queried prefix and has current routes.
	MatchLongest
	// MatchMore selects the queried prefix and its more specifics.
	MatchMore
	// MatchLess selects the queried prefix and every prefix covering it.
	MatchLess
)

var matchNames = [...]string{MatchExact: "exact", MatchLongest: "longest", MatchMore: "more", MatchLess: "less"}

func (m Match) String() string {
	if int(m) < len(matchNames) {
		return matchNames[m]
	}
	return "Match(" + strconv.Itoa(int(m)) + ")"
}

// ParseMatch reads exact, longest, more or less.
func ParseMatch(s string) (Match, error) {
	for i, n := range matchNames {
		if n == s {
			return Match(i), nil
		}
	}
	return 0, fmt.Errorf("%q: want exact, longest, more or less", s)
}

// RoutesQuery selects routes.
type RoutesQuery struct {
	Prefix netip.Prefix
	Match  Match
	// At is the time the routes were current at; zero means now.
	At time.Time
	// Peer and Host, when set, keep the routes of that peer address and
	// collector only.
	Peer netip.Addr
	Host string
	// Filter keeps the routes whose current announcement matches it.
	// With a filter, Prefix may be left unset: the routes of every prefix.
	Filter RouteFilter
	// Limit caps the number of routes (0: no limit).
	Limit int
	// After, when its Prefix is set, keeps the routes that sort after it:
	// the key of the last route of the previous page.
	After RouteKey
}

// RouteFilter selects routes by their current announcement's attributes;
// the zero value selects every route. Several set fields must all match.
type RouteFilter struct {
	// OriginASN is the last ASN of the AS_PATH (0: any).
	OriginASN uint32
	// ASPath is a regular expression (RE2) over the AS_PATH written as
	// ASNs separated by spaces ("64500 64496"); "_" stands for a
	// boundary, as in router looking glasses: "_64496$" is "originated
	// by 64496", "^64500_" "learned from 64500".
	ASPath         string
	Community      *schema.Community
	LargeCommunity *schema.LargeCommunity
}

func (f RouteFilter) empty() bool { return f == RouteFilter{} }

// ASPathRegexp is the RE2 expression a RouteFilter's ASPath stands for.
func ASPathRegexp(s string) string {
	return strings.ReplaceAll(s, "_", `(?:^|$|[ {},()\[\]])`)
}

// conditions returns the filter as an SQL condition, with its bound
// arguments, on the values col gives for each column name: the columns of
// one stored row (rowValue) or of a route's latest event (latestValue).
// It is "" when the filter is empty.
func (f RouteFilter) conditions(col func(string) string) (string, []any) {
	var conds []string
	var args []any
	if f.OriginASN != 0 {
		conds = append(conds, col("origin_asn")+" = toUInt32(?)")
		args = append(args, f.OriginASN)
	}
	if f.ASPath != "" {
		conds = append(conds, "match("+col("as_path")+", ?)")
		args = append(args, ASPathRegexp(f.ASPath))
	}
	if f.Community != nil {
		conds = append(conds, "has("+col("communities")+", toUInt32(?))")
		args = append(args, f.Community.Uint32())
	}
	if f.LargeCommunity != nil {
		conds = append(conds, "has("+col("large_communities")+", ?)")
		args = append(args, f.LargeCommunity.String())
	}
	return strings.Join(conds, " AND "), args
}

// rowValue is a column of one stored row.
func rowValue(col string) string { return col }

// latestValue is a column of a route's latest event, in a GROUP BY route.
func latestValue(col string) string { return "argMax(" + col + ", ts_us)" }

// ErrBadQuery is wrapped by errors about the query rather than the store.
var ErrBadQuery = errors.New("bad query")

// Route is the state of one route (a host, peer, family, prefix and path
// ID) at the time asked for: the attributes of its latest announcement.
type Route struct {
	Host    string
	Peer    netip.Addr
	PeerASN uint32
	Family  schema.Family
	Prefix  netip.Prefix
	PathID  uint32
	// RD and Labels are set for VPN and labeled families; NLRI holds the
	// route of a family that has no IP prefix (FlowSpec, EVPN, ...).
	RD     string
	Labels []uint32
	NLRI   string

	NextHop          netip.Addr
	NextHopLinkLocal netip.Addr
	Path             schema.ASPath
	Origin           schema.Origin
	MED              *uint32
	LocalPref        *uint32
	Community        []schema.Community
	LargeCommunity   []schema.LargeCommunity
	ExtCommunity     []schema.ExtCommunity
	AtomicAggregate  bool
	Aggregator       *schema.Aggregator
	OriginatorID     netip.Addr
	ClusterList      []netip.Addr
	OTC              *uint32
	AIGP             *uint64
	OtherAttrs       []schema.RawAttribute

	// Time is when the announcement was received; Seq and ID are the
	// announcing event's.
	Time time.Time
	Seq  uint64
	ID   string

	// Message is, on a route of a family without IP prefixes (NLRI set)
	// that DB.RIB hands out, the stored UPDATE that announced it (whole,
	// header included): its NLRI bytes are there only. Nil when the
	// UPDATE is not stored, and on other routes and queries.
	Message []byte
}

// Routes returns the routes current at q.At, per (host, peer, family,
// prefix, path ID): those whose latest event at or before At is an
// announcement made after the peer's last "down" state at or before At.
// Routes are ordered by prefix, host, peer and path ID (RouteKey), and
// start after q.After when it is set. A query that exceeds the DB's
// QueryLimits fails with an error wrapping ErrQueryTooExpensive.
func (db *DB) Routes(ctx context.Context, q RoutesQuery) ([]Route, error) {
	if !q.Prefix.IsValid() && q.Filter.empty() {
		return nil, fmt.Errorf("%w: prefix: not set", ErrBadQuery)
	}
	p := q.Prefix.Masked()
	if q.Match == MatchLongest && p.IsValid() {
		return db.longestMatch(ctx, q)
	}
	var where []string
	var args []any
	switch {
	case !q.Prefix.IsValid():
		// Every prefix: the filter selects.
		q.Match = MatchExact
	case q.Match == MatchExact:
		where = append(where, "prefix = "+fixed16Param, "prefix_len = toUInt8(?)")
		args = append(args, fixed16Arg(schema.AddrTo16(p.Addr())), uint8(p.Bits()))
	case q.Match == MatchLess:
		var set []string
		for _, c := range covering(p) {
			set = append(set, "("+fixed16Param+", toUInt8(?))")
			args = append(args, fixed16Arg(schema.AddrTo16(c.Addr())), uint8(c.Bits()))
		}
		where = append(where, "(prefix, prefix_len) IN ("+strings.Join(set, ", ")+")")
	case q.Match == MatchMore:
		lo, hi := rangeOf(p)
		where = append(where, "prefix >= "+fixed16Param, "prefix <= "+fixed16Param, "prefix_len >= toUInt8(?)")
		args = append(args, fixed16Arg(lo), fixed16Arg(hi), uint8(p.Bits()))
	default:
		return nil, fmt.Errorf("%w: match: %v", ErrBadQuery, q.Match)
	}
	// Routes of families without IP prefixes (nlri set) have an all-zero
	// prefix that must not match ::/0.
	where = append(where, "nlri = ''")
	switch {
	case !q.Prefix.IsValid():
		where = append(where, "afi IN (1, 2)")
	case p.Addr().Is4():
		where = append(where, "afi = 1", "prefix_len <= 32")
	default:
		where = append(where, "afi = 2")
	}
	where, args = db.scope(where, args, q.At, q.Peer, q.Host)
	if q.After.Prefix.IsValid() {
		c, a := afterCondition(q.After)
		where, args = append(where, c), append(args, a...)
	}
	// Now is read from the current state (a few rows per route); a time
	// in the past from the latest snapshot before it and the events since.
	var snap snapshotRef
	if !q.At.IsZero() {
		var err error
		snap, err = db.snapshotAt(db.bounded(ctx), uint64(max(q.At.UnixMicro(), 0)), false)
		if err != nil {
			return nil, err
		}
	}
	source := func(current string, where []string, args []any) (string, []any) {
		if q.At.IsZero() {
			return current + " WHERE " + strings.Join(where, " AND "), args
		}
		from, args := routeSource(snap, where, args)
		return from + " AS r", args
	}
	// A filter first selects the prefixes that have a row matching it (a
	// scan of the filtered column only), so that only their routes are
	// grouped; HAVING then keeps the routes whose latest event matches.
	if c, a := q.Filter.conditions(rowValue); c != "" {
		// By origin, now: from the routes ordered by origin (schema/009),
		// which hold the key, time and origin only (schema/011), rather
		// than a scan of every route's origin; the other conditions apply
		// in HAVING.
		current := "routes_current"
		if q.Filter.OriginASN != 0 {
			current = "routes_by_origin"
			if q.At.IsZero() {
				c, a = RouteFilter{OriginASN: q.Filter.OriginASN}.conditions(rowValue)
			}
		}
		sub, subArgs := source(current, append(slices.Clone(where), c), append(slices.Clone(args), a...))
		// Plain IN on one server: ClickHouse 18.16 reads the whole table for
		// a GLOBAL IN, but prunes granules by the set of a plain one.
		where = append(where, "(prefix, prefix_len) "+db.globalIn()+"IN (SELECT prefix, prefix_len FROM "+sub+")")
		args = append(args, subArgs...)
	}
	having := "last_kind = 'announce'"
	var havingArgs []any
	if c, a := q.Filter.conditions(latestValue); c != "" {
		having += " AND " + c
		havingArgs = append(havingArgs, a...)
	}
	limit := ""
	if q.Limit > 0 {
		limit = " LIMIT " + strconv.Itoa(q.Limit)
	}
	from, args := source("routes_current", where, args)
	var out []Route
	err := db.groupRoutes(db.bounded(ctx), from, args, having, havingArgs, q.At, q.Peer, q.Host, limit, func(r *Route) error {
		out = append(out, *r)
		return nil
	})
	return out, err
}

// groupRoutes runs the query of Routes over the rows of from (with its
// bound arguments): groups them by route, keeps the routes whose latest
// event satisfies having (an announcement, and the filter's conditions)
// and was made after its peer's last down state at at (zero: now), and
// calls fn with each, ordered by RouteKey. The route passed to fn is
// valid only during the call. The caller bounds ctx (DB.bounded).
func (db *DB) groupRoutes(ctx context.Context, from string, args []any, having string, havingArgs []any,
	at time.Time, peer netip.Addr, host, limit string, fn func(*Route) error) error {
	args = append(args, havingArgs...)
	// The peers' last down states at At, joined in the same query (a
	// route announced before its session's last down is not current).
	downWhere, downArgs := db.scope([]string{"type = 'RIS_PEER_STATE'", "state = 'down'"}, nil, at, peer, host)
	args = append(args, downArgs...)
	sql := `SELECT ` + strings.Join(slices.Concat(routeKeyOrder, []string{"last_us", "last_kind"}, latestAttrAliases()), ", ") + `
FROM (
  SELECT ` + routeColumnsAliased() + `
  FROM ` + from + `
  GROUP BY host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id
  HAVING ` + having + `
) AS routes ANY LEFT JOIN (
  SELECT host, peer, max(ts_us) AS down_us FROM peer_events WHERE ` + strings.Join(downWhere, " AND ") + ` GROUP BY host, peer
) AS downs USING (host, peer)
WHERE last_us > down_us
ORDER BY prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id` + limit
	rows, err := db.conn.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("routes: %w", db.limited(err))
	}
	defer rows.Close()
	for rows.Next() {
		r, _, err := scanRoute(rows)
		if err != nil {
			return fmt.Errorf("routes: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("routes: %w", db.limited(err))
	}
	return nil
}

// longestMatch answers a MatchLongest query: first the lengths of the
// covering prefixes that have rows at all (reading the key columns only),
// then, longest first, the routes of each as an exact query until one has
// current routes. Most lookups read one prefix's rows instead of every
// covering prefix's. A query with a cursor continues in the cursor's
// prefix, the longest match of its first page.
func (db *DB) longestMatch(ctx context.Context, q RoutesQuery) ([]Route, error) {
	exact := q
	exact.Match = MatchExact
	if q.After.Prefix.IsValid() {
		exact.Prefix = q.After.Prefix
		return db.Routes(ctx, exact)
	}
	p := q.Prefix.Masked()
	var set []string
	var args []any
	for _, c := range covering(p) {
		set = append(set, "("+fixed16Param+", toUInt8(?))")
		args = append(args, fixed16Arg(schema.AddrTo16(c.Addr())), uint8(c.Bits()))
	}
	where := []string{"(prefix, prefix_len) IN (" + strings.Join(set, ", ") + ")", "nlri = ''"}
	if p.Addr().Is4() {
		where = append(where, "afi = 1")
	} else {
		where = append(where, "afi = 2")
	}
	where, args = db.scope(where, args, q.At, q.Peer, q.Host)
	// Now: the current state; at a past time: every event until then (a
	// superset of what its snapshot holds).
	table := "routes_current"
	if !q.At.IsZero() {
		table = "route_events"
	}
	var lens []uint8
	err := db.queryEach(ctx, "routes: covering prefixes", "SELECT DISTINCT prefix_len FROM "+table+" WHERE "+strings.Join(where, " AND ")+" ORDER BY prefix_len DESC",
		func(rows rowScanner) error {
			var l uint8
			err := rows.Scan(&l)
			lens = append(lens, l)
			return err
		}, args...)
	if err != nil {
		return nil, err
	}
	for _, l := range lens {
		exact.Prefix = netip.PrefixFrom(p.Addr(), int(l)).Masked()
		routes, err := db.Routes(ctx, exact)
		if err != nil || len(routes) > 0 {
			return routes, err
		}
	}
	return nil, nil
}

// scope adds the time, peer and host conditions shared by the queries.
func (db *DB) scope(where []string, args []any, at time.Time, peer netip.Addr, host string) ([]string, []any) {
	if !at.IsZero() {
		us := at.UnixMicro()
		if us < 0 {
			us = 0
		}
		where = append(where, "ts_us <= toUInt64(?)")
		args = append(args, uint64(us))
		if sec := at.Unix(); sec < math.MaxUint32 { // DateTime's range
			// ts prunes partitions; ts_us decides.
			where = append(where, "ts <= toDateTime(toUInt32(?))")
			args = append(args, uint32(max(sec, 0)))
		}
	}
	if peer.IsValid() {
		where = append(where, "peer = "+fixed16Param)
		args = append(args, fixed16Arg(schema.AddrTo16(peer)))
	}
	if host != "" {
		where = append(where, "host = ?")
		args = append(args, host)
	}
	return where, args
}

// downs maps "host|HEX(peer)" to the time of the peer's last down state.
type downs map[string]uint64

// condition is an SQL expression for the last down time of the row's
// (host, peer), 0 when it never went down, with its bound arguments; ""
// when no peer went down.
func (d downs) condition() (string, []any) {
	if len(d) == 0 {
		return "", nil
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	times := make([]uint64, len(keys))
	for i, k := range keys {
		times[i] = d[k]
	}
	// arr[0] (key not found) is 0.
	return "arrayElement(CAST(? AS Array(UInt64)), indexOf(CAST(? AS Array(String)), concat(host, '|', hex(peer))))", []any{times, keys}
}

// lastDowns returns the time of each peer's last down state at or before at.
func (db *DB) lastDowns(ctx context.Context, at time.Time, peer netip.Addr, host string) (downs, error) {
	where, args := db.scope([]string{"type = 'RIS_PEER_STATE'", "state = 'down'"}, nil, at, peer, host)
	rows, err := db.conn.Query(db.bounded(ctx), "SELECT host, hex(peer), max(ts_us) FROM peer_events WHERE "+
		strings.Join(where, " AND ")+" GROUP BY host, peer", args...)
	if err != nil {
		return nil, fmt.Errorf("peer down times: %w", db.limited(err))
	}
	defer rows.Close()
	d := downs{}
	for rows.Next() {
		var h, p string
		var us uint64
		if err := rows.Scan(&h, &p, &us); err != nil {
			return nil, fmt.Errorf("peer down times: scan: %w", err)
		}
		d[h+"|"+p] = us
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("peer down times: %w", db.limited(err))
	}
	return d, nil
}

// Peer is a peer of a collector as the store sees it.
type Peer struct {
	Host    string
	Address netip.Addr
	ASN     uint32
	// State is the last RIS_PEER_STATE, StateUnknown when the store has
	// none (for example routes imported from MRT); Since is its time.
	State schema.PeerState
	Since time.Time
	// LastUpdate is the time of the peer's latest route event.
	LastUpdate time.Time
	// LastSeen is the time of the peer's latest event of any type
	// (KEEPALIVEs included). Stale is set when State is connected but
	// nothing was heard of the session for longer than its hold time: its
	// collector died (or cannot reach the log), so the session is not
	// known to be up.
	LastSeen time.Time
	Stale    bool
	// Routes counts the current routes per family (every path ID), as the
	// collector's session keeps them (for archive peers: as counted after
	// their import); IPv4Routes and IPv6Routes are its sums by AFI.
	Routes     schema.RouteCounts
	IPv4Routes uint64
	IPv6Routes uint64
}

// queryEach runs a query and calls scan for each row; errors say what.
func (db *DB) queryEach(ctx context.Context, what, sql string, scan func(rowScanner) error, args ...any) error {
	rows, err := db.conn.Query(db.bounded(ctx), sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, db.limited(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: scan: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, db.limited(err))
	}
	return nil
}

// covering returns p and every shorter prefix containing it, longest first.
func covering(p netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, p.Bits()+1)
	for b := p.Bits(); b >= 0; b-- {
		c, _ := p.Addr().Prefix(b)
		out = append(out, c)
	}
	return out
}

// rangeOf returns the first and last address of p in stored form.
func rangeOf(p netip.Prefix) (lo, hi [16]byte) {
	lo = schema.AddrTo16(p.Masked().Addr())
	hi = lo
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		hi[i/8] |= 1 << (7 - i%8)
	}
	return lo, hi
}

// fixed16Param is a bound FixedString(16) parameter; its argument is
// fixed16Arg of the value. (The bytes go as hex text: a parameter is
// written into the query as a string literal, which need not hold any
// byte.)
const fixed16Param = "toFixedString(unhex(?), 16)"

func fixed16Arg(b [16]byte) string { return hex.EncodeToString(b[:]) }

func addrFrom(b []byte) netip.Addr {
	if len(b) != 16 {
		return netip.Addr{}
	}
	return schema.AddrFrom16([16]byte(b))
}

func parseLarge(s string) (schema.LargeCommunity, error) {
	var c schema.LargeCommunity
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return c, fmt.Errorf("large community %q: want A:B:C", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return c, fmt.Errorf("large community %q: %w", s, err)
		}
		c[i] = uint32(v)
	}
	return c, nil
}

// staleMargin is added to a session's hold time before it counts as stale:
// a KEEPALIVE every third of the hold time, and the writer's batching.
const staleMargin = 30 * time.Second

// routeAttrColumns are the columns of route_events that make a Route,
// after its key, time and kind, in the order scanRoute reads them.
var routeAttrColumns = []string{
	"peer_asn", "seq", "id", "next_hop", "as_path", "origin",
	"communities", "large_communities", "attrs",
}

// routeColumns is the select list scanRoute reads: a route's key, the time
// and kind of its event, and its attributes.
func routeColumns() string {
	return strings.Join(slices.Concat(routeKeyOrder, []string{"ts_us", "kind"}, routeAttrColumns), ", ")
}

// routeKeyOrder is a route's key in the order scanRoute reads it.
var routeKeyOrder = []string{"host", "peer", "afi", "safi", "rd", "nlri", "prefix", "prefix_len", "path_id"}

// routeColumnsAliased is the select list of a query grouped by route:
// its key, and its latest event's time, kind and attributes as last_us,
// last_kind and latestAttrAliases.
func routeColumnsAliased() string {
	cols := slices.Concat(routeKeyOrder, []string{"max(ts_us) AS last_us", "argMax(kind, ts_us) AS last_kind"})
	for _, c := range routeAttrColumns {
		cols = append(cols, "argMax("+c+", ts_us) AS last_"+c)
	}
	return strings.Join(cols, ", ")
}

// latestAttrAliases are the names routeColumnsAliased gives the latest
// values of routeAttrColumns.
func latestAttrAliases() []string {
	out := make([]string, len(routeAttrColumns))
	for i, c := range routeAttrColumns {
		out[i] = "last_" + c
	}
	return out
}

// rowScanner is the part of driver.Rows that scanRoute uses.
type rowScanner interface{ Scan(dest ...any) error }

// scanRoute reads a row of routeColumns: the route and its event's kind
// (announce or withdraw).
func scanRoute(rows rowScanner) (Route, string, error) {
	var (
		r                           Route
		peer, prefix, nh            []byte
		prefixLen                   uint8
		us                          uint64
		kind, asPath, origin, attrs string
		communities                 []uint32
		large                       []string
	)
	err := rows.Scan(&r.Host, &peer, &r.Family.AFI, &r.Family.SAFI, &r.RD, &r.NLRI, &prefix, &prefixLen, &r.PathID,
		&us, &kind,
		&r.PeerASN, &r.Seq, &r.ID, &nh, &asPath, &origin,
		&communities, &large, &attrs)
	if err != nil {
		return r, "", fmt.Errorf("scan: %w", err)
	}
	r.Peer = addrFrom(peer)
	if r.NLRI == "" {
		r.Prefix = schema.PrefixFrom16([16]byte(prefix), prefixLen)
	}
	r.NextHop = addrFrom(nh)
	if r.Path, err = parseASPath(asPath); err != nil {
		return r, "", fmt.Errorf("%v: %w", r.Prefix, err)
	}
	if err := r.Origin.UnmarshalText([]byte(strings.TrimPrefix(origin, "absent"))); err != nil {
		return r, "", err
	}
	for _, c := range communities {
		r.Community = append(r.Community, schema.CommunityFromUint32(c))
	}
	for _, s := range large {
		c, err := parseLarge(s)
		if err != nil {
			return r, "", err
		}
		r.LargeCommunity = append(r.LargeCommunity, c)
	}
	if err := parseAttrText([]byte(attrs), &r, new(attrScratch)); err != nil {
		return r, "", fmt.Errorf("%v: %w", r.Prefix, err)
	}
	r.Time = usTime(us)
	return r, kind, nil
}
