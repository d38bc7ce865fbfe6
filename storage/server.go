package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ErrNoServerBinary is returned by StartServer when clickhouse-server is not
// installed.
var ErrNoServerBinary = errors.New("clickhouse-server is not installed (install it with make deps, or set clickhouse.dsn to an existing server)")

// Defaults of the local server.
const (
	DefaultDataDir  = "vantage-data/clickhouse"
	DefaultTCPPort  = 19000
	DefaultHTTPPort = 18123
	// DefaultBaseConfigDir holds the config.xml and users.xml that the
	// local server's configuration is copied from (Debian's package).
	DefaultBaseConfigDir = "/etc/clickhouse-server"
	// ServerUser is the user Vantage connects to the local server as.
	ServerUser = "default"
	// PasswordFile is the file in the data directory that holds the
	// password of ServerUser, generated at the first start (mode 0600).
	PasswordFile = "default-password"
)

// ServerConfig says where a local clickhouse-server keeps its files and on
// which loopback ports it listens. The zero value means the defaults.
type ServerConfig struct {
	// Binary is the clickhouse-server executable; default: found in PATH,
	// else /usr/sbin/clickhouse-server or /usr/bin/clickhouse-server.
	Binary string
	// DataDir holds everything of the server: its configuration (config.xml
	// and users.xml copied from BaseConfigDir, overrides in
	// config.d/vantage.xml and users.d/vantage.xml, rewritten at every
	// start; add your own files to config.d and users.d), the password of
	// the default user (PasswordFile), data/, log/. Default
	// DefaultDataDir, relative to the working directory.
	DataDir string
	// TCPPort is the native protocol port (default 19000), HTTPPort the HTTP
	// port (default 18123); both on 127.0.0.1 only, and both ask for the
	// password of the default user.
	TCPPort  int
	HTTPPort int
	// BaseConfigDir is where config.xml and users.xml are copied from.
	BaseConfigDir string
	// StartTimeout bounds the wait for the server to answer (default 60s).
	StartTimeout time.Duration
	// ExitWithStarter has the kernel stop a server this process starts
	// when the process dies, instead of leaving it to the other users.
	// For tests, so that a crashed test binary leaves no server behind.
	ExitWithStarter bool
	// Cluster, when set, adds a remote_servers section that defines a
	// cluster to the server's configuration, for a store sharded over
	// local servers (Config.Cluster; tests and demos).
	Cluster *ServerCluster

	checkEvery time.Duration // supervisor's check interval; tests shorten it
}

// ServerCluster is a cluster in a server's remote_servers section: shards
// of one replica each.
type ServerCluster struct {
	Name   string
	Shards []ServerShard
}

// ServerShard is a shard's server and the user the others log in to it
// as. Each local server has its own password (PasswordFile), so the
// cluster lists every one.
type ServerShard struct {
	Host     string
	Port     int
	User     string
	Password string
}

// remoteServers is the remote_servers section of c.
func (c *ServerCluster) remoteServers() string {
	if c == nil {
		return ""
	}
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var b strings.Builder
	b.WriteString("    <remote_servers>\n        <" + c.Name + ">\n")
	for _, sh := range c.Shards {
		fmt.Fprintf(&b, "            <shard>\n                <replica>\n                    <host>%s</host>\n                    <port>%d</port>\n"+
			"                    <user>%s</user>\n                    <password>%s</password>\n                </replica>\n            </shard>\n",
			esc(sh.Host), sh.Port, esc(sh.User), esc(sh.Password))
	}
	b.WriteString("        </" + c.Name + ">\n    </remote_servers>\n")
	return b.String()
}

func (c ServerConfig) withDefaults() ServerConfig {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.TCPPort == 0 {
		c.TCPPort = DefaultTCPPort
	}
	if c.HTTPPort == 0 {
		c.HTTPPort = DefaultHTTPPort
	}
	if c.BaseConfigDir == "" {
		c.BaseConfigDir = DefaultBaseConfigDir
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 60 * time.Second
	}
	if c.checkEvery == 0 {
		c.checkEvery = time.Second
	}
	return c
}

