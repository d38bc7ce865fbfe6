// Package storagetest gives tests of other packages a real ClickHouse: Run
// starts a private clickhouse-server for the test binary (free loopback
// ports, a temporary directory) and DB opens a fresh database on it.
//
//	func TestMain(m *testing.M) { os.Exit(storagetest.Run(m)) }
//
//	func TestX(t *testing.T) { db := storagetest.DB(t); ... }
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/freeport"
	"github.com/vantage-bgp/vantage/internal/testenv"
	"github.com/vantage-bgp/vantage/storage"
)

var (
	server *storage.Server
	skip   = "storagetest.Run was not called from TestMain"
	number atomic.Int64
)

// Run starts the server, runs the tests and stops the server; it returns
// the exit code for os.Exit. Without clickhouse-server installed the
// tests that call DB are skipped, saying so.
func Run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vantage-clickhouse-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	s, err := storage.StartServer(ctx, storage.ServerConfig{DataDir: dir, TCPPort: FreePort(), HTTPPort: FreePort(), ExitWithStarter: true}, nil)
	cancel()
	switch {
	case errors.Is(err, storage.ErrNoServerBinary):
		skip = "clickhouse-server is not installed; install it with make deps to run the ClickHouse tests"
	case err != nil:
		fmt.Fprintln(os.Stderr, "storagetest: start clickhouse-server:", err)
		return 1
	default:
		server = s
		defer s.Close()
	}
	return m.Run()
}

// Addr is the native address of the server, "" when it is not running.
func Addr() string {
	if server == nil {
		return ""
	}
	return server.Addr()
}

// DSN is the DSN of the server, with its user and password; the test is
// skipped when there is none.
func DSN(t testing.TB) string {
	t.Helper()
	if server == nil {
		testenv.Skip(t, skip)
	}
	return server.DSN()
}

// Database returns a database name no other test of the binary uses.
func Database(t testing.TB) string {
	name := fmt.Sprintf("test_%d_%s", number.Add(1), strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name()))
	return name[:min(len(name), 60)]
}

// DB opens a fresh database on the server, closed when the test ends.
func DB(t testing.TB) *storage.DB {
	t.Helper()
	db, err := storage.Open(t.Context(), storage.Config{DSN: DSN(t), Database: Database(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago and
// that no other call of this test binary returned.
func FreePort() int {
	port, err := freeport.Get()
	if err != nil {
		panic(err)
	}
	return port
}
