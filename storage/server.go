package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
)

// ServerConfig says where a local clickhouse-server keeps its files and on
// which loopback ports it listens. The zero value means the defaults.
type ServerConfig struct {
	// Binary is the clickhouse-server executable; default: found in PATH,
	// else /usr/sbin/clickhouse-server or /usr/bin/clickhouse-server.
	Binary string
	// DataDir holds everything of the server: its configuration (config.xml
	// and users.xml copied from BaseConfigDir, overrides in
	// config.d/vantage.xml, rewritten at every start; add your own files to
	// config.d), data/, log/. Default DefaultDataDir, relative to the
	// working directory.
	DataDir string
	// TCPPort is the native protocol port (default 19000), HTTPPort the HTTP
	// port (default 18123); both on 127.0.0.1 only.
	TCPPort  int
	HTTPPort int
	// BaseConfigDir is where config.xml and users.xml are copied from.
	BaseConfigDir string
	// StartTimeout bounds the wait for the server to answer (default 60s).
	StartTimeout time.Duration
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
	return c
}

// Server is a local clickhouse-server: a child process started by
// StartServer, or one that was already answering on the port (reused, and
// then left running by Close).
type Server struct {
	addr   string
	reused bool
	log    *slog.Logger

	cmd     *exec.Cmd
	done    chan struct{} // closed when the child has exited
	waitErr error         // set before done is closed
	logFile *os.File

	closeOnce sync.Once
	closeErr  error
}

// StartServer returns a clickhouse-server answering on 127.0.0.1:TCPPort:
// the one already running there, or a new child process with its own data
// directory. It polls until the server answers (or StartTimeout, ctx or an
// early exit of the child ends the wait). The child gets SIGTERM when this
// process dies.
func StartServer(ctx context.Context, cfg ServerConfig, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.TCPPort))
	s := &Server{addr: addr, log: log}

	wait, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("local clickhouse: %w", err)
	}
	status := filepath.Join(dir, "data", "status") // flocked by a running server

	// Reuse a server that already answers (another Vantage process, or a
	// server left from an earlier run), or one that another process is
	// starting in the same directory.
	if pingAddr(ctx, addr) == nil {
		log.Info("reusing running clickhouse-server", "addr", addr)
		s.reused = true
		return s, nil
	}
	if fileLocked(status) {
		log.Info("waiting for the clickhouse-server another process is starting", "addr", addr, "data_dir", dir)
		if err := waitAnswer(wait, addr, nil); err != nil {
			return nil, fmt.Errorf("local clickhouse: a server runs in %s but does not answer on %s: %w", dir, addr, err)
		}
		s.reused = true
		return s, nil
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("local clickhouse: port %d is in use by something that does not answer as ClickHouse; choose another clickhouse.tcp_port", cfg.TCPPort)
	}

	bin, err := findServerBinary(cfg.Binary)
	if err != nil {
		return nil, err
	}
	cfgFile, err := writeServerConfig(dir, cfg)
	if err != nil {
		return nil, fmt.Errorf("local clickhouse: %w", err)
	}
	logDir := filepath.Join(dir, "log")
	lf, err := os.OpenFile(filepath.Join(logDir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("local clickhouse: %w", err)
	}
	s.logFile = lf
	cmd := exec.Command(bin, "--config-file="+cfgFile)
	cmd.Dir = dir
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("local clickhouse: start %s: %w", bin, err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	go func() { // owned: Close waits for done
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	log.Info("starting clickhouse-server", "pid", cmd.Process.Pid, "addr", addr, "http_port", cfg.HTTPPort, "data_dir", dir)

	err = waitAnswer(wait, addr, s.done)
	switch {
	case err == nil:
		// In a race with another process starting the same server, the
		// answer may come from the other one while ours is failing to
		// lock the directory; the status file names the winner.
		if pid, ok := statusPID(status); ok && pid != cmd.Process.Pid {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-s.done
			s.logFile.Close()
			log.Info("reusing clickhouse-server started concurrently", "addr", addr, "pid", pid)
			return &Server{addr: addr, reused: true, log: log}, nil
		}
		return s, nil
	case errors.Is(err, errExited):
		s.logFile.Close()
		// Another process may have won a race to start the same server.
		if pingAddr(ctx, addr) == nil || fileLocked(status) && waitAnswer(wait, addr, nil) == nil {
			log.Info("reusing clickhouse-server started concurrently", "addr", addr)
			return &Server{addr: addr, reused: true, log: log}, nil
		}
		return nil, fmt.Errorf("local clickhouse: clickhouse-server exited (%v) before answering on %s; its logs:\n%s", s.waitErr, addr, tailFiles(logDir, 2000))
	default:
		s.Close()
		return nil, fmt.Errorf("local clickhouse: no answer on %s after %v: %w; logs in %s", addr, cfg.StartTimeout, err, logDir)
	}
}

var errExited = errors.New("server exited")

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

// waitAnswer polls addr until a ClickHouse server answers, ctx ends or
// exited (if not nil) is closed.
func waitAnswer(ctx context.Context, addr string, exited <-chan struct{}) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if pingAddr(ctx, addr) == nil {
			return nil
		}
		select {
		case <-exited:
			return errExited
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Addr is the native protocol address, host:port.
func (s *Server) Addr() string { return s.addr }

// Reused reports whether the server was already running (and so is not
// stopped by Close).
func (s *Server) Reused() bool { return s.reused }

// Close stops a server this process started: SIGTERM, then SIGKILL after
// 15 seconds. It is idempotent and does nothing for a reused server.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.cmd == nil {
			return
		}
		defer s.logFile.Close()
		select {
		case <-s.done:
			return // already gone
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(15 * time.Second)
		defer t.Stop()
		select {
		case <-s.done:
			s.log.Info("clickhouse-server stopped", "pid", s.cmd.Process.Pid)
		case <-t.C:
			s.log.Warn("clickhouse-server did not stop on SIGTERM; killing it", "pid", s.cmd.Process.Pid)
			_ = s.cmd.Process.Kill()
			<-s.done
			s.closeErr = fmt.Errorf("local clickhouse: killed pid %d after SIGTERM timed out", s.cmd.Process.Pid)
		}
	})
	return s.closeErr
}

// pingAddr reports whether a ClickHouse server answers on addr (native).
func pingAddr(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:         []string{addr},
		DialTimeout:  time.Second,
		MaxOpenConns: 1,
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Ping(ctx)
}

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
func writeServerConfig(dir string, cfg ServerConfig) (string, error) {
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
	if err := os.WriteFile(filepath.Join(dir, "config.d", "vantage.xml"), []byte(override), 0o644); err != nil {
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