// Server is this process's use of the local clickhouse-server.
//
// The server listens on 127.0.0.1 only and has one user, default, which
// needs a password and is accepted from loopback addresses only. The
// password is generated (crypto/rand) at the first start and kept in
// <DataDir>/default-password (mode 0600); users.d/vantage.xml gives the
// server its SHA-256. Every user of the server reads the same file. A data
// directory from before the password gets one at its next start; if an
// older Vantage's server is still running there, StartServer writes
// users.d/vantage.xml under it, the server reloads its users on its own
// (ClickHouse watches those files) and StartServer waits for it to take
// the password. Editing the file changes the password the same way, once
// no Vantage process uses the server (a running one keeps the password it
// read).
//
// The server is shared, not owned: whichever Vantage process needs it first
// (collector, lg, mrt import) starts it detached, in its own session, so it
// does not depend on that process; every later one reuses the server that
// answers on the port. Each user holds a shared flock on
// <DataDir>/users.lock for as long as its Server is open; the kernel drops
// it when the process dies, however it dies.
//
// Who stops it: the last user. Close releases this user's lock and then
// tries to take the lock exclusively; only when no other process holds it
// does Close stop the server (SIGTERM, SIGKILL after 15 s), keeping the
// exclusive lock meanwhile so that a process starting up waits for the stop
// to finish and then starts a fresh server. A user killed with -9 never
// stops the server: the others keep it, and if it was the last one the
// server keeps running, like a system service, until the next Vantage
// process reuses it and, being the last to close, stops it.
//
// Every Server runs a supervisor goroutine (stopped by Close) that checks
// the server every second: when the child it started exits, or the server
// no longer answers and no process holds its data directory (the status
// file's flock that clickhouse-server keeps while it runs), it logs
// "clickhouse-server exited; restarting" and starts or reuses one again,
// backing off up to 30 s while that fails. Two processes restarting at once
// start one server: the loser's child cannot lock the directory and exits,
// and the loser reuses the winner's server.
type Server struct {
	cfg    ServerConfig
	dir    string // absolute DataDir
	status string // clickhouse-server's status file, flocked while it runs
	addr   string
	pass   string // of ServerUser, from PasswordFile
	reused bool
	log    *slog.Logger

	lease *os.File // shared flock on dir/users.lock while open

	// child is the server process this handle started, nil when it uses
	// a server started elsewhere. Owned by the supervisor while it runs,
	// then by Close. (A child left running by Close that exits while this
	// process still runs stays a zombie until the process exits; Vantage's
	// commands exit right after Close.)
	child *os.Process

	healthy  atomic.Bool
	restarts atomic.Int64

	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// maxBackoff bounds the wait between failed restarts (and so the log lines
// they write).
const maxBackoff = 30 * time.Second

// StartServer returns a clickhouse-server answering on 127.0.0.1:TCPPort:
// the one already running there, or a new detached process with its own
// data directory. It polls until the server answers (or StartTimeout or ctx
// ends the wait) and then supervises it until Close; see Server.
func StartServer(ctx context.Context, cfg ServerConfig, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("local clickhouse: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		dir:    dir,
		status: filepath.Join(dir, "data", "status"),
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.TCPPort)),
		log:    log,
	}
	wait, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if s.lease, err = takeLease(wait, dir, log); err != nil {
		return nil, fmt.Errorf("local clickhouse: %w", err)
	}
	// The users configuration is written now, not only when a server is
	// started: a server left running by a Vantage from before the
	// password reloads it and then accepts the password.
	if s.pass, err = loadPassword(dir); err == nil {
		err = writeUsersConfig(dir, cfg.BaseConfigDir, s.pass)
	}
	if err != nil {
		s.lease.Close()
		return nil, fmt.Errorf("local clickhouse: %w", err)
	}
	child, reused, err := s.ensure(wait)
	if err != nil {
		s.lease.Close()
		return nil, err
	}
	s.child, s.reused = child, reused
	s.healthy.Store(true)
	sup, stop := context.WithCancel(context.Background())
	s.cancel = stop
	s.wg.Go(func() { s.supervise(sup) })
	return s, nil
}

