package e2e

import (
	"bufio"
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

// A peer with graceful restart closes its connection: the store lists it
// "restarting" and its routes stay current; it comes back and sends only
// one of them before its End-of-RIB: the other is no longer current, and
// the peer is up.
func TestGracefulRestartInStore(t *testing.T) {
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
	pub, conn, _ := startLog(t)
	startStore(t, conn, db)

	cfg := collector.DefaultConfig()
	cfg.Host = "e2e-gr"
	cfg.Listen = "127.0.0.1:0"
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

	const local = "127.0.0.47"
	gr := bgpwire.GracefulRestartCapability(bgpwire.GracefulRestart{Time: 120,
		Families: []bgpwire.GRFamily{{Family: bgpwire.IPv4Unicast, Flags: 0x80}}})
	a, b := netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")
	session := func(prefixes ...netip.Prefix) net.Conn {
		t.Helper()
		c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}).Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(60 * time.Second))
		r := bufio.NewReader(c)
		open := &bgpwire.Open{Version: 4, MyAS: 65047, HoldTime: 90, RouterID: netip.MustParseAddr("192.0.2.47"),
			Capabilities: []bgpwire.Capability{bgpwire.MultiprotocolCapability(bgpwire.IPv4Unicast), bgpwire.FourOctetASCapability(65047), gr}}
		msgs := open.AppendWire(nil)
		msgs = bgpwire.AppendKeepalive(msgs)
		for _, p := range prefixes {
			body := []byte{0, 0, 0, 20, 0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfe, 0x17, 0x40, 3, 4, 192, 0, 2, 47, 24}
			a4 := p.Addr().As4()
			body = append(body, a4[:3]...)
			msgs = append(bgpwire.AppendHeader(msgs, bgpwire.MsgUpdate, len(body)), body...)
		}
		msgs = append(bgpwire.AppendHeader(msgs, bgpwire.MsgUpdate, 4), 0, 0, 0, 0) // End-of-RIB
		if _, err := c.Write(msgs); err != nil {
			t.Fatal(err)
		}
		for _, want := range []bgpwire.MessageType{bgpwire.MsgOpen, bgpwire.MsgKeepalive} {
			for {
				h, _, _, err := bgpwire.ReadMessage(r, nil, bgpwire.MaxMessageLen)
				if err != nil {
					t.Fatalf("waiting for the collector's %s: %v", want, err)
				}
				if h.Type == want {
					break
				}
			}
		}
		return c
	}
	peerState := func() (schema.PeerState, error) {
		peers, err := db.Peers(ctx)
		if err != nil {
			return 0, err
		}
		for _, p := range peers {
			if p.Host == cfg.Host && p.Address.String() == local {
				return p.State, nil
			}
		}
		return 0, fmt.Errorf("%s not among the peers: %+v", local, peers)
	}
	current := func(p netip.Prefix) (bool, error) {
		rs, err := db.Routes(ctx, storage.RoutesQuery{Prefix: p, Match: storage.MatchExact, Host: cfg.Host})
		return len(rs) > 0, err
	}
	expect := func(what string, state schema.PeerState, currentA, currentB bool) {
		t.Helper()
		eventually(t, what, func() error {
			st, err := peerState()
			if err != nil {
				return err
			}
			ca, err := current(a)
			if err != nil {
				return err
			}
			cb, err := current(b)
			if err != nil {
				return err
			}
			if st != state || ca != currentA || cb != currentB {
				return fmt.Errorf("state %s, %s current %v, %s current %v; want %s, %v, %v", st, a, ca, b, cb, state, currentA, currentB)
			}
			return nil
		})
	}

	c := session(a, b)
	expect("both routes current", schema.StateConnected, true, true)
	c.Close()
	expect("restarting, the routes still current", schema.StateRestarting, true, true)
	session(a)
	expect("up again, only the route sent again current", schema.StateConnected, true, false)
}
