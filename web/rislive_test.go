package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/schema"
)

// The live stream's tests run a real embedded nats-server with JetStream;
// events go into the log through bus.Publisher, as the collector puts them
// there, and clients talk RIS Live's protocol to /v1/ws/ and /v1/stream/.

// liveEnv is a looking glass with a live stream over a fresh event log.
type liveEnv struct {
	t    *testing.T
	conn *bus.Conn
	pub  *bus.Publisher
	live *Live
	srv  *httptest.Server
	sent atomic.Int64 // events published
}

func newLiveEnv(t *testing.T, opts LiveOptions) *liveEnv {
	t.Helper()
	// Registered first, so run last: once everything below has stopped,
	// no goroutine of the live stream (hub, replays, writers) is left.
	others := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, others) })
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	conn, err := bus.Dial(ctx, bus.Options{URL: ns.ClientURL(), Name: t.Name(), MaxAge: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	pub, err := bus.NewPublisher(conn, bus.PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })
	e := &liveEnv{t: t, conn: conn, pub: pub, live: NewLive(opts)}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.live.Run(runCtx, bus.NewLog(conn)) }()
	t.Cleanup(func() { e.live.Close(); stop(); <-done })
	e.srv = httptest.NewServer(New(nil, Options{Live: e.live}))
	t.Cleanup(e.srv.Close)
	waitFor(t, "the live stream to read the log's end", e.live.isReady)
	return e
}

// waitFor polls cond for up to 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// publish puts events into the log and waits until it holds them.
func (e *liveEnv) publish(evs ...schema.Event) {
	e.t.Helper()
	if err := e.pub.Write(e.t.Context(), evs); err != nil {
		e.t.Fatal(err)
	}
	want := uint64(e.sent.Add(int64(len(evs))))
	log := bus.NewLog(e.conn)
	waitFor(e.t, fmt.Sprintf("%d events in the log", want), func() bool {
		last, err := log.Last(e.t.Context())
		return err == nil && last >= want
	})
}

// liveEvents makes UPDATEs and other events with collector-style ids.
type liveEvents struct{ seq map[netip.Addr]uint64 }

func newLiveEvents() *liveEvents { return &liveEvents{seq: map[netip.Addr]uint64{}} }

func (g *liveEvents) event(host string, peer netip.Addr, asn uint32, typ schema.Type) schema.Event {
	g.seq[peer]++
	n := g.seq[peer]
	return schema.Event{
		Timestamp: float64(time.Now().UnixMicro()) / 1e6, Host: host, Peer: peer, PeerASN: asn, Type: typ, Seq: n,
		ID: fmt.Sprintf("%s-1700000000-%s-%d", host, peer, n),
	}
}

// update announces prefixes with a path (and withdraws those after "-").
func (g *liveEvents) update(peer netip.Addr, path []uint32, prefixes ...string) schema.Event {
	e := g.event("rrc-live", peer, 64500, schema.TypeUpdate)
	if len(path) > 0 {
		e.Path = schema.ASPath{{Type: schema.SegmentSequence, ASNs: path}}
		e.Origin = schema.OriginIGP
	}
	var ann []netip.Prefix
	for _, p := range prefixes {
		if w, ok := strings.CutPrefix(p, "-"); ok {
			wp := netip.MustParsePrefix(w)
			e.Withdrawals = append(e.Withdrawals, wp)
			fam := schema.IPv4Unicast
			if wp.Addr().Is6() {
				fam = schema.IPv6Unicast
			}
			e.Withdrawn = append(e.Withdrawn, schema.NLRISet{Family: fam, Prefixes: []netip.Prefix{wp}})
			continue
		}
		ann = append(ann, netip.MustParsePrefix(p))
	}
	if len(ann) > 0 {
		fam, nh := schema.IPv4Unicast, netip.MustParseAddr("192.0.2.254")
		if ann[0].Addr().Is6() {
			fam, nh = schema.IPv6Unicast, netip.MustParseAddr("2001:db8::fe")
		}
		e.Announcements = []schema.Announcement{{NextHop: nh, NLRISet: schema.NLRISet{Family: fam, Prefixes: ann}}}
	}
	return e
}

