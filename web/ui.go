package web

// This file owns the web UI's pages: server-rendered HTML from the
// templates in ui/, over the same store queries as the API. Every view is a
// GET with its state in the query string, so its URL can be shared.

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

//go:embed ui
var uiFiles embed.FS

// uiRoutes is the most routes a page shows (per family on a peer's page);
// the next page is a link.
const uiRoutes = 500

// uiPage is the routes a page shows: uiRoutes, or fewer when the API's
// maximum is lower.
func (s *server) uiPage() int { return min(uiRoutes, s.opts.MaxRoutes) }

// pages holds a template set per page, each with the shared layout.
type pages struct {
	sets   map[string]*template.Template
	static http.Handler
}

func newPages() *pages {
	p := &pages{sets: map[string]*template.Template{}}
	for _, name := range []string{"index", "search", "peers", "peer", "history", "live", "error"} {
		p.sets[name] = template.Must(template.ParseFS(uiFiles, "ui/layout.html", "ui/"+name+".html"))
	}
	static, err := fs.Sub(uiFiles, "ui/static")
	if err != nil {
		panic(err)
	}
	p.static = http.StripPrefix("/static/", http.FileServer(http.FS(static)))
	return p
}

// page is what every page's layout shows.
type page struct {
	Title string
	// Q and AtInput fill the search box and the time control.
	Q       string
	AtInput string
	// At is the time asked for, "" for now.
	At string
}

func (s *server) render(c echo.Context, code int, name string, data any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(code)
	return s.pages.sets[name].ExecuteTemplate(c.Response(), "layout", data)
}

// uiFail renders an error page: the message the API would send, with the
// API's status.
func (s *server) uiFail(c echo.Context, base page, err error) error {
	code, msg := s.errorStatus(c, err)
	base.Title = "Error"
	return s.render(c, code, "error", struct {
		page
		Code    int
		Message string
	}{base, code, msg})
}

func (s *server) uiStatic(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	s.pages.static.ServeHTTP(c.Response(), c.Request())
	return nil
}

// basePage reads the time control; a bad time is an error naming "at".
func basePage(c echo.Context) (page, time.Time, error) {
	p := page{Q: strings.TrimSpace(c.QueryParam("q"))}
	v := strings.TrimSpace(c.QueryParam("at"))
	if v == "" {
		return p, time.Time{}, nil
	}
	at, err := parseUITime(v)
	if err != nil {
		return p, at, badRequest("at", v, err.Error())
	}
	p.At, p.AtInput = fmtTime(at), at.UTC().Format("2006-01-02T15:04:05")
	return p, at, nil
}

func (s *server) uiIndex(c echo.Context) error {
	base, _, _ := basePage(c)
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.QueryTimeout)
	defer cancel()
	type stateCount struct {
		State string
		N     int
	}
	data := struct {
		page
		Peers    int
		States   []stateCount
		Error    string
		Examples []string
	}{page: base}
	peers, err := s.loadPeers(ctx)
	if err != nil {
		_, data.Error = s.errorStatus(c, err)
	}
	byState := map[string]int{}
	for _, p := range peers {
		data.Peers++
		byState[p.State]++
	}
	for _, st := range []string{"connected", "restarting", "stale", "down", "unknown"} {
		if byState[st] > 0 {
			data.States = append(data.States, stateCount{st, byState[st]})
			delete(byState, st)
		}
	}
	for st, n := range byState {
		data.States = append(data.States, stateCount{st, n})
	}
	data.Examples = []string{"193.0.0.0/21", "193.0.6.139", "AS3333", "_3333$", "^174_", "3333:100", "NO_EXPORT"}
	return s.render(c, http.StatusOK, "index", data)
}

// searchKind is what the search box was given.
type searchKind string

const (
	kindPrefix    searchKind = "prefix"
	kindAddress   searchKind = "address"
	kindASN       searchKind = "asn"
	kindCommunity searchKind = "community"
	kindASPath    searchKind = "aspath"
)

var digitsRE = regexp.MustCompile(`^(?i:as)?[0-9]+$`)

// classify tells a prefix, an address, an ASN (64496, AS64496), a
// community (65000:100, 65000:1:2, NO_EXPORT) and, failing those, an AS-path
// expression apart.
func classify(q string) searchKind {
	if _, bare, err := parsePrefix(q); err == nil {
		if bare {
			return kindAddress
		}
		return kindPrefix
	}
	if digitsRE.MatchString(q) {
		return kindASN
	}
	if _, _, ok := parseCommunity(q); ok {
		return kindCommunity
	}
	return kindASPath
}

type searchData struct {
	page
	Kind    searchKind
	Explain string
	Routes  []routeView
	NextURL string
	// Peers are the peers with the searched AS.
	Peers []peerView
	// Matches link the other match kinds of a prefix search; LiveURL its
	// live view.
	Matches []matchLink
	LiveURL string
}

type matchLink struct {
	Name, URL string
	Current   bool
}

