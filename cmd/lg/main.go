// Command lg is Vantage's looking glass: the HTTP API and web UI over the
// routes the collectors stored in ClickHouse.
//
//	lg [-config FILE]
//
// It reads the lg, clickhouse, nats and log sections of the shared config file
// (built-in defaults without -config). With no clickhouse.dsn it starts, or
// reuses, the local clickhouse-server that the collector also uses, and
// restarts it if it dies. SIGINT or SIGTERM shut it down cleanly: in-flight
// requests finish, then the local server stops unless another Vantage
// process (the collector) still uses it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/config"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "lg: %v\n", err)
		os.Exit(1)
	}
}

// run is the whole command; it returns when ctx ends or a signal arrives.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("lg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML config `file` shared with the collector (default: built-in defaults)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lg [-config FILE]\n\nServes the looking glass (web UI and /api/v1) over ClickHouse.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	log := cfg.Log.NewLogger(stderr)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	db, err := storage.Open(ctx, storage.Config{
		DSN:      cfg.ClickHouse.DSN,
		Cluster:  cfg.ClickHouse.Cluster,
		Shards:   cfg.ClickHouse.Shards,
		Database: cfg.ClickHouse.Database,
		Server: storage.ServerConfig{
			DataDir:  cfg.ClickHouse.DataDir,
			TCPPort:  cfg.ClickHouse.TCPPort,
			HTTPPort: cfg.ClickHouse.HTTPPort,
		},
		Limits: storage.QueryLimits{MaxExecutionTime: cfg.LG.QueryTimeout, MaxRowsToRead: cfg.LG.MaxRowsToRead},
	}, log.With("component", "clickhouse"))
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	defer db.Close()

	// The live stream (/v1/ws/, /v1/stream/) reads the event log.
	live := web.NewLive(web.LiveOptions{Log: log.With("component", "live")})
	var bg sync.WaitGroup
	defer bg.Wait()
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	bg.Go(func() { runLive(liveCtx, cfg, live, log.With("component", "nats")) })
	var rib *storage.LiveRIB
	if cfg.LG.MemoryRIB {
		rib = storage.NewLiveRIB()
		bg.Go(func() { runMemoryRIB(liveCtx, cfg, db, rib, log.With("component", "rib")) })
	}

	ln, err := net.Listen("tcp", cfg.LG.Listen)
	if err != nil {
		return fmt.Errorf("lg.listen %s: %w", cfg.LG.Listen, err)
	}
	srv := &http.Server{
		// ClickHouse enforces lg.query_timeout on each query and refuses
		// with a reason; the request's own deadline (a /api/v1/peers makes
		// several queries) is the backstop for a store that hangs.
		// Events reach the store within the writers' flush interval and
		// the log's delay: MRT exports of later windows say they may lack
		// some.
		Handler: web.New(db, web.Options{Log: log.With("component", "web"), QueryTimeout: 3 * cfg.LG.QueryTimeout,
			WriteLag: cfg.ClickHouse.FlushInterval + 5*time.Second, Live: live, Limits: limits(cfg.LG), RIB: rib}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }() // owned: run waits on serveErr

	where := "ClickHouse at the configured DSN"
	if s := db.Server(); s != nil {
		where = "ClickHouse at " + s.Addr()
		if s.Reused() {
			where += " (reused)"
		}
	}
	fmt.Fprintf(stderr, "lg: looking glass on %s (%s)\n", uiURL(ln.Addr()), where)

	select {
	case err := <-serveErr:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	live.Close() // streams end, so that Shutdown need not wait for them
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if e := <-serveErr; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return errors.Join(err, db.Close())
}

// limits are the web package's limits from the lg section.
func limits(c config.LG) web.Limits {
	return web.Limits{Rate: c.RateLimit, Burst: c.RateBurst, MaxConcurrent: c.MaxConcurrent,
		Tokens: c.Tokens, CORSOrigins: c.CORSOrigins, TrustedProxies: c.TrustedProxies}
}

// uiURL is the address to open in a browser: a wildcard listen address is
// reachable on loopback.
func uiURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
