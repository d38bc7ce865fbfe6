package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// TestRunLiveStream: lg reads the event log at nats.url and serves it on
// /v1/ws/.
func TestRunLiveStream(t *testing.T) {
	pub, natsURL := startEventLog(t)
	event := func(seq uint64) schema.Event {
		p := netip.MustParseAddr("192.0.2.1")
		return schema.Event{Timestamp: float64(time.Now().UnixMicro()) / 1e6, Peer: p, PeerASN: 64500, Host: "rrc-lg", Type: schema.TypeUpdate,
			Seq: seq, ID: fmt.Sprintf("rrc-lg-1-192.0.2.1-%d", seq),
			Announcements: []schema.Announcement{{NextHop: p, NLRISet: schema.NLRISet{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}}}}
	}
	if err := pub.Write(t.Context(), []schema.Event{event(1)}); err != nil {
		t.Fatal(err)
	}

	cfg := writeConfig(t, fmt.Sprintf("clickhouse: {dsn: %q, database: %s}\nlg: {listen: '127.0.0.1:0'}\nnats: {url: %q}\n",
		storagetest.DSN(t), storagetest.Database(t), natsURL))
	url, out, stop := startLG(t, cfg)
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, body := httpGet(t, url+"metrics")
		if strings.Contains(body, "vantage_lg_live_log_sequence 1\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lg's live stream did not reach the log's first event:\n%s\n%s", body, out)
		}
		time.Sleep(20 * time.Millisecond)
	}

	wctx, wcancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer wcancel()
	ws, _, err := websocket.Dial(wctx, "ws"+strings.TrimPrefix(url, "http")+"v1/ws/?client=lg-test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(wctx, websocket.MessageText, []byte(`{"type":"ris_subscribe","data":{"prefix":"198.51.100.0/24","socketOptions":{"acknowledge":true}}}`)); err != nil {
		t.Fatal(err)
	}
	if _, b, err := ws.Read(wctx); err != nil || !strings.Contains(string(b), "ris_subscribe_ok") {
		t.Fatalf("subscribe: %s %v", b, err)
	}
	if err := pub.Write(t.Context(), []schema.Event{event(2)}); err != nil {
		t.Fatal(err)
	}
	_, b, err := ws.Read(wctx)
	if err != nil || !strings.Contains(string(b), `"type":"ris_message"`) || !strings.Contains(string(b), `"id":"rrc-lg-1-192.0.2.1-2"`) {
		t.Errorf("got %s %v, want the second event as a ris_message", b, err)
	}

	if err := stop(); err != nil { // lg ends its live connections at shutdown
		t.Errorf("run: %v\n%s", err, out)
	}
	if _, _, err := ws.Read(wctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after lg stopped, the socket: %v", err)
	}
}
