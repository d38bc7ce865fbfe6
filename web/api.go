package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

var jsonMarshal = json.Marshal

// peerJSON is a peer in /api/v1/peers.
type peerJSON struct {
	Host    string     `json:"host"`
	Peer    netip.Addr `json:"peer"`
	PeerASN uint32     `json:"peer_asn,string"`
	// State is connected, down, stale (last seen connected, but nothing
	// heard of the session for longer than its hold time: its collector
	// is dead or cut off) or unknown (no state event stored).
	State string `json:"state"`
	// LastSeen is the time of the latest event of the session, KEEPALIVEs
	// included (Unix seconds).
	LastSeen float64 `json:"last_seen,omitempty"`
	// Since is when the state began (Unix seconds); Uptime is the seconds
	// since then while connected.
	Since      float64 `json:"since,omitempty"`
	Uptime     int64   `json:"uptime,omitempty"`
	LastUpdate float64 `json:"last_update,omitempty"`
	// LastDown is when the session last went down (Unix seconds), and
	// LastDownReason why: the NOTIFICATION's text or the collector's.
	LastDown       float64 `json:"last_down,omitempty"`
	LastDownReason string  `json:"last_down_reason,omitempty"`
	IPv4           uint64  `json:"prefixes_ipv4"`
	IPv6           uint64  `json:"prefixes_ipv6"`
	// Routes counts the current routes per family:
	// {"ipv4/unicast": 912345, ...}.
	Routes schema.RouteCounts `json:"routes,omitempty"`
}

func (s *server) peers(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.QueryTimeout)
	defer cancel()
	out, err := s.loadPeers(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"peers": out})
}

// peerDowner is implemented by stores that keep why sessions went down
// (*storage.DB).
type peerDowner interface {
	PeerDowns(ctx context.Context) ([]storage.PeerDown, error)
}

// loadPeers returns the peers as /api/v1/peers and the peers page show
// them.
func (s *server) loadPeers(ctx context.Context) ([]peerJSON, error) {
	peers, fromRIB := s.opts.RIB.Peers()
	var err error
	if !fromRIB {
		if peers, err = s.store.Peers(ctx); err != nil {
			return nil, err
		}
	}
	type key struct {
		host string
		peer netip.Addr
	}
	downs := map[key]storage.PeerDown{}
	ds, ok := s.opts.RIB.PeerDowns()
	if pd, isDowner := s.store.(peerDowner); !ok && isDowner {
		if ds, err = pd.PeerDowns(ctx); err != nil {
			return nil, err
		}
	}
	for _, d := range ds {
		downs[key{d.Host, d.Address}] = d
	}
	now := time.Now()
	out := make([]peerJSON, 0, len(peers))
	for _, p := range peers {
		j := peerJSON{
			Host: p.Host, Peer: p.Address, PeerASN: p.ASN, State: p.State.String(),
			Since: unixSeconds(p.Since), LastUpdate: unixSeconds(p.LastUpdate), LastSeen: unixSeconds(p.LastSeen),
			IPv4: p.IPv4Routes, IPv6: p.IPv6Routes, Routes: p.Routes,
		}
		if d, ok := downs[key{p.Host, p.Address}]; ok {
			j.LastDown, j.LastDownReason = unixSeconds(d.Time), d.Reason
		}
		if j.State == "" {
			j.State = "unknown"
		}
		if p.Stale {
			j.State = "stale"
		} else if p.State == schema.StateConnected && !p.Since.IsZero() {
			j.Uptime = int64(now.Sub(p.Since) / time.Second)
		}
		out = append(out, j)
	}
	return out, nil
}

