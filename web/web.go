// Package web owns the looking glass's HTTP side: the JSON API, health
// check and the embedded web UI, served with echo.
//
// New returns an http.Handler; it holds no goroutines and no state beyond
// the storage.DB it queries, so any number of looking glasses can serve the
// same store. The caller owns the http.Server and its shutdown.
//
// Errors are JSON {"error": "..."}: 400 for a bad request, naming the
// parameter and what is wrong with it; 422 for a query the store refused
// for its limits (storage.ErrQueryTooExpensive), saying which; 503 when the
// store does not answer in time (or from /healthz), 500 when it fails. The
// store's own error text is logged, never sent.
package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/vantage-bgp/vantage/storage"
)

// Options tunes the looking glass. The zero value means the defaults.
type Options struct {
	// Log receives one line per failed request (and per request at debug
	// level). Nil discards.
	Log *slog.Logger
	// MaxRoutes caps the routes of one /api/v1/routes response (default
	// 10,000); a request may ask for up to that many with limit=N, and
	// gets DefaultRoutes (default 1,000, at most MaxRoutes) without.
	MaxRoutes     int
	DefaultRoutes int
	// QueryTimeout bounds each request's store queries (default 30s): a
	// backstop for a store that does not answer. Give the store's own
	// limit (storage.QueryLimits) less, so that it refuses an expensive
	// query with a reason first.
	QueryTimeout time.Duration
	// WriteLag is how long events take to reach the store (the writers'
	// flush interval and some margin; default DefaultWriteLag): an MRT
	// export of a window that ends less than WriteLag ago is answered
	// with the header X-Vantage-Incomplete: true.
	WriteLag time.Duration
	// Live serves the RIS Live stream (/v1/ws/, /v1/stream/) when set;
	// its owner runs it (Live.Run). Nil: those answer 503.
	Live *Live
	// Limits are the per-client limits, API tokens and CORS origins.
	Limits Limits
	// RIB, when set and ready, answers the route queries about now that
	// it can (one prefix, longest match, less-specifics, unfiltered) from
	// memory instead of the store; its owner loads it and keeps it current.
	RIB *storage.LiveRIB
}

// Defaults of Options.
const (
	DefaultMaxRoutes     = 10_000
	DefaultDefaultRoutes = 1_000
)

// Store is what the looking glass reads; *storage.DB implements it.
type Store interface {
	Ping(ctx context.Context) error
	Peers(ctx context.Context) ([]storage.Peer, error)
	Routes(ctx context.Context, q storage.RoutesQuery) ([]storage.Route, error)
	History(ctx context.Context, q storage.HistoryQuery) ([]storage.RouteEvent, error)
}

var _ Store = (*storage.DB)(nil)

type server struct {
	store      Store
	opts       Options
	log        *slog.Logger
	metrics    *metrics
	openapiDoc []byte
	pages      *pages
}

// New returns the looking glass handler: the paths of endpoints.go (the
// web UI, /api/v1/ and its OpenAPI description, /healthz, /metrics). HEAD
// is answered wherever GET is.
//
//	GET /v1/ws/            RIS Live's WebSocket stream of the event log (Options.Live)
//	GET /v1/stream/        the same as JSON lines, subscription in X-RIS-Subscribe
func New(store Store, opts Options) http.Handler {
	e, _ := newServer(store, opts)
	return headAsGet(e)
}

// newServer returns the echo instance and the server behind it.
func newServer(store Store, opts Options) (*echo.Echo, *server) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxRoutes <= 0 {
		opts.MaxRoutes = DefaultMaxRoutes
	}
	if opts.DefaultRoutes <= 0 {
		opts.DefaultRoutes = DefaultDefaultRoutes
	}
	opts.DefaultRoutes = min(opts.DefaultRoutes, opts.MaxRoutes)
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 30 * time.Second
	}
	if opts.WriteLag <= 0 {
		opts.WriteLag = DefaultWriteLag
	}
	doc, err := openAPI()
	if err != nil {
		panic("web: openapi: " + err.Error()) // endpoints.go is static: a test builds it
	}
	s := &server{store: store, opts: opts, log: opts.Log, metrics: newMetrics(), openapiDoc: doc, pages: newPages()}
	if opts.Live != nil {
		s.metrics.extra = append(s.metrics.extra, opts.Live.writeMetrics)
	}
	if opts.RIB != nil {
		s.metrics.extra = append(s.metrics.extra, func(w io.Writer) { writeRIBMetrics(w, opts.RIB) })
	}
	g := newGuard(opts.Limits, s.metrics)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = g.ipExtractor()
	if cors := g.cors(); cors != nil {
		e.Pre(cors)
	}
	e.Use(s.metrics.middleware, middleware.Recover(), s.logRequests, g.middleware, checkParams)

	e.GET("/", s.uiIndex)
	e.GET("/search", s.uiSearch)
	e.GET("/peers", s.uiPeers)
	e.GET("/peer", s.uiPeer)
	e.GET("/history", s.uiHistory)
	e.GET("/live", s.uiLive)
	e.GET("/static/*", s.uiStatic)
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", s.metrics.handler)
	e.GET("/api/v1/openapi.json", s.openapi)
	e.GET("/api/v1/peers", s.peers)
	e.GET("/api/v1/routes", s.routes)
	e.GET("/api/v1/history", s.history)
	e.GET("/api/v1/search", s.search)
	e.GET("/api/v1/mrt/updates", s.mrtUpdates)
	e.GET("/api/v1/mrt/rib", s.mrtRIB)
	e.GET("/v1/ws/", s.liveWS)
	e.GET("/v1/ws", s.liveWS)
	e.GET("/v1/stream/", s.liveStream)
	e.GET("/v1/stream", s.liveStream)
	return e, s
}

// badRequest is a 400 error about a request parameter.
func badRequest(param, value, reason string) error {
	return echo.NewHTTPError(http.StatusBadRequest, param+" "+quote(value)+": "+reason)
}

func quote(s string) string {
	b, _ := jsonMarshal(s)
	return string(b)
}

// handleError writes every error as {"error": "..."}.
func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := s.errorStatus(c, err)
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(code)
	} else {
		err = c.JSON(code, map[string]string{"error": msg})
	}
	if err != nil {
		s.log.Warn("write error response", "err", err)
	}
}

func (s *server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if s.log.Enabled(c.Request().Context(), slog.LevelDebug) {
			s.log.Debug("request", "method", c.Request().Method, "uri", c.Request().RequestURI,
				"status", c.Response().Status, "duration", time.Since(start), "err", err)
		}
		return err
	}
}

func (s *server) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "clickhouse: not answering").SetInternal(err)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
