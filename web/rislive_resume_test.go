package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vantage-bgp/vantage/schema"
)

// TestLiveResume: a client that reconnects with afterId (in the URL) or
// since (in ris_subscribe) gets every event after that point exactly once
// and in order, while events keep arriving during its replay; /v1/stream/
// resumes the same way.
func TestLiveResume(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{})
	g := newLiveEvents()
	sub := map[string]any{"peer": livePeerA.String()}
	var evs []schema.Event
	for i := 0; i < 3; i++ {
		evs = append(evs, g.update(livePeerA, []uint32{64500}, fmt.Sprintf("10.0.%d.0/24", i)))
	}
	c1 := env.dial("", true)
	c1.subscribe(sub)
	env.publish(evs...)
	if got := c1.idsUntil(evs[2].ID); len(got) != 2 {
		t.Fatalf("first connection got %v", got)
	}
	c1.conn.Close(websocket.StatusNormalClosure, "")

	// While nobody listens.
	since := time.Now()
	missed := []schema.Event{g.update(livePeerA, []uint32{64500}, "10.0.3.0/24"), g.update(livePeerA, []uint32{64500}, "10.0.4.0/24")}
	env.publish(missed...)

	// Reconnect three ways while events keep coming.
	c2 := env.dial("&afterId="+evs[2].ID, true)
	c2.subscribe(sub)
	c3 := env.dial("", true)
	c3.subscribe(map[string]any{"peer": livePeerA.String(), "since": since.Format(time.RFC3339Nano)})
	stream := env.stream(t, "?format=json&afterId="+evs[2].ID, `{"peer":"192.0.2.1"}`)

	var more []schema.Event
	for i := 0; i < 300; i++ {
		more = append(more, g.update(livePeerA, []uint32{64500}, fmt.Sprintf("10.1.%d.0/24", i%256)))
	}
	end := g.update(livePeerA, []uint32{64500}, "10.2.0.0/24")
	for i := 0; i < len(more); i += 10 {
		if err := env.pub.Write(t.Context(), more[i:i+10]); err != nil {
			t.Fatal(err)
		}
		env.sent.Add(10)
	}
	env.publish(end)

	var want []string
	for _, e := range append(missed, more...) {
		want = append(want, e.ID)
	}
	for name, got := range map[string][]string{"afterId in the URL": c2.idsUntil(end.ID), "since in ris_subscribe": c3.idsUntil(end.ID), "/v1/stream/ afterId": stream.idsUntil(t, end.ID)} {
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: got %d events, want %d (first %.200v)", name, len(got), len(want), got)
		}
	}

	// An id the log does not hold: a ris_error, then the live stream.
	c4 := env.dial("&afterId=rrc-live-1700000000-192.0.2.1-999999", true)
	c4.subscribe(sub)
	f := c4.expect("ris_error")
	if !strings.Contains(string(f.Data), "not in the event log") || !strings.Contains(string(f.Data), "streaming from now on") {
		t.Errorf("unknown afterId: %s", f.Data)
	}
	last := g.update(livePeerA, []uint32{64500}, "10.3.0.0/24")
	env.publish(last)
	if got := c4.idsUntil(last.ID); len(got) != 0 {
		t.Errorf("after an unknown afterId got %v before the new event", got)
	}
	for _, c := range []*wsClient{c2, c3, c4} {
		c.conn.Close(websocket.StatusNormalClosure, "")
	}
	stream.close()
	env.waitForgotten()
}