// routeJSON is a route in /api/v1/routes; the names are the event's.
type routeJSON struct {
	Host             string                  `json:"host"`
	Peer             netip.Addr              `json:"peer"`
	PeerASN          uint32                  `json:"peer_asn,string"`
	Family           schema.Family           `json:"family"`
	Prefix           string                  `json:"prefix"`
	PathID           uint32                  `json:"path_id"`
	RD               string                  `json:"rd,omitempty"`
	Labels           []uint32                `json:"labels,omitempty"`
	NextHop          netip.Addr              `json:"next_hop,omitzero"`
	NextHopLinkLocal netip.Addr              `json:"next_hop_link_local,omitzero"`
	Path             schema.ASPath           `json:"path"`
	Origin           schema.Origin           `json:"origin,omitzero"`
	MED              *uint32                 `json:"med,omitempty"`
	LocalPref        *uint32                 `json:"local_pref,omitempty"`
	Community        []schema.Community      `json:"community"`
	LargeCommunity   []schema.LargeCommunity `json:"large_community"`
	ExtCommunity     []schema.ExtCommunity   `json:"ext_community,omitempty"`
	AtomicAggregate  bool                    `json:"atomic_aggregate,omitempty"`
	Aggregator       *schema.Aggregator      `json:"aggregator,omitempty"`
	OriginatorID     netip.Addr              `json:"originator_id,omitzero"`
	ClusterList      []netip.Addr            `json:"cluster_list,omitempty"`
	OTC              *uint32                 `json:"otc,omitempty"`
	AIGP             *uint64                 `json:"aigp,omitempty"`
	OtherAttrs       []schema.RawAttribute   `json:"other_attributes,omitempty"`
	// Timestamp is when the announcement was received (Unix seconds).
	Timestamp float64 `json:"timestamp"`
	Seq       uint64  `json:"seq"`
	ID        string  `json:"id,omitempty"`
}

type routesQueryJSON struct {
	Prefix    netip.Prefix `json:"prefix"`
	Match     string       `json:"match"`
	At        string       `json:"at,omitempty"`
	Peer      netip.Addr   `json:"peer,omitzero"`
	Collector string       `json:"collector,omitempty"`
	Limit     int          `json:"limit"`
	Cursor    string       `json:"cursor,omitempty"`
	// The filters of /api/v1/search.
	Origin    uint32 `json:"origin,omitempty"`
	ASPath    string `json:"aspath,omitempty"`
	Community string `json:"community,omitempty"`
}

func (s *server) routes(c echo.Context) error {
	q, err := s.parseRoutesQuery(c, true)
	if err != nil {
		return err
	}
	return s.answerRoutes(c, q)
}

// search answers /api/v1/search: the routes (current, or at TIME) whose
// announcement has an origin AS, matches an AS-path expression, or
// carries a standard or large community; optionally within a prefix.
func (s *server) search(c echo.Context) error {
	q, err := s.parseRoutesQuery(c, false)
	if err != nil {
		return err
	}
	if q.Filter, err = parseFilter(c.QueryParam("origin"), c.QueryParam("aspath"), c.QueryParam("community")); err != nil {
		return err
	}
	if q.Filter == (storage.RouteFilter{}) {
		return echo.NewHTTPError(http.StatusBadRequest, "origin, aspath, community: give at least one")
	}
	return s.answerRoutes(c, q)
}

// parseFilter reads the filters of /api/v1/search; an empty value is
// not a filter.
func parseFilter(origin, aspath, community string) (storage.RouteFilter, error) {
	var f storage.RouteFilter
	if v := origin; v != "" {
		n, ok := parseASN(v)
		if !ok {
			return f, badRequest("origin", v, "want an AS number such as 64496 or AS64496")
		}
		f.OriginASN = n
	}
	if v := aspath; v != "" {
		if len(v) > 256 {
			return f, badRequest("aspath", v[:32]+"...", "longer than 256 characters")
		}
		if _, err := regexp.Compile(storage.ASPathRegexp(v)); err != nil {
			return f, badRequest("aspath", v, "not a regular expression (RE2; _ matches a boundary): "+err.Error())
		}
		f.ASPath = v
	}
	if v := community; v != "" {
		std, large, ok := parseCommunity(v)
		if !ok {
			return f, badRequest("community", v, "want a standard community ASN:VALUE (65000:100) or a large one GLOBAL:LOCAL1:LOCAL2")
		}
		f.Community, f.LargeCommunity = std, large
	}
	return f, nil
}

