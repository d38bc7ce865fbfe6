package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/web"
)

// TestBIRDToRISLive: BIRD announces through the collector into the event
// log, and a RIS Live client on the looking glass's /v1/ws/ (subscribed
// the way BGPalerter subscribes: one ris_subscribe per prefix, and one per
// origin AS) receives the announcements as ris_message frames, then a
// withdrawal when BIRD withdraws a route.
func TestBIRDToRISLive(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	pub, conn, _ := startLog(t)
	live := web.NewLive(web.LiveOptions{})
	runCtx, stopLive := context.WithCancel(context.Background())
	liveDone := make(chan struct{})
	go func() { defer close(liveDone); live.Run(runCtx, bus.NewLog(conn)) }()
	defer func() { live.Close(); stopLive(); <-liveDone }()
	lg := httptest.NewServer(web.New(nil, web.Options{Live: live}))
	defer lg.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(lg.URL, "http")+"/v1/ws/?client=bgpalerter&client_version=2.0&instance=e2e",
		&websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	send := func(data map[string]any) {
		b, _ := json.Marshal(map[string]any{"type": "ris_subscribe", "data": data})
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	base := func() map[string]any {
		return map[string]any{"moreSpecific": true, "type": "UPDATE", "host": nil,
			"socketOptions": map[string]any{"includeRaw": false, "acknowledge": true}}
	}
	for _, p := range []string{"198.51.100.0/24", "203.0.113.0/24"} {
		d := base()
		d["prefix"] = p
		send(d)
	}
	d := base()
	d["path"] = "64512$"
	send(d)
	type frame struct {
		Type string
		Data struct {
			Peer          string
			PeerASN       string `json:"peer_asn"`
			Host          string
			Type          string
			Path          []any
			Community     [][2]int
			Announcements []struct {
				NextHop  string `json:"next_hop"`
				Prefixes []string
			}
			Withdrawals []string
			Message     string
		}
	}
	read := func() frame {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("reading the socket: %v", err)
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		if f.Type == "ris_error" {
			t.Fatalf("ris_error: %s", f.Data.Message)
		}
		return f
	}
	for range 3 {
		if f := read(); f.Type != "ris_subscribe_ok" {
			t.Fatalf("got %s, want ris_subscribe_ok", f.Type)
		}
	}

	port, stop := startCollector(t, "e2e", collector.NamedSink{Name: "log", Sink: pub})
	defer stop()
	conf := strings.NewReplacer("BIRDPORT", fmt.Sprint(testpeer.FreePort(t)),
		"COLLECTORPORT", fmt.Sprint(port)).Replace(birdConf)
	bird := testpeer.StartBIRD(t, conf)

	seen := map[string]frame{}
	for len(seen) < 3 {
		f := read()
		if f.Type != "ris_message" || f.Data.Type != "UPDATE" {
			t.Fatalf("got %s %s, want UPDATE ris_messages only", f.Type, f.Data.Type)
		}
		for _, a := range f.Data.Announcements {
			for _, p := range a.Prefixes {
				seen[p] = f
			}
		}
	}
	f, ok := seen["198.51.100.0/24"]
	if !ok {
		t.Fatalf("no announcement of 198.51.100.0/24 among %v", seen)
	}
	if f.Data.Peer != "127.0.0.11" || f.Data.PeerASN != "65001" || f.Data.Host != "e2e" ||
		fmt.Sprint(f.Data.Path) != "[65001 64512]" || fmt.Sprint(f.Data.Community) != "[[65001 100]]" ||
		f.Data.Announcements[0].NextHop != "192.0.2.11" {
		t.Errorf("ris_message for 198.51.100.0/24: %+v", f.Data)
	}
	for _, p := range []string{"203.0.113.0/25", "2001:db8:100::/48"} {
		if _, ok := seen[p]; !ok {
			t.Errorf("no announcement of %s (by prefix filter or origin path filter) among %v", p, seen)
		}
	}

	if _, err := bird.Ctl("disable", "static4w"); err != nil {
		t.Fatal(err)
	}
	for {
		f := read()
		if fmt.Sprint(f.Data.Withdrawals) == "[203.0.113.0/25]" {
			break
		}
	}
}
