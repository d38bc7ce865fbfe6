package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

func TestMain(m *testing.M) { os.Exit(storagetest.Run(m)) }

// syncBuffer collects output written by another goroutine or process.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var urlRE = regexp.MustCompile(`lg: looking glass on (http://\S+/)`)

// waitURL polls the output until lg prints the UI address.
func waitURL(t testing.TB, out *syncBuffer, exited <-chan struct{}) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case <-exited:
			t.Fatalf("lg exited before serving:\n%s", out)
		case <-ctx.Done():
			t.Fatalf("lg did not print its address:\n%s", out)
		case <-tick.C:
		}
	}
}

func writeConfig(t testing.TB, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vantage.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// startLG runs lg with the config file cfg until stop, which returns
// run's error; url is where it serves, out what it printed.
func startLG(t testing.TB, cfg string) (url string, out *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out = &syncBuffer{}
	done := make(chan struct{})
	var runErr error
	go func() { runErr = run(ctx, []string{"-config", cfg}, out); close(done) }()
	url = waitURL(t, out, done)
	return url, out, func() error { cancel(); <-done; return runErr }
}

// TestRunWithDSN serves over an existing ClickHouse and stops when its
// context ends.
func TestRunWithDSN(t *testing.T) {
	cfg := writeConfig(t, fmt.Sprintf("clickhouse: {dsn: %q, database: %s}\nlg: {listen: '127.0.0.1:0'}\nlog: {level: debug}\n",
		storagetest.DSN(t), storagetest.Database(t)))
	url, out, stop := startLG(t, cfg)

	if code, body := httpGet(t, url+"healthz"); code != http.StatusOK {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, body := httpGet(t, url+"api/v1/routes?prefix=192.0.2.0/24"); code != http.StatusOK || !strings.Contains(body, `"routes":[]`) {
		t.Errorf("routes: %d %s", code, body)
	}
	if code, body := httpGet(t, url+"api/v1/routes?prefix=192.0.2.0/33"); code != http.StatusBadRequest || !strings.Contains(body, `prefix \"192.0.2.0/33\"`) {
		t.Errorf("bad routes query: %d %s", code, body)
	}
	if err := stop(); err != nil {
		t.Errorf("run: %v\n%s", err, out)
	}
}

// TestRunQueryLimits: lg.max_rows_to_read reaches the store, and a query
// over it is a 422 that says so.
func TestRunQueryLimits(t *testing.T) {
	dsn, database := storagetest.DSN(t), storagetest.Database(t)
	db, err := storage.Open(t.Context(), storage.Config{DSN: dsn, Database: database}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Insert(t.Context(), []schema.Event{{
		Timestamp: 1715688000, Peer: netip.MustParseAddr("192.0.2.1"), PeerASN: 64500, Host: "rrc-test", Type: schema.TypeUpdate,
		Announcements: []schema.Announcement{{NextHop: netip.MustParseAddr("192.0.2.1"), NLRISet: schema.NLRISet{Prefixes: []netip.Prefix{
			netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24")}}}},
	}}); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf("clickhouse: {dsn: %q, database: %s}\nlg: {listen: '127.0.0.1:0', query_timeout: 5s, max_rows_to_read: 1}\n", dsn, database))
	url, out, stop := startLG(t, cfg)
	want := `{"error":"query too expensive: read more than 1 rows; narrow the prefix, peer or time window"}`
	if code, body := httpGet(t, url+"api/v1/routes?prefix=0.0.0.0/0&match=more"); code != http.StatusUnprocessableEntity || strings.TrimSpace(body) != want {
		t.Errorf("routes over max_rows_to_read: %d %s", code, body)
	}
	if err := stop(); err != nil {
		t.Errorf("run: %v\n%s", err, out)
	}
}

func TestRunConfigErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-config", writeConfig(t, "lg: {listn: ':1'}\n")}, "lg.listn: unknown key"},
		{[]string{"-config", writeConfig(t, "clickhouse: {tcp_port: x}\n")}, "clickhouse.tcp_port"},
		{[]string{"-config", filepath.Join(t.TempDir(), "missing.yaml")}, "no such file"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-bogus"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		out := &syncBuffer{}
		err := run(t.Context(), tt.args, out)
		if err == nil || !strings.Contains(err.Error()+out.String(), tt.want) {
			t.Errorf("run(%q) = %v (output %q), want an error mentioning %q", tt.args, err, out, tt.want)
		}
	}
}

// TestBinaryLocalServer runs the built command with no DSN: it starts its
// own clickhouse-server, serves, and on SIGINT stops cleanly, taking the
// server down with it.
func TestBinaryLocalServer(t *testing.T) {
	if storagetest.Addr() == "" {
		storagetest.DSN(t) // skips, saying why
	}
	bin := filepath.Join(t.TempDir(), "lg")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tcpPort, httpPort := storagetest.FreePort(), storagetest.FreePort()
	cfg := writeConfig(t, fmt.Sprintf("clickhouse: {data_dir: %q, tcp_port: %d, http_port: %d}\nlg: {listen: '127.0.0.1:0'}\n",
		filepath.Join(t.TempDir(), "clickhouse"), tcpPort, httpPort))
	cmd := exec.Command(bin, "-config", cfg)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	url := waitURL(t, out, exited)
	if code, body := httpGet(t, url+"healthz"); code != http.StatusOK {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, body := httpGet(t, url); code != http.StatusOK || !strings.Contains(body, "Vantage looking glass") {
		t.Errorf("UI: %d", code)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("lg did not exit on SIGINT:\n%s", out)
	}
	if waitErr != nil {
		t.Errorf("lg exited with %v:\n%s", waitErr, out)
	}
	if !strings.Contains(out.String(), "clickhouse-server stopped") {
		t.Errorf("lg did not stop its clickhouse-server:\n%s", out)
	}
}