// parseASN reads 64496 or AS64496 (not 0).
func parseASN(s string) (uint32, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(s), "AS"), 10, 32)
	return uint32(n), err == nil && n != 0
}

// parseCommunity reads a standard community A:B, a large one A:B:C, or a
// well-known community's name (NO_EXPORT).
func parseCommunity(s string) (*schema.Community, *schema.LargeCommunity, bool) {
	if c, ok := wellKnownByName(s); ok {
		return &c, nil, true
	}
	var nums []uint32
	for _, p := range strings.Split(s, ":") {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, nil, false
		}
		nums = append(nums, uint32(n))
	}
	switch {
	case len(nums) == 2 && nums[0] <= 0xffff && nums[1] <= 0xffff:
		return &schema.Community{uint16(nums[0]), uint16(nums[1])}, nil, true
	case len(nums) == 3:
		return nil, &schema.LargeCommunity{nums[0], nums[1], nums[2]}, true
	}
	return nil, nil, false
}

// answerRoutes runs a routes query and writes the page.
func (s *server) answerRoutes(c echo.Context, q storage.RoutesQuery) error {
	limit := q.Limit
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.QueryTimeout)
	defer cancel()
	routes, next, err := s.queryRoutes(ctx, q)
	if err != nil {
		return err
	}
	truncated := next != ""
	out := make([]routeJSON, 0, len(routes))
	for _, r := range routes {
		out = append(out, routeToJSON(r))
	}
	echoed := routesQueryJSON{Prefix: q.Prefix, Match: q.Match.String(), Peer: q.Peer, Collector: q.Host, Limit: limit, Cursor: c.QueryParam("cursor"),
		Origin: q.Filter.OriginASN, ASPath: q.Filter.ASPath, Community: c.QueryParam("community")}
	if !q.Prefix.IsValid() {
		echoed.Match = ""
	}
	if !q.At.IsZero() {
		echoed.At = q.At.UTC().Format(time.RFC3339Nano)
	}
	resp := map[string]any{
		"query":     echoed,
		"routes":    out,
		"count":     len(out),
		"truncated": truncated,
	}
	if next != "" {
		// The same query with cursor=next returns the following routes.
		resp["next"] = next
	}
	return c.JSON(http.StatusOK, resp)
}

