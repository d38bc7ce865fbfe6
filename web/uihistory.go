package web

// This file owns the web UI's history page: a prefix's announcements,
// withdrawals and path changes across peers in a window, as a timeline
// (server-drawn SVG, a row per peer) and a table.

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vantage-bgp/vantage/storage"
)

// uiHistoryEvents is the most events the history page reads.
const uiHistoryEvents = 2000

// timeline geometry, in SVG units.
const (
	tlWidth  = 1000
	tlLabel  = 290 // room for the peer labels on the left
	tlRowH   = 22
	tlHeader = 24
)

type tlMark struct {
	X     float64
	Kind  string // announce, change, withdraw
	Title string
}

type tlRow struct {
	Label string
	Y     int
	Marks []tlMark
}

type tlTick struct {
	X     float64
	Label string
	Class string // first, last: anchored so as not to be cut
}

type timeline struct {
	Width, Height, Left int
	Rows                []tlRow
	Ticks               []tlTick
}

type historyRow struct {
	Time   string
	Kind   string
	Host   string
	Peer   string
	Prefix string
	PathID uint32
	Path   []pathElem
	Comms  []commView
}

// uiHistory shows /history?prefix=P[&from=T&to=T][&peer=IP][&collector=NAME]:
// the window defaults to the day before to (default now).
func (s *server) uiHistory(c echo.Context) error {
	base, _, _ := basePage(c)
	raw := c.QueryParam("prefix")
	base.Title = "History of " + raw
	if raw == "" {
		return s.uiFail(c, base, echo.NewHTTPError(http.StatusBadRequest, "prefix: missing; give a prefix (192.0.2.0/24)"))
	}
	p, _, err := parsePrefix(raw)
	if err != nil {
		return s.uiFail(c, base, badRequest("prefix", raw, err.Error()))
	}
	base.Q = p.String()
	q := storage.HistoryQuery{Prefix: p, Limit: uiHistoryEvents + 1, To: time.Now().UTC()}
	for _, tp := range []struct {
		name string
		t    *time.Time
	}{{"to", &q.To}, {"from", &q.From}} {
		if v := c.QueryParam(tp.name); v != "" {
			if *tp.t, err = parseUITime(v); err != nil {
				return s.uiFail(c, base, badRequest(tp.name, v, err.Error()))
			}
		}
	}
	if c.QueryParam("to") == "" && c.QueryParam("from") != "" {
		q.To = q.From.Add(historyWindow)
		if now := time.Now().UTC(); q.To.After(now) {
			q.To = now
		}
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-historyWindow)
	}
	if !q.To.After(q.From) {
		return s.uiFail(c, base, badRequest("to", c.QueryParam("to"), "not after from"))
	}
	if q.Peer, err = optAddr(c, "peer"); err != nil {
		return s.uiFail(c, base, err)
	}
	q.Host = c.QueryParam("collector")
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.QueryTimeout)
	defer cancel()
	events, err := s.store.History(ctx, q)
	if err != nil {
		return s.uiFail(c, base, err)
	}
	data := struct {
		page
		Prefix    string
		From, To  string
		FromInput string
		ToInput   string
		Timeline  timeline
		Events    []historyRow
		Truncated bool
		Earlier   string
		Later     string
		Counts    map[string]int
	}{page: base, Prefix: p.String(), From: fmtTime(q.From), To: fmtTime(q.To),
		FromInput: q.From.UTC().Format("2006-01-02T15:04:05"), ToInput: q.To.UTC().Format("2006-01-02T15:04:05"), Counts: map[string]int{}}
	if len(events) > uiHistoryEvents {
		events, data.Truncated = events[:uiHistoryEvents], true
	}
	span := q.To.Sub(q.From)
	shift := func(d time.Duration) string {
		v := queryCopy(c)
		v.Set("from", q.From.Add(d).UTC().Format(time.RFC3339))
		v.Set("to", q.To.Add(d).UTC().Format(time.RFC3339))
		return "/history?" + v.Encode()
	}
	data.Earlier, data.Later = shift(-span), shift(span)

	data.Timeline = drawTimeline(events, q.From, q.To)
	last := map[storage.RouteKey]string{} // the route's path at its previous announcement
	for _, e := range events {
		kind := eventKind(e, last)
		data.Counts[kind]++
		row := historyRow{Time: fmtTime(e.Time), Kind: kind, Host: e.Host, Peer: e.Peer.String(), Prefix: e.Prefix.String(), PathID: e.PathID}
		if !e.Withdrawn {
			row.Path = pathElems(e.Path)
			row.Comms = communityViews(&e.Route)
		}
		data.Events = append(data.Events, row)
	}
	// Newest first in the table.
	for i, j := 0, len(data.Events)-1; i < j; i, j = i+1, j-1 {
		data.Events[i], data.Events[j] = data.Events[j], data.Events[i]
	}
	return s.render(c, http.StatusOK, "history", data)
}

// eventKind is announce, change (an announcement with another path than
// the route's previous one in the window) or withdraw; last keeps the
// paths seen.
func eventKind(e storage.RouteEvent, last map[storage.RouteKey]string) string {
	k := e.Route.Key()
	if e.Withdrawn {
		delete(last, k)
		return "withdraw"
	}
	path := pathString(e.Path)
	prev, seen := last[k]
	last[k] = path
	if seen && prev != path {
		return "change"
	}
	return "announce"
}

// drawTimeline places the events on a row per collector and peer.
func drawTimeline(events []storage.RouteEvent, from, to time.Time) timeline {
	tl := timeline{Width: tlWidth, Left: tlLabel}
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		f := t.Sub(from).Seconds() / span
		return float64(tlLabel) + min(max(f, 0), 1)*float64(tlWidth-tlLabel-10)
	}
	rowOf := map[string]int{}
	last := map[storage.RouteKey]string{}
	for _, e := range events {
		label := e.Host + " " + e.Peer.String()
		i, ok := rowOf[label]
		if !ok {
			i = len(tl.Rows)
			rowOf[label] = i
			tl.Rows = append(tl.Rows, tlRow{Label: label + " AS" + strconv.FormatUint(uint64(e.PeerASN), 10), Y: tlHeader + i*tlRowH + tlRowH/2})
		}
		kind := eventKind(e, last)
		title := fmtTime(e.Time) + " " + kind + " " + e.Prefix.String()
		if !e.Withdrawn {
			title += " path " + pathString(e.Path)
		}
		tl.Rows[i].Marks = append(tl.Rows[i].Marks, tlMark{X: x(e.Time), Kind: kind, Title: title})
	}
	tl.Height = tlHeader + max(len(tl.Rows), 1)*tlRowH + 6
	for i := 0; i <= 4; i++ {
		t := from.Add(time.Duration(float64(to.Sub(from)) * float64(i) / 4))
		tick := tlTick{X: x(t), Label: t.UTC().Format("01-02 15:04")}
		switch i {
		case 0:
			tick.Class = "first"
		case 4:
			tick.Class = "last"
		}
		tl.Ticks = append(tl.Ticks, tick)
	}
	return tl
}