// wsClient is a RIS Live client: frames arrive on a channel fed by a
// reading goroutine.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	frames chan wsFrame
	closed chan error // the read error that ended the socket
}

type wsFrame struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func (e *liveEnv) dial(query string, read bool) *wsClient {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/v1/ws/?client=vantage-test&client_version=1.0&instance=" + e.t.Name() + query
	ctx, cancel := context.WithTimeout(e.t.Context(), 60*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		e.t.Fatalf("dial %s: %v", url, err)
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		e.t.Errorf("permessage-deflate not negotiated: Sec-WebSocket-Extensions %q", ext)
	}
	conn.SetReadLimit(64 << 20)
	c := &wsClient{t: e.t, conn: conn, frames: make(chan wsFrame, 100_000), closed: make(chan error, 1)}
	e.t.Cleanup(func() { conn.CloseNow() })
	if read {
		c.startReading()
	}
	return c
}

func (c *wsClient) startReading() {
	go func() {
		for {
			_, b, err := c.conn.Read(context.Background())
			if err != nil {
				c.closed <- err
				close(c.frames)
				return
			}
			var f wsFrame
			if err := json.Unmarshal(b, &f); err != nil {
				c.t.Errorf("frame is not JSON: %v: %s", err, b)
				continue
			}
			c.frames <- f
		}
	}()
}

func (c *wsClient) send(typ string, data any) {
	c.t.Helper()
	b, err := json.Marshal(map[string]any{"type": typ, "data": data})
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(b))
}

func (c *wsClient) sendRaw(msg string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 60*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next frame (60 s at most).
func (c *wsClient) next() wsFrame {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatalf("socket closed: %v", <-c.closed)
		}
		return f
	case <-time.After(60 * time.Second):
		c.t.Fatal("no frame within 60 s")
	}
	return wsFrame{}
}

// expect returns the next frame, which must be of type typ.
func (c *wsClient) expect(typ string) wsFrame {
	c.t.Helper()
	f := c.next()
	if f.Type != typ {
		c.t.Fatalf("got %s %s, want %s", f.Type, f.Data, typ)
	}
	return f
}

// subscribe sends ris_subscribe with acknowledge and waits for the ok.
func (c *wsClient) subscribe(data map[string]any) {
	c.t.Helper()
	d := map[string]any{"socketOptions": map[string]any{"acknowledge": true}}
	for k, v := range data {
		d[k] = v
	}
	c.send("ris_subscribe", d)
	c.expect("ris_subscribe_ok")
}

// idsUntil reads ris_message frames up to and including the one with id
// last, and returns their ids in order.
func (c *wsClient) idsUntil(last string) []string {
	c.t.Helper()
	var ids []string
	for {
		f := c.expect("ris_message")
		var ev struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(f.Data, &ev); err != nil {
			c.t.Fatal(err)
		}
		if ev.ID == last {
			return ids
		}
		ids = append(ids, ev.ID)
	}
}

var (
	livePeerA    = netip.MustParseAddr("192.0.2.1")
	livePeerB    = netip.MustParseAddr("2001:db8::2")
	sentinelPeer = netip.MustParseAddr("203.0.113.250")
)

