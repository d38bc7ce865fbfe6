package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/config"
	"github.com/vantage-bgp/vantage/storage"
)

func init() {
	register("run", "run the collector daemon (BGP sessions -> NATS + ClickHouse)", runDaemon)
}

// loadConfig reads -config, or returns the defaults when path is empty.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

func runDaemon(args []string) error {
	fs := flag.NewFlagSet("collector run", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "YAML config `file` (default: built-in defaults, see README)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := cfg.Log.NewLogger(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	ccfg := collectorConfig(cfg)
	if err := ccfg.Validate(); err != nil {
		return err
	}

	// ClickHouse first: it is the slowest to come up and the sessions'
	// events need somewhere to go.
	db, err := storage.Open(ctx, storageConfig(cfg), log.With("component", "clickhouse"))
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	defer db.Close()
	writer := db.NewWriter(storage.WriterConfig{BatchSize: cfg.ClickHouse.BatchSize, FlushInterval: cfg.ClickHouse.FlushInterval}, log.With("component", "clickhouse"))
	defer writer.Close()

	natsURL := cfg.NATS.URL
	if natsURL == "" {
		ns, err := startEmbeddedNATS(cfg.NATS)
		if err != nil {
			return err
		}
		defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
		natsURL = ns.ClientURL()
	}
	pub, err := bus.Connect(natsURL, 7*24*time.Hour, log.With("component", "nats"))
	if err != nil {
		return err
	}
	defer pub.Close()

	srv, err := collector.New(ccfg, log,
		collector.NamedSink{Name: "nats", Sink: pub},
		collector.NamedSink{Name: "clickhouse", Sink: writer})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", ccfg.Listen)
	if err != nil {
		return fmt.Errorf("collector.listen %s: %w", ccfg.Listen, err)
	}
	fmt.Fprintf(os.Stderr, "collector: BGP on %s (AS %d), events on %s subject %s.>, ClickHouse at %s\n",
		ln.Addr(), ccfg.ASN, natsURL, bus.SubjectPrefix, clickhouseAddr(db, cfg))
	err = srv.Serve(ctx, ln)
	log.Info("collector stopped")
	return err
}

func collectorConfig(cfg config.Config) collector.Config {
	c := collector.DefaultConfig()
	c.Host = cfg.Collector.Name
	c.Listen = cfg.Collector.Listen
	c.ASN = cfg.Collector.ASN
	c.RouterID = cfg.Collector.RouterID
	c.Peers = nil
	for _, p := range cfg.Collector.Peers {
		c.Peers = append(c.Peers, collector.PeerRule{Prefix: p.Address, ASN: p.ASN})
	}
	return c
}

func storageConfig(cfg config.Config) storage.Config {
	return storage.Config{
		DSN:      cfg.ClickHouse.DSN,
		Database: cfg.ClickHouse.Database,
		Server: storage.ServerConfig{
			DataDir:  cfg.ClickHouse.DataDir,
			TCPPort:  cfg.ClickHouse.TCPPort,
			HTTPPort: cfg.ClickHouse.HTTPPort,
		},
	}
}

func clickhouseAddr(db *storage.DB, cfg config.Config) string {
	if s := db.Server(); s != nil {
		return s.Addr() + " (local clickhouse-server, data in " + cfg.ClickHouse.DataDir + ")"
	}
	return "the configured DSN"
}

func startEmbeddedNATS(c config.NATS) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats.listen %q: %w", c.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats.listen %q: bad port", c.Listen)
	}
	if err := os.MkdirAll(c.StoreDir, 0o755); err != nil {
		return nil, fmt.Errorf("nats.store_dir: %w", err)
	}
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: host, Port: port, StoreDir: c.StoreDir})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("nats.listen %s", c.Listen), err)
	}
	return ns, nil
}