// TestLiveSlowClient: a client that stops reading is dropped with a final
// ris_error once its queue is full, while a client that reads gets every
// event.
func TestLiveSlowClient(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{QueueLen: 100, WriteTimeout: 5 * time.Minute})
	g := newLiveEvents()

	// The slow client's socket has a small receive buffer, so that the
	// server's writes to it block soon.
	slow := env.dialWith(smallBufferClient(t), "")
	slow.send("ris_subscribe", map[string]any{"socketOptions": map[string]any{"acknowledge": true}})
	if _, b, err := slow.conn.Read(t.Context()); err != nil || !strings.Contains(string(b), "ris_subscribe_ok") {
		t.Fatalf("slow client's ack: %s %v", b, err)
	}
	fast := env.dial("", true)
	fast.subscribe(map[string]any{})

	var prefixes []string
	for i := 0; i < 200; i++ {
		prefixes = append(prefixes, fmt.Sprintf("10.%d.%d.0/24", i/256, i%256))
	}
	// Batches of 50 events (half the queue), each read by the fast client
	// before the next, until the slow one is dropped.
	sent := 0
	for batch := 0; env.live.Dropped.Load() == 0; batch++ {
		if batch == 400 {
			t.Fatalf("the slow client was not dropped after %d events", sent)
		}
		var evs []schema.Event
		for i := 0; i < 50; i++ {
			evs = append(evs, g.update(livePeerA, []uint32{64500, uint32(sent)}, prefixes...))
			sent++
		}
		env.publish(evs...)
		if got := fast.idsUntil(evs[49].ID); len(got) != 49 {
			t.Fatalf("the fast client got %d of a batch of 50 events", len(got)+1)
		}
	}
	if env.live.Dropped.Load() != 1 {
		t.Errorf("%d clients dropped, want only the slow one", env.live.Dropped.Load())
	}
	slow.startReading()
	var last wsFrame
	count := 0
	for f := range slow.frames {
		last = f
		count++
	}
	if last.Type != "ris_error" || !strings.Contains(string(last.Data), "too slow") {
		t.Errorf("the slow client's last frame (of %d) is %s %s, want a ris_error saying it is too slow", count, last.Type, last.Data)
	}
	t.Logf("dropped after %d events; the slow client read %d frames", sent, count)
	if count > sent+1 {
		t.Errorf("the slow client got %d frames, more than the %d events", count, sent)
	}
	if err := <-slow.closed; websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("slow client closed with %v, want status %d", err, websocket.StatusPolicyViolation)
	}
	// /metrics counts the drop and the fast client, still live.
	waitFor(t, "the slow client's connection to end", func() bool { return env.live.connected.Load() == 1 })
	resp, err := http.Get(env.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"vantage_lg_live_dropped_total 1\n", "vantage_lg_live_clients 1\n", `vantage_lg_live_clients{state="live"} 1` + "\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

// TestLiveStream: /v1/stream/ sends matching events as JSON lines, with
// the subscription (a prefix list here) in X-RIS-Subscribe.
func TestLiveStream(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{})
	g := newLiveEvents()
	s := env.stream(t, "?format=json&client=vantage-test", `{"prefix":["10.1.0.0/16","203.0.113.0/24"],"moreSpecific":false,"type":"UPDATE"}`)
	evs := []schema.Event{
		g.update(livePeerA, []uint32{1}, "10.1.0.0/16"),
		g.update(livePeerA, []uint32{1}, "10.1.1.0/24"),
		g.update(livePeerA, []uint32{1}, "-10.1.0.0/16"),
		g.update(livePeerA, []uint32{1}, "203.0.113.0/24"),
	}
	env.publish(evs...)
	got := s.idsUntil(t, evs[3].ID)
	if want := []string{evs[0].ID, evs[2].ID}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
	// HEAD answers the headers and ends.
	req, err := http.NewRequestWithContext(t.Context(), "HEAD", env.srv.URL+"/v1/stream/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("HEAD /v1/stream/: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
}

// streamClient reads /v1/stream/'s lines.
type streamClient struct {
	lines chan wsFrame
	close func() error
}

func (e *liveEnv) stream(t *testing.T, query, subscribe string) *streamClient {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+"/v1/stream/"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(SubscribeHeader, subscribe)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	s := &streamClient{lines: make(chan wsFrame, 100_000), close: resp.Body.Close}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("/v1/stream/: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var f wsFrame
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				t.Errorf("line is not JSON: %v: %s", err, sc.Bytes())
				return
			}
			s.lines <- f
		}
	}()
	return s
}

