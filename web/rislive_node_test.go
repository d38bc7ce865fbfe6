package web

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testenv"
)

// TestLiveBGPalerterClient drives /v1/ws/ with the WebSocket library
// BGPalerter uses (ws, with perMessageDeflate) the way BGPalerter's RIS
// connector does (scripts/rislive/bgpalerter-client.js): extra query
// parameters, host null, one ris_subscribe per prefix and per origin AS,
// WebSocket ping frames; every matching UPDATE must come out of
// BGPalerter's own transform as its announcements and withdrawals.
func TestLiveBGPalerterClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Skip(t, "node not installed (needed to run the BGPalerter-style RIS Live client)")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	modules := filepath.Join(root, ".cache", "rislive", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "ws", "package.json")); err != nil {
		testenv.Skipf(t, "the ws npm package not installed at %s (make deps-test installs it with npm)", modules)
	}
	env := newLiveEnv(t, LiveOptions{})
	url := "ws" + strings.TrimPrefix(env.srv.URL, "http") + "/v1/ws/"
	cmd := exec.Command(node, filepath.Join(root, "scripts", "rislive", "bgpalerter-client.js"), url, "198.51.100.0/24,2001:db8:100::/48", "64496")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	type line struct {
		Event      string
		Extensions string
		Message    string
		Prefix     string
		Peer       string
		OriginAS   uint32
		NextHop    string
	}
	lines := make(chan line, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("client printed %q: %v", sc.Text(), err)
				continue
			}
			lines <- l
		}
	}()
	next := func() line {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the client ended: %s", stderr.String())
			}
			if l.Event == "ris_error" || l.Event == "socket-error" {
				t.Fatalf("client: %s %s", l.Event, l.Message)
			}
			return l
		case <-time.After(60 * time.Second):
			t.Fatalf("the client printed nothing for 60 s; stderr: %s", stderr.String())
		}
		return line{}
	}
	var pongFrame, ready bool
	for !ready || !pongFrame {
		switch l := next(); l.Event {
		case "open":
			if !strings.Contains(l.Extensions, "permessage-deflate") {
				t.Errorf("permessage-deflate not negotiated with ws: extensions %q", l.Extensions)
			}
		case "ready":
			ready = true
		case "pong-frame":
			pongFrame = true
		default:
			t.Fatalf("before any event the client printed %+v", l)
		}
	}

	g := newLiveEvents()
	env.publish(
		g.update(livePeerA, []uint32{64500, 64497}, "198.51.100.0/25"),   // more specific of a monitored prefix
		g.update(livePeerA, []uint32{64500, 64497}, "192.0.2.0/24"),      // nothing monitored
		g.update(livePeerB, []uint32{64501, 64496}, "203.0.113.0/24"),    // from the monitored AS
		g.update(livePeerA, nil, "-198.51.100.0/24"),                     // withdrawn
		g.update(livePeerB, []uint32{64501, 64499}, "2001:db8:100::/48"), // IPv6, monitored prefix
	)
	want := []line{
		{Event: "announcement", Prefix: "198.51.100.0/25", Peer: "192.0.2.1", OriginAS: 64497, NextHop: "192.0.2.254"},
		{Event: "announcement", Prefix: "203.0.113.0/24", Peer: "2001:db8::2", OriginAS: 64496, NextHop: "192.0.2.254"},
		{Event: "withdrawal", Prefix: "198.51.100.0/24", Peer: "192.0.2.1"},
		{Event: "announcement", Prefix: "2001:db8:100::/48", Peer: "2001:db8::2", OriginAS: 64499, NextHop: "2001:db8::fe"},
	}
	for _, w := range want {
		l := next()
		for l.Event == "pong-frame" {
			l = next()
		}
		if l != w {
			t.Errorf("client got %+v, want %+v", l, w)
		}
	}
}