// TestLiveFilters runs every RIS Live filter rule (and its default) and
// Vantage's community and family filters: one socket per case subscribes,
// the same events go into the log, and each socket must get exactly the
// events its filter matches, in log order. A last event that only a
// second subscription of every socket matches (by peer) marks the end.
func TestLiveFilters(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{})
	g := newLiveEvents()
	evs := map[string]schema.Event{
		"exact":    g.update(livePeerA, []uint32{64500, 64496}, "10.1.0.0/16"),
		"more":     g.update(livePeerA, []uint32{64501, 64500, 64497}, "10.1.2.0/24"),
		"less":     g.update(livePeerA, []uint32{64502, 64503}, "10.0.0.0/8"),
		"other":    g.update(livePeerA, []uint32{64502, 64504}, "10.2.0.0/16"),
		"withdraw": g.update(livePeerA, nil, "-10.1.3.0/24"),
		"v6":       g.update(livePeerB, []uint32{64505, 64496}, "2001:db8:1::/48"),
		"state":    g.event("rrc-live", livePeerA, 64500, schema.TypePeerState),
		"other-host": func() schema.Event {
			e := g.event("rrc-other.example.net", livePeerA, 64500, schema.TypeKeepalive)
			return e
		}(),
	}
	set := evs["less"]
	set.Path = append(set.Path, schema.Segment{Type: schema.SegmentSet, ASNs: []uint32{64511, 64510}})
	evs["less"] = set
	ex := evs["exact"]
	ex.Community = []schema.Community{{64500, 100}}
	ex.LargeCommunity = []schema.LargeCommunity{{64500, 1, 2}}
	evs["exact"] = ex
	mo := evs["more"]
	mo.ExtCommunity = []schema.ExtCommunity{{0x02, 0x02, 0, 0, 0xfd, 0xe8, 0, 7}} // rt:65000:7, 4-octet AS form
	evs["more"] = mo
	st := evs["state"]
	st.State = schema.StateConnected
	evs["state"] = st
	order := []string{"exact", "more", "less", "other", "withdraw", "v6", "state", "other-host"}

	cases := []struct {
		name string
		sub  map[string]any
		want []string
	}{
		{"everything", map[string]any{}, order},
		{"prefix default moreSpecific", map[string]any{"prefix": "10.1.0.0/16"}, []string{"exact", "more", "withdraw"}},
		{"prefix exact only", map[string]any{"prefix": "10.1.0.0/16", "moreSpecific": false}, []string{"exact"}},
		{"prefix lessSpecific", map[string]any{"prefix": "10.1.0.0/16", "moreSpecific": false, "lessSpecific": true}, []string{"exact", "less"}},
		{"prefix list", map[string]any{"prefix": []string{"10.2.0.0/16", "2001:db8::/32"}}, []string{"other", "v6"}},
		{"path origin", map[string]any{"path": "64496$"}, []string{"exact", "v6"}},
		{"path first", map[string]any{"path": "^64501"}, []string{"more"}},
		{"path anywhere as number", map[string]any{"path": 64500}, []string{"exact", "more"}},
		{"path run", map[string]any{"path": "64501,64500"}, []string{"more"}},
		{"path whole", map[string]any{"path": "^64500,64496$"}, []string{"exact"}},
		{"path AS_SET", map[string]any{"path": "64503,[64510,64511]$"}, []string{"less"}},
		{"path negated", map[string]any{"type": "UPDATE", "path": "!64496$"}, []string{"more", "less", "other", "withdraw"}},
		{"peer", map[string]any{"peer": "2001:db8::2"}, []string{"v6"}},
		{"type", map[string]any{"type": "RIS_PEER_STATE"}, []string{"state"}},
		{"host", map[string]any{"host": "rrc-other"}, []string{"other-host"}},
		{"require withdrawals", map[string]any{"require": "withdrawals"}, []string{"withdraw"}},
		{"require announcements and type", map[string]any{"require": "announcements", "peer": "192.0.2.1"}, []string{"exact", "more", "less", "other"}},
		{"community", map[string]any{"community": "64500:100"}, []string{"exact"}},
		{"large community", map[string]any{"community": []string{"64500:1:2", "1:2"}}, []string{"exact"}},
		{"family", map[string]any{"family": "ipv6/unicast"}, []string{"v6"}},
		{"extended community", map[string]any{"community": "rt:65000:7"}, []string{"more"}},
	}
	clients := make([]*wsClient, len(cases))
	for i, c := range cases {
		clients[i] = env.dial("", true)
		clients[i].subscribe(c.sub)
		clients[i].subscribe(map[string]any{"peer": sentinelPeer.String()})
	}
	var all []schema.Event
	idName := map[string]string{}
	for _, name := range order {
		all = append(all, evs[name])
		idName[evs[name].ID] = name
	}
	end := g.event("rrc-live", sentinelPeer, 64999, schema.TypeKeepalive)
	env.publish(append(all, end)...)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, id := range clients[i].idsUntil(end.ID) {
				got = append(got, idName[id])
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("subscription %v got %v, want %v", c.sub, got, c.want)
			}
		})
	}
	// Closed sockets leave nothing behind in the hub.
	for _, c := range clients {
		c.conn.Close(websocket.StatusNormalClosure, "")
	}
	env.waitForgotten()
}

