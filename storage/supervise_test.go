package storage

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testenv"
)

// crash gives up s as a process killed with -9 would: the supervisor stops,
// the lease goes, the server (if s started it) is left running, and Close
// does nothing more.
func (s *Server) crash() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.lease.Close()
		if s.child != nil {
			s.child.Release()
		}
	})
}

// killServer crashes s and kills the server process with SIGKILL, then
// waits until it has let go of its data directory.
func killServer(t *testing.T, s *Server) {
	t.Helper()
	s.crash()
	pid, ok := statusPID(s.status)
	if !ok {
		t.Fatal("no PID in the status file")
	}
	kill(t, pid)
	waitFor(t, 10*time.Second, func() bool { return !fileLocked(s.status) })
}

func kill(t *testing.T, pid int) {
	t.Helper()
	p, err := os.FindProcess(pid)
	if err == nil {
		err = p.Kill()
		p.Release()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// logBuffer collects what a logger writes, for tests that wait for a line.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

func supervisedConfig(t *testing.T) ServerConfig {
	t.Helper()
	if testServer == nil {
		testenv.Skip(t, testSkip)
	}
	return ServerConfig{DataDir: t.TempDir(), TCPPort: freePort(), HTTPPort: freePort(), ExitWithStarter: true, checkEvery: 100 * time.Millisecond}
}

// serverPID is the PID of the server running in cfg's directory.
func serverPID(t *testing.T, s *Server) int {
	t.Helper()
	pid, ok := statusPID(s.status)
	if !ok || !fileLocked(s.status) {
		t.Fatal("no server runs in the data directory")
	}
	return pid
}

// TestSupervisorRestartsKilledServer kills the child with SIGKILL: the
// supervisor says so, with the exit status, and a new server answers.
func TestSupervisorRestartsKilledServer(t *testing.T) {
	cfg := supervisedConfig(t)
	logs := &logBuffer{}
	s, err := StartServer(t.Context(), cfg, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Healthy() || s.Restarts() != 0 {
		t.Fatalf("fresh server: healthy %v, restarts %d", s.Healthy(), s.Restarts())
	}
	old := serverPID(t, s)
	kill(t, old)
	waitFor(t, 60*time.Second, func() bool {
		return s.Restarts() == 1 && s.Healthy() && pingAddr(t.Context(), s.Addr(), s.Password()) == nil
	})
	out := logs.String()
	if !strings.Contains(out, `level=WARN msg="clickhouse-server exited; restarting" exit_status="signal: killed"`) {
		t.Errorf("no restart warning with the exit status in the log:\n%s", out)
	}
	if pid := serverPID(t, s); pid == old {
		t.Errorf("the server answering is still pid %d", pid)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if pingAddr(context.Background(), s.Addr(), s.Password()) == nil || fileLocked(s.status) {
		t.Fatal("the server runs on after its only user closed")
	}
}

// TestServerSharedByTwoProcesses plays collector and lg: the first starts
// the server, the second reuses it; when the first goes (closed, killed,
// or killed together with the server), the second keeps a working server,
// a third user gets it too, and the last one to close stops it.
func TestServerSharedByTwoProcesses(t *testing.T) {
	for _, tt := range []struct {
		name     string
		goAway   func(t *testing.T, first *Server)
		restarts int64 // by the second user
	}{
		{"close", func(t *testing.T, s *Server) {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"kill", func(_ *testing.T, s *Server) { s.crash() }, 0},
		{"kill with server", killServer, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := supervisedConfig(t)
			first, err := StartServer(t.Context(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			logs := &logBuffer{}
			second, err := StartServer(t.Context(), cfg, logs.logger())
			if err != nil {
				t.Fatal(err)
			}
			defer second.Close()
			if first.Reused() || !second.Reused() {
				t.Fatalf("reused: first %v, second %v; want false, true", first.Reused(), second.Reused())
			}
			tt.goAway(t, first)
			if tt.restarts == 0 && pingAddr(t.Context(), second.Addr(), second.Password()) != nil {
				t.Fatal("the server stopped when its starter went away")
			}
			waitFor(t, 60*time.Second, func() bool {
				return second.Restarts() == tt.restarts && second.Healthy() && pingAddr(t.Context(), second.Addr(), second.Password()) == nil
			})
			if tt.restarts > 0 && !strings.Contains(logs.String(), "clickhouse-server exited; restarting") {
				t.Errorf("no restart warning in the second user's log:\n%s", logs)
			}

			third, err := StartServer(t.Context(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !third.Reused() {
				t.Error("third user started another server")
			}
			if err := third.Close(); err != nil {
				t.Fatal(err)
			}
			if pingAddr(t.Context(), second.Addr(), second.Password()) != nil {
				t.Fatal("a user closing stopped the server under another")
			}
			if err := second.Close(); err != nil {
				t.Fatal(err)
			}
			if pingAddr(context.Background(), second.Addr(), second.Password()) == nil || fileLocked(second.status) {
				t.Fatal("the server runs on after its last user closed")
			}
		})
	}
}