// takeLease opens dir/users.lock and takes a shared flock on it, waiting
// while a closing last user holds it exclusively to stop the server.
func takeLease(ctx context.Context, dir string, log *slog.Logger) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "users.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for logged := false; ; {
		ok, err := tryLock(f, false)
		if ok {
			return f, nil
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if !logged {
			log.Info("waiting for the local clickhouse-server to stop before starting it again", "data_dir", dir)
			logged = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("the clickhouse-server in %s is being stopped and did not stop in time: %w", dir, ctx.Err())
		case <-tick.C:
		}
	}
}

// ensure makes a server answer on the port: it reuses the one answering,
// waits for one that runs in the data directory (starting, or shutting
// down), or starts a child when the directory is free. It returns the child
// it started (nil when reused).
func (s *Server) ensure(ctx context.Context) (child *os.Process, reused bool, err error) {
	wait, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	logged := false
	raced := false // another process's server won the directory once
	var pingErr error
	for {
		if wait.Err() != nil {
			return nil, false, fmt.Errorf("local clickhouse: no server answers on %s: %w", s.addr, wait.Err())
		}
		if pingErr = pingAddr(wait, s.addr, s.pass); pingErr == nil {
			s.log.Info("reusing running clickhouse-server", "addr", s.addr)
			return nil, true, nil
		}
		if !fileLocked(s.status) {
			p, err := s.startChild(wait, pingErr)
			switch {
			case errors.Is(err, errLostRace):
				raced = true
				continue // another process's server holds the directory
			case raced && errors.Is(err, errPortInUse):
				// The winner listens and does not answer yet (or its
				// lock on the directory was just probed): wait for it.
				select {
				case <-wait.Done():
				case <-tick.C:
				}
				continue
			}
			return p, false, err
		}
		// A server process holds the directory: starting (another Vantage
		// process started it), shutting down, or, refusing the password,
		// one from before the password that is reloading its users.
		// Wait for it to answer or to exit.
		if !logged {
			pid, _ := statusPID(s.status)
			s.log.Info("waiting for the clickhouse-server that runs in the data directory", "addr", s.addr, "data_dir", s.dir, "pid", pid, "err", pingErr)
			logged = true
		}
		select {
		case <-wait.Done():
			pid, _ := statusPID(s.status)
			return nil, false, fmt.Errorf("local clickhouse: a server (pid %d) runs in %s but does not answer on %s (%v): %w", pid, s.dir, s.addr, pingErr, wait.Err())
		case <-tick.C:
		}
	}
}

// errLostRace: another process's server took the data directory while ours
// was starting.
var errLostRace = errors.New("another process started the server")

// errPortInUse: something listens on the server's port but does not
// answer as the server of the data directory.
var errPortInUse = errors.New("port in use")

