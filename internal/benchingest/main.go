// Command benchingest compares ingesting one full table with `collector
// run` (embedded NATS, the ClickHouse writer, a local clickhouse-server),
// BIRD 2 and gobgpd as receivers, in interleaved rounds (PEERS.md section
// 6). One gobgpd injector holds the table (`gobgp mrt inject` of a padded
// TABLE_DUMP_V2 file) with one admin-down neighbor per receiver; each
// round starts every receiver fresh, enables its neighbor and polls the
// receiver every 50 ms until every path is stored. It reports, per
// receiver and round, the time from the TCP connection (the OPEN exchange
// follows at once) to the last route stored, and the CPU the receiver's
// processes used meanwhile (for the collector, its process and the
// clickhouse-server's), per 100,000 routes.
//
// scripts/bench-ingest.sh builds the collector and runs it:
//
//	go run ./internal/benchingest -collector bin/collector -rounds 5
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/internal/replay"
	"github.com/vantage-bgp/vantage/storage"
)

const (
	injectorAPI  = "127.0.0.1:50071"
	injectorAddr = "127.0.0.21"
	receiverASN  = 65000
)

// receiver is one of the compared implementations.
type receiver struct {
	name string
	addr string // the address it listens on (the injector's neighbor)
	port int
	// start starts it fresh; it returns the PIDs whose CPU counts and a
	// stop function.
	start func(dir string, round int) (pids []int, count func() (int, error), stop func(), err error)
}

func main() {
	rounds := flag.Int("rounds", 5, "rounds; each runs every receiver once, in a rotating order")
	bin := flag.String("collector", "bin/collector", "the collector `binary`")
	mrtFile := flag.String("mrt", "", "TABLE_DUMP (v1) `file` to inject (default: the shared bview.20020722.2337.gz)")
	want := flag.Int("paths", 115_521, "paths the table holds (the shared bview: 115,521)")
	profile := flag.String("cpuprofile", "", "write the collector's CPU profile of the last round to `file`")
	flag.StringVar(&pprofAddr, "pprof", "", "the collector serves /debug/pprof/ on this `address` (collector run -pprof), for heap profiles while it takes the routes")
	only := flag.String("only", "", "comma-separated receivers to run (collector,bird,gobgpd; default all)")
	flag.IntVar(&replayPeers, "replay-peers", 0, "instead of the gobgpd injector, this many `peers` (collector replay speakers in this process, from 127.0.0.20 on) each announce the same synthetic table")
	flag.IntVar(&replayRoutes, "replay-routes", 100_000, "with -replay-peers: the `routes` of the table (IPv4)")
	flag.DurationVar(&holdFor, "hold", 0, "with -replay-peers: after the routes are in, hold the sessions this `long` and report the receiver's CPU and memory per session meanwhile")
	flag.DurationVar(&holdTime, "hold-time", 240*time.Second, "with -replay-peers: the speakers' hold time (KEEPALIVE every third)")
	flag.DurationVar(&trickle, "trickle", 0, "with -hold: each speaker announces a path group again this `often`")
	flag.Parse()
	if replayPeers > 0 {
		*want = replayPeers * replayRoutes
	}
	if err := run(*rounds, *bin, *mrtFile, *want, *profile, *only); err != nil {
		fmt.Fprintln(os.Stderr, "benchingest:", err)
		os.Exit(1)
	}
}

// replayPeers and replayRoutes select the replay injector (-replay-peers).
var (
	replayPeers, replayRoutes  int
	holdFor, holdTime, trickle time.Duration
	pprofAddr                  string
)

