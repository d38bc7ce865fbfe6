package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/config"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

func init() {
	register("run", "run the collector daemon (BGP sessions -> the event log on NATS -> ClickHouse)", runDaemon)
}

// shutdownTimeout bounds each stage of the shutdown: the sessions' last
// events, the publisher's last publishes, the writer's last insert.
const shutdownTimeout = 5 * time.Second

// parseCommand parses the flags of a command that takes no arguments and
// loads its -config (cfgPath, a flag of fs).
func parseCommand(fs *flag.FlagSet, cfgPath *string, args []string) (config.Config, error) {
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return loadConfig(*cfgPath)
}

// loadConfig reads -config, or returns the defaults when path is empty.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// runDaemon runs the collector. The order matters:
//  1. the log (NATS with the events stream) comes up first, and what an
//     earlier run left in the spool is published;
//  2. the log says, per peer, where the sequence goes on and which sessions
//     were up when the last run ended; those are recorded as down before
//     any session is accepted;
//  3. the ClickHouse writer consumes the log in the background (it may
//     start later than the sessions, or be down: the log keeps the events);
//  4. the sessions are served until Ctrl-C, then each stage stops within
//     its deadline.
func runDaemon(args []string) error {
	fs := flag.NewFlagSet("collector run", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "YAML config `file` (default: built-in defaults, see README)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file` (for go tool pprof)")
	pidFile := fs.String("pidfile", "", "write the collector's process id to `file`, for `collector reload`")
	pprofAddr := fs.String("pprof", "", "serve Go's /debug/pprof/ (heap, CPU, goroutine profiles of the running collector) on `address`, such as 127.0.0.1:6060; keep it on loopback")
	cfg, err := parseCommand(fs, cfgPath, args)
	if err != nil {
		return err
	}
	setGC()
	if err := servePprof(*pprofAddr); err != nil {
		return err
	}
	removePID, err := writePIDFile(*pidFile)
	if err != nil {
		return err
	}
	defer removePID()
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	log := cfg.Log.NewLogger(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	ccfg := collectorConfig(cfg)
	if err := ccfg.Validate(); err != nil {
		return err
	}
	ln, err := collector.Listen(ccfg.Listen)
	if err != nil {
		return fmt.Errorf("collector.listen %s: %w", ccfg.Listen, err)
	}
	defer ln.Close()

	natsURL := cfg.NATS.URL
	if natsURL == "" {
		ns, err := startEmbeddedNATS(cfg.NATS)
		if err != nil {
			return err
		}
		defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
		natsURL = ns.ClientURL()
	}
	nlog := log.With("component", "nats")
	conn, err := bus.Dial(ctx, natsOptions(cfg, natsURL, "vantage collector "+cfg.Collector.Name), nlog)
	if err != nil {
		return err
	}
	defer conn.Close()
	pub, err := bus.NewPublisher(conn, bus.PublisherConfig{
		QueueBytes: cfg.NATS.QueueBytes, SpoolDir: cfg.NATS.SpoolDir, SpoolMaxBytes: cfg.NATS.SpoolMaxBytes,
	}, nlog)
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := pub.Close(c); err != nil {
			log.Error("events lost at shutdown", "err", err)
		}
	}()

	// What the spool holds (an earlier run's, left while NATS was away)
	// goes into the log before the log is asked where each peer stands.
	if err := pub.Flush(ctx); err != nil {
		return err
	}
	last, err := bus.LastPeerStates(ctx, conn, cfg.Collector.Name)
	if err != nil {
		return err
	}
	srv, err := collector.New(ccfg, log, collector.NamedSink{Name: "log", Sink: pub})
	if err != nil {
		return err
	}
	srv.Resume(resumeList(last))

	// The writer stops as soon as the sessions start to (Ctrl-C), beside
	// them: what it has not stored stays in the log.
	var wg sync.WaitGroup
	storeCtx, stopStore := context.WithCancel(ctx)
	defer func() { stopStore(); waitTimeout(&wg, 2*time.Second, log) }()
	var store *storeProcess
	if cfg.Collector.Store {
		store = newStoreProcess(cfg, conn, log.With("component", "clickhouse"))
		wg.Go(func() { store.run(storeCtx) })
	}
	if cfg.MRT.Dir != "" {
		// Rolling MRT files, read back from the store: their content is
		// the stored history's, whichever process stored it.
		rlog := log.With("component", "mrt")
		db, err := storage.Open(ctx, storageConfig(cfg), rlog)
		if err != nil {
			return err
		}
		rc := web.RollConfig{Dir: cfg.MRT.Dir, Host: cfg.Collector.Name, UpdatesInterval: cfg.MRT.UpdatesInterval,
			RIBInterval: cfg.MRT.RIBInterval, Lag: exportLag(cfg.ClickHouse.FlushInterval)}
		wg.Go(func() {
			defer db.Close()
			if err := web.RunRolling(storeCtx, db, rc, rlog); err != nil {
				rlog.Error("rolling MRT files", "err", err)
			}
		})
	}
	if cfg.Collector.MetricsListen != "" {
		m := &metrics{srv: srv, pub: pub, store: store, conn: conn, consumer: cfg.NATS.Consumer}
		closeMetrics, err := m.serve(cfg.Collector.MetricsListen)
		if err != nil {
			return err
		}
		defer closeMetrics()
	}

	where := "in this process"
	if !cfg.Collector.Store {
		where = "by `collector store` processes"
	}
	fmt.Fprintf(os.Stderr, "collector: BGP on %s (AS %d), events on %s subject %s.>, stored in ClickHouse %s (%s)\n",
		ln.Addr(), ccfg.ASN, natsURL, bus.SubjectPrefix, clickhouseWhere(cfg), where)
	stopReload := reloadOnHUP(ctx, *cfgPath, cfg, srv, log)
	defer stopReload()
	err = srv.Serve(ctx, ln)
	log.Info("sessions stopped", "undelivered_events", srv.Stats().Undelivered.Load())
	return err
}

