package storage

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vantage-bgp/vantage/internal/testenv"
)

// TestLocalServerPassword: the local server's default user needs the
// generated password, on the native and the HTTP port; the password file
// is private; a process that reuses the server, and a later start of it,
// get the same password; and the server listens on loopback only.
func TestLocalServerPassword(t *testing.T) {
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
	pw := s.Password()
	if len(pw) < 20 {
		t.Fatalf("password %q: want at least 20 random characters", pw)
	}
	st, err := os.Stat(filepath.Join(dir, PasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", PasswordFile, st.Mode().Perm())
	}
	if got, err := ServerPassword(dir); err != nil || got != pw {
		t.Errorf("ServerPassword = %q, %v; want %q", got, err, pw)
	}

	ctx := t.Context()
	if err := pingAddr(ctx, s.Addr(), pw); err != nil {
		t.Errorf("with the password: %v", err)
	}
	for _, who := range []struct{ user, pw string }{
		{ServerUser, ""}, {ServerUser, "wrong"}, {"readonly", ""},
	} {
		if err := pingUser(ctx, s.Addr(), who.user, who.pw); err == nil || !isAuthError(err) {
			t.Errorf("user %s with password %q: %v, want it refused", who.user, who.pw, err)
		}
	}
	httpURL := fmt.Sprintf("http://127.0.0.1:%d/?query=SELECT%%201", cfg.HTTPPort)
	if code, body := httpGet(t, httpURL, "", ""); code == http.StatusOK {
		t.Errorf("HTTP without the password: %d %q, want it refused", code, body)
	}
	if code, body := httpGet(t, httpURL, ServerUser, pw); code != http.StatusOK || body != "1\n" {
		t.Errorf("HTTP with the password: %d %q, want 200 \"1\\n\"", code, body)
	}
	// Another data directory's server is not reused: it refuses this
	// directory's password.
	other := ServerConfig{DataDir: t.TempDir(), TCPPort: cfg.TCPPort, HTTPPort: freePort(), ExitWithStarter: true}
	if o, err := StartServer(ctx, other, nil); err == nil || !strings.Contains(err.Error(), "refuses the password") {
		if err == nil {
			o.Close()
		}
		t.Errorf("StartServer of another data directory on the port: %v, want an error saying the server there refuses the password", err)
	}
	db, err := Open(ctx, Config{Database: "vantage_password", Server: cfg}, nil)
	if err != nil {
		t.Fatalf("Open beside the running server: %v", err)
	}
	if !db.Server().Reused() || db.Server().Password() != pw {
		t.Errorf("Open: reused %v, password %q; want the running server and %q", db.Server().Reused(), db.Server().Password(), pw)
	}
	db.Close()

	pid, ok := ServerPID(dir)
	if !ok {
		t.Fatal("no PID in the status file")
	}
	checkLoopbackOnly(t, pid, cfg.TCPPort, cfg.HTTPPort)

	// Stopped and started again, the server keeps its password.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := StartServer(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Reused() || s2.Password() != pw {
		t.Errorf("second start: reused %v, password %q; want a new server with %q", s2.Reused(), s2.Password(), pw)
	}
	if err := pingAddr(ctx, s2.Addr(), ""); !isAuthError(err) {
		t.Errorf("second start, no password: %v, want it refused", err)
	}
}