// waitForgotten waits until the hub holds no client: no connection, none
// joined, nothing indexed.
func (e *liveEnv) waitForgotten() {
	e.t.Helper()
	waitFor(e.t, "the hub to forget the closed connections", func() bool {
		l := e.live
		l.mu.Lock()
		defer l.mu.Unlock()
		x := l.index
		return l.connected.Load() == 0 && len(l.clients) == 0 && len(x.byPrefix) == 0 && len(x.other) == 0 && x.lens == [2][129]int{}
	})
}

// TestLiveMessageFormat checks a ris_message frame: RIS Live's fields
// (timestamp as float seconds, peer_asn a string, path, community,
// announcements with next_hop and prefixes, withdrawals), Vantage's
// further fields, and raw only with includeRaw.
func TestLiveMessageFormat(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{})
	g := newLiveEvents()
	ev := g.update(livePeerA, []uint32{64500, 64496}, "198.51.100.0/24", "-203.0.113.0/24")
	ev.Community = []schema.Community{{64500, 100}}
	ev.LargeCommunity = []schema.LargeCommunity{{64500, 1, 2}}
	ev.MED = u32(10)
	otc := uint32(64500)
	ev.OTC = &otc
	ev.Announcements[0].PathIDs = []uint32{7}
	ev.Aggregator = &schema.Aggregator{ASN: 64496, Address: netip.MustParseAddr("192.0.2.9")}
	ev.Raw = "ffffffffffffffffffffffffffffffff001304"
	plain := env.dial("", true)
	plain.subscribe(map[string]any{"type": "UPDATE"})
	withRaw := env.dial("", true)
	withRaw.subscribe(map[string]any{"type": "UPDATE", "socketOptions": map[string]any{"includeRaw": true, "acknowledge": true}})
	env.publish(ev)

	f := plain.expect("ris_message")
	var data map[string]any
	if err := json.Unmarshal(f.Data, &data); err != nil {
		t.Fatal(err)
	}
	if ts, ok := data["timestamp"].(float64); !ok || ts < 1e9 {
		t.Errorf("timestamp %v: want float seconds", data["timestamp"])
	}
	want := map[string]string{
		"peer": `"192.0.2.1"`, "peer_asn": `"64500"`, "host": `"rrc-live"`, "type": `"UPDATE"`, "id": `"` + ev.ID + `"`,
		"path": `[64500,64496]`, "community": `[[64500,100]]`, "origin": `"IGP"`, "med": `10`,
		"announcements":   `[{"family":"ipv4/unicast","next_hop":"192.0.2.254","path_ids":[7],"prefixes":["198.51.100.0/24"]}]`,
		"withdrawals":     `["203.0.113.0/24"]`,
		"large_community": `[[64500,1,2]]`, "otc": `64500`,
		"aggregator": `"64496:192.0.2.9"`, // as RIS Live writes it
	}
	for k, w := range want {
		b, _ := json.Marshal(data[k])
		if string(b) != w {
			t.Errorf("%s = %s, want %s", k, b, w)
		}
	}
	if _, ok := data["raw"]; ok {
		t.Errorf("raw sent without includeRaw: %s", f.Data)
	}
	f = withRaw.expect("ris_message")
	if err := json.Unmarshal(f.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data["raw"] != ev.Raw || data["aggregator"] != "64496:192.0.2.9" {
		t.Errorf("raw with includeRaw = %v (want %s), aggregator %v", data["raw"], ev.Raw, data["aggregator"])
	}
}