func (s *streamClient) idsUntil(t *testing.T, last string) []string {
	t.Helper()
	var ids []string
	timeout := time.After(60 * time.Second)
	for {
		select {
		case f, ok := <-s.lines:
			if !ok {
				t.Fatal("/v1/stream/ ended")
			}
			if f.Type != "ris_message" {
				t.Fatalf("/v1/stream/ sent %s %s", f.Type, f.Data)
			}
			var ev struct{ ID string }
			json.Unmarshal(f.Data, &ev)
			if ev.ID == last {
				return ids
			}
			ids = append(ids, ev.ID)
		case <-timeout:
			t.Fatal("no line within 60 s")
		}
	}
}

// smallBufferClient dials with a 4 KiB receive buffer.
func smallBufferClient(t *testing.T) *http.Client {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func (e *liveEnv) dialWith(hc *http.Client, query string) *wsClient {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/v1/ws/?client=vantage-test" + query
	ctx, cancel := context.WithTimeout(e.t.Context(), 60*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		e.t.Fatalf("dial %s: %v", url, err)
	}
	conn.SetReadLimit(64 << 20)
	e.t.Cleanup(func() { conn.CloseNow() })
	return &wsClient{t: e.t, conn: conn, frames: make(chan wsFrame, 100_000), closed: make(chan error, 1)}
}

// TestLiveStalledWrite: a client whose socket takes nothing for longer than
// WriteTimeout is disconnected, even while its queue has room.
func TestLiveStalledWrite(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{QueueLen: 1 << 20, WriteTimeout: 300 * time.Millisecond})
	g := newLiveEvents()
	stalled := env.dialWith(smallBufferClient(t), "")
	stalled.send("ris_subscribe", map[string]any{"socketOptions": map[string]any{"acknowledge": true}})
	if _, b, err := stalled.conn.Read(t.Context()); err != nil || !strings.Contains(string(b), "ris_subscribe_ok") {
		t.Fatalf("ack: %s %v", b, err)
	}
	var prefixes []string
	for i := 0; i < 200; i++ {
		prefixes = append(prefixes, fmt.Sprintf("10.%d.%d.0/24", i/256, i%256))
	}
	for batch := 0; env.live.connected.Load() > 0; batch++ {
		if batch == 100 {
			t.Fatal("the stalled client is still connected after 10,000 events")
		}
		var evs []schema.Event
		for i := 0; i < 100; i++ {
			evs = append(evs, g.update(livePeerA, []uint32{64500}, prefixes...))
		}
		env.publish(evs...)
	}
	if env.live.Dropped.Load() != 0 {
		t.Errorf("the stalled client was dropped for its queue (%d), not for its stalled write", env.live.Dropped.Load())
	}
}

// TestLiveClose: Close ends every connection, a WebSocket with a normal
// closure and a /v1/stream/ response, including connections waiting idle
// for their next frame (their writer wakes for it).
func TestLiveClose(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{})
	g := newLiveEvents()
	ws := env.dial("", true)
	ws.subscribe(map[string]any{"prefix": "10.9.0.0/16"})
	s := env.stream(t, "", `{"prefix":"10.9.0.0/16"}`)
	ev := g.update(livePeerA, []uint32{1}, "10.9.1.0/24")
	env.publish(ev)
	if got := ws.idsUntil(ev.ID); len(got) != 0 {
		t.Fatalf("WebSocket: before %s got %v", ev.ID, got)
	}
	if got := s.idsUntil(t, ev.ID); len(got) != 0 {
		t.Fatalf("/v1/stream/: before %s got %v", ev.ID, got)
	}
	env.live.Close()
	select {
	case err := <-ws.closed:
		if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			t.Errorf("WebSocket ended with %v, want a normal closure", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("WebSocket still open 60 s after Close")
	}
	select {
	case f, ok := <-s.lines:
		if ok {
			t.Errorf("/v1/stream/ sent %s %s after Close", f.Type, f.Data)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("/v1/stream/ still open 60 s after Close")
	}
	env.waitForgotten()
}