func run(rounds int, bin, mrtFile string, want int, profile, only string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	root, err := filepath.Abs(".")
	if err != nil {
		return err
	}
	if mrtFile == "" {
		mrtFile = filepath.Join(root, "..", "shared", "data", "mrt", "bgpdump", "test_data", "bview.20020722.2337.gz")
	}
	tools := filepath.Join(root, "..", "shared", "tools", "peers")
	dir, err := os.MkdirTemp("", "vantage-bench-ingest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The table, padded (gobgp 3.10's inject drops a file's tail).
	table := filepath.Join(dir, "table.mrt")
	if out, err := exec.Command("python3", filepath.Join(tools, "td1to2.py"), mrtFile, table, "3000").CombinedOutput(); err != nil {
		return fmt.Errorf("td1to2.py: %v\n%s", err, out)
	}

	// One clickhouse-server for every round of the collector, each round
	// with its own database.
	ctx := context.Background()
	chDir := filepath.Join(dir, "clickhouse")
	httpPort := freePort()
	ch, err := storage.StartServer(ctx, storage.ServerConfig{DataDir: chDir, TCPPort: freePort(), HTTPPort: httpPort, ExitWithStarter: true}, nil)
	if err != nil {
		return fmt.Errorf("clickhouse-server: %w", err)
	}
	defer ch.Close()
	chPID, ok := storage.ServerPID(chDir)
	if !ok {
		return errors.New("clickhouse-server: no PID in its status file")
	}
	chHTTP := fmt.Sprintf("127.0.0.1:%d", httpPort)

	recv := []receiver{
		{name: "collector", addr: "127.0.0.1", port: freePort(), start: nil},
		{name: "bird", addr: "127.0.0.3", port: freePort()},
		{name: "gobgpd", addr: "127.0.0.4", port: freePort()},
	}
	recv[0].start = func(d string, round int) ([]int, func() (int, error), func(), error) {
		db := fmt.Sprintf("bench_%d", round)
		cfg := fmt.Sprintf(`collector:
  name: bench
  listen: 127.0.0.1:%d
  asn: %d
  router_id: 127.0.0.1
  peers: [{address: 127.0.0.0/8}]
  metrics_listen: ""
nats:
  listen: 127.0.0.1:%d
  store_dir: %s/nats
  spool_dir: %s/spool
clickhouse:
  dsn: %s
  database: %s
log:
  level: warn
`, recv[0].port, receiverASN, freePort(), d, d, ch.DSN(), db)
		path := filepath.Join(d, "collector.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			return nil, nil, nil, err
		}
		args := []string{"run", "-config", path}
		if profile != "" && round == rounds {
			args = append(args, "-cpuprofile", profile)
		}
		if pprofAddr != "" {
			args = append(args, "-pprof", pprofAddr)
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = logFile(d, "collector.log"), logFile(d, "collector.log")
		if err := cmd.Start(); err != nil {
			return nil, nil, nil, err
		}
		stop := func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() }
		if err := waitListening(fmt.Sprintf("127.0.0.1:%d", recv[0].port), 60*time.Second); err != nil {
			stop()
			return nil, nil, nil, fmt.Errorf("collector: %w (log: %s)", err, filepath.Join(d, "collector.log"))
		}
		count := func() (int, error) {
			return chCount(chHTTP, ch.Password(), "SELECT count() FROM "+db+".route_events")
		}
		return []int{cmd.Process.Pid, chPID}, count, stop, nil
	}
	recv[1].start = func(d string, _ int) ([]int, func() (int, error), func(), error) {
		conf := fmt.Sprintf(`router id 192.0.2.100;
protocol device { }
template bgp collector_peer {
  local %s port %d as %d;
  strict bind on;
  neighbor range 127.0.0.0/8 external;
  dynamic name "peer"; dynamic name digits 3;
  passive on;
  multihop;
  hold time 240;
  ipv4 { import all; export none; add paths rx; gateway recursive; };
  ipv6 { import all; export none; add paths rx; gateway recursive; };
}
protocol bgp listener from collector_peer { }
`, recv[1].addr, recv[1].port, receiverASN)
		path := filepath.Join(d, "bird.conf")
		ctl := filepath.Join(d, "bird.ctl")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return nil, nil, nil, err
		}
		cmd := exec.Command("bird", "-f", "-c", path, "-s", ctl)
		cmd.Stdout, cmd.Stderr = logFile(d, "bird.log"), logFile(d, "bird.log")
		if err := cmd.Start(); err != nil {
			return nil, nil, nil, err
		}
		stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
		if err := waitListening(fmt.Sprintf("%s:%d", recv[1].addr, recv[1].port), 30*time.Second); err != nil {
			stop()
			return nil, nil, nil, fmt.Errorf("bird: %w", err)
		}
		re := regexp.MustCompile(`Total: (\d+) of`)
		count := func() (int, error) {
			out, err := exec.Command("birdc", "-s", ctl, "show", "route", "count").Output()
			if err != nil {
				return 0, err
			}
			m := re.FindSubmatch(out)
			if m == nil {
				return 0, nil
			}
			return strconv.Atoi(string(m[1]))
		}
		return []int{cmd.Process.Pid}, count, stop, nil
	}
	recv[2].start = func(d string, _ int) ([]int, func() (int, error), func(), error) {
		api := fmt.Sprintf("127.0.0.1:%d", freePort())
		conf := fmt.Sprintf(`[global.config]
  as = %d
  router-id = "192.0.2.101"
  port = %d
  local-address-list = ["%s"]
  [global.apply-policy.config]
    default-export-policy = "reject-route"
[[peer-groups]]
  [peer-groups.config]
    peer-group-name = "collectors"
  [peer-groups.timers.config]
    hold-time = 240
  [peer-groups.add-paths.config]
    receive = true
  [[peer-groups.afi-safis]]
    [peer-groups.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[peer-groups.afi-safis]]
    [peer-groups.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
[[dynamic-neighbors]]
  [dynamic-neighbors.config]
    prefix = "127.0.0.0/8"
    peer-group = "collectors"
`, receiverASN, recv[2].port, recv[2].addr)
		path := filepath.Join(d, "gobgpd.toml")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return nil, nil, nil, err
		}
		cmd := exec.Command("gobgpd", "-f", path, "-l", "warn", "--api-hosts="+api, "--pprof-disable")
		cmd.Stdout, cmd.Stderr = logFile(d, "gobgpd.log"), logFile(d, "gobgpd.log")
		if err := cmd.Start(); err != nil {
			return nil, nil, nil, err
		}
		stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
		if err := waitListening(fmt.Sprintf("%s:%d", recv[2].addr, recv[2].port), 30*time.Second); err != nil {
			stop()
			return nil, nil, nil, fmt.Errorf("gobgpd: %w", err)
		}
		_, port, _ := net.SplitHostPort(api)
		re := regexp.MustCompile(`Path: (\d+)`)
		count := func() (int, error) {
			out, err := exec.Command("gobgp", "-p", port, "global", "rib", "summary", "-a", "ipv4").Output()
			if err != nil {
				return 0, err
			}
			m := re.FindSubmatch(out)
			if m == nil {
				return 0, nil
			}
			return strconv.Atoi(string(m[1]))
		}
		return []int{cmd.Process.Pid}, count, stop, nil
	}
	if only != "" {
		keep := strings.Split(only, ",")
		recv = slices.DeleteFunc(recv, func(r receiver) bool { return !slices.Contains(keep, r.name) })
	}

	// The injector: one admin-down neighbor per receiver; or replay
	// speakers, started per round.
	var synthetic *replay.Table
	if replayPeers > 0 {
		synthetic = replay.Synthetic(replayRoutes, 0, 1)
	} else {
		stopInj, err := startInjector(dir, recv, table)
		if err != nil {
			return err
		}
		defer stopInj()
	}

	type result struct{ secs, cpu, rssMB float64 }
	results := map[string][]result{}
	for round := 1; round <= rounds; round++ {
		for k := range recv {
			r := recv[(k+round-1)%len(recv)]
			d := filepath.Join(dir, fmt.Sprintf("%s-%d", r.name, round))
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			pids, count, stop, err := r.start(d, round)
			if err != nil {
				return err
			}
			var secs, cpu float64
			rss0 := pidsRSS(pids[:1])
			if synthetic != nil {
				secs, cpu, err = measureReplay(r, pids, count, want, synthetic)
			} else {
				secs, cpu, err = measure(r, pids, count, want)
				gobgp("neighbor", r.addr, "disable")
			}
			// What the receiver's process grew by while it took the routes.
			rss := float64(pidsRSS(pids[:1])-rss0) / (1 << 20)
			stop()
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round, r.name, err)
			}
			results[r.name] = append(results[r.name], result{secs, cpu, rss})
			fmt.Printf("round %d %-9s %6.2f s  %5.2f CPU-s  %5.2f CPU-s per 100k routes  RSS +%.1f MB (%.0f bytes per route)\n",
				round, r.name, secs, cpu, cpu/float64(want)*1e5, rss, rss*(1<<20)/float64(want))
		}
	}
	fmt.Printf("\n%d paths; time from the TCP connection to the last route stored, receiver CPU per 100k routes\n", want)
	for _, r := range recv {
		var ts, cs []string
		for _, x := range results[r.name] {
			ts = append(ts, fmt.Sprintf("%.2f", x.secs))
			cs = append(cs, fmt.Sprintf("%.2f", x.cpu/float64(want)*1e5))
		}
		var rs []string
		for _, x := range results[r.name] {
			rs = append(rs, fmt.Sprintf("%.0f", x.rssMB*(1<<20)/float64(want)))
		}
		fmt.Printf("%-9s  time %s s   CPU %s s/100k   RSS growth %s bytes/route\n", r.name, strings.Join(ts, " / "), strings.Join(cs, " / "), strings.Join(rs, " / "))
	}
	return nil
}

