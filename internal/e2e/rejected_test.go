package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

// Connections the collector refuses, for a wrong AS and from an address
// no rule admits, are down states with their reason in the log and show
// among the store's peers.
func TestRejectedPeersInStore(t *testing.T) {
	testpeer.Need(t, "clickhouse-server", "clickhouse-server")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := storage.Open(ctx, storage.Config{Server: storage.ServerConfig{
		DataDir: t.TempDir(), TCPPort: testpeer.FreePort(t), HTTPPort: testpeer.FreePort(t),
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pub, conn, got := startLog(t)
	startStore(t, conn, db)

	cfg := collector.DefaultConfig()
	cfg.Host = "e2e-rejected"
	cfg.Listen = "127.0.0.1:0"
	cfg.Peers = []collector.PeerRule{{Prefix: netip.MustParsePrefix("127.0.0.21/32"), ASN: 65001}}
	srv, err := collector.New(cfg, nil, collector.NamedSink{Name: "log", Sink: pub})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	dial := func(local string) net.Conn {
		t.Helper()
		c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}).Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// Wrong AS: 65021 where the rule says 65001.
	c := dial("127.0.0.21")
	open := &bgpwire.Open{Version: 4, MyAS: 65021, HoldTime: 90, RouterID: netip.MustParseAddr("192.0.2.21"),
		Capabilities: []bgpwire.Capability{bgpwire.FourOctetASCapability(65021)}}
	if _, err := c.Write(open.AppendWire(nil)); err != nil {
		t.Fatal(err)
	}
	// No rule for 127.0.0.22.
	dial("127.0.0.22")

	reasons := map[string]string{
		"127.0.0.21": "rejected: peer AS 65021, configured 65001",
		"127.0.0.22": "rejected: no peer rule matches its address",
	}
	eventually(t, "the rejections in the log", func() error {
		for peer, reason := range reasons {
			if _, ok := got.find(func(ev *schema.Event) bool {
				return ev.Peer.String() == peer && ev.State == schema.StateDown && ev.Reason == reason
			}); !ok {
				return fmt.Errorf("no down event %q for %s", reason, peer)
			}
		}
		return nil
	})
	if _, ok := got.find(func(ev *schema.Event) bool {
		return ev.Peer.String() == "127.0.0.21" && ev.Type == schema.TypeNotification && ev.Notification.Sent
	}); !ok {
		t.Error("no NOTIFICATION event for the peer refused for its AS")
	}
	eventually(t, "the rejected peers in storage.Peers", func() error {
		peers, err := db.Peers(ctx)
		if err != nil {
			return err
		}
		for addr := range reasons {
			found := false
			for _, p := range peers {
				if p.Host == cfg.Host && p.Address.String() == addr && p.State == schema.StateDown {
					found = true
				}
			}
			if !found {
				return fmt.Errorf("%s not among the peers as down: %+v", addr, peers)
			}
		}
		return nil
	})
}
