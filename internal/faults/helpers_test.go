package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/internal/freeport"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

// The binaries under test, built once per test binary.
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds ./cmd/collector and ./cmd/lg from the module root and
// returns the directory holding them.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "vantage-faults-bin-"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./cmd/collector", "./cmd/lg")
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/collector ./cmd/lg: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func port(t *testing.T) int {
	t.Helper()
	p, err := freeport.Get()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// stack is a collector (and optionally lg) run from the built binaries
// with a generated config: free ports, data in a temporary directory.
type stack struct {
	t         *testing.T
	bin, dir  string
	cfg       string
	name      string // collector.name, the events' host
	bgpPort   int
	natsURL   string // where the test reads the log
	chTCP     int
	metrics   string // http://host:port/metrics
	lgListen  string
	collector *testpeer.Process
	runs      int
}

type stackOptions struct {
	name string
	// natsURL, when set, is an external nats-server (nats.url).
	natsURL string
	// queueBytes is nats.queue_bytes (0: default).
	queueBytes int
}

func newStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	testpeer.Need(t, "clickhouse-server", "clickhouse-server")
	s := &stack{t: t, bin: binaries(t), dir: t.TempDir(), name: o.name}
	// Registered after TempDir, so it runs before the directory is
	// removed: whatever happens, no detached clickhouse-server stays.
	t.Cleanup(func() { killLeftServer(s.statusFile()) })
	s.bgpPort, s.chTCP = port(t), port(t)
	natsListen := fmt.Sprintf("127.0.0.1:%d", port(t))
	s.natsURL = o.natsURL
	if s.natsURL == "" {
		s.natsURL = "nats://" + natsListen
	}
	metricsListen := fmt.Sprintf("127.0.0.1:%d", port(t))
	s.metrics = "http://" + metricsListen + "/metrics"
	s.lgListen = fmt.Sprintf("127.0.0.1:%d", port(t))
	queue := ""
	if o.queueBytes > 0 {
		queue = fmt.Sprintf("\n  queue_bytes: %d", o.queueBytes)
	}
	body := fmt.Sprintf(`collector:
  name: %s
  listen: "127.0.0.1:%d"
  metrics_listen: %q
nats:
  url: %q
  listen: %q
  store_dir: %q
  spool_dir: %q%s
clickhouse:
  data_dir: %q
  tcp_port: %d
  http_port: %d
  flush_interval: 200ms
lg:
  listen: %q
`, s.name, s.bgpPort, metricsListen, o.natsURL, natsListen, filepath.Join(s.dir, "nats"), filepath.Join(s.dir, "spool"), queue,
		filepath.Join(s.dir, "clickhouse"), s.chTCP, port(t), s.lgListen)
	s.cfg = filepath.Join(s.dir, "vantage.yaml")
	if err := os.WriteFile(s.cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *stack) statusFile() string { return filepath.Join(s.dir, "clickhouse", "data", "status") }

// startCollector runs `collector run` and waits until it serves BGP.
func (s *stack) startCollector() *testpeer.Process {
	s.t.Helper()
	s.runs++
	p := testpeer.StartCommand(s.t, s.dir, fmt.Sprintf("collector%d", s.runs), fmt.Sprintf("%s/collector run -config %s", s.bin, s.cfg))
	waitOutput(s.t, p, `collector: BGP on`, 90*time.Second)
	s.collector = p
	return p
}

// startLG runs lg and returns its base URL.
func (s *stack) startLG() (*testpeer.Process, string) {
	s.t.Helper()
	p := testpeer.StartCommand(s.t, s.dir, "lg", fmt.Sprintf("%s/lg -config %s", s.bin, s.cfg))
	waitOutput(s.t, p, `lg: looking glass on`, 90*time.Second)
	return p, "http://" + s.lgListen
}

// waitOutput polls p's output until it matches re.
func waitOutput(t *testing.T, p *testpeer.Process, re string, within time.Duration) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(within)
	for !rx.MatchString(p.Output()) {
		select {
		case <-p.Done():
			t.Fatalf("%s exited (%v) before printing %q:\n%s", p.Name, p.Err(), re, p.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within %v:\n%s", p.Name, re, within, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killLeftServer kills the clickhouse-server that still holds status.
func killLeftServer(status string) {
	pid, ok := statusPID(status)
	if !ok {
		return
	}
	if f, err := os.Open(status); err == nil {
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			syscall.Kill(pid, syscall.SIGCONT)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		f.Close()
	}
}

// statusPID reads the PID clickhouse-server writes into its status file
// (DATA_DIR/data/status).
func statusPID(status string) (int, bool) {
	return storage.ServerPID(filepath.Dir(filepath.Dir(status)))
}

// clickhousePID is the PID of the stack's running clickhouse-server.
func (s *stack) clickhousePID() int {
	s.t.Helper()
	pid, ok := statusPID(s.statusFile())
	if !ok {
		s.t.Fatalf("no PID in %s", s.statusFile())
	}
	if syscall.Kill(pid, 0) != nil {
		s.t.Fatalf("clickhouse-server PID %d from %s is not running", pid, s.statusFile())
	}
	return pid
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// scrape reads the collector's /metrics: metric (with labels) -> value.
func (s *stack) scrape() (map[string]float64, error) {
	resp, err := httpClient.Get(s.metrics)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", s.metrics, resp.Status)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// metric reads one metric; it fails the test when /metrics does not answer
// or lacks it.
func (s *stack) metric(name string) float64 {
	s.t.Helper()
	m, err := s.scrape()
	if err != nil {
		s.t.Fatalf("collector /metrics: %v", err)
	}
	v, ok := m[name]
	if !ok {
		s.t.Fatalf("collector /metrics has no %s", name)
	}
	return v
}

// eventually polls cond until it returns nil, failing after within.
func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitStored waits until the writer has stored everything in the log
// (vantage_store_lag_events 0) and the collector has nothing left to
// publish, twice in a row a second apart with no new event in between.
func (s *stack) waitStored(within time.Duration) {
	s.t.Helper()
	var last float64 = -1
	eventually(s.t, within, "the writer catches up (vantage_store_lag_events 0, nothing waiting to be published, no new events)", func() error {
		m, err := s.scrape()
		if err != nil {
			return err
		}
		lag, ok := m["vantage_store_lag_events"]
		if !ok {
			return fmt.Errorf("no vantage_store_lag_events in /metrics")
		}
		waiting := m["vantage_publish_queue_events"] + m["vantage_spool_bytes"] + m["vantage_publish_acks_pending"]
		ev := m["vantage_events_total"]
		if lag != 0 || waiting != 0 || m["vantage_publish_acked_total"] < m["vantage_publish_queued_total"] {
			last = -1
			return fmt.Errorf("lag %v events, queue %v events, spool %v bytes, acks pending %v, acked %v of %v queued",
				lag, m["vantage_publish_queue_events"], m["vantage_spool_bytes"], m["vantage_publish_acks_pending"],
				m["vantage_publish_acked_total"], m["vantage_publish_queued_total"])
		}
		if ev != last {
			last = ev
			time.Sleep(time.Second)
			return fmt.Errorf("events_total went to %v", ev)
		}
		return nil
	})
}

// chPassword is the password of the stack's server, which the collector
// generated in its data directory.
func (s *stack) chPassword() string {
	s.t.Helper()
	pw, err := storage.ServerPassword(filepath.Join(s.dir, "clickhouse"))
	if err != nil {
		s.t.Fatal(err)
	}
	return pw
}

// ch opens a plain ClickHouse connection to the stack's server.
func (s *stack) ch() driver.Conn {
	s.t.Helper()
	c, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{fmt.Sprintf("127.0.0.1:%d", s.chTCP)},
		Auth:        clickhouse.Auth{Username: storage.ServerUser, Password: s.chPassword()},
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// store opens the stack's ClickHouse through storage, as lg does.
func (s *stack) store(ctx context.Context) *storage.DB {
	s.t.Helper()
	db, err := storage.Open(ctx, storage.Config{DSN: fmt.Sprintf("clickhouse://%s:%s@127.0.0.1:%d", storage.ServerUser, s.chPassword(), s.chTCP)}, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close() })
	return db
}

// routeSet is generated routes: prefix -> index.
func prefixOf(base netip.Addr, i int) netip.Prefix {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(i) << 8
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), 24)
}

// staticProtocol is a BIRD static protocol with n /24 routes from base,
// each with its own community (65000+tag, i): one UPDATE per route.
func staticProtocol(name string, base netip.Addr, tag, n int, disabled bool, skip map[netip.Prefix]bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "protocol static %s {\n  ipv4;\n", name)
	if disabled {
		b.WriteString("  disabled;\n")
	}
	for i := range n {
		p := prefixOf(base, i)
		if skip[p] {
			continue
		}
		fmt.Fprintf(&b, "  route %s blackhole { bgp_community.add((%d,%d)); };\n", p, 65000+tag, i)
	}
	b.WriteString("}\n")
	return b.String()
}

// birdConf is a BIRD speaker (127.0.0.11, AS 65001) towards the collector
// on bgpPort, exporting the static protocols.
func birdConf(birdPort, bgpPort int, statics ...string) string {
	return fmt.Sprintf(`log "DIR/bird.log" { info, remote, warning, error, auth, fatal, bug };
router id 192.0.2.11;
protocol device { }
%s
protocol bgp collector {
  connect delay time 1;
  connect retry time 2;
  local 127.0.0.11 port %d as 65001;
  strict bind on;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  ipv4 { import none; export where source = RTS_STATIC; next hop address 192.0.2.11; };
}
`, strings.Join(statics, ""), birdPort, bgpPort)
}

// birdState returns the BGP protocol's state line from birdc.
func birdEstablished(b *testpeer.BIRD) (bool, string) {
	out, err := b.Ctl("show", "protocols", "collector")
	if err != nil {
		return false, err.Error()
	}
	return strings.Contains(out, "Established"), strings.TrimSpace(out)
}

// flapper toggles a BIRD static protocol (disable, enable) every period
// until stopped: a steady stream of announcements and withdrawals.
type flapper struct {
	stop chan struct{}
	done chan struct{}
	n    int
	err  error
}

func startFlapper(b *testpeer.BIRD, protocol string, period time.Duration) *flapper {
	f := &flapper{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for on := true; ; on = !on {
			select {
			case <-f.stop:
				if !on { // leave it enabled
					_, f.err = b.Ctl("enable", protocol)
				}
				return
			case <-tick.C:
			}
			cmd := "disable"
			if !on {
				cmd = "enable"
			}
			if _, err := b.Ctl(cmd, protocol); err != nil {
				f.err = err
				return
			}
			f.n++
		}
	}()
	return f
}

// Stop ends the flapping with the protocol enabled and returns the number
// of toggles.
func (f *flapper) Stop() (int, error) {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	<-f.done
	return f.n, f.err
}

// logEvent is an event read back from the log.
type logEvent struct {
	streamSeq uint64
	ev        schema.Event
}

// readLog reads every event of host from the log, in stream order.
func readLog(t *testing.T, url, host string) []logEvent {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect to NATS %s: %v", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stream, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		t.Fatalf("stream %s: %v", bus.StreamName, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := info.State.LastSeq
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{schema.SubjectFilter(host, "", "", netip.Addr{})},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []logEvent
	for {
		batch, err := cons.Fetch(5000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatalf("read the log: %v", err)
		}
		n := 0
		var lastMeta uint64
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			lastMeta = md.Sequence.Stream
			var e logEvent
			e.streamSeq = md.Sequence.Stream
			if err := json.Unmarshal(m.Data(), &e.ev); err != nil {
				t.Fatalf("log message %d is not an event: %v: %s", e.streamSeq, err, m.Data())
			}
			out = append(out, e)
		}
		if batch.Error() != nil {
			t.Fatalf("read the log: %v", batch.Error())
		}
		if n == 0 || lastMeta >= last {
			return out
		}
	}
}

// rowsOf is the number of rows the writer stores for an event (see
// storage's addEvents): one per announced or withdrawn route of an
// UPDATE, one for a peer state, OPEN or NOTIFICATION, none otherwise.
func rowsOf(e *schema.Event) (routes, peers int) {
	switch e.Type {
	case schema.TypeUpdate:
		for _, a := range e.Announcements {
			routes += len(a.Prefixes) + len(a.NLRI)
		}
		if len(e.Withdrawn) > 0 {
			for _, w := range e.Withdrawn {
				routes += len(w.Prefixes) + len(w.NLRI)
			}
		} else {
			routes += len(e.Withdrawals)
		}
	case schema.TypePeerState, schema.TypeOpen, schema.TypeNotification:
		peers = 1
	}
	return routes, peers
}

// idCounts returns, per event id, the rows of table for host as a query
// sees them (FINAL: rows that are the same row count once).
func idCounts(ctx context.Context, c driver.Conn, table, host string) (map[string]uint64, error) {
	rows, err := c.Query(ctx, "SELECT id, count() FROM vantage."+table+" FINAL WHERE host = ? GROUP BY id", host)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var id string
		var n uint64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// compareLogAndStore checks that ClickHouse holds every event of the log
// for host, each once: per event id, the rows a query sees equal the rows
// the event makes. It returns the number of events compared.
func compareLogAndStore(t *testing.T, c driver.Conn, events []logEvent, host string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wantRoutes, wantPeers := map[string]uint64{}, map[string]uint64{}
	var nRoutes, nPeers uint64
	for _, e := range events {
		r, p := rowsOf(&e.ev)
		if r > 0 {
			wantRoutes[e.ev.ID] += uint64(r)
			nRoutes += uint64(r)
		}
		if p > 0 {
			wantPeers[e.ev.ID] += uint64(p)
			nPeers += uint64(p)
		}
	}
	for _, tb := range []struct {
		table string
		want  map[string]uint64
		total uint64
	}{{"route_events", wantRoutes, nRoutes}, {"peer_events", wantPeers, nPeers}} {
		got, err := idCounts(ctx, c, tb.table, host)
		if err != nil {
			t.Fatalf("query %s: %v", tb.table, err)
		}
		var lost, dup, unknown []string
		var nLost, nDup uint64
		for id, w := range tb.want {
			g := got[id]
			switch {
			case g < w:
				lost = append(lost, fmt.Sprintf("%s (%d of %d rows)", id, g, w))
				nLost += w - g
			case g > w:
				dup = append(dup, fmt.Sprintf("%s (%d rows, want %d)", id, g, w))
				nDup += g - w
			}
		}
		for id, g := range got {
			if _, ok := tb.want[id]; !ok {
				unknown = append(unknown, fmt.Sprintf("%s (%d rows)", id, g))
			}
		}
		if len(lost)+len(dup)+len(unknown) > 0 {
			sort.Strings(lost)
			sort.Strings(dup)
			t.Errorf("%s of %s: want every event of the log stored once (%d rows of %d events), saw %d rows lost in %d events, "+
				"%d rows duplicated in %d events, %d events that are not in the log; lost e.g. %v; duplicated e.g. %v; unknown e.g. %v",
				tb.table, host, tb.total, len(tb.want), nLost, len(lost), nDup, len(dup), len(unknown), head(lost), head(dup), head(unknown))
		}
	}
	return len(events)
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// peerStates returns the peer's RIS_PEER_STATE rows (state, reason), oldest
// first, as a query sees them.
func peerStates(ctx context.Context, c driver.Conn, host string, peer netip.Addr) ([][2]string, error) {
	rows, err := c.Query(ctx, `SELECT toString(state), reason FROM vantage.peer_events FINAL
WHERE host = ? AND peer = IPv6StringToNum(?) AND type = 'RIS_PEER_STATE' ORDER BY ts_us`, host, netip.AddrFrom16(peer.As16()).String())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var st, reason string
		if err := rows.Scan(&st, &reason); err != nil {
			return nil, err
		}
		out = append(out, [2]string{st, reason})
	}
	return out, rows.Err()
}

// getJSON GETs url into v.
func getJSON(url string, v any) error {
	resp, err := httpClient.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %v: %s", url, err, body)
	}
	return nil
}

// waitListening polls until addr accepts TCP connections.
func waitListening(t *testing.T, addr string, within time.Duration) {
	t.Helper()
	eventually(t, within, addr+" accepts connections", func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		c.Close()
		return nil
	})
}

var errorf = fmt.Errorf

// wantEvents returns nil once the collector has emitted at least n events.
func (s *stack) wantEvents(n float64) error {
	m, err := s.scrape()
	if err != nil {
		return err
	}
	if v := m["vantage_events_total"]; v < n {
		return fmt.Errorf("vantage_events_total %v, want at least %v", v, n)
	}
	return nil
}