func (s *server) uiSearch(c echo.Context) error {
	base, at, err := basePage(c)
	if err != nil {
		return s.uiFail(c, base, err)
	}
	if base.Q == "" {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	base.Title = base.Q
	data := searchData{page: base, Kind: classify(base.Q)}
	q := storage.RoutesQuery{At: at, Limit: s.uiPage()}
	var peerASN uint32
	switch data.Kind {
	case kindPrefix, kindAddress:
		p, bare, _ := parsePrefix(base.Q)
		q.Prefix, q.Match = p, storage.MatchExact
		if bare {
			q.Match = storage.MatchLongest
		}
		if m := c.QueryParam("match"); m != "" {
			if q.Match, err = storage.ParseMatch(m); err != nil {
				return s.uiFail(c, base, badRequest("match", m, "want exact, longest, more or less"))
			}
		}
		for _, m := range []storage.Match{storage.MatchExact, storage.MatchLongest, storage.MatchMore, storage.MatchLess} {
			v := queryCopy(c)
			v.Set("match", m.String())
			v.Del("cursor")
			data.Matches = append(data.Matches, matchLink{Name: m.String(), URL: "/search?" + v.Encode(), Current: m == q.Match})
		}
		data.Explain = "Routes for " + p.String() + " (" + q.Match.String() + " match)"
		data.LiveURL = "/live?" + url.Values{"prefix": {p.String()}, "more": {"1"}}.Encode()
		if bare {
			data.Explain = "Routes covering " + p.Addr().String() + " (" + q.Match.String() + " match across all peers)"
		}
	case kindASN:
		n, ok := parseASN(base.Q)
		if !ok {
			return s.uiFail(c, base, badRequest("q", base.Q, "AS 0 is reserved; want an AS number such as 64496"))
		}
		q.Filter.OriginASN, peerASN = n, n
		data.Explain = "Routes originated by AS" + strconv.FormatUint(uint64(n), 10)
	case kindCommunity:
		q.Filter, err = parseFilter("", "", base.Q)
		data.Explain = "Routes carrying the community " + base.Q
	case kindASPath:
		q.Filter, err = parseFilter("", base.Q, "")
		data.Explain = "Routes whose AS path matches " + base.Q
	}
	if err != nil {
		return s.uiFail(c, base, err)
	}
	if q.Peer, err = optAddr(c, "peer"); err != nil {
		return s.uiFail(c, base, err)
	}
	q.Host = c.QueryParam("collector")
	if v := c.QueryParam("cursor"); v != "" {
		if q.After, err = storage.ParseCursor(v); err != nil {
			return s.uiFail(c, base, badRequest("cursor", v, "not the next of a previous page"))
		}
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.QueryTimeout)
	defer cancel()
	routes, next, err := s.queryRoutes(ctx, q)
	if err != nil {
		return s.uiFail(c, base, err)
	}
	now := time.Now()
	for i := range routes {
		data.Routes = append(data.Routes, newRouteView(&routes[i], now))
	}
	if next != "" {
		v := queryCopy(c)
		v.Set("cursor", next)
		data.NextURL = "/search?" + v.Encode()
	}
	if peerASN != 0 {
		peers, err := s.loadPeers(ctx)
		if err != nil {
			return s.uiFail(c, base, err)
		}
		for _, p := range peers {
			if p.PeerASN == peerASN {
				data.Peers = append(data.Peers, newPeerView(p))
			}
		}
	}
	if base.At != "" {
		data.Explain += " at " + base.At + " UTC"
	}
	return s.render(c, http.StatusOK, "search", data)
}

// queryCopy is a copy of the request's query, to change for a link (echo
// keeps the parsed query for the request's other readers).
func queryCopy(c echo.Context) url.Values {
	v := url.Values{}
	for k, vs := range c.QueryParams() {
		v[k] = slices.Clone(vs)
	}
	return v
}

// optAddr reads an optional address parameter.
func optAddr(c echo.Context, name string) (netip.Addr, error) {
	v := c.QueryParam(name)
	if v == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return a, badRequest(name, v, "want an IP address such as 192.0.2.1 or 2001:db8::1")
	}
	return a.Unmap(), nil
}

// peerView is a peer as the peers pages show it.
type peerView struct {
	peerJSON
	URL        string
	Since      string
	Uptime     string
	LastDown   string
	LastUpdate string
	Counts     []string
}

func newPeerView(p peerJSON) peerView {
	v := peerView{peerJSON: p,
		URL:   "/peer?" + url.Values{"peer": {p.Peer.String()}, "collector": {p.Host}}.Encode(),
		Since: fmtTime(secondsTime(p.Since)), LastDown: fmtTime(secondsTime(p.LastDown)),
		LastUpdate: fmtTime(secondsTime(p.LastUpdate)),
	}
	if p.Uptime > 0 {
		v.Uptime = age(time.Duration(p.Uptime) * time.Second)
	}
	for _, fc := range p.Routes {
		if fc.Family != schema.IPv4Unicast && fc.Family != schema.IPv6Unicast {
			v.Counts = append(v.Counts, fc.Family.String()+" "+itoa(fc.Routes))
		}
	}
	return v
}

func secondsTime(sec float64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(sec * 1e6)).UTC()
}