// TestLiveProtocol: acknowledge, ping/pong (JSON and WebSocket frames),
// request_rrc_list, and ris_unsubscribe stopping one subscription of
// several on a socket.
func TestLiveProtocol(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{})
	g := newLiveEvents()
	c := env.dial("", true)

	sub := map[string]any{"prefix": "10.9.0.0/16", "moreSpecific": false, "socketOptions": map[string]any{"acknowledge": true}}
	c.send("ris_subscribe", sub)
	ok := c.expect("ris_subscribe_ok")
	var okData struct {
		Subscription  map[string]any `json:"subscription"`
		SocketOptions map[string]any `json:"socketOptions"`
	}
	if err := json.Unmarshal(ok.Data, &okData); err != nil || okData.Subscription["prefix"] != "10.9.0.0/16" || okData.SocketOptions["acknowledge"] != true {
		t.Errorf("ris_subscribe_ok data %s (%v)", ok.Data, err)
	}
	c.subscribe(map[string]any{"prefix": []string{"10.8.0.0/16", "10.7.0.0/16"}})
	c.subscribe(map[string]any{"peer": sentinelPeer.String()})

	c.send("ping", nil)
	c.expect("pong")
	pinged := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		pinged <- c.conn.Ping(ctx)
	}()

	first := []schema.Event{
		g.update(livePeerA, []uint32{1}, "10.9.0.0/16"),
		g.update(livePeerA, []uint32{1}, "10.8.0.0/16"),
		g.update(livePeerA, []uint32{1}, "10.7.0.0/16"),
	}
	end1 := g.event("rrc-live", sentinelPeer, 64999, schema.TypeKeepalive)
	env.publish(append(first, end1)...)
	if got := c.idsUntil(end1.ID); len(got) != 3 {
		t.Errorf("before unsubscribing got %v, want 3 events", got)
	}
	if err := <-pinged; err != nil {
		t.Errorf("WebSocket ping frame not answered: %v", err)
	}

	// Unsubscribe one prefix of the list, and the first subscription
	// (socketOptions do not take part in a subscription's identity).
	c.send("ris_unsubscribe", map[string]any{"prefix": "10.8.0.0/16"})
	c.send("ris_unsubscribe", map[string]any{"prefix": "10.9.0.0/16", "moreSpecific": false})
	c.send("request_rrc_list", nil)
	list := c.expect("ris_rrc_list")
	if !strings.Contains(string(list.Data), `"rrc-live"`) {
		t.Errorf("ris_rrc_list %s lacks rrc-live", list.Data)
	}
	second := []schema.Event{
		g.update(livePeerA, []uint32{1}, "10.9.0.0/16"),
		g.update(livePeerA, []uint32{1}, "10.8.0.0/16"),
		g.update(livePeerA, []uint32{1}, "10.7.0.0/16"),
	}
	end2 := g.event("rrc-live", sentinelPeer, 64999, schema.TypeKeepalive)
	env.publish(append(second, end2)...)
	if got := c.idsUntil(end2.ID); fmt.Sprint(got) != fmt.Sprint([]string{second[2].ID}) {
		t.Errorf("after unsubscribing got %v, want only %s", got, second[2].ID)
	}
}

