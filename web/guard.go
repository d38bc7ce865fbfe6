package web

// This file owns what stands between a client and the handlers: API
// tokens, per-client rate and concurrency limits, CORS, and HEAD served as
// GET without a body.

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// Limits are the per-client limits and access rules; the zero value allows
// everything.
type Limits struct {
	// Rate is the requests per second one client may make on average (0:
	// no limit), Burst how many it may make at once beyond that (default
	// twice Rate, at least 1).
	Rate  int
	Burst int
	// MaxConcurrent is the requests one client may have in progress at
	// once (0: no limit).
	MaxConcurrent int
	// Tokens, when set, are the API tokens: every /api/ request must carry
	// one as "Authorization: Bearer TOKEN". A client that gives one is
	// limited per token, others per address.
	Tokens []string
	// CORSOrigins are the origins whose pages may call the API from a
	// browser ("*": any); none: only pages of the looking glass itself.
	CORSOrigins []string
	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For header names the client; others' is ignored.
	TrustedProxies []netip.Prefix
}

// unlimited reports whether a path is served outside the limits: health
// checks and scrapes come from the operator's own systems, and the live
// stream (/v1/) holds its connections for long and limits them itself.
func unlimited(path string) bool {
	return path == "/healthz" || path == "/metrics" || strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/static/")
}

// guard applies Limits.
type guard struct {
	limits  Limits
	metrics *metrics

	mu        sync.Mutex
	clients   map[string]*clientState
	lastSweep time.Time
}

type clientState struct {
	limiter  *rate.Limiter
	inflight int
	last     time.Time
}

// clientIdle is how long a client's state is kept after its last request.
const clientIdle = 5 * time.Minute

func newGuard(l Limits, m *metrics) *guard {
	if l.Rate > 0 && l.Burst <= 0 {
		l.Burst = max(2*l.Rate, 1)
	}
	return &guard{limits: l, metrics: m, clients: map[string]*clientState{}}
}

// ipExtractor is how the client's address is read: from X-Forwarded-For
// only when the connection comes from a trusted proxy.
func (g *guard) ipExtractor() echo.IPExtractor {
	if len(g.limits.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range g.limits.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(prefixIPNet(p)))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// cors is the CORS middleware, nil when no origin is configured.
func (g *guard) cors() echo.MiddlewareFunc {
	if len(g.limits.CORSOrigins) == 0 {
		return nil
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:  g.limits.CORSOrigins,
		AllowMethods:  []string{http.MethodGet, http.MethodHead},
		AllowHeaders:  []string{"Authorization"},
		ExposeHeaders: []string{"X-Vantage-Incomplete", "Retry-After"},
		MaxAge:        3600,
	})
}

// headAsGet serves a HEAD request as the GET of its path: echo routes by
// the request's method, and the http.Server, which still sees HEAD,
// discards what the handler writes as the body.
func headAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.WithContext(context.WithValue(r.Context(), headKey{}, true))
			r.Method = http.MethodGet
		}
		h.ServeHTTP(w, r)
	})
}

// headKey marks the context of a HEAD request served as GET.
type headKey struct{}

// isHead reports whether the request came as HEAD: a handler whose body
// is costly to make (an MRT export) may stop after the headers.
func isHead(c echo.Context) bool {
	v, _ := c.Request().Context().Value(headKey{}).(bool)
	return v
}

// middleware checks the token and the client's limits.
func (g *guard) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		path := c.Request().URL.Path
		if unlimited(path) || c.Request().Method == http.MethodOptions {
			return next(c)
		}
		key := "addr " + c.RealIP()
		if len(g.limits.Tokens) > 0 && strings.HasPrefix(path, "/api/") {
			tok, err := g.token(c)
			if err != nil {
				g.metrics.limited("token")
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="vantage"`)
				return err
			}
			key = "token " + tok
		}
		cl, retry, why := g.admit(key)
		if why != "" {
			g.metrics.limited(why)
			if retry > 0 {
				c.Response().Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
			}
			return echo.NewHTTPError(http.StatusTooManyRequests, g.refusal(why, c.RealIP()))
		}
		defer g.release(cl)
		return next(c)
	}
}

// token returns the request's valid token, or a 401 error.
func (g *guard) token(c echo.Context) (string, error) {
	h := c.Request().Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", echo.NewHTTPError(http.StatusUnauthorized, "Authorization: missing; this API needs a token: send the header Authorization: Bearer TOKEN")
	}
	for _, t := range g.limits.Tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
			return t, nil
		}
	}
	return "", echo.NewHTTPError(http.StatusUnauthorized, "Authorization: not a token of this looking glass")
}

// admit counts a request of key against its limits; why is "rate" or
// "concurrency" when it is refused (with the time after which the rate
// allows one, for Retry-After).
func (g *guard) admit(key string) (cl *clientState, retry time.Duration, why string) {
	l := g.limits
	if l.Rate <= 0 && l.MaxConcurrent <= 0 {
		return nil, 0, ""
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	cl = g.clients[key]
	if cl == nil {
		cl = &clientState{}
		if l.Rate > 0 {
			cl.limiter = rate.NewLimiter(rate.Limit(l.Rate), l.Burst)
		}
		g.clients[key] = cl
	}
	cl.last = now
	if l.MaxConcurrent > 0 && cl.inflight >= l.MaxConcurrent {
		return nil, time.Second, "concurrency"
	}
	if cl.limiter != nil {
		r := cl.limiter.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return nil, d, "rate"
		}
	}
	cl.inflight++
	return cl, 0, ""
}

func (g *guard) release(cl *clientState) {
	if cl == nil {
		return
	}
	g.mu.Lock()
	cl.inflight--
	g.mu.Unlock()
}

// sweep forgets clients idle for clientIdle, at most once a minute.
func (g *guard) sweep(now time.Time) {
	if now.Sub(g.lastSweep) < time.Minute {
		return
	}
	g.lastSweep = now
	for k, cl := range g.clients {
		if cl.inflight == 0 && now.Sub(cl.last) > clientIdle {
			delete(g.clients, k)
		}
	}
}

func (g *guard) refusal(why, addr string) string {
	if why == "concurrency" {
		return "too many requests at once from " + addr + ": at most " + strconv.Itoa(g.limits.MaxConcurrent) + "; wait for one to finish"
	}
	return "rate limit: at most " + strconv.Itoa(g.limits.Rate) + " requests per second from " + addr + "; retry after the Retry-After seconds"
}

func prefixIPNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
