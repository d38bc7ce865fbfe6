package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// This file reads ris_subscribe's data (RIS Live's filters and Vantage's
// additions) into subscriptions. Every error names the field and what is
// wrong with its value; it becomes a ris_error (or a 400 on /v1/stream/).

// subscribeData is ris_subscribe's (and ris_unsubscribe's) data. Fields
// that may be null or of several JSON types are kept raw and read by hand.
type subscribeData struct {
	Host          json.RawMessage `json:"host"`
	Type          json.RawMessage `json:"type"`
	Require       json.RawMessage `json:"require"`
	Peer          json.RawMessage `json:"peer"`
	Path          json.RawMessage `json:"path"`
	Prefix        json.RawMessage `json:"prefix"`
	MoreSpecific  json.RawMessage `json:"moreSpecific"`
	LessSpecific  json.RawMessage `json:"lessSpecific"`
	SocketOptions json.RawMessage `json:"socketOptions"`
	// Vantage's additions.
	Community json.RawMessage `json:"community"`
	Family    json.RawMessage `json:"family"`
	Since     json.RawMessage `json:"since"`
	AfterID   json.RawMessage `json:"afterId"`
}

// socketOptions apply to every subscription of a socket; the last
// ris_subscribe that carries them sets them.
type socketOptions struct {
	IncludeRaw  bool `json:"includeRaw"`
	Acknowledge bool `json:"acknowledge"`
}

// resumePoint is where a socket starts reading the log: after an event
// (afterID) or at a time (since); the zero value means "from now".
type resumePoint struct {
	afterID string
	since   time.Time
}

func (r resumePoint) isZero() bool { return r.afterID == "" && r.since.IsZero() }

func (r resumePoint) String() string {
	if r.afterID != "" {
		return "afterId " + strconv.Quote(r.afterID)
	}
	return "since " + r.since.UTC().Format(time.RFC3339Nano)
}

// subscription is one filter: an event matches when every set field does.
type subscription struct {
	key       string // the canonical form, for ris_unsubscribe
	host      string
	typ       schema.Type // TypeUnknown: any
	require   string
	has       func(*schema.Event) bool // require's test
	peer      netip.Addr
	path      *pathPattern
	prefix    netip.Prefix // invalid: any
	more      bool
	less      bool
	community []communityFilter // any of
	families  []schema.Family   // any of
}

// subscribeRequest is a parsed ris_subscribe: its subscriptions (one per
// prefix), the socket options when given, and a resume point when given.
type subscribeRequest struct {
	subs    []*subscription
	options *socketOptions
	resume  resumePoint
}

// parseSubscribe reads ris_subscribe's data; null or absent data subscribes
// to everything.
func parseSubscribe(data []byte) (*subscribeRequest, error) {
	var d subscribeData
	if len(bytes.TrimSpace(data)) > 0 && !isNull(data) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return nil, explainJSON(err)
		}
	}
	req := &subscribeRequest{}
	base := subscription{more: true}
	var err error
	if base.host, err = optString(d.Host, "host"); err != nil {
		return nil, err
	}
	typ, err := optString(d.Type, "type")
	if err != nil {
		return nil, err
	}
	if typ != "" {
		if err := base.typ.UnmarshalText([]byte(typ)); err != nil || base.typ == schema.TypeUnknown {
			return nil, fmt.Errorf("type %q: want UPDATE, OPEN, NOTIFICATION, KEEPALIVE, RIS_PEER_STATE or ROUTE_REFRESH", typ)
		}
	}
	if base.require, err = optString(d.Require, "require"); err != nil {
		return nil, err
	}
	if base.require != "" {
		if base.has = requireKeys[base.require]; base.has == nil {
			return nil, fmt.Errorf("require %q: not a key of ris_message data; want one of %s", base.require, strings.Join(requireKeyNames(), ", "))
		}
	}
	peer, err := optString(d.Peer, "peer")
	if err != nil {
		return nil, err
	}
	if peer != "" {
		if base.peer, err = netip.ParseAddr(peer); err != nil {
			return nil, fmt.Errorf("peer %q: not an IP address", peer)
		}
		base.peer = base.peer.Unmap()
	}
	if !isNull(d.Path) {
		if base.path, err = parsePathValue(d.Path); err != nil {
			return nil, err
		}
	}
	if b, err := optBool(d.MoreSpecific, "moreSpecific"); err != nil {
		return nil, err
	} else if b != nil {
		base.more = *b
	}
	if b, err := optBool(d.LessSpecific, "lessSpecific"); err != nil {
		return nil, err
	} else if b != nil {
		base.less = *b
	}
	if !isNull(d.SocketOptions) {
		req.options = &socketOptions{}
		dec := json.NewDecoder(bytes.NewReader(d.SocketOptions))
		dec.DisallowUnknownFields()
		if err := dec.Decode(req.options); err != nil {
			return nil, fmt.Errorf("socketOptions: %w", explainJSON(err))
		}
	}
	communities, err := stringOrList(d.Community, "community")
	if err != nil {
		return nil, err
	}
	for _, c := range communities {
		f, err := parseCommunityFilter(c)
		if err != nil {
			return nil, err
		}
		base.community = append(base.community, f)
	}
	families, err := stringOrList(d.Family, "family")
	if err != nil {
		return nil, err
	}
	for _, f := range families {
		fam, err := schema.ParseFamily(f)
		if err != nil {
			return nil, fmt.Errorf("family %q: %v", f, err)
		}
		base.families = append(base.families, fam)
	}
	if req.resume, err = parseResume(d.Since, d.AfterID); err != nil {
		return nil, err
	}
	prefixes, err := stringOrList(d.Prefix, "prefix")
	if err != nil {
		return nil, err
	}
	if len(prefixes) == 0 {
		base.key = base.canonical()
		req.subs = append(req.subs, &base)
		return req, nil
	}
	for _, p := range prefixes {
		s := base
		if s.prefix, err = parsePrefixFilter(p); err != nil {
			return nil, err
		}
		s.key = s.canonical()
		req.subs = append(req.subs, &s)
	}
	return req, nil
}

