package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

func TestMain(m *testing.M) { os.Exit(storagetest.Run(m)) }

// gobgpdConf is a gobgpd speaker (AS ASN from ADDR) of a collector on
// port PORT that announces what `gobgp global rib add` gives it.
const gobgpdConf = `
[global.config]
  as = ASN
  router-id = "192.0.2.ID"
  port = -1
  [global.apply-policy.config]
    export-policy-list = ["keep-nh"]
    default-export-policy = "accept-route"
[[policy-definitions]]
  name = "keep-nh"
  [[policy-definitions.statements]]
    name = "s1"
    [policy-definitions.statements.actions.bgp-actions]
      set-next-hop = "unchanged"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65000
  [neighbors.transport.config]
    local-address = "127.0.0.ID"
    remote-port = PORT
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`

// exabgpConf announces 192.0.2.0/24 with an OTC attribute (RFC 9234,
// type 35) naming AS 64520, one AS behind the speaker: a leak. ExaBGP
// sends the path as given, so it starts with its own AS, as a router would.
const exabgpConf = `
neighbor 127.0.0.1 {
    router-id 192.0.2.23;
    local-address 127.0.0.23;
    local-as 65003;
    peer-as 65000;
    connect PORT;
    family { ipv4 unicast; }
    static {
        route 192.0.2.0/24 next-hop 192.0.2.23 as-path [ 65003 64520 64500 ] attribute [ 0x23 0xc0 0x0000fc08 ];
    }
}
`

const watchJSON = `{"prefixes": [
  {"prefix": "203.0.113.0/24", "origins": [64500], "upstreams": [65001]},
  {"prefix": "198.51.100.0/24", "origins": [64500], "upstreams": [65001]},
  {"prefix": "192.0.2.0/24", "origins": [64500], "upstreams": [64520]},
  {"prefix": "2001:db8:100::/48", "origins": [64500], "upstreams": [65001]}
]}`

