package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"
)

// This file serves GET /v1/ws/: RIS Live's WebSocket protocol. Client
// messages are JSON {"type": ..., "data": ...}:
//
//	ris_subscribe     data: filters (rislive_sub.go); acknowledged with
//	                  ris_subscribe_ok when socketOptions.acknowledge is set
//	ris_unsubscribe   data: the filters of a subscription to stop
//	ping              answered with pong
//	request_rrc_list  answered with ris_rrc_list: the collectors seen
//
// The server sends ris_message (data: the event), ris_error (data:
// {"message": ...}) for a bad message, and a last ris_error before it
// closes a client that reads too slowly. WebSocket ping frames are answered
// by the library; permessage-deflate is negotiated when the client offers it.
//
// Resuming: since=TIME or afterId=EVENT_ID in the URL, or in the socket's
// first ris_subscribe, replays the log from there (rislive_client.go); the
// replay starts once no ris_subscribe has come for LiveOptions.ResumeSettle,
// so a client's burst of subscriptions is replayed whole.

// maxClientMessage bounds one message from a client (a ris_subscribe with
// a long prefix list).
const maxClientMessage = 1 << 20

func (s *server) liveWS(c echo.Context) error {
	l := s.opts.Live
	if l == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the live stream is off: lg has no event log (nats) configured")
	}
	resume, err := resumeFromQuery(c.QueryParams())
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	conn, err := websocket.Accept(c.Response(), c.Request(), &websocket.AcceptOptions{
		InsecureSkipVerify: true, // a public read-only feed, as RIS Live's
		CompressionMode:    websocket.CompressionNoContextTakeover,
	})
	if err != nil {
		return nil // Accept answered the request
	}
	conn.SetReadLimit(maxClientMessage)
	l.serveWS(c.Request().Context(), conn, resume)
	return nil
}

// resumeFromQuery reads since and afterId from a URL's query.
func resumeFromQuery(q url.Values) (resumePoint, error) {
	var since, after json.RawMessage
	if v := q.Get("since"); v != "" {
		since, _ = json.Marshal(v)
	}
	if v := q.Get("afterId"); v != "" {
		after, _ = json.Marshal(v)
	}
	return parseResume(since, after)
}

// clientMessage is a message from a WebSocket client.
type clientMessage struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// wsSession is the state of one socket that its reading loop owns.
type wsSession struct {
	l       *Live
	c       *client
	ctx     context.Context
	wg      *sync.WaitGroup
	resume  resumePoint
	started bool          // joined the hub or began to resume
	settle  chan struct{} // a ris_subscribe came: the resume waits on
}

func (l *Live) serveWS(ctx context.Context, conn *websocket.Conn, resume resumePoint) {
	c := l.newClient()
	// Last: once the writer and any replay have ended, none can join the
	// client to the hub again.
	defer l.leave(c)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		l.writeWS(ctx, conn, c)
		cancel()
	})
	ss := &wsSession{l: l, c: c, ctx: ctx, wg: &wg, resume: resume, settle: make(chan struct{}, 1)}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if !ss.handle(b) {
			return
		}
	}
}

// writeWS sends the client's frames until it ends. A write that takes
// longer than WriteTimeout closes the connection; the timer is the
// connection's own, reset per write (a context per write would cost an
// allocation and a timer each, and the library's timeout machinery).
func (l *Live) writeWS(ctx context.Context, conn *websocket.Conn, c *client) {
	defer conn.CloseNow()
	defer c.wakeOn(ctx)()
	stall := time.AfterFunc(time.Hour, func() { conn.CloseNow() })
	stall.Stop()
	defer stall.Stop()
	for {
		f, final, ok := c.next(ctx)
		if !ok {
			conn.Close(websocket.StatusNormalClosure, "")
			return
		}
		stall.Reset(l.opts.WriteTimeout)
		err := conn.Write(context.Background(), websocket.MessageText, f)
		stall.Stop()
		if err != nil {
			return
		}
		if final {
			conn.Close(websocket.StatusPolicyViolation, "too slow")
			return
		}
	}
}