// parsePrefixFilter reads a prefix; a bare address is its host prefix.
func parsePrefixFilter(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		p = p.Masked()
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("prefix %q: not an IPv4 or IPv6 prefix (like 192.0.2.0/24 or 2001:db8::/32)", s)
}

// parseResume reads since (RFC 3339 or Unix seconds, as a string or a
// number) and afterId; at most one of them.
func parseResume(since, afterID json.RawMessage) (resumePoint, error) {
	var r resumePoint
	id, err := optString(afterID, "afterId")
	if err != nil {
		return r, err
	}
	r.afterID = id
	if !isNull(since) {
		var s string
		if since[0] == '"' {
			if err := json.Unmarshal(since, &s); err != nil {
				return r, fmt.Errorf("since: %v", err)
			}
		} else {
			s = string(since)
		}
		if r.since, err = parseResumeTime(s); err != nil {
			return r, err
		}
	}
	if r.afterID != "" && !r.since.IsZero() {
		return r, errors.New("since and afterId: give one of them, not both")
	}
	return r, nil
}

// parseResumeTime reads TIME as RFC 3339 or Unix seconds (with a fraction).
func parseResumeTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e11 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("since %q: want RFC 3339 (2024-05-14T12:00:00Z) or Unix seconds", s)
}

// canonical writes the subscription's filters (not its resume point, nor
// socket options), so that ris_unsubscribe finds the subscription it
// repeats.
func (s *subscription) canonical() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host=%s type=%d require=%s peer=%s prefix=%s more=%t less=%t path=", s.host, s.typ, s.require, s.peer, s.prefix, s.more, s.less)
	if s.path != nil {
		b.WriteString(s.path.text)
	}
	b.WriteString(" community=")
	for _, c := range s.community {
		b.WriteString(c.text + ",")
	}
	b.WriteString(" family=")
	for _, f := range s.families {
		b.WriteString(f.String() + ",")
	}
	return b.String()
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

func optString(b json.RawMessage, field string) (string, error) {
	if isNull(b) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", fmt.Errorf("%s: want a string, got %s", field, clip(b))
	}
	return s, nil
}

func optBool(b json.RawMessage, field string) (*bool, error) {
	if isNull(b) {
		return nil, nil
	}
	var v bool
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: want true or false, got %s", field, clip(b))
	}
	return &v, nil
}

// stringOrList reads a string or an array of strings.
func stringOrList(b json.RawMessage, field string) ([]string, error) {
	if isNull(b) {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: want a string or an array of strings, got %s", field, clip(b))
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: an empty array matches nothing; leave %s out to match any", field, field)
	}
	return list, nil
}