// queryRoutes returns a page of q.Limit routes, and the cursor of the
// next page when there are more.
func (s *server) queryRoutes(ctx context.Context, q storage.RoutesQuery) ([]storage.Route, string, error) {
	limit := q.Limit
	q.Limit++ // one more tells whether the answer was cut
	routes, ok := s.opts.RIB.Routes(q)
	var err error
	if !ok {
		routes, err = s.store.Routes(ctx, q)
	}
	if errors.Is(err, storage.ErrBadQuery) {
		return nil, "", echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err != nil {
		return nil, "", err
	}
	if len(routes) > limit {
		routes = routes[:limit]
		return routes, routes[limit-1].Key().Cursor(), nil
	}
	return routes, "", nil
}

func routeToJSON(r storage.Route) routeJSON {
	j := routeJSON{
		Host: r.Host, Peer: r.Peer, PeerASN: r.PeerASN, Family: r.Family, PathID: r.PathID,
		RD: r.RD, Labels: r.Labels, NextHop: r.NextHop, NextHopLinkLocal: r.NextHopLinkLocal,
		Path: r.Path, Origin: r.Origin, MED: r.MED, LocalPref: r.LocalPref,
		Community: r.Community, LargeCommunity: r.LargeCommunity, ExtCommunity: r.ExtCommunity,
		AtomicAggregate: r.AtomicAggregate, Aggregator: r.Aggregator, OriginatorID: r.OriginatorID,
		ClusterList: r.ClusterList, OTC: r.OTC, AIGP: r.AIGP, OtherAttrs: r.OtherAttrs,
		Timestamp: unixSeconds(r.Time), Seq: r.Seq, ID: r.ID,
	}
	if r.NLRI != "" {
		j.Prefix = r.NLRI
	} else {
		j.Prefix = r.Prefix.String()
	}
	if j.Path == nil {
		j.Path = schema.ASPath{}
	}
	if j.Community == nil {
		j.Community = []schema.Community{}
	}
	if j.LargeCommunity == nil {
		j.LargeCommunity = []schema.LargeCommunity{}
	}
	return j
}

// parseRoutesQuery reads the parameters of /api/v1/routes (and of
// /api/v1/search, where the prefix is optional).
func (s *server) parseRoutesQuery(c echo.Context, needPrefix bool) (storage.RoutesQuery, error) {
	var q storage.RoutesQuery
	var err error
	raw := c.QueryParam("prefix")
	if raw == "" && needPrefix {
		return q, echo.NewHTTPError(http.StatusBadRequest, "prefix: missing; give a prefix (192.0.2.0/24) or an address (192.0.2.1)")
	}
	if raw != "" {
		p, bare, err := parsePrefix(raw)
		if err != nil {
			return q, badRequest("prefix", raw, err.Error())
		}
		q.Prefix = p
		q.Match = storage.MatchExact
		if bare {
			q.Match = storage.MatchLongest
		}
	}
	if m := c.QueryParam("match"); m != "" {
		if q.Match, err = storage.ParseMatch(m); err != nil {
			return q, badRequest("match", m, "want exact, longest, more or less")
		}
	}
	if v := c.QueryParam("at"); v != "" {
		if q.At, err = ParseTime(v); err != nil {
			return q, badRequest("at", v, err.Error())
		}
	}
	if q.Peer, q.Host, q.Limit, err = s.parseScope(c); err != nil {
		return q, err
	}
	if v, ok := c.QueryParams()["cursor"]; ok {
		k, err := storage.ParseCursor(v[0])
		if err != nil {
			return q, badRequest("cursor", v[0], "not the next of a previous answer; give it unchanged, with the same query")
		}
		q.After = k
	}
	return q, nil
}

// parseScope reads the parameters /api/v1/routes and /api/v1/history
// share: peer, collector and limit.
func (s *server) parseScope(c echo.Context) (peer netip.Addr, host string, limit int, err error) {
	if v := c.QueryParam("peer"); v != "" {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return peer, "", 0, badRequest("peer", v, "want an IP address such as 192.0.2.1 or 2001:db8::1")
		}
		peer = a.Unmap()
	}
	limit = s.opts.DefaultRoutes
	if vs, ok := c.QueryParams()["limit"]; ok {
		v := vs[0]
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.opts.MaxRoutes {
			return peer, "", 0, badRequest("limit", v, fmt.Sprintf("want a number from 1 to %d", s.opts.MaxRoutes))
		}
		limit = n
	}
	return peer, c.QueryParam("collector"), limit, nil
}

// historyWindow is the window /api/v1/history covers when from is not
// given: the day before to.
const historyWindow = 24 * time.Hour