func (s *server) uiPeers(c echo.Context) error {
	base, _, _ := basePage(c)
	base.Title = "Peers"
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.QueryTimeout)
	defer cancel()
	peers, err := s.loadPeers(ctx)
	if err != nil {
		return s.uiFail(c, base, err)
	}
	data := struct {
		page
		Peers []peerView
	}{page: base}
	for _, p := range peers {
		data.Peers = append(data.Peers, newPeerView(p))
	}
	return s.render(c, http.StatusOK, "peers", data)
}

// uiPeer shows one peer and its routes of both families (the first
// uiRoutes of each; family=ipv4|ipv6 with cursor pages on through one).
func (s *server) uiPeer(c echo.Context) error {
	base, at, err := basePage(c)
	if err != nil {
		return s.uiFail(c, base, err)
	}
	addr, err := optAddr(c, "peer")
	if err == nil && !addr.IsValid() {
		err = echo.NewHTTPError(http.StatusBadRequest, "peer: missing; give the peer's address")
	}
	if err != nil {
		return s.uiFail(c, base, err)
	}
	host := c.QueryParam("collector")
	base.Title = "Peer " + addr.String()
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.QueryTimeout)
	defer cancel()
	peers, err := s.loadPeers(ctx)
	if err != nil {
		return s.uiFail(c, base, err)
	}
	type familyRoutes struct {
		Name    string
		Routes  []routeView
		NextURL string
	}
	data := struct {
		page
		Peer     *peerView
		Addr     string
		Host     string
		Families []familyRoutes
	}{page: base, Addr: addr.String(), Host: host}
	now := time.Now()
	for _, p := range peers {
		if p.Peer == addr && (host == "" || p.Host == host) {
			v := newPeerView(p)
			data.Peer = &v
			break
		}
	}
	fams := []struct {
		name string
		all  netip.Prefix
	}{{"ipv4", netip.MustParsePrefix("0.0.0.0/0")}, {"ipv6", netip.MustParsePrefix("::/0")}}
	only := c.QueryParam("family")
	if only != "" && only != "ipv4" && only != "ipv6" {
		return s.uiFail(c, base, badRequest("family", only, "want ipv4 or ipv6"))
	}
	for _, f := range fams {
		if only != "" && f.name != only {
			continue
		}
		q := storage.RoutesQuery{Prefix: f.all, Match: storage.MatchMore, At: at, Peer: addr, Host: host, Limit: s.uiPage()}
		if v := c.QueryParam("cursor"); v != "" && only != "" {
			if q.After, err = storage.ParseCursor(v); err != nil {
				return s.uiFail(c, base, badRequest("cursor", v, "not the next of a previous page"))
			}
		}
		routes, next, err := s.queryRoutes(ctx, q)
		if err != nil {
			return s.uiFail(c, base, err)
		}
		fr := familyRoutes{Name: map[string]string{"ipv4": "IPv4", "ipv6": "IPv6"}[f.name]}
		for i := range routes {
			fr.Routes = append(fr.Routes, newRouteView(&routes[i], now))
		}
		if next != "" {
			v := url.Values{"peer": {addr.String()}, "family": {f.name}, "cursor": {next}}
			if host != "" {
				v.Set("collector", host)
			}
			if base.AtInput != "" {
				v.Set("at", base.AtInput)
			}
			fr.NextURL = "/peer?" + v.Encode()
		}
		data.Families = append(data.Families, fr)
	}
	return s.render(c, http.StatusOK, "peer", data)
}

// errorStatus is the status and message an error is answered with; the
// store's own text is logged, never returned.
func (s *server) errorStatus(c echo.Context, err error) (int, string) {
	code, msg := http.StatusInternalServerError, "the store failed; the looking glass's log says why"
	var he *echo.HTTPError
	var le *storage.LimitError
	switch {
	case errors.As(err, &he):
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(code)
		}
	case errors.As(err, &le):
		code = http.StatusUnprocessableEntity
		msg = storage.ErrQueryTooExpensive.Error() + ": " + le.Reason + "; narrow the prefix, peer or time window"
		s.log.Info("query refused", "method", c.Request().Method, "path", c.Request().URL.Path, "query", c.QueryString(), "err", err)
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusServiceUnavailable
		msg = "the store did not answer within " + s.opts.QueryTimeout.String()
	}
	if code >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "query", c.QueryString(), "err", err)
	}
	return code, msg
}

func itoa(n uint64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for i := 0; n > 0; i++ {
		if i > 0 && i%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, digits[n%10])
		n /= 10
	}
	slices.Reverse(b)
	return string(b)
}

// uiLive is the live view: the filter's values come from the query, so
// that a view can be shared; the page's script subscribes with them.
func (s *server) uiLive(c echo.Context) error {
	base, _, _ := basePage(c)
	base.Title = "Live"
	q := c.QueryParams()
	return s.render(c, http.StatusOK, "live", struct {
		page
		Prefix, Path, Peer, Collector, Community string
		More                                     bool
	}{base, q.Get("prefix"), q.Get("path"), q.Get("peer"), q.Get("collector"), q.Get("community"), q.Get("more") != "" || !q.Has("prefix")})
}