// clip shortens a JSON value for an error message.
func clip(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

// explainJSON turns encoding/json's errors into ones that name the field.
func explainJSON(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Errorf("data: want a JSON object, got %s", te.Value)
		}
		return fmt.Errorf("%s: want %s, got %s", te.Field, te.Type, te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, se)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s; the fields are host, type, require, peer, path, prefix, moreSpecific, lessSpecific, socketOptions (includeRaw, acknowledge), community, family, since, afterId", msg)
	}
	return err
}

// communityFilter is a standard (A:B), large (A:B:C) or extended
// (rt:..., soo:..., 0xHEX, as the event's ext_community writes it)
// community.
type communityFilter struct {
	text  string
	large bool
	std   schema.Community
	lc    schema.LargeCommunity
	ext   string // the extended community's canonical text; "" for others
}

func parseCommunityFilter(s string) (communityFilter, error) {
	if strings.HasPrefix(s, "rt:") || strings.HasPrefix(s, "soo:") || strings.HasPrefix(s, "0x") {
		var ec schema.ExtCommunity
		if err := ec.UnmarshalText([]byte(s)); err != nil {
			return communityFilter{}, fmt.Errorf("community %q: an extended community is rt:ASN:N, rt:IP:N, soo:... or 0xHEX of 8 or 20 bytes", s)
		}
		return communityFilter{text: s, ext: ec.String()}, nil
	}
	parts := strings.Split(s, ":")
	bad := fmt.Errorf("community %q: want ASN:VALUE (standard, each 0-65535), GLOBAL:LOCAL1:LOCAL2 (large, each 0-4294967295) or an extended one (rt:ASN:N, soo:ASN:N, 0xHEX)", s)
	var n [3]uint64
	for i, p := range parts {
		if i >= 3 {
			return communityFilter{}, bad
		}
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return communityFilter{}, bad
		}
		n[i] = v
	}
	switch len(parts) {
	case 2:
		if n[0] > 0xffff || n[1] > 0xffff {
			return communityFilter{}, bad
		}
		return communityFilter{text: s, std: schema.Community{uint16(n[0]), uint16(n[1])}}, nil
	case 3:
		return communityFilter{text: s, large: true, lc: schema.LargeCommunity{uint32(n[0]), uint32(n[1]), uint32(n[2])}}, nil
	}
	return communityFilter{}, bad
}

// requireKeys tests, per key of ris_message data, whether an event has it.
var requireKeys = map[string]func(*schema.Event) bool{
	"announcements":    func(e *schema.Event) bool { return len(e.Announcements) > 0 },
	"withdrawals":      func(e *schema.Event) bool { return len(e.Withdrawals) > 0 },
	"withdrawn":        func(e *schema.Event) bool { return len(e.Withdrawn) > 0 },
	"path":             func(e *schema.Event) bool { return len(e.Path) > 0 },
	"community":        func(e *schema.Event) bool { return len(e.Community) > 0 },
	"large_community":  func(e *schema.Event) bool { return len(e.LargeCommunity) > 0 },
	"ext_community":    func(e *schema.Event) bool { return len(e.ExtCommunity) > 0 },
	"origin":           func(e *schema.Event) bool { return !e.Origin.IsZero() },
	"med":              func(e *schema.Event) bool { return e.MED != nil },
	"local_pref":       func(e *schema.Event) bool { return e.LocalPref != nil },
	"aggregator":       func(e *schema.Event) bool { return e.Aggregator != nil },
	"atomic_aggregate": func(e *schema.Event) bool { return e.AtomicAggregate },
	"originator_id":    func(e *schema.Event) bool { return e.OriginatorID.IsValid() },
	"cluster_list":     func(e *schema.Event) bool { return len(e.ClusterList) > 0 },
	"otc":              func(e *schema.Event) bool { return e.OTC != nil },
	"aigp":             func(e *schema.Event) bool { return e.AIGP != nil },
	"other_attributes": func(e *schema.Event) bool { return len(e.OtherAttrs) > 0 },
	"end_of_rib":       func(e *schema.Event) bool { return !e.EndOfRIB.IsZero() },
	"state":            func(e *schema.Event) bool { return !e.State.IsZero() },
	"reason":           func(e *schema.Event) bool { return e.Reason != "" },
	"notification":     func(e *schema.Event) bool { return e.Notification != nil },
	"open":             func(e *schema.Event) bool { return e.Open != nil },
	"route_refresh":    func(e *schema.Event) bool { return e.RouteRefresh != nil },
	"raw":              func(e *schema.Event) bool { return e.Raw != "" },
}

func requireKeyNames() []string {
	var names []string
	for k := range requireKeys {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
