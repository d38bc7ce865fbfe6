package storage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/vantage-bgp/vantage/internal/testenv"
)

// testServer is one clickhouse-server for the whole package, started by
// TestMain on free ports in a temporary directory; each test gets its own
// database.
var (
	testServer   *Server
	testSkip     string
	testDBNumber atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vantage-storage-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err := StartTestServer(dir)
	switch {
	case errors.Is(err, ErrNoServerBinary):
		testSkip = "clickhouse-server is not installed; install it with make deps to run the ClickHouse tests"
	case err != nil:
		fmt.Fprintln(os.Stderr, "start clickhouse-server:", err)
		return 1
	default:
		testServer = srv
		defer srv.Close()
	}
	return m.Run()
}

// StartTestServer starts a private server in dir on free loopback ports.
func StartTestServer(dir string) (*Server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return StartServer(ctx, ServerConfig{DataDir: dir, TCPPort: freePort(), HTTPPort: freePort(), ExitWithStarter: true}, nil)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testOptions are the options to connect to the test server.
func testOptions() *clickhouse.Options {
	return &clickhouse.Options{
		Addr: []string{testServer.Addr()},
		Auth: clickhouse.Auth{Username: ServerUser, Password: testServer.Password()},
	}
}

// testDB opens a fresh database on the test server.
func testDB(t testing.TB) *DB {
	t.Helper()
	if testServer == nil {
		testenv.Skip(t, testSkip)
	}
	name := fmt.Sprintf("test_%d_%s", testDBNumber.Add(1), strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	db, err := open(t.Context(), testOptions(), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = db.conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name)
		db.Close()
	})
	return db
}
