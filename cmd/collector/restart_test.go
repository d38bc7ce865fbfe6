package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// TestRestartBesideLG runs the built collector and lg with a local
// ClickHouse (no DSN), kills the collector with -9 and starts it again:
// it comes up at once, lg keeps answering throughout, and when both stop
// the last one stops the server. (Issue 9: the restarted collector used to
// wait for the server its death had taken down under lg, and fail.)
func TestRestartBesideLG(t *testing.T) {
	if storagetest.Addr() == "" {
		storagetest.DSN(t) // skips, saying why
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/collector", "./cmd/lg")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	port := storagetest.FreePort
	tcpPort := port()
	cfg := filepath.Join(dir, "vantage.yaml")
	body := fmt.Sprintf(`collector: {listen: "127.0.0.1:%d", metrics_listen: ""}
nats: {listen: "127.0.0.1:%d", store_dir: %q}
clickhouse: {data_dir: %q, tcp_port: %d, http_port: %d}
lg: {listen: "127.0.0.1:%d"}
`, port(), port(), filepath.Join(dir, "nats"), filepath.Join(dir, "clickhouse"), tcpPort, port(), port())
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// Whatever happens, leave no server behind (it runs detached).
	t.Cleanup(func() { killLeftServer(filepath.Join(dir, "clickhouse", "data", "status")) })

	collector := startProc(t, dir, filepath.Join(bin, "collector"), "run", "-config", cfg)
	collector.waitFor(t, "collector: BGP on")
	lg := startProc(t, dir, filepath.Join(bin, "lg"), "-config", cfg)
	url := lg.waitFor(t, `lg: looking glass on (http://\S+/)`)

	if err := collector.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-collector.exited
	if code := healthz(url); code != http.StatusOK {
		t.Errorf("lg /healthz after the collector was killed: %d\n%s", code, lg.out)
	}
	again := startProc(t, dir, filepath.Join(bin, "collector"), "run", "-config", cfg)
	again.waitFor(t, "collector: BGP on")
	if code := healthz(url); code != http.StatusOK {
		t.Errorf("lg /healthz after the collector's restart: %d\n%s", code, lg.out)
	}

	for _, p := range []*proc{again, lg} {
		p.stop(t)
	}
	out := again.out.String() + lg.out.String()
	if strings.Count(out, "clickhouse-server stopped") != 1 {
		t.Errorf("want exactly one of collector and lg to stop the server:\n%s", out)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(tcpPort), time.Second); err == nil {
		c.Close()
		t.Error("the server still listens after collector and lg stopped")
	}
}

// proc is a started command whose output is collected.
type proc struct {
	cmd     *exec.Cmd
	out     *lockedBuffer
	exited  chan struct{}
	waitErr error
}

func startProc(t *testing.T, dir, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), out: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.exited) }() // owned: stop and the cleanup wait for exited
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// waitFor polls the output until it matches re and returns the first
// submatch (or the match), failing when the process exits or after 60 s.
func (p *proc) waitFor(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := rx.FindStringSubmatch(p.out.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited (%v) before printing %q:\n%s", p.cmd.Path, p.waitErr, re, p.out)
		case <-deadline:
			t.Fatalf("%s did not print %q within 60s:\n%s", p.cmd.Path, re, p.out)
		case <-tick.C:
		}
	}
}

// stop sends SIGINT and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit on SIGINT:\n%s", p.cmd.Path, p.out)
	}
	if p.waitErr != nil {
		t.Errorf("%s exited with %v:\n%s", p.cmd.Path, p.waitErr, p.out)
	}
}

func healthz(url string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// killLeftServer kills the clickhouse-server that still holds status.
func killLeftServer(status string) {
	b, err := os.ReadFile(status)
	if err != nil {
		return
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "PID:"); ok {
			if pid, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				if f, err := os.Open(status); err == nil {
					if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
						syscall.Kill(pid, syscall.SIGKILL)
					}
					f.Close()
				}
			}
		}
	}
}

// lockedBuffer collects output written by another process.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