// reloadOnHUP re-reads the config file at each SIGHUP and applies its
// collector.peers to srv (Server.Reload: unchanged neighbors' sessions are
// not touched). Other changed settings are logged as needing a restart. A
// file that does not load is logged and changes nothing.
func reloadOnHUP(ctx context.Context, path string, cfg config.Config, srv *collector.Server, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			if path == "" {
				log.Warn("SIGHUP: no -config file to reload")
				continue
			}
			next, err := config.Load(path)
			if err != nil {
				log.Error("SIGHUP: configuration not reloaded", "err", err)
				continue
			}
			peers := next.Collector.Peers
			a, b := cfg, next
			a.Collector.Peers, b.Collector.Peers = nil, nil
			if !reflect.DeepEqual(a, b) {
				log.Warn("SIGHUP: only collector.peers is applied; other changed settings need a restart")
			}
			if err := srv.Reload(collectorConfig(next).Peers); err != nil {
				log.Error("SIGHUP: neighbors reloaded with errors", "err", err)
			} else {
				log.Info("SIGHUP: neighbors reloaded", "peers", len(peers))
			}
			cfg.Collector.Peers = peers
		}
	}()
	return func() { signal.Stop(hup); cancel(); <-done }
}

func resumeList(last map[netip.Addr]bus.PeerLast) []collector.PeerResume {
	var out []collector.PeerResume
	for _, p := range last {
		out = append(out, collector.PeerResume{Peer: p.Peer, PeerASN: p.PeerASN, Seq: p.Seq, TimestampMicros: p.TimestampMicros, Up: p.Up})
	}
	slices.SortFunc(out, func(a, b collector.PeerResume) int { return a.Peer.Compare(b.Peer) })
	return out
}

// waitTimeout waits for wg, at most d.
func waitTimeout(wg *sync.WaitGroup, d time.Duration, log *slog.Logger) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		log.Warn("the ClickHouse writer did not stop in time; what it had not stored stays in the log", "after", d)
	}
}

