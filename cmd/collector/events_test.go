package main

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// eventsRoutes is how many routes the BIRD peer announces, each in an
// UPDATE of its own (each has its own community).
const eventsRoutes = 150

// birdEvents is a BIRD peer (127.0.0.11, AS 65001) of a collector on
// port PORT, announcing eventsRoutes routes.
func birdEvents(t *testing.T, port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `log "DIR/bird.log" all;
router id 192.0.2.11;
protocol device { }
protocol static static4 {
  ipv4;
`)
	for i := range eventsRoutes {
		fmt.Fprintf(&b, "  route 10.%d.%d.0/24 blackhole { bgp_community.add((65001,%d)); };\n", i/256, i%256, i)
	}
	fmt.Fprintf(&b, `}
protocol bgp collector {
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  local 127.0.0.11 port %d as 65001;
  strict bind on;
  neighbor 127.0.0.1 port %d as 65000;
  multihop;
  ipv4 { import none; export where source = RTS_STATIC; next hop address 192.0.2.11; };
}
`, testpeer.FreePort(t), port)
	return b.String()
}

// TestEventsResume: readers of the log that stop and go on, with -durable
// or with -seq (from the line the last run printed), and readers that
// stay up while the collector restarts, get every event of a real BGP
// session exactly once and in order: the peer's per-peer seq runs without
// a gap or a repeat. Then -exec with a script that exits after every 100
// lines: every event of the log reaches a run of the script once. Against
// the collector's embedded NATS and against an external nats-server
// (where several -filter subjects are matched on the client when the
// server is older than 2.10).
func TestEventsResume(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/collector")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	collectorBin := filepath.Join(bin, "collector")
	t.Run("embedded", func(t *testing.T) { testEventsResume(t, collectorBin, "") })
	t.Run("external", func(t *testing.T) {
		natsServer := testpeer.Need(t, "nats-server", "nats-server")
		port := testpeer.FreePort(t)
		dir := t.TempDir()
		testpeer.StartCommand(t, dir, "nats-server", fmt.Sprintf("%s -js -a 127.0.0.1 -p %d -sd %s", natsServer, port, filepath.Join(dir, "js")))
		testEventsResume(t, collectorBin, fmt.Sprintf("nats://127.0.0.1:%d", port))
	})
}

