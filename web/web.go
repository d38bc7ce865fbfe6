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
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/vantage-bgp/vantage/storage"
)

//go:embed ui
var uiFiles embed.FS

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
	store Store
	opts  Options
	log   *slog.Logger
}

// New returns the looking glass handler:
//
//	GET /                  web UI
//	GET /api/v1/peers      peers with state, ASN, uptime, route counts
//	GET /api/v1/routes     routes per peer (prefix, match, at, peer, collector, limit)
//	GET /api/v1/history    a prefix's announcements and withdrawals (prefix, match, from, to, peer, collector, limit)
//	GET /api/v1/search     routes by origin, AS-path expression or community (at, prefix, peer, collector, limit)
//	GET /api/v1/mrt/updates messages and session changes of a window as BGP4MP_ET, gzip or bz2 (from, to, peer, collector, format)
//	GET /api/v1/mrt/rib    the routes current at a time as TABLE_DUMP_V2, gzip or bz2 (at, peer, collector, format)
//	GET /v1/ws/            RIS Live's WebSocket stream of the event log (Options.Live)
//	GET /v1/stream/        the same as JSON lines, subscription in X-RIS-Subscribe
//	GET /healthz           200 when ClickHouse answers, else 503
func New(store Store, opts Options) http.Handler {
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
	s := &server{store: store, opts: opts, log: opts.Log}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.Recover())
	e.Use(s.logRequests)

	e.GET("/", s.index)
	e.GET("/healthz", s.healthz)
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
	return e
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

func (s *server) index(c echo.Context) error {
	b, err := uiFiles.ReadFile("ui/index.html")
	if err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, b)
}

func (s *server) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "clickhouse: not answering").SetInternal(err)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