// TestLiveBadInput: every bad message gets a ris_error that names what is
// wrong, and the socket goes on working.
func TestLiveBadInput(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{})
	c := env.dial("", true)
	cases := []struct{ msg, want string }{
		{`not json`, "not a JSON object"},
		{`{"type":"ris_subscribe","data":{"prefix":"10.0.0.300/8"}}`, `prefix "10.0.0.300/8"`},
		{`{"type":"ris_subscribe","data":{"prefix":[]}}`, "prefix: an empty array"},
		{`{"type":"ris_subscribe","data":{"path":"^12x$"}}`, `path "^12x$"`},
		{`{"type":"ris_subscribe","data":{"path":"1,[2,3"}}`, "not closed"},
		{`{"type":"ris_subscribe","data":{"path":true}}`, "path: want an ASN"},
		{`{"type":"ris_subscribe","data":{"type":"FOO"}}`, `type "FOO"`},
		{`{"type":"ris_subscribe","data":{"moreSpecific":"yes"}}`, "moreSpecific: want true or false"},
		{`{"type":"ris_subscribe","data":{"prefixx":"10.0.0.0/8"}}`, `unknown field "prefixx"`},
		{`{"type":"ris_subscribe","data":{"require":"bogus"}}`, `require "bogus"`},
		{`{"type":"ris_subscribe","data":{"peer":"not-an-ip"}}`, `peer "not-an-ip"`},
		{`{"type":"ris_subscribe","data":{"community":"1:2:3:4"}}`, `community "1:2:3:4"`},
		{`{"type":"ris_subscribe","data":{"community":"rt:x:1"}}`, `community "rt:x:1": an extended community`},
		{`{"type":"ris_subscribe","data":{"family":"ipv5/unicast"}}`, `family "ipv5/unicast"`},
		{`{"type":"ris_subscribe","data":{"since":"yesterday"}}`, `since "yesterday"`},
		{`{"type":"ris_subscribe","data":{"since":"2024-01-01T00:00:00Z","afterId":"x"}}`, "not both"},
		{`{"type":"ris_subscribe","data":{"socketOptions":{"includeRaw":1}}}`, "socketOptions: includeRaw"},
		{`{"type":"ris_subscribe","data":[1]}`, "want a JSON object"},
		{`{"type":"ris_unsubscribe","data":{"prefix":"x"}}`, `ris_unsubscribe: prefix "x"`},
		{`{"type":"subscribe"}`, `unknown message type "subscribe"`},
		{`{"data":{}}`, `no "type"`},
	}
	for _, tc := range cases {
		c.sendRaw(tc.msg)
		f := c.expect("ris_error")
		var d struct{ Message string }
		if err := json.Unmarshal(f.Data, &d); err != nil || !strings.Contains(d.Message, tc.want) {
			t.Errorf("%s: ris_error %s, want it to say %q", tc.msg, f.Data, tc.want)
		}
	}
	c.send("ping", nil)
	c.expect("pong")
	// A plain HTTP request to /v1/stream/ with a bad subscription is a 400
	// naming the header.
	req := httptest.NewRequest("GET", "/v1/stream/", nil)
	req.Header.Set(SubscribeHeader, `{"prefix":"nope"}`)
	rec := httptest.NewRecorder()
	New(nil, Options{Live: env.live}).ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `X-RIS-Subscribe: prefix \"nope\"`) {
		t.Errorf("/v1/stream/ with a bad X-RIS-Subscribe: %d %s", rec.Code, rec.Body)
	}
}