// handle answers one client message; false ends the session.
func (ss *wsSession) handle(b []byte) bool {
	var m clientMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return ss.c.sendError(ss.ctx, "message is not a JSON object {\"type\": ..., \"data\": ...}: "+explainJSON(err).Error())
	}
	switch m.Type {
	case "ris_subscribe":
		return ss.subscribe(m.Data)
	case "ris_unsubscribe":
		req, err := parseSubscribe(m.Data)
		if err != nil {
			return ss.c.sendError(ss.ctx, "ris_unsubscribe: "+err.Error())
		}
		ss.c.unsubscribe(req.subs)
		return true
	case "ping":
		return ss.c.send(ss.ctx, []byte(`{"type":"pong","data":null}`))
	case "request_rrc_list":
		hosts, _ := json.Marshal(ss.l.Hosts())
		return ss.c.send(ss.ctx, appendFrame(nil, "ris_rrc_list", hosts))
	case "":
		return ss.c.sendError(ss.ctx, "message has no \"type\"; want ris_subscribe, ris_unsubscribe, ping or request_rrc_list")
	}
	return ss.c.sendError(ss.ctx, "unknown message type "+quote(m.Type)+"; want ris_subscribe, ris_unsubscribe, ping or request_rrc_list")
}

func (ss *wsSession) subscribe(data json.RawMessage) bool {
	req, err := parseSubscribe(data)
	if err == nil && !req.resume.isZero() {
		switch {
		case ss.started:
			err = errors.New(req.resume.String() + ": this socket already streams; give since or afterId in the URL or in the socket's first ris_subscribe")
		case !ss.resume.isZero() && ss.resume != req.resume:
			err = errors.New(req.resume.String() + ": the socket already resumes from " + ss.resume.String())
		}
	}
	if err != nil {
		return ss.c.sendError(ss.ctx, "ris_subscribe: "+err.Error())
	}
	if req.options != nil {
		ss.c.includeRaw.Store(req.options.IncludeRaw)
		ss.c.ack.Store(req.options.Acknowledge)
	}
	if err := ss.c.subscribe(req.subs); err != nil {
		return ss.c.sendError(ss.ctx, "ris_subscribe: "+err.Error())
	}
	if !req.resume.isZero() && !ss.started {
		ss.resume = req.resume
	}
	switch {
	case ss.started && !ss.resume.isZero():
		select { // the resume waits for the burst to end
		case ss.settle <- struct{}{}:
		default:
		}
	case ss.started:
	case ss.resume.isZero():
		ss.started = true
		ss.l.joinNow(ss.c)
	default:
		ss.started = true
		r := ss.resume
		ss.wg.Go(func() { ss.resumeAfterBurst(r) })
	}
	if ss.c.ack.Load() {
		ok, _ := json.Marshal(struct {
			Subscription  json.RawMessage `json:"subscription"`
			SocketOptions socketOptions   `json:"socketOptions"`
		}{compactOrNull(data), socketOptions{IncludeRaw: ss.c.includeRaw.Load(), Acknowledge: true}})
		return ss.c.send(ss.ctx, appendFrame(nil, "ris_subscribe_ok", ok))
	}
	return true
}

// resumeAfterBurst waits until no ris_subscribe has come for ResumeSettle
// (at most 5 s), then replays.
func (ss *wsSession) resumeAfterBurst(r resumePoint) {
	settle := ss.l.opts.ResumeSettle
	deadline := time.NewTimer(max(5*time.Second, settle))
	defer deadline.Stop()
	quiet := time.NewTimer(settle)
	defer quiet.Stop()
wait:
	for {
		select {
		case <-ss.settle:
			quiet.Reset(settle)
		case <-quiet.C:
			break wait
		case <-deadline.C:
			break wait
		case <-ss.ctx.Done():
			return
		}
	}
	ss.c.resume(ss.ctx, r)
}

func compactOrNull(b json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if isNull(b) || json.Compact(&buf, b) != nil {
		return json.RawMessage("null")
	}
	return buf.Bytes()
}
