package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// TestReloadOnHUP runs the built collector (no store) with a BIRD
// neighbor whose MD5 password it has wrong; a SIGHUP with the right one
// brings the session up, and `collector reload` with the neighbor removed
// closes it with Cease 6/3 (peer de-configured), which BIRD reports;
// collector reload refuses a file that does not load.
func TestReloadOnHUP(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/collector")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	port := storagetest.FreePort
	bgpPort := port()
	cfg := filepath.Join(dir, "vantage.yaml")
	write := func(peers string) {
		t.Helper()
		body := fmt.Sprintf(`collector: {listen: "127.0.0.1:%d", store: false, metrics_listen: "", peers: [%s]}
nats: {listen: "127.0.0.1:%d", store_dir: %q, spool_dir: %q}
`, bgpPort, peers, port(), filepath.Join(dir, "nats"), filepath.Join(dir, "spool"))
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{address: 127.0.0.41/32, asn: 65041, password: "not-birds"}`)
	pidFile := filepath.Join(dir, "collector.pid")
	collector := startProc(t, dir, filepath.Join(bin, "collector"), "run", "-config", cfg, "-pidfile", pidFile)
	defer collector.stop(t)
	collector.waitFor(t, "collector: BGP on")

	bird := testpeer.StartBIRD(t, fmt.Sprintf(`log "DIR/bird.log" all;
router id 192.0.2.41;
protocol device { }
protocol bgp collector {
  local 127.0.0.41 port %d as 65041;
  strict bind on;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  password "s3cret";
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  hold time 9;
  keepalive time 1;
  ipv4 { import none; export none; };
}
`, port(), bgpPort))
	waitBIRD := func(what string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, _ := bird.Ctl("show", "protocols", "all", "collector")
			if strings.Contains(out, what) {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("BIRD's protocol never showed %q:\n%s\ncollector:\n%s", what, out, collector.out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	time.Sleep(3 * time.Second)
	if out, _ := bird.Ctl("show", "protocols", "collector"); strings.Contains(out, "Established") {
		t.Fatalf("established with the wrong password:\n%s", out)
	}

	write(`{address: 127.0.0.41/32, asn: 65041, password: "s3cret"}`)
	if err := collector.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitBIRD("Established")

	// A bad file: collector reload refuses to send it.
	write(`{address: 127.0.0.99/32, max_prefix: -1}`)
	if out, err := exec.Command(filepath.Join(bin, "collector"), "reload", "-pidfile", pidFile, "-config", cfg).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "collector.peers[0].max_prefix") {
		t.Errorf("collector reload of a bad file: %v\n%s", err, out)
	}
	write(`{address: 127.0.0.99/32}`)
	if out, err := exec.Command(filepath.Join(bin, "collector"), "reload", "-pidfile", pidFile, "-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("collector reload: %v\n%s", err, out)
	}
	waitBIRD("Peer de-configured")
	collector.waitFor(t, "SIGHUP: neighbors reloaded")
}