// startChild starts clickhouse-server detached and waits for it to answer.
// pingErr is why the server on the port did not answer.
func (s *Server) startChild(ctx context.Context, pingErr error) (*os.Process, error) {
	if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		c.Close()
		if isAuthError(pingErr) {
			return nil, fmt.Errorf("local clickhouse: %w: port %d is in use by a ClickHouse server that is not the one of %s (it refuses the password in %s: %v); choose another clickhouse.tcp_port", errPortInUse, s.cfg.TCPPort, s.dir, filepath.Join(s.dir, PasswordFile), pingErr)
		}
		return nil, fmt.Errorf("local clickhouse: %w: port %d is in use by something that does not answer as ClickHouse; choose another clickhouse.tcp_port", errPortInUse, s.cfg.TCPPort)
	}
	bin, err := findServerBinary(s.cfg.Binary)
	if err != nil {
		return nil, err
	}
	cfgFile, err := writeServerConfig(s.dir, s.cfg, s.pass)
	if err != nil {
		return nil, fmt.Errorf("local clickhouse: %w", err)
	}
	logDir := filepath.Join(s.dir, "log")
	lf, err := os.OpenFile(filepath.Join(logDir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("local clickhouse: %w", err)
	}
	var logStart int64 // what the new child writes to stdout.log starts here
	if st, err := lf.Stat(); err == nil {
		logStart = st.Size()
	}
	// and to its error log (where its exceptions go) here.
	errLog := filepath.Join(logDir, "clickhouse-server.err.log")
	var errStart int64
	if st, err := os.Stat(errLog); err == nil {
		errStart = st.Size()
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		lf.Close()
		return nil, fmt.Errorf("local clickhouse: %w", err)
	}
	p, err := os.StartProcess(bin, []string{bin, "--config-file=" + cfgFile}, &os.ProcAttr{
		Dir:   s.dir,
		Files: []*os.File{devnull, lf, lf},
		Sys:   childProcAttr(s.cfg.ExitWithStarter),
	})
	lf.Close() // the child has its own copies
	devnull.Close()
	if err != nil {
		return nil, fmt.Errorf("local clickhouse: start %s: %w", bin, err)
	}
	s.log.Info("starting clickhouse-server", "pid", p.Pid, "addr", s.addr, "http_port", s.cfg.HTTPPort, "data_dir", s.dir)

	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if pingAddr(ctx, s.addr, s.pass) == nil {
			// In a race with another process starting the same server,
			// the answer may come from the other one while ours fails to
			// lock the directory; the status file names the winner.
			if pid, ok := statusPID(s.status); ok && pid != p.Pid {
				stopChild(p, 15*time.Second)
				return nil, errLostRace
			}
			return p, nil
		}
		if exited, how := reap(p); exited {
			p.Release()
			// Another server took the directory or the port; or a
			// process probing the status file's lock (fileLocked) held
			// it at the moment ours tried: either way, ensure looks
			// again.
			out := readFrom(lf.Name(), logStart) + readFrom(errLog, errStart)
			if fileLocked(s.status) || pingAddr(ctx, s.addr, s.pass) == nil ||
				strings.Contains(out, "Another server instance in same directory") || strings.Contains(out, "Address already in use") {
				return nil, errLostRace
			}
			return nil, fmt.Errorf("local clickhouse: clickhouse-server exited (%s) before answering on %s; its logs:\n%s", how, s.addr, tailFiles(logDir, 2000))
		}
		select {
		case <-ctx.Done():
			stopChild(p, 15*time.Second)
			return nil, fmt.Errorf("local clickhouse: no answer on %s: %w; logs in %s", s.addr, ctx.Err(), logDir)
		case <-tick.C:
		}
	}
}

// supervise checks the server every checkEvery until ctx ends and restarts
// it when it is gone.
func (s *Server) supervise(ctx context.Context) {
	every := s.cfg.checkEvery
	backoff := every
	silent := 0 // consecutive checks a running server did not answer
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		exit := ""
		if s.child != nil {
			if exited, how := reap(s.child); exited {
				s.child.Release()
				s.child = nil
				exit = how
			}
		}
		if exit == "" {
			err := pingAddr(ctx, s.addr, s.pass)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				if !s.healthy.Swap(true) {
					s.log.Info("clickhouse-server answers again", "addr", s.addr)
				}
				silent, backoff = 0, every
				t.Reset(every)
				continue
			}
			if fileLocked(s.status) {
				// Running but not answering: starting, stopping, or busy.
				// Whoever runs it will act when it exits; say so once.
				if silent++; silent == 3 {
					pid, _ := statusPID(s.status)
					s.healthy.Store(false)
					s.log.Warn("clickhouse-server does not answer", "addr", s.addr, "pid", pid, "err", err)
				}
				t.Reset(every)
				continue
			}
			exit = "unknown (not started by this process)"
		}
		s.healthy.Store(false)
		silent = 0
		s.log.Warn("clickhouse-server exited; restarting", "exit_status", exit, "addr", s.addr, "data_dir", s.dir,
			"log_tail", tailFile(filepath.Join(s.dir, "log", "clickhouse-server.err.log"), 1000)+tailFile(filepath.Join(s.dir, "log", "stdout.log"), 500))
		child, reused, err := s.ensure(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Error("restarting clickhouse-server failed", "err", err, "retry_in", backoff)
			t.Reset(backoff)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		s.child = child
		s.restarts.Add(1)
		s.healthy.Store(true)
		if reused {
			s.log.Info("clickhouse-server was restarted by another process", "addr", s.addr)
		} else {
			s.log.Info("clickhouse-server restarted", "addr", s.addr, "pid", child.Pid)
		}
		backoff = every
		t.Reset(every)
	}
}