// measure enables the receiver's neighbor and waits until count reaches
// want; it returns the seconds since the TCP connection came up and the
// CPU seconds of pids since the neighbor was enabled.
func measure(r receiver, pids []int, count func() (int, error), want int) (secs, cpu float64, err error) {
	cpu0 := pidsCPU(pids)
	if out, err := gobgp("neighbor", r.addr, "enable"); err != nil {
		return 0, 0, fmt.Errorf("enable: %v: %s", err, out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	var up time.Time
	for up.IsZero() {
		if time.Now().After(deadline) {
			return 0, 0, errors.New("no connection from the injector within 2 minutes")
		}
		if tcpEstablished(r.addr, r.port) {
			up = time.Now()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	next := up
	for {
		next = next.Add(50 * time.Millisecond)
		time.Sleep(time.Until(next))
		n, err := count()
		if err == nil && n >= want {
			return time.Since(up).Seconds(), pidsCPU(pids) - cpu0, nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%d of %d routes after 2 minutes (err %v)", n, want, err)
		}
	}
}

// measureReplay starts replayPeers speakers announcing table to r at
// once, each from its own loopback address, and waits until count reaches
// want; it returns the seconds since they started and the CPU seconds of
// pids meanwhile. The speakers end with the call.
func measureReplay(r receiver, pids []int, count func() (int, error), want int, table *replay.Table) (secs, cpu float64, err error) {
	cpu0 := pidsCPU(pids)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, replayPeers)
	start := time.Now()
	for i := range replayPeers {
		// A documentation next hop: gobgpd refuses loopback ones. Source
		// addresses 127.1.X.Y, away from the receivers'.
		cfg := replay.Config{To: fmt.Sprintf("%s:%d", r.addr, r.port), ASN: uint32(65100 + i), LocalAddr: netip.AddrFrom4([4]byte{127, 1, byte(i / 250), byte(i%250 + 1)}),
			NextHop: netip.MustParseAddr("192.0.2.1"), HoldTime: holdTime, Trickle: trickle}
		if replayPeers > 100 {
			time.Sleep(5 * time.Millisecond) // not all at once: receivers bound connections waiting for their OPEN
		}
		go func() {
			if _, err := replay.Run(ctx, cfg, table, nil); err != nil {
				errs <- fmt.Errorf("speaker %d: %w", i, err)
			}
		}()
	}
	deadline := start.Add(10 * time.Minute)
	for {
		time.Sleep(100 * time.Millisecond)
		select {
		case err := <-errs:
			return 0, 0, err
		default:
		}
		n, err := count()
		if err == nil && n >= want {
			secs, cpu = time.Since(start).Seconds(), pidsCPU(pids)-cpu0
			if holdFor > 0 {
				cpuH, rssH := pidsCPU(pids), pidsRSS(pids[:1])
				time.Sleep(holdFor)
				select {
				case err := <-errs:
					return 0, 0, fmt.Errorf("while held: %w", err)
				default:
				}
				used := pidsCPU(pids) - cpuH
				fmt.Printf("  %s held %d sessions for %v (KEEPALIVE every %v, trickle %v): %.3f CPUs in all, %.1f µs CPU per session per second; RSS %.1f MB (%+.1f MB meanwhile)\n",
					r.name, replayPeers, holdFor, holdTime/3, trickle, used/holdFor.Seconds(), used/holdFor.Seconds()/float64(replayPeers)*1e6,
					float64(pidsRSS(pids[:1]))/(1<<20), float64(pidsRSS(pids[:1])-rssH)/(1<<20))
			}
			return secs, cpu, nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%d of %d routes after 10 minutes (err %v)", n, want, err)
		}
	}
}

// pidsRSS is the resident memory of the processes, in bytes.
func pidsRSS(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				total += kb << 10
			}
		}
	}
	return total
}

