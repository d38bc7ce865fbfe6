package storage

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testenv"
	"github.com/vantage-bgp/vantage/schema"
)

func TestStartServerReuseAndStop(t *testing.T) {
	if testServer == nil {
		testenv.Skip(t, testSkip)
	}
	dir := t.TempDir()
	cfg := ServerConfig{DataDir: dir, TCPPort: freePort(), HTTPPort: freePort(), ExitWithStarter: true}
	s, err := StartServer(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Reused() {
		t.Fatal("new server reported as reused")
	}
	for _, f := range []string{"config.xml", "users.xml", "config.d/vantage.xml", "data", "log"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("data dir: %v", err)
		}
	}
	// A second start on the same port reuses the running server.
	s2, err := StartServer(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Reused() {
		t.Error("second StartServer did not reuse the running server")
	}
	if err := s2.Close(); err != nil {
		t.Errorf("Close of reused server: %v", err)
	}
	if err := pingAddr(t.Context(), s.Addr(), s.Password()); err != nil {
		t.Fatalf("closing the reused handle stopped the server: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := pingAddr(context.Background(), s.Addr(), s.Password()); err == nil {
		t.Fatal("server still answers after Close")
	}
}

func TestOpenLocalServer(t *testing.T) {
	if testServer == nil {
		testenv.Skip(t, testSkip)
	}
	cfg := Config{Database: "vantage_open", Server: ServerConfig{DataDir: t.TempDir(), TCPPort: freePort(), HTTPPort: freePort(), ExitWithStarter: true}}
	db, err := Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if db.Server() == nil || db.Server().Reused() {
		t.Error("Open without DSN did not start a local server")
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Error(err)
	}
	addr, password := db.Server().Addr(), db.Server().Password()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pingAddr(context.Background(), addr, password); err == nil {
		t.Fatal("local server still answers after DB.Close")
	}
}

func TestStartServerErrors(t *testing.T) {
	_, err := StartServer(t.Context(), ServerConfig{Binary: "/nonexistent/clickhouse-server", DataDir: t.TempDir(), TCPPort: freePort()}, nil)
	if !errors.Is(err, ErrNoServerBinary) || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("missing binary: %v, want ErrNoServerBinary mentioning make deps", err)
	}
	if testServer == nil {
		return
	}
	_, err = StartServer(t.Context(), ServerConfig{DataDir: t.TempDir(), TCPPort: freePort(), BaseConfigDir: t.TempDir()}, nil)
	if err == nil || !strings.Contains(err.Error(), "config.xml") {
		t.Errorf("missing base config: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string // substring of the error; "" for none
	}{
		{Config{}, ""},
		{Config{Database: "vantage_2"}, ""},
		{Config{Database: "bad-name"}, `database "bad-name"`},
		{Config{Database: "1x"}, `database "1x"`},
		{Config{DSN: "clickhouse://127.0.0.1:9000"}, ""},
		{Config{DSN: "::not a dsn"}, "dsn"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.cfg, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: error %v, want one containing %q", tt.cfg, err, tt.want)
		}
	}
}

// TestStartServerConcurrently starts the same server from two goroutines,
// as `make run` does from the collector and the looking glass: one starts
// it, the other reuses it.
func TestStartServerConcurrently(t *testing.T) {
	if testServer == nil {
		testenv.Skip(t, testSkip)
	}
	cfg := ServerConfig{DataDir: t.TempDir(), TCPPort: freePort(), HTTPPort: freePort(), ExitWithStarter: true}
	var servers [2]*Server
	var errs [2]error
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() { servers[i], errs[i] = StartServer(t.Context(), cfg, nil) })
	}
	wg.Wait()
	started := 0
	for i, s := range servers {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		defer s.Close()
		if !s.Reused() {
			started++
		}
	}
	if started != 1 {
		t.Errorf("%d servers started, want 1 started and 1 reused", started)
	}
}

// TestWriterRetriesUntilServerReturns stops ClickHouse under a writer and
// starts it again: the rows queued meanwhile are stored once it answers.
func TestWriterRetriesUntilServerReturns(t *testing.T) {
	if testServer == nil {
		testenv.Skip(t, testSkip)
	}
	cfg := ServerConfig{DataDir: t.TempDir(), TCPPort: freePort(), HTTPPort: freePort(), ExitWithStarter: true}
	srv, err := StartServer(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Close() }()
	db, err := Open(t.Context(), Config{DSN: srv.DSN(), Database: "retry"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := db.NewWriter(WriterConfig{FlushInterval: 10 * time.Millisecond}, nil)
	defer w.Close()

	// A crash of the server and of every process that would restart it
	// (SIGTERM would wait for the writer's idle connection, 10s).
	killServer(t, srv)
	if err := w.Write(t.Context(), []schema.Event{announce(0, peerA, 64500, []uint32{64500}, "10.0.0.0/8")}); err != nil {
		t.Fatal(err)
	}
	// Let a few inserts fail before the server comes back.
	waitFor(t, 10*time.Second, func() bool { return w.failures.Load() >= 2 })
	if srv, err = StartServer(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8")})
	if err != nil || len(got) != 1 {
		t.Fatalf("after the server returned: %v, %v", got, err)
	}
}
