package e2e

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/storage"
)

// startNATS starts an embedded nats-server, as the collector runs it by
// default, a publisher for the collector (the durable log) and a
// subscriber that collects every event. Everything stops when the test
// ends.
func startNATS(t *testing.T) (*bus.Publisher, *natsEvents) {
	pub, _, got := startLog(t)
	return pub, got
}

// startLog is startNATS that also returns the connection, for consumers.
func startLog(t *testing.T) (*bus.Publisher, *bus.Conn, *natsEvents) {
	t.Helper()
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	conn, err := bus.Dial(ctx, bus.Options{URL: ns.ClientURL(), MaxAge: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	pub, err := bus.NewPublisher(conn, bus.PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })
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
	return pub, conn, got
}

// startStore runs the ClickHouse writer as the collector does: a durable
// consumer of the log inserting into db. It stops when the test ends.
func startStore(t *testing.T, conn *bus.Conn, db *storage.DB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		cc := bus.ConsumerConfig{FlushInterval: 200 * time.Millisecond}
		if err := bus.Consume(ctx, conn, cc, db.Insert, nil, nil); err != nil {
			t.Errorf("consumer: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
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