func startInjector(dir string, recv []receiver, table string) (stop func(), err error) {
	var b strings.Builder
	fmt.Fprintf(&b, `[global.config]
  as = 65031
  router-id = "192.0.2.21"
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
`)
	for _, r := range recv {
		fmt.Fprintf(&b, `[[neighbors]]
  [neighbors.config]
    neighbor-address = "%s"
    peer-as = %d
    admin-down = true
  [neighbors.transport.config]
    local-address = "%s"
    remote-port = %d
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.add-paths.config]
    send-max = 8
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`, r.addr, receiverASN, injectorAddr, r.port)
	}
	path := filepath.Join(dir, "injector.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("gobgpd", "-f", path, "-l", "warn", "--api-hosts="+injectorAPI, "--pprof-disable")
	cmd.Stdout, cmd.Stderr = logFile(dir, "injector.log"), logFile(dir, "injector.log")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	if err := waitListening(injectorAPI, 30*time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("injector: %w", err)
	}
	if out, err := gobgp("mrt", "inject", "global", table); err != nil {
		stop()
		return nil, fmt.Errorf("gobgp mrt inject: %v: %s", err, out)
	}
	return stop, nil
}

func gobgp(args ...string) ([]byte, error) {
	_, port, _ := net.SplitHostPort(injectorAPI)
	return exec.Command("gobgp", append([]string{"-p", port}, args...)...).CombinedOutput()
}

// tcpEstablished reports whether /proc/net/tcp lists an established
// connection from the injector to addr:port.
func tcpEstablished(addr string, port int) bool {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return false
	}
	defer f.Close()
	local := hexAddr(addr, port)
	remote := hexAddr(injectorAddr, 0)
	s := bufio.NewScanner(f)
	for s.Scan() {
		fs := strings.Fields(s.Text())
		// sl local_address rem_address st ...; 01 is ESTABLISHED.
		if len(fs) > 3 && fs[1] == local && strings.HasPrefix(fs[2], remote[:8]) && fs[3] == "01" {
			return true
		}
	}
	return false
}

// hexAddr is an IPv4 address and port as /proc/net/tcp writes them.
func hexAddr(addr string, port int) string {
	ip := net.ParseIP(addr).To4()
	return strings.ToUpper(hex.EncodeToString([]byte{ip[3], ip[2], ip[1], ip[0]})) + fmt.Sprintf(":%04X", port)
}

// pidsCPU is the CPU time (user and system) of the processes, in seconds.
func pidsCPU(pids []int) float64 {
	t := 0.0
	for _, pid := range pids {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		t += (ut + st) / 100 // clock ticks
	}
	return t
}

func chCount(httpAddr, password, query string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/?query="+url.QueryEscape(query), nil)
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(storage.ServerUser, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("clickhouse: %s", bytes.TrimSpace(b))
	}
	return strconv.Atoi(string(bytes.TrimSpace(b)))
}

func waitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %v", addr, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func logFile(dir, name string) *os.File {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil
	}
	return f
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