// ServerPID returns the PID of the clickhouse-server running with its data
// in dataDir (the data directory of a ServerConfig), as the server writes
// it into its status file; false when none is recorded.
func ServerPID(dataDir string) (int, bool) {
	return statusPID(filepath.Join(dataDir, "data", "status"))
}

// statusPID reads the PID that clickhouse-server writes into its status
// file ("PID: 1234").
func statusPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "PID:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			return pid, err == nil
		}
	}
	return 0, false
}

// Addr is the native protocol address, host:port.
func (s *Server) Addr() string { return s.addr }

// Password is the password of ServerUser, kept in PasswordFile in the
// data directory.
func (s *Server) Password() string { return s.pass }

// DSN is a clickhouse-go DSN of the server, with ServerUser and the
// password.
func (s *Server) DSN() string {
	return "clickhouse://" + ServerUser + ":" + s.pass + "@" + s.addr
}

// Reused reports whether the server was already running when StartServer
// returned (started by another process, or left from an earlier run).
func (s *Server) Reused() bool { return s.reused }

// Healthy reports whether the server answered at the supervisor's last
// check (every second); false while it is down or being restarted.
func (s *Server) Healthy() bool { return s.healthy.Load() }

// Restarts is how many times the supervisor found the server gone and
// brought one back (started or, when another process was faster, reused).
func (s *Server) Restarts() int64 { return s.restarts.Load() }

// Close stops the supervisor and gives up this process's use of the
// server; if no other process uses it, Close stops it (SIGTERM, then
// SIGKILL after 15 seconds). Close is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		defer s.lease.Close()
		// Release our shared lock, then see whether anyone else holds one.
		// Of several users closing at once, the last to release gets the
		// exclusive lock, so exactly one of them stops the server.
		_ = unlock(s.lease)
		if last, _ := tryLock(s.lease, true); !last {
			s.log.Info("leaving clickhouse-server running for the other Vantage processes that use it", "addr", s.addr)
			if s.child != nil {
				s.child.Release()
			}
			return
		}
		s.closeErr = s.stop()
	})
	return s.closeErr
}