func collectorConfig(cfg config.Config) collector.Config {
	c := collector.DefaultConfig()
	c.Host = cfg.Collector.Name
	c.Listen = cfg.Collector.Listen
	c.ASN = cfg.Collector.ASN
	c.RouterID = cfg.Collector.RouterID
	if !c.RouterID.IsValid() {
		c.RouterID = collector.DefaultRouterID(cfg.Collector.Listen)
	}
	c.IncludeRaw = cfg.Collector.StoreRaw
	c.ShutdownTimeout = shutdownTimeout
	c.OpenTimeout = cfg.Collector.OpenTimeout
	c.GracefulRestart = cfg.Collector.GracefulRestart
	c.StaleTime = cfg.Collector.StaleTime
	c.Peers = nil
	for _, p := range cfg.Collector.Peers {
		r := collector.PeerRule{
			Prefix: p.Address, ASN: p.ASN, Description: p.Description, Password: p.Password, TTLSecurity: p.TTLSecurity,
			Active: p.Active, Port: p.Port, HoldTime: p.HoldTime, MaxPrefix: p.MaxPrefix, MaxPrefixRestart: p.MaxPrefixRestart,
			MaxSessions: p.MaxSessions, Disabled: p.Disabled, NoAddPath: p.AddPath == "off",
		}
		for _, name := range p.Families {
			// config.Validate has checked the names.
			if f, err := schema.ParseFamily(name); err == nil {
				r.Families = append(r.Families, bgpwire.Family{AFI: bgpwire.AFI(f.AFI), SAFI: bgpwire.SAFI(f.SAFI)})
			}
		}
		c.Peers = append(c.Peers, r)
	}
	return c
}

func natsOptions(cfg config.Config, url, name string) bus.Options {
	n := cfg.NATS
	return bus.Options{
		URL: url, Name: name,
		User: n.User, Password: n.Password, Token: n.Token, NKeySeedFile: n.NKeySeedFile, CredsFile: n.CredsFile,
		TLSCAFile: n.TLSCAFile, TLSCertFile: n.TLSCertFile, TLSKeyFile: n.TLSKeyFile,
		MaxAge: n.MaxAge, MaxBytes: n.MaxBytes, Duplicates: n.Duplicates, Replicas: n.Replicas,
	}
}

func storageConfig(cfg config.Config) storage.Config {
	return storage.Config{
		DSN:      cfg.ClickHouse.DSN,
		Cluster:  cfg.ClickHouse.Cluster,
		Shards:   cfg.ClickHouse.Shards,
		Database: cfg.ClickHouse.Database,
		Server: storage.ServerConfig{
			DataDir:  cfg.ClickHouse.DataDir,
			TCPPort:  cfg.ClickHouse.TCPPort,
			HTTPPort: cfg.ClickHouse.HTTPPort,
		},
	}
}

func clickhouseWhere(cfg config.Config) string {
	if cfg.ClickHouse.Cluster != "" {
		return "on cluster " + cfg.ClickHouse.Cluster + " (" + strconv.Itoa(len(cfg.ClickHouse.Shards)) + " shards)"
	}
	if cfg.ClickHouse.DSN != "" {
		return "at the configured DSN"
	}
	return "at 127.0.0.1:" + strconv.Itoa(cfg.ClickHouse.TCPPort) + " (local clickhouse-server, data in " + cfg.ClickHouse.DataDir +
		", user " + storage.ServerUser + ", password in " + filepath.Join(cfg.ClickHouse.DataDir, storage.PasswordFile) + ")"
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

// servePprof serves net/http/pprof's handlers on addr (the -pprof flag)
// for the life of the process; an empty addr serves nothing.
func servePprof(addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-pprof %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	go http.Serve(ln, mux)
	return nil
}

// startCPUProfile starts a CPU profile of the process into the file at
// path (the -cpuprofile flag); the returned function ends it. An empty
// path profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
