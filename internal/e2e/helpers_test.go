package e2e

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
)

// startNATS starts an embedded nats-server, as the collector runs it by
// default, a publisher for the collector and a subscriber that collects
// every event. Everything stops when the test ends.
func startNATS(t *testing.T) (*bus.Publisher, *natsEvents) {
	t.Helper()
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	pub, err := bus.Connect(ns.ClientURL(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	got := &natsEvents{}
	if _, err := nc.Subscribe(bus.SubjectPrefix+".>", got.handle); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	return pub, got
}

// startCollector runs a collector named host with the default config on
// a free port, delivering to sinks. stop ends it (sending Cease to its
// peers), waits until every event reached the sinks and reports Serve's
// error.
func startCollector(t *testing.T, host string, sinks ...collector.NamedSink) (port int, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := collector.DefaultConfig()
	cfg.Host = host
	srv, err := collector.New(cfg, nil, sinks...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return ln.Addr().(*net.TCPAddr).Port, func() error { cancel(); return <-done }
}
