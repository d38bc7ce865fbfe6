package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// This file serves GET /v1/stream/: the live stream over plain HTTP, as
// RIS Live's firehose: one JSON frame per line ({"type":"ris_message",
// "data":...}), the subscription (ris_subscribe's data) in the
// X-RIS-Subscribe header (none: everything), since or afterId in the query
// or the header to resume. A bad subscription is a 400; a client that
// reads too slowly gets a last ris_error line and the response ends.

// SubscribeHeader carries /v1/stream/'s subscription.
const SubscribeHeader = "X-RIS-Subscribe"

var newline = []byte{'\n'}

func (s *server) liveStream(c echo.Context) error {
	l := s.opts.Live
	if l == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the live stream is off: lg has no event log (nats) configured")
	}
	if f := c.QueryParam("format"); f != "" && f != "json" {
		return badRequest("format", f, "want json (one JSON message per line)")
	}
	req, err := parseSubscribe([]byte(c.Request().Header.Get(SubscribeHeader)))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, SubscribeHeader+": "+err.Error())
	}
	resume, err := resumeFromQuery(c.QueryParams())
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if !req.resume.isZero() {
		if !resume.isZero() && resume != req.resume {
			return echo.NewHTTPError(http.StatusBadRequest, SubscribeHeader+": "+req.resume.String()+" and the query's "+resume.String()+": give one")
		}
		resume = req.resume
	}

	if isHead(c) { // the headers of a stream, without the stream
		c.Response().Header().Set(echo.HeaderContentType, "application/x-ndjson")
		return c.NoContent(http.StatusOK)
	}
	cl := l.newClient()
	defer l.leave(cl) // last: after the replay, which could join cl again
	if err := cl.subscribe(req.subs); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, SubscribeHeader+": "+err.Error())
	}
	if req.options != nil {
		cl.includeRaw.Store(req.options.IncludeRaw)
	}
	ctx, cancel := context.WithCancel(c.Request().Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	if resume.isZero() {
		l.joinNow(cl)
	} else {
		wg.Go(func() { cl.resume(ctx, resume) })
	}

	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	rc := http.NewResponseController(w)
	defer cl.wakeOn(ctx)()
	for {
		f, final, ok := cl.next(ctx)
		if !ok {
			return nil
		}
		_ = rc.SetWriteDeadline(time.Now().Add(l.opts.WriteTimeout))
		// f is shared with other clients: never append to it.
		if _, err := w.Write(f); err != nil {
			return nil
		}
		if _, err := w.Write(newline); err != nil {
			return nil
		}
		if final || !cl.pending() {
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
		if final {
			return nil
		}
	}
}