// TestLocalServerPasswordOldDataDir: a data directory from before the
// password, its server still running with the open default user as an
// older Vantage started it. StartServer gives it a password, the running
// server takes it without a restart, and the open user is gone.
func TestLocalServerPasswordOldDataDir(t *testing.T) {
	if testServer == nil {
		testenv.Skip(t, testSkip)
	}
	dir := t.TempDir()
	cfg := ServerConfig{DataDir: dir, TCPPort: freePort(), HTTPPort: freePort(), ExitWithStarter: true}.withDefaults()
	// The layout of an older Vantage: no password file, no users.d.
	cfgFile, err := writeServerConfig(dir, cfg, "unused")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "users.d")); err != nil {
		t.Fatal(err)
	}
	bin, err := findServerBinary("")
	if err != nil {
		t.Fatal(err)
	}
	old := exec.Command(bin, "--config-file="+cfgFile)
	old.Dir = dir
	old.SysProcAttr = childProcAttr(true)
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { old.Wait(); close(exited) }()
	t.Cleanup(func() {
		old.Process.Kill()
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.TCPPort))
	waitFor(t, 60*time.Second, func() bool { return pingAddr(t.Context(), addr, "") == nil })

	s, err := StartServer(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Reused() {
		t.Error("the running server of the older Vantage was not reused")
	}
	st, err := os.Stat(filepath.Join(dir, PasswordFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v, %v; want it with mode 0600", st, err)
	}
	if err := pingAddr(t.Context(), addr, s.Password()); err != nil {
		t.Errorf("with the password: %v", err)
	}
	if err := pingAddr(t.Context(), addr, ""); !isAuthError(err) {
		t.Errorf("without the password: %v, want it refused", err)
	}
	// The last user stops the server, which was never restarted.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the older server did not stop when its last user closed")
	}
}

// pingUser is pingAddr as any user.
func pingUser(ctx context.Context, addr, user, password string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr: []string{addr}, Auth: clickhouse.Auth{Username: user, Password: password},
		DialTimeout: time.Second, MaxOpenConns: 1,
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Ping(ctx)
}

func httpGet(t *testing.T, url, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(body)
}

// checkLoopbackOnly checks that the server listens on loopback addresses
// only: on Linux, every listening TCP socket of the process (its sockets
// in /proc/PID/fd, looked up in /proc/net/tcp and tcp6), which must
// include both ports; everywhere, that its ports refuse connections on
// the machine's other addresses.
func checkLoopbackOnly(t *testing.T, pid, tcpPort, httpPort int) {
	t.Helper()
	if runtime.GOOS == "linux" {
		listening := listeningSockets(t, pid)
		ports := map[int]bool{}
		for _, ap := range listening {
			ports[int(ap.Port())] = true
			if !ap.Addr().IsLoopback() {
				t.Errorf("clickhouse-server listens on %v, not a loopback address", ap)
			}
		}
		if !ports[tcpPort] || !ports[httpPort] {
			t.Errorf("clickhouse-server listens on %v; want ports %d and %d among them", listening, tcpPort, httpPort)
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil || p.Addr().IsLoopback() || p.Addr().IsLinkLocalUnicast() {
			continue
		}
		for _, port := range []int{tcpPort, httpPort} {
			tried++
			target := netip.AddrPortFrom(p.Addr(), uint16(port)).String()
			if c, err := net.DialTimeout("tcp", target, 2*time.Second); err == nil {
				c.Close()
				t.Errorf("clickhouse-server accepts connections on %s", target)
			}
		}
	}
	t.Logf("refused on %d address:port pairs of the machine's other addresses", tried)
}

// listeningSockets returns the local addresses of the listening TCP
// sockets that process pid holds.
func listeningSockets(t *testing.T, pid int) []netip.AddrPort {
	t.Helper()
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatal(err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var out []netip.AddrPort
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
				continue
			}
			ap, err := parseProcAddr(fields[1])
			if err != nil {
				t.Fatalf("%s: %q: %v", table, fields[1], err)
			}
			out = append(out, ap)
		}
		f.Close()
	}
	return out
}

// parseProcAddr parses an address of /proc/net/tcp{,6}: the address's
// 32-bit words printed as hex numbers in host byte order, ":" and the hex
// port.
func parseProcAddr(s string) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok || (len(host) != 8 && len(host) != 32) {
		return netip.AddrPort{}, fmt.Errorf("want ADDR:PORT with 8 or 32 hex digits of address")
	}
	var b []byte
	for i := 0; i < len(host); i += 8 {
		w, err := strconv.ParseUint(host[i:i+8], 16, 32)
		if err != nil {
			return netip.AddrPort{}, err
		}
		b = binary.NativeEndian.AppendUint32(b, uint32(w))
	}
	a, _ := netip.AddrFromSlice(b)
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}