// history answers /api/v1/history: every announcement and withdrawal of a
// prefix (match=more: and of its more-specifics) between from and to.
func (s *server) history(c echo.Context) error {
	var q storage.HistoryQuery
	raw := c.QueryParam("prefix")
	if raw == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "prefix: missing; give a prefix (192.0.2.0/24)")
	}
	p, _, err := parsePrefix(raw)
	if err != nil {
		return badRequest("prefix", raw, err.Error())
	}
	q.Prefix = p
	switch m := c.QueryParam("match"); m {
	case "", "exact":
	case "more":
		q.MoreSpecific = true
	default:
		return badRequest("match", m, "want exact or more")
	}
	q.To = time.Now()
	if v := c.QueryParam("to"); v != "" {
		if q.To, err = ParseTime(v); err != nil {
			return badRequest("to", v, err.Error())
		}
	}
	q.From = q.To.Add(-historyWindow)
	if v := c.QueryParam("from"); v != "" {
		if q.From, err = ParseTime(v); err != nil {
			return badRequest("from", v, err.Error())
		}
	}
	if q.To.Before(q.From) {
		return badRequest("to", c.QueryParam("to"), "before from")
	}
	if q.Peer, q.Host, q.Limit, err = s.parseScope(c); err != nil {
		return err
	}
	if v, ok := c.QueryParams()["cursor"]; ok {
		if q.After, err = storage.ParseHistoryCursor(v[0]); err != nil {
			return badRequest("cursor", v[0], "not the next of a previous answer; give it unchanged, with the same query")
		}
	}
	limit := q.Limit
	q.Limit++ // one more tells whether the answer was cut
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.QueryTimeout)
	defer cancel()
	events, err := s.store.History(ctx, q)
	if errors.Is(err, storage.ErrBadQuery) {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	truncated := len(events) > limit
	if truncated {
		events = events[:limit]
	}
	out := make([]historyEventJSON, 0, len(events))
	for _, e := range events {
		j := historyEventJSON{Type: "announce", routeJSON: routeToJSON(e.Route)}
		if e.Withdrawn {
			j = historyEventJSON{Type: "withdraw", routeJSON: routeJSON{Host: e.Host, Peer: e.Peer, PeerASN: e.PeerASN,
				Family: e.Family, Prefix: j.Prefix, PathID: e.PathID, RD: e.RD, Labels: e.Labels,
				Timestamp: unixSeconds(e.Time), Seq: e.Seq, ID: e.ID}}
		}
		out = append(out, j)
	}
	resp := map[string]any{
		"query": map[string]any{"prefix": q.Prefix.String(), "match": c.QueryParam("match"), "from": q.From.UTC().Format(time.RFC3339Nano),
			"to": q.To.UTC().Format(time.RFC3339Nano), "peer": c.QueryParam("peer"), "collector": q.Host, "limit": limit},
		"events":    out,
		"count":     len(out),
		"truncated": truncated,
	}
	if truncated {
		// The same query with cursor=next returns the following events.
		resp["next"] = events[limit-1].Key().Cursor()
	}
	return c.JSON(http.StatusOK, resp)
}

// historyEventJSON is an event of /api/v1/history: a route as in
// /api/v1/routes, and whether it was announced or withdrawn.
type historyEventJSON struct {
	Type string `json:"type"`
	routeJSON
}

// parsePrefix reads a prefix or a bare address (a host route; bare is
// then true). Host bits are cleared: 10.1.2.3/8 means 10.0.0.0/8.
func parsePrefix(s string) (p netip.Prefix, bare bool, err error) {
	addr, bits, hasLen := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return p, false, errors.New("want a prefix such as 192.0.2.0/24 or 2001:db8::/32, or an address")
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	n := a.BitLen()
	if hasLen {
		n, err = strconv.Atoi(bits)
		if err != nil || n < 0 || n > a.BitLen() || bits != strconv.Itoa(n) {
			return p, false, fmt.Errorf("bad prefix length %q: want 0-%d", bits, a.BitLen())
		}
	}
	return netip.PrefixFrom(a, n).Masked(), !hasLen, nil
}

// ParseTime reads RFC 3339 or Unix seconds (with an optional fraction).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e11 && !math.IsInf(f, 0) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
	}
	return time.Time{}, errors.New("want RFC 3339 (2024-05-14T12:00:00Z) or Unix seconds (1715688000)")
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMicro()) / 1e6
}