func TestPathPattern(t *testing.T) {
	path := flattenPath(schema.ASPath{
		{Type: schema.SegmentSequence, ASNs: []uint32{3333, 1299, 64496}},
		{Type: schema.SegmentSet, ASNs: []uint32{64511, 64510}},
	})
	cases := []struct {
		pattern string
		want    bool
	}{
		{"1299", true}, {"^3333", true}, {"^1299", false}, {"[64510,64511]$", true}, {"64496$", false},
		{"64496,[64510,64511]$", true}, {"^3333,1299,64496,[64510,64511]$", true}, {"!^3333", false},
		{"!6666$", true}, {"3333,64496", false}, {"[64510]", false}, {"  ^3333 ", true},
	}
	for _, c := range cases {
		p, err := parsePathPattern(c.pattern)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		if got := p.match(path); got != c.want {
			t.Errorf("%q on %v: %v, want %v", c.pattern, path, got, c.want)
		}
	}
	for _, bad := range []string{"", "!", "^$", "1,,2", "1,", "a", "[1,b]", "4294967296", "[1,2"} {
		if _, err := parsePathPattern(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// BenchmarkLiveDispatch measures the hub's work per event of the log with
// 1,000 clients subscribed to one /24 each (as BGPalerter subscribes):
// decoding the event, finding the subscriptions it matches through the
// prefix index, and queueing its frame for the one client it matches.
func BenchmarkLiveDispatch(b *testing.B) {
	l := NewLive(LiveOptions{})
	l.ready = true
	const n = 1000
	prefix := func(i int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
	}
	var clients []*client
	for i := 0; i < n; i++ {
		c := l.newClient()
		req, err := parseSubscribe([]byte(`{"type":"UPDATE","prefix":"` + prefix(i).String() + `"}`))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.subscribe(req.subs); err != nil {
			b.Fatal(err)
		}
		l.joinNow(c)
		clients = append(clients, c)
	}
	var data [][]byte
	for i := 0; i < n; i++ {
		p := netip.AddrFrom4([4]byte{192, 0, 2, byte(i%20 + 1)})
		ev := schema.Event{
			Timestamp: 1.7e9 + float64(i), Peer: p, PeerASN: 64500, Host: "bench", Type: schema.TypeUpdate, Seq: uint64(i), ID: fmt.Sprintf("bench-1-%s-%d", p, i),
			Path:          schema.ASPath{{Type: schema.SegmentSequence, ASNs: []uint32{64500, 3333, 1299, 65000}}},
			Origin:        schema.OriginIGP,
			Community:     []schema.Community{{64500, 100}, {3333, 200}},
			Announcements: []schema.Announcement{{NextHop: p, NLRISet: schema.NLRISet{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{prefix(i)}}}},
		}
		data = append(data, ev.AppendJSON(nil))
	}
	b.ReportAllocs()
	var ev liveEvent
	seq := uint64(0)
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		seq++
		d := data[seq%n]
		ev.reset(seq, d)
		if err := ev.ev.DecodeJSON(d); err != nil {
			b.Fatal(err)
		}
		l.advance(seq, &ev)
		if seq%n == 0 {
			for _, c := range clients {
				for _, ok := c.out.pop(); ok; _, ok = c.out.pop() {
				}
			}
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	// CPU time of the whole process per event: on a shared machine, what
	// the hub costs, whatever the wall clock says.
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	if l.Dropped.Load() != 0 {
		b.Fatalf("%d clients dropped", l.Dropped.Load())
	}
}

// TestLiveManySubscriptions: one socket with 2,000 subscriptions (one
// ris_subscribe per prefix, as BGPalerter sends them) gets every matching
// event once, also one that matches several of them.
func TestLiveManySubscriptions(t *testing.T) {
	env := newLiveEnv(t, LiveOptions{})
	g := newLiveEvents()
	c := env.dial("", true)
	prefix := func(i int) string { return fmt.Sprintf("10.%d.%d.0/24", i/256, i%256) }
	const n = 2000
	for i := 0; i < n; i++ {
		c.send("ris_subscribe", map[string]any{"prefix": prefix(i), "moreSpecific": true, "type": "UPDATE", "host": nil,
			"socketOptions": map[string]any{"includeRaw": false, "acknowledge": i == n-1}})
	}
	c.expect("ris_subscribe_ok")
	var evs []schema.Event
	for i := 0; i < n; i += 10 {
		evs = append(evs, g.update(livePeerA, []uint32{64500}, prefix(i)))
	}
	both := g.update(livePeerA, []uint32{64500}, prefix(1), prefix(2), "192.0.2.0/24")
	none := g.update(livePeerA, []uint32{64500}, "192.0.2.0/24")
	end := g.update(livePeerA, []uint32{64500}, prefix(n-1))
	env.publish(append(evs, both, none, end)...)
	var want []string
	for _, e := range append(evs, both) {
		want = append(want, e.ID)
	}
	if got := c.idsUntil(end.ID); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %d events, want %d: %.300v", len(got), len(want), got)
	}
}