// stop stops the server running in the data directory: our child, or the
// process named by the status file while it holds the directory.
func (s *Server) stop() error {
	if s.child != nil {
		pid := s.child.Pid
		if !stopChild(s.child, 15*time.Second) {
			s.log.Warn("clickhouse-server did not stop on SIGTERM; killed it", "pid", pid)
			return fmt.Errorf("local clickhouse: killed pid %d after SIGTERM timed out", pid)
		}
		s.log.Info("clickhouse-server stopped", "pid", pid)
		return nil
	}
	pid, ok := statusPID(s.status)
	if !ok || !fileLocked(s.status) {
		return nil // not running, or not ours (a server of another directory)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	defer p.Release()
	_ = p.Signal(syscall.SIGTERM)
	if waitUnlocked(s.status, 15*time.Second) {
		s.log.Info("clickhouse-server stopped", "pid", pid)
		return nil
	}
	_ = p.Kill()
	waitUnlocked(s.status, 5*time.Second)
	s.log.Warn("clickhouse-server did not stop on SIGTERM; killed it", "pid", pid)
	return fmt.Errorf("local clickhouse: killed pid %d after SIGTERM timed out", pid)
}

// stopChild sends SIGTERM, waits up to timeout for the child to exit, then
// kills it; it reports whether SIGTERM was enough.
func stopChild(p *os.Process, timeout time.Duration) bool {
	defer p.Release()
	_ = p.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if exited, _ := reap(p); exited {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = p.Kill()
	for range 100 {
		if exited, _ := reap(p); exited {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// waitUnlocked polls until no process holds an flock on path.
func waitUnlocked(path string, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !fileLocked(path) {
			return true
		}
	}
	return false
}

// pingAddr reports whether a ClickHouse server answers on addr (native)
// to ServerUser with password.
func pingAddr(ctx context.Context, addr, password string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:         []string{addr},
		Auth:         clickhouse.Auth{Username: ServerUser, Password: password},
		DialTimeout:  time.Second,
		MaxOpenConns: 1,
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Ping(ctx)
}

// isAuthError reports whether err is ClickHouse refusing the user:
// unknown user, wrong or missing password, address not allowed, or
// (newer releases) authentication failed.
func isAuthError(err error) bool {
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		return false
	}
	switch ex.Code {
	case 192, 193, 194, 195, 516:
		return true
	}
	return false
}

// ServerPassword returns the password of ServerUser of the local server
// whose data directory is dataDir (the DataDir of a ServerConfig), as
// StartServer keeps it in PasswordFile there.
func ServerPassword(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, PasswordFile))
	if err != nil {
		return "", fmt.Errorf("password of the local clickhouse-server: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if pw == "" {
		return "", fmt.Errorf("password of the local clickhouse-server: %s is empty; delete it to have a new one generated at the next start", filepath.Join(dataDir, PasswordFile))
	}
	return pw, nil
}

// loadPassword returns the password in dir/PasswordFile, creating the file
// with a new random password when there is none. The file appears whole
// (written aside, then linked into place), and of processes creating it at
// once the first to link wins and the others read its password.
func loadPassword(dir string) (string, error) {
	path := filepath.Join(dir, PasswordFile)
	if _, err := os.Lstat(path); err == nil {
		return ServerPassword(dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "."+PasswordFile+"-*") // mode 0600
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	pw := rand.Text() // 26 characters of base32: 130 random bits
	_, err = tmp.WriteString(pw + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	return ServerPassword(dir)
}

// writeUsersConfig writes users.d/vantage.xml, which the server merges over
// the copied users.xml: the default user needs the password (its SHA-256)
// and is accepted from loopback only; the example user readonly, which
// needs no password, is removed. The file is left alone when it already
// says this, so that a running server does not reload for nothing.
func writeUsersConfig(dir, baseConfigDir, password string) error {
	root := "yandex"
	if users, err := os.ReadFile(filepath.Join(baseConfigDir, "users.xml")); err == nil && bytes.Contains(users, []byte("<clickhouse>")) {
		root = "clickhouse"
	}
	sum := sha256.Sum256([]byte(password))
	text := []byte(strings.NewReplacer("ROOT", root, "PASSWORD_SHA256", hex.EncodeToString(sum[:])).Replace(usersTemplate))
	d := filepath.Join(dir, "users.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	path := filepath.Join(d, "vantage.xml")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, text) {
		return nil
	}
	// Aside, then renamed: a server reloading its users never reads half
	// a file.
	tmp, err := os.CreateTemp(d, ".vantage.xml-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(text)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// usersTemplate is merged by clickhouse-server over the copied users.xml.
const usersTemplate = `<?xml version="1.0"?>
<!-- Written by Vantage at every start of the local server: the default user
     needs the password in ../default-password (this is its SHA-256) and may
     connect from loopback only. Put your own users in another file of this
     directory. -->
<ROOT>
    <users>
        <default>
            <password remove="1"/>
            <password_sha256_hex>PASSWORD_SHA256</password_sha256_hex>
            <networks replace="1">
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
        </default>
        <readonly remove="1"/>
    </users>
</ROOT>
`

func findServerBinary(bin string) (string, error) {
	if bin != "" {
		p, err := exec.LookPath(bin)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNoServerBinary, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNoServerBinary
}

// writeServerConfig lays out the data directory and returns the path of
// the config file to run the server with.
func writeServerConfig(dir string, cfg ServerConfig, password string) (string, error) {
	for _, d := range []string{"config.d", "data", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return "", err
		}
	}
	base, err := os.ReadFile(filepath.Join(cfg.BaseConfigDir, "config.xml"))
	if err != nil {
		return "", fmt.Errorf("read the base configuration (is clickhouse-server installed? make deps installs it): %w", err)
	}
	users, err := os.ReadFile(filepath.Join(cfg.BaseConfigDir, "users.xml"))
	if err != nil {
		return "", fmt.Errorf("read the base configuration: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), base, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), users, 0o644); err != nil {
		return "", err
	}
	root := "yandex" // ClickHouse before 21.x; newer packages use <clickhouse>
	if bytes.Contains(base, []byte("<clickhouse>")) {
		root = "clickhouse"
	}
	data := filepath.Join(dir, "data") + "/"
	logs := filepath.Join(dir, "log") + "/"
	override := strings.NewReplacer(
		"ROOT", root,
		"DATA/", data,
		"LOGS/", logs,
		"TCP_PORT", strconv.Itoa(cfg.TCPPort),
		"HTTP_PORT", strconv.Itoa(cfg.HTTPPort),
	).Replace(overrideTemplate)
	if rs := cfg.Cluster.remoteServers(); rs != "" {
		// After the replacements: a password may hold their words.
		i := strings.LastIndex(override, "</")
		override = override[:i] + rs + override[i:]
	}
	if err := os.WriteFile(filepath.Join(dir, "config.d", "vantage.xml"), []byte(override), 0o644); err != nil {
		return "", err
	}
	if err := writeUsersConfig(dir, cfg.BaseConfigDir, password); err != nil {
		return "", err
	}
	return filepath.Join(dir, "config.xml"), nil
}

// overrideTemplate is merged by clickhouse-server over the copied
// config.xml: every path into the data directory, loopback only, our
// ports, and no other listener that could collide with a system server.
const overrideTemplate = `<?xml version="1.0"?>
<!-- Written by Vantage at every start of the local server; put your own
     overrides in another file of this directory. -->
<ROOT>
    <logger>
        <level>warning</level>
        <log>LOGS/clickhouse-server.log</log>
        <errorlog>LOGS/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <path>DATA/</path>
    <tmp_path>DATA/tmp/</tmp_path>
    <user_files_path>DATA/user_files/</user_files_path>
    <format_schema_path>DATA/format_schemas/</format_schema_path>
    <user_scripts_path>DATA/user_scripts/</user_scripts_path>
    <user_directories><local_directory><path>DATA/access/</path></local_directory></user_directories>
    <tcp_port>TCP_PORT</tcp_port>
    <http_port>HTTP_PORT</http_port>
    <listen_host replace="1">127.0.0.1</listen_host>
    <interserver_http_port remove="1"/>
    <https_port remove="1"/>
    <tcp_port_secure remove="1"/>
    <mysql_port remove="1"/>
    <postgresql_port remove="1"/>
    <grpc_port remove="1"/>
    <!-- zstd for every part: the history takes 0.63x of the bytes LZ4 makes of it
         (scripts/bench-lg.sh -only bytes), for some CPU in merges and reads. -->
    <compression>
        <case>
            <min_part_size>0</min_part_size>
            <min_part_size_ratio>0</min_part_size_ratio>
            <method>zstd</method>
        </case>
    </compression>
</ROOT>
`

// tailFiles returns up to n bytes from the end of each file in dir.
func tailFiles(dir string, n int) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || len(data) == 0 {
			continue
		}
		if len(data) > n {
			data = data[len(data)-n:]
		}
		fmt.Fprintf(&b, "==> %s <==\n%s\n", e.Name(), data)
	}
	return b.String()
}

// tailFile returns up to n bytes from the end of a file, "" if unreadable.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(data[max(0, len(data)-n):])
}

// readFrom returns the file's contents from byte off on, "" if unreadable.
func readFrom(path string, off int64) string {
	data, err := os.ReadFile(path)
	if err != nil || off > int64(len(data)) {
		return ""
	}
	return string(data[off:])
}
