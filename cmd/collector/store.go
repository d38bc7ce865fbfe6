package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/config"
	"github.com/vantage-bgp/vantage/storage"
)

func init() {
	register("store", "run only the ClickHouse writer: a consumer of the event log (several may share it)", runStore)
}

// runStore is `collector store`: the writer without sessions, against
// nats.url (or the embedded server of a collector on this machine, at
// nats.listen).
func runStore(args []string) error {
	fs := flag.NewFlagSet("collector store", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "YAML config `file` (default: built-in defaults)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus /metrics on this `host:port`")
	cfg, err := parseCommand(fs, cfgPath, args)
	if err != nil {
		return err
	}
	setGC() // the writer is most of the collector's allocations
	log := cfg.Log.NewLogger(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	url := cfg.NATS.URL
	if url == "" {
		url = "nats://" + cfg.NATS.Listen
	}
	conn, err := bus.Dial(ctx, natsOptions(cfg, url, "vantage store"), log.With("component", "nats"))
	if err != nil {
		return err
	}
	defer conn.Close()
	s := newStoreProcess(cfg, conn, log.With("component", "clickhouse"))
	if *metricsAddr != "" {
		m := &metrics{store: s, conn: conn, consumer: cfg.NATS.Consumer}
		closeMetrics, err := m.serve(*metricsAddr)
		if err != nil {
			return err
		}
		defer closeMetrics()
	}
	fmt.Fprintf(os.Stderr, "collector store: events from %s (consumer %s) into ClickHouse %s\n", url, cfg.NATS.Consumer, clickhouseWhere(cfg))
	s.run(ctx)
	return nil
}

// storeProcess is the ClickHouse writer: it opens the store (waiting for
// it while it is down) and consumes the log into it.
type storeProcess struct {
	cfg   config.Config
	conn  *bus.Conn
	log   *slog.Logger
	stats bus.ConsumerStats
	db    atomic.Pointer[storage.DB]
}

func newStoreProcess(cfg config.Config, conn *bus.Conn, log *slog.Logger) *storeProcess {
	return &storeProcess{cfg: cfg, conn: conn, log: log}
}

// run consumes until ctx ends. While ClickHouse is down, the events wait
// in the log.
func (s *storeProcess) run(ctx context.Context) {
	var db *storage.DB
	for backoff := time.Second; ; backoff = min(2*backoff, 30*time.Second) {
		var err error
		if db, err = storage.Open(ctx, storageConfig(s.cfg), s.log); err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("ClickHouse is not available; the log keeps the events until it is", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
	defer db.Close()
	s.db.Store(db)
	// RIB snapshots, 5 minutes after their time: the writers have stored
	// the events before it by then (a later one marks it stale).
	var snapshots sync.WaitGroup
	defer snapshots.Wait() // before db.Close
	snapshots.Go(func() { db.RunSnapshots(ctx, s.cfg.ClickHouse.SnapshotInterval, 5*time.Minute, s.log) })
	cc := bus.ConsumerConfig{Durable: s.cfg.NATS.Consumer, BatchSize: s.cfg.ClickHouse.BatchSize, FlushInterval: s.cfg.ClickHouse.FlushInterval}
	for {
		err := bus.Consume(ctx, s.conn, cc, db.Insert, &s.stats, s.log)
		if ctx.Err() != nil {
			return
		}
		s.log.Error("consuming the log", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
