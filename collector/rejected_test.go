package collector

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// A connection from an address no peer rule admits is closed, and shows as
// a down state with the reason.
func TestRejectedUnconfiguredAddress(t *testing.T) {
	rec := &recorder{}
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Peers = []PeerRule{{Prefix: netip.MustParsePrefix("127.0.0.1/32")}}
	srv, err := New(cfg, nil, NamedSink{Name: "recorder", Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()

	conn, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.9")}}).Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ev := rec.wait(t, "the rejection", func(ev *schema.Event) bool {
		return ev.Peer.String() == "127.0.0.9" && ev.Type == schema.TypePeerState
	})
	if ev.State != schema.StateDown || ev.Reason != "rejected: no peer rule matches its address" {
		t.Errorf("event %+v", ev)
	}
}

// With no RouterID set, New derives one (never 127.0.0.1).
func TestNewDefaultsRouterID(t *testing.T) {
	cfg := DefaultConfig()
	if cfg.RouterID == netip.MustParseAddr("127.0.0.1") {
		t.Errorf("DefaultConfig's router id is 127.0.0.1")
	}
	cfg.RouterID = netip.Addr{}
	cfg.Listen = "192.0.2.7:179"
	srv, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if srv.cfg.RouterID != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("router id %s, want the listen address", srv.cfg.RouterID)
	}
}