// TestDetector: real BGP speakers announce watched prefixes to a
// collector; the detector, on the collector's log, reports a wrong origin
// (with MOAS), a more specific, an unexpected upstream and an OTC leak,
// each once and nothing for the legitimate routes. The session's history,
// exported as MRT from ClickHouse and imported again into the log under
// another collector name, makes the detector report the same findings.
func TestDetector(t *testing.T) {
	gobgpd := testpeer.Need(t, "gobgpd", "gobgpd")
	gobgp := testpeer.Need(t, "gobgp", "gobgpd")
	exabgp := testpeer.Need(t, "exabgp", "exabgp")
	dsn := storagetest.DSN(t)
	database := storagetest.Database(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/collector", "./examples/hijack")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	bgpPort := testpeer.FreePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", testpeer.FreePort(t))
	cfg := filepath.Join(dir, "vantage.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `collector: {name: rrc-live, listen: "127.0.0.1:%d", metrics_listen: ""}
nats: {listen: %q, store_dir: %q}
clickhouse: {dsn: %q, database: %s, flush_interval: 100ms}
log: {level: info}
`, bgpPort, strings.TrimPrefix(natsURL, "nats://"), filepath.Join(dir, "nats"), dsn, database), 0o644); err != nil {
		t.Fatal(err)
	}
	watch := filepath.Join(dir, "watch.json")
	if err := os.WriteFile(watch, []byte(watchJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	from := time.Now().Add(-time.Second)
	col := testpeer.StartCommand(t, dir, "collector", filepath.Join(bin, "collector")+" run -config "+cfg)
	waitOutput(t, col, "collector: BGP on")
	conn, err := bus.Dial(t.Context(), bus.Options{URL: natsURL, ConnectTimeout: 30 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	live := startDetector(t, dir, filepath.Join(bin, "hijack"), "-nats", natsURL, "-watch", watch, "-start", "all", "-host", "rrc-live")
	speaker := func(id, asn int) func(args ...string) {
		sdir := t.TempDir()
		conf := strings.NewReplacer("ASN", fmt.Sprint(asn), "ID", fmt.Sprint(id), "PORT", fmt.Sprint(bgpPort)).Replace(gobgpdConf)
		if err := os.WriteFile(filepath.Join(sdir, "gobgpd.toml"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		api := fmt.Sprint(testpeer.FreePort(t))
		p := testpeer.StartCommand(t, sdir, "gobgpd", gobgpd+" -f gobgpd.toml -l info --api-hosts=127.0.0.1:"+api+" --pprof-disable")
		return func(args ...string) {
			t.Helper()
			var out []byte
			var err error
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				out, err = exec.Command(gobgp, append([]string{"-p", api, "global", "rib", "add"}, args...)...).CombinedOutput()
				if err == nil {
					return
				}
				select {
				case <-p.Done():
					t.Fatalf("gobgpd exited: %v", p.Err())
				default:
				}
			}
			t.Fatalf("gobgp global rib add %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	legit, other := speaker(21, 65001), speaker(22, 65002)

	// The legitimate routes (and one nobody watches) reach the log and
	// are reported for nothing.
	legit("-a", "ipv4", "203.0.113.0/24", "aspath", "64500", "nexthop", "192.0.2.21")
	legit("-a", "ipv4", "198.51.100.0/24", "aspath", "64500", "nexthop", "192.0.2.21")
	legit("-a", "ipv6", "2001:db8:100::/48", "aspath", "64500", "nexthop", "2001:db8::21")
	other("-a", "ipv4", "10.1.0.0/16", "aspath", "64666", "nexthop", "192.0.2.22")
	waitAnnounced(t, conn, "203.0.113.0/24", "198.51.100.0/24", "2001:db8:100::/48", "10.1.0.0/16")

	// A wrong origin (while the right one is announced: MOAS), a more
	// specific, an unexpected upstream, a leak past the OTC AS.
	other("-a", "ipv4", "203.0.113.0/24", "aspath", "64666", "nexthop", "192.0.2.22")
	live.waitReport(t, "origin 203.0.113.0/24 origin 64666 moas [64500 64666] peer 127.0.0.22")
	legit("-a", "ipv4", "203.0.113.128/25", "aspath", "64500", "nexthop", "192.0.2.21")
	live.waitReport(t, "more_specific 203.0.113.128/25 origin 64500 peer 127.0.0.21")
	other("-a", "ipv4", "198.51.100.0/24", "aspath", "64500", "nexthop", "192.0.2.22")
	live.waitReport(t, "upstream 198.51.100.0/24 origin 64500 upstream 65002 peer 127.0.0.22")
	edir := t.TempDir()
	if err := os.WriteFile(filepath.Join(edir, "exabgp.conf"), []byte(strings.ReplaceAll(exabgpConf, "PORT", fmt.Sprint(bgpPort))), 0o644); err != nil {
		t.Fatal(err)
	}
	testpeer.StartCommand(t, edir, "exabgp", "env exabgp.daemon.user=root exabgp.api.cli=false exabgp.log.destination=stdout "+exabgp+" exabgp.conf")
	live.waitReport(t, "leak 192.0.2.0/24 origin 64500 otc 64520 leaker 65003 peer 127.0.0.23")
	want := []string{
		"origin 203.0.113.0/24 origin 64666 moas [64500 64666] peer 127.0.0.22",
		"more_specific 203.0.113.128/25 origin 64500 peer 127.0.0.21",
		"upstream 198.51.100.0/24 origin 64500 upstream 65002 peer 127.0.0.22",
		"leak 192.0.2.0/24 origin 64500 otc 64520 leaker 65003 peer 127.0.0.23",
	}
	got := live.stop(t)
	if !slices.Equal(summaries(got), want) {
		t.Errorf("live reports:\n%s\nwant:\n%s", strings.Join(summaries(got), "\n"), strings.Join(want, "\n"))
	}
	for _, r := range got {
		if r.Host != "rrc-live" || r.EventID == "" || len(r.Path) == 0 || r.Time.Before(from) || r.Imported {
			t.Errorf("report without its evidence: %+v", r)
		}
	}

	// History: what ClickHouse stored, as MRT, imported under another
	// name and read from the start of the log.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		lag, err := bus.Lag(t.Context(), conn, "")
		if err == nil && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the writer did not store the log within 60s (lag %d, %v)", lag, err)
		}
	}
	mrt := filepath.Join(dir, "updates.live.gz")
	runCmd(t, dir, filepath.Join(bin, "collector"), "mrt", "export", "-config", cfg, "-updates", "-from", fmt.Sprint(from.Unix()), "-to", fmt.Sprint(time.Now().Unix()+1), "-o", mrt)
	runCmd(t, dir, filepath.Join(bin, "collector"), "mrt", "import", "-config", cfg, "-host", "rrc-history", "-publish", mrt)
	hist := startDetector(t, dir, filepath.Join(bin, "hijack"), "-nats", natsURL, "-watch", watch, "-start", "all", "-host", "rrc-history", "-catchup")
	reports := hist.wait(t)
	if !slices.Equal(summaries(reports), want) {
		t.Errorf("reports from history:\n%s\nwant:\n%s", strings.Join(summaries(reports), "\n"), strings.Join(want, "\n"))
	}
	for _, r := range reports {
		if r.Host != "rrc-history" || !r.Imported || r.EventID == "" {
			t.Errorf("report from history without its evidence: %+v", r)
		}
	}
}

// summary is what a test compares of a report.
func summary(r Report) string {
	s := fmt.Sprintf("%s %s origin %d", r.Kind, r.Prefix, r.Origin)
	if len(r.MOAS) > 0 {
		s += fmt.Sprintf(" moas %v", r.MOAS)
	}
	if r.Upstream != 0 {
		s += fmt.Sprintf(" upstream %d", r.Upstream)
	}
	if r.OTC != nil {
		s += fmt.Sprintf(" otc %d leaker %d", *r.OTC, r.Leaker)
	}
	return s + " peer " + r.Peer.String()
}

func summaries(rs []Report) []string {
	var out []string
	for _, r := range rs {
		out = append(out, summary(r))
	}
	return out
}

// waitAnnounced waits until the log holds an announcement of each prefix.
func waitAnnounced(t *testing.T, conn *bus.Conn, prefixes ...string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		seen := map[string]bool{}
		for _, ev := range readAll(t, conn) {
			for _, a := range ev.Announcements {
				for _, p := range a.Prefixes {
					seen[p.String()] = true
				}
			}
		}
		missing := slices.DeleteFunc(slices.Clone(prefixes), func(p string) bool { return seen[p] })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no announcement of %v in the log within 60s", missing)
		}
	}
}

func runCmd(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

func waitOutput(t *testing.T, p *testpeer.Process, s string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(p.Output(), s); time.Sleep(50 * time.Millisecond) {
		select {
		case <-p.Done():
			t.Fatalf("%s exited: %v\n%s", p.Name, p.Err(), p.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within 60s:\n%s", p.Name, s, p.Output())
		}
	}
}

// detector is a running hijack detector.
type detector struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    []Report
	stderr strings.Builder
	done   chan struct{}
	err    error
}

func startDetector(t *testing.T, dir, bin string, args ...string) *detector {
	t.Helper()
	d := &detector{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	d.cmd.Dir = dir
	d.cmd.Stderr = &syncWriter{mu: &d.mu, w: &d.stderr}
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // owned: wait and the cleanup wait for done
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var r Report
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				r.Kind = "unreadable: " + sc.Text()
			}
			d.mu.Lock()
			d.out = append(d.out, r)
			d.mu.Unlock()
		}
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("hijack %s:\nreports: %s\nstderr: %s", strings.Join(args, " "), strings.Join(summaries(d.reports()), "\n"), d.stderr.String())
		}
	})
	return d
}

func (d *detector) reports() []Report {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.out)
}

// waitReport waits for a report whose summary is want.
func (d *detector) waitReport(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !slices.Contains(summaries(d.reports()), want); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no report %q within 60s; reports:\n%s", want, strings.Join(summaries(d.reports()), "\n"))
		}
	}
}

func (d *detector) stop(t *testing.T) []Report {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGINT)
	return d.wait(t)
}

func (d *detector) wait(t *testing.T) []Report {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the detector did not exit within 60s")
	}
	if d.err != nil {
		t.Fatalf("the detector: %v\n%s", d.err, d.stderr.String())
	}
	return d.reports()
}

type syncWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// readAll returns every event of the log, in order.
func readAll(t *testing.T, conn *bus.Conn) []schema.Event {
	t.Helper()
	evs, err := bus.ReadAll(t.Context(), conn)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
