package web

import (
	"io"
	"net/http"
	"net/netip"
	"os/exec"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vantage-bgp/vantage/storage"
)

// DefaultWriteLag is Options.WriteLag's default.
const DefaultWriteLag = 6 * time.Second

// mrtFormat reads the format parameter: gz (the default) or bz2.
func mrtFormat(c echo.Context) (format, contentType string, err error) {
	switch v := c.QueryParam("format"); v {
	case "", "gz":
		return "gz", "application/gzip", nil
	case "bz2":
		if _, err := exec.LookPath("bzip2"); err != nil {
			return "", "", badRequest("format", v, "bz2 not available on this server (no bzip2 program); use gz")
		}
		return "bz2", "application/x-bzip2", nil
	default:
		return "", "", badRequest("format", v, "want gz or bz2")
	}
}

// mrtScope reads the peer (repeatable) and collector parameters.
func mrtScope(c echo.Context) ([]netip.Addr, string, error) {
	var peers []netip.Addr
	for _, v := range c.QueryParams()["peer"] {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return nil, "", badRequest("peer", v, "want an IP address such as 192.0.2.1 or 2001:db8::1")
		}
		peers = append(peers, a.Unmap())
	}
	return peers, c.QueryParam("collector"), nil
}

// mrtTime reads a required time parameter.
func mrtTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, echo.NewHTTPError(http.StatusBadRequest, name+": missing; give RFC 3339 (2024-05-14T12:00:00Z) or Unix seconds")
	}
	t, err := ParseTime(v)
	if err != nil {
		return time.Time{}, badRequest(name, v, err.Error())
	}
	return t, nil
}

// risName is a RIS-style file name: kind.YYYYMMDD.HHMM.format.
func risName(kind string, t time.Time, format string) string {
	return kind + "." + t.UTC().Format("20060102.1504") + "." + format
}

// mrtUpdates answers /api/v1/mrt/updates: the messages and session changes
// from from (included) to to (excluded) as BGP4MP_ET, compressed.
func (s *server) mrtUpdates(c echo.Context) error {
	st, ok := s.store.(MRTStore)
	if !ok {
		return echo.NewHTTPError(http.StatusNotImplemented, "this store cannot export MRT")
	}
	from, err := mrtTime(c, "from")
	if err != nil {
		return err
	}
	to, err := mrtTime(c, "to")
	if err != nil {
		return err
	}
	if !from.Before(to) {
		return badRequest("to", c.QueryParam("to"), "must be later than from")
	}
	peers, host, err := mrtScope(c)
	if err != nil {
		return err
	}
	format, ctype, err := mrtFormat(c)
	if err != nil {
		return err
	}
	q := storage.UpdatesQuery{From: from, To: to, Peers: peers, Host: host}
	h := c.Response().Header()
	if q.StillWritten(time.Now(), s.opts.WriteLag) {
		// The window's last seconds may still be on their way to the
		// store: a later request may get more.
		h.Set("X-Vantage-Incomplete", "true")
	}
	return s.streamMRT(c, ctype, risName("updates", from, format), format, func(w io.Writer) error {
		_, err := ExportUpdates(c.Request().Context(), st, q, w, UpdatesOptions{})
		return err
	})
}

// mrtRIB answers /api/v1/mrt/rib: the routes current at at as a
// TABLE_DUMP_V2 RIB, compressed.
func (s *server) mrtRIB(c echo.Context) error {
	st, ok := s.store.(MRTStore)
	if !ok {
		return echo.NewHTTPError(http.StatusNotImplemented, "this store cannot export MRT")
	}
	at, err := mrtTime(c, "at")
	if err != nil {
		return err
	}
	peers, host, err := mrtScope(c)
	if err != nil {
		return err
	}
	format, ctype, err := mrtFormat(c)
	if err != nil {
		return err
	}
	q := storage.RIBQuery{At: at, Peers: peers, Host: host}
	if q.At.After(time.Now().Add(-s.opts.WriteLag)) {
		c.Response().Header().Set("X-Vantage-Incomplete", "true")
	}
	return s.streamMRT(c, ctype, risName("bview", at, format), format, func(w io.Writer) error {
		_, err := ExportRIB(c.Request().Context(), st, q, w)
		return err
	})
}

// streamMRT writes the export as the response, compressed. The status and
// headers go with the first compressed bytes; an error before them is
// answered as usual (JSON), one after them aborts the response, so that
// the client sees a broken transfer rather than a short file that looks
// whole.
func (s *server) streamMRT(c echo.Context, ctype, name, format string, export func(io.Writer) error) error {
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, ctype)
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	if isHead(c) {
		// The headers of the export, without reading it.
		res.WriteHeader(http.StatusOK)
		return nil
	}
	lazy := &lazyStatus{res: res}
	zw, err := Compress(lazy, format)
	if err != nil {
		return err
	}
	err = export(zw)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if !lazy.started {
			res.Header().Del(echo.HeaderContentDisposition)
			return err
		}
		s.log.Error("MRT export failed after its response began", "path", c.Request().URL.Path, "query", c.QueryString(), "err", err)
		panic(http.ErrAbortHandler)
	}
	if !lazy.started {
		res.WriteHeader(http.StatusOK)
	}
	return nil
}

// lazyStatus writes the 200 status with the first bytes.
type lazyStatus struct {
	res     *echo.Response
	started bool
}

func (l *lazyStatus) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		l.res.WriteHeader(http.StatusOK)
	}
	return l.res.Write(b)
}