func testEventsResume(t *testing.T, collectorBin, natsURL string) {
	dir := t.TempDir()
	bgpPort := testpeer.FreePort(t)
	natsListen := fmt.Sprintf("127.0.0.1:%d", testpeer.FreePort(t))
	url := natsURL
	if url == "" {
		url = "nats://" + natsListen
	}
	cfg := filepath.Join(dir, "vantage.yaml")
	body := fmt.Sprintf(`collector: {name: rrc-ev, listen: "127.0.0.1:%d", metrics_listen: "", store: false}
nats: {url: %q, listen: %q, store_dir: %q}
log: {level: info}
`, bgpPort, natsURL, natsListen, filepath.Join(dir, "nats"))
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	startCollector := func() *proc {
		c := startProc(t, dir, collectorBin, "run", "-config", cfg)
		c.waitFor(t, "collector: BGP on")
		return c
	}
	col := startCollector()
	conn, err := bus.Dial(t.Context(), bus.Options{URL: url, ConnectTimeout: 30 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer := netip.MustParseAddr("127.0.0.11")
	lastSeq := func() uint64 {
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			peers, err := bus.LastPeerStates(t.Context(), conn, "rrc-ev")
			if err == nil {
				return peers[peer].Seq
			}
			if time.Now().After(deadline) {
				t.Fatalf("reading the log: %v", err)
			}
		}
	}
	waitSeq := func(what string, min uint64) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); lastSeq() < min; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the peer's last seq is %d, want at least %d\ncollector:\n%s", what, lastSeq(), min, col.out)
			}
		}
	}
	bird := testpeer.StartBIRD(t, birdEvents(t, bgpPort))
	waitSeq("BIRD's routes", eventsRoutes)
	// cycle withdraws BIRD's routes and announces them again.
	cycle := func() {
		t.Helper()
		before := lastSeq()
		if _, err := bird.Ctl("disable", "static4"); err != nil {
			t.Fatal(err)
		}
		waitSeq("the withdrawals", before+1)
		before = lastSeq()
		if _, err := bird.Ctl("enable", "static4"); err != nil {
			t.Fatal(err)
		}
		waitSeq("the announcements", before+eventsRoutes)
	}
	restart := func() {
		t.Helper()
		col.stop(t)
		col = startCollector()
	}

	filters := []string{"-filter", "*.*.*.127_0_0_11", "-filter", "vantage.events.rrc-ev.RIS_PEER_STATE.>"}
	durable := func(extra ...string) *eventsProc {
		return startEvents(t, dir, collectorBin, append(append([]string{"-config", cfg, "-durable", "reader1"}, filters...), extra...)...)
	}
	bySeq := func(extra ...string) *eventsProc {
		return startEvents(t, dir, collectorBin, append(append([]string{"-config", cfg}, filters...), extra...)...)
	}

	// Readers start; events; they stop. More events, and the collector
	// restarts while no reader runs.
	d1, s1 := durable(), bySeq()
	cycle()
	d1.stop(t)
	next := s1.stop(t)
	cycle()
	restart()
	cycle()
	// They go on, and stay up while the collector restarts.
	d2, s2 := durable(), bySeq("-seq", next)
	cycle()
	restart()
	cycle()
	last := lastSeq()
	for _, p := range []*eventsProc{d2, s2} {
		p.waitSeq(t, peer, last)
		p.stop(t)
	}

	// The log's own events of the peer, in order: the reference.
	var want []uint64
	all := readLog(t, conn)
	for _, ev := range all {
		if ev.Peer == peer {
			want = append(want, ev.Seq)
		}
	}
	for i := 1; i < len(want); i++ {
		if want[i] != want[i-1]+1 {
			t.Fatalf("the log's seq of %s jumps from %d to %d", peer, want[i-1], want[i])
		}
	}
	if want[len(want)-1] != last {
		t.Fatalf("the log's last seq of %s is %d, LastPeerStates says %d", peer, want[len(want)-1], last)
	}
	t.Logf("%d events in the log, %d of %s (seq %s)", len(all), len(want), peer, seqRanges(want))
	for name, runs := range map[string][]*eventsProc{"-durable": {d1, d2}, "-seq": {s1, s2}} {
		var got []uint64
		for _, p := range runs {
			for _, ev := range p.events(t) {
				if ev.Peer != peer {
					t.Errorf("%s: an event of %s passed the filters", name, ev.Peer)
				}
				got = append(got, ev.Seq)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s readers got seqs %s\nthe log has %s", name, seqRanges(got), seqRanges(want))
		}
	}

	// -exec: a script that exits after every 100 lines gets every event
	// of the log once.
	out := filepath.Join(dir, "script.out")
	script := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
i=0
while IFS= read -r line; do
  printf '%s\n' "$line" >> `+out+`
  i=$((i+1))
  [ $i -ge 100 ] && exit 0
done
`), 0o755); err != nil {
		t.Fatal(err)
	}
	ex := startEvents(t, dir, collectorBin, "-config", cfg, "-exec", script, "-n", strconv.Itoa(len(all)))
	ex.wait(t)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for line := range strings.Lines(string(data)) {
		var ev schema.Event
		if err := ev.DecodeJSON([]byte(line)); err != nil {
			t.Fatalf("the script got %q: %v", line, err)
		}
		seen[ev.ID]++
	}
	for _, ev := range all {
		if seen[ev.ID] != 1 {
			t.Errorf("-exec: event %s reached the script %d times", ev.ID, seen[ev.ID])
		}
	}
	if len(seen) != len(all) {
		t.Errorf("-exec: the script got %d events, the log has %d", len(seen), len(all))
	}
	if runs := strings.Count(ex.stderr.String(), "the script exited"); runs < len(all)/100 {
		t.Errorf("-exec: the script was restarted %d times for %d events", runs, len(all))
	}
}

// seqRanges writes seqs as runs: 1-40 41 41-90 (a repeat shows as 41 41).
func seqRanges(seqs []uint64) string {
	var b strings.Builder
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d ", seqs[i], seqs[j])
		} else {
			fmt.Fprintf(&b, "%d ", seqs[i])
		}
		i = j + 1
	}
	return b.String()
}

// eventsProc is a running `collector events`.
type eventsProc struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	exited         chan struct{}
	err            error
}

func startEvents(t *testing.T, dir, bin string, args ...string) *eventsProc {
	t.Helper()
	p := &eventsProc{cmd: exec.Command(bin, append([]string{"events"}, args...)...), stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }() // owned: stop, wait and the cleanup wait for exited
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("collector %s:\n%s", strings.Join(p.cmd.Args[1:], " "), p.stderr)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(p.stderr.String(), "collector events: ") {
		select {
		case <-p.exited:
			t.Fatalf("collector events exited (%v):\n%s", p.err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector events did not start within 60s:\n%s", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

var goOnRx = regexp.MustCompile(`go on with -seq (\d+)`)

// stop interrupts the reader, waits for it, and returns the -seq its
// last line says to go on with.
func (p *eventsProc) stop(t *testing.T) string {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	return p.wait(t)
}

// wait waits for the reader to exit cleanly and returns the -seq its last
// line says to go on with.
func (p *eventsProc) wait(t *testing.T) string {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("collector events did not exit within 60s:\n%s", p.stderr)
	}
	if p.err != nil {
		t.Fatalf("collector events: %v\n%s", p.err, p.stderr)
	}
	m := goOnRx.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("collector events did not say where to go on:\n%s", p.stderr)
	}
	return m[1]
}

// events decodes what the reader wrote.
func (p *eventsProc) events(t *testing.T) []schema.Event {
	t.Helper()
	var evs []schema.Event
	sc := bufio.NewScanner(strings.NewReader(p.stdout.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev schema.Event
		if err := ev.DecodeJSON(sc.Bytes()); err != nil {
			t.Fatalf("collector events wrote %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// waitSeq waits until the reader has written the peer's event seq.
func (p *eventsProc) waitSeq(t *testing.T, peer netip.Addr, seq uint64) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		for _, ev := range p.events(t) {
			if ev.Peer == peer && ev.Seq >= seq {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector events did not write %s's seq %d within 60s:\n%s", peer, seq, p.stderr)
		}
	}
}

// readLog returns every event of the log, in order.
func readLog(t *testing.T, conn *bus.Conn) []schema.Event {
	t.Helper()
	evs, err := bus.ReadAll(t.Context(), conn)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
