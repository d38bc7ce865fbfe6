// Package readme checks that the router snippets of README.md ("Peering a
// router with it") work exactly as written: BIRD 2, FRR's bgpd, gobgpd and
// ExaBGP, each started from the README's config and command line, peer
// with `collector run` on its built-in defaults, and the routes each
// snippet announces arrive as UPDATE events on NATS.
package readme

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

const readmePath = "../../README.md"

// The collector's defaults, as the README states them; the test runs
// `collector run` without -config and relies on exactly these.
const (
	defaultBGP        = "127.0.0.1:1179"
	defaultNATS       = "127.0.0.1:4222"
	defaultCHNative   = "127.0.0.1:19000"
	defaultCHHTTP     = "127.0.0.1:18123"
	natsURL           = "nats://" + defaultNATS
	eventSubject      = "vantage.events.>"
	gobgpDefaultAPI   = "127.0.0.1:50051" // the gobgpd-run snippet's --api-hosts, where gobgp looks
	collectorStopWait = 30 * time.Second  // SIGINT to exit; it stops its ClickHouse child first
	routesDeadline    = 120 * time.Second // gobgpd alone takes 5-10 s to connect
)

// A speaker is one daemon of the README: its config snippet (written to a
// file named like the snippet), the snippet with its command line, and
// the source address the README gives it.
type speaker struct {
	name     string // for messages
	program  string // what testpeer.Need looks for
	pkg      string // the Debian package that has it
	config   string // snippet name = file name in the daemon's directory
	run      string // snippet with the command that starts it
	announce string // snippet with commands that announce routes once it runs ("" if none)
	peer     netip.Addr
	// prefixes pulls the announced prefixes out of the config and
	// announce snippets.
	prefixes func(config, announce string) []string
}

var (
	// BIRD's and ExaBGP's static routes: "route PREFIX ...".
	staticRoute = regexp.MustCompile(`(?m)^\s*route\s+(\S+)\s`)
	// FRR: "network PREFIX" inside an address family.
	frrNetwork = regexp.MustCompile(`(?m)^\s*network\s+(\S+)`)
	// gobgp: "gobgp global rib add [-a FAMILY] PREFIX ...".
	gobgpAdd = regexp.MustCompile(`(?m)^\s*gobgp\s+(?:.*\s)?global\s+rib\s+add\s+(?:-a\s+\S+\s+)?(\S+)`)
)

func matches(re *regexp.Regexp, texts ...string) []string {
	var out []string
	for _, text := range texts {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// speakers lists the README's daemons with the source addresses the README
// promises (127.0.0.11 BIRD, .12 FRR, .13 gobgpd, .14 ExaBGP).
var speakers = []speaker{
	{name: "BIRD", program: "bird", pkg: "bird2", config: "bird.conf", run: "bird-run",
		peer:     netip.MustParseAddr("127.0.0.11"),
		prefixes: func(c, _ string) []string { return matches(staticRoute, c) }},
	{name: "FRR bgpd", program: "/usr/lib/frr/bgpd", pkg: "frr", config: "bgpd.conf", run: "bgpd-run",
		peer:     netip.MustParseAddr("127.0.0.12"),
		prefixes: func(c, _ string) []string { return matches(frrNetwork, c) }},
	{name: "gobgpd", program: "gobgpd", pkg: "gobgpd", config: "gobgpd.toml", run: "gobgpd-run", announce: "gobgp-announce",
		peer:     netip.MustParseAddr("127.0.0.13"),
		prefixes: func(_, a string) []string { return matches(gobgpAdd, a) }},
	{name: "ExaBGP", program: "exabgp", pkg: "exabgp", config: "exabgp.conf", run: "exabgp-run",
		peer:     netip.MustParseAddr("127.0.0.14"),
		prefixes: func(c, _ string) []string { return matches(staticRoute, c) }},
}

var snippetMarker = regexp.MustCompile(`^<!-- snippet: (\S+) -->$`)

// readSnippets returns the README's marked code blocks by name: a line
// `<!-- snippet: NAME -->` right before a fenced block.
func readSnippets(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatalf("read the README: %v", err)
	}
	lines := strings.Split(string(data), "\n")
	snippets := map[string]string{}
	for i := 0; i < len(lines); i++ {
		m := snippetMarker.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		name := m[1]
		if _, dup := snippets[name]; dup {
			t.Fatalf("README.md:%d: a second snippet %q", i+1, name)
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Fatalf("README.md:%d: the marker of snippet %q is not followed by a ``` fence on the next line", i+1, name)
		}
		var body []string
		j := i + 2
		for ; j < len(lines) && !strings.HasPrefix(lines[j], "```"); j++ {
			body = append(body, lines[j])
		}
		if j == len(lines) {
			t.Fatalf("README.md:%d: snippet %q has no closing ``` fence", i+1, name)
		}
		snippets[name] = strings.Join(body, "\n") + "\n"
		i = j
	}
	return snippets
}

// commands returns the command lines of a shell snippet: comments and
// blank lines dropped, backslash continuations joined.
func commands(snippet string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(snippet, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// plan is what the test runs for one speaker, taken from the README.
type plan struct {
	speaker
	configText string
	runCmd     string
	announce   []string
	prefixes   []netip.Prefix
}

// readPlans extracts every speaker's snippets and the prefixes they
// announce, failing with the name of whatever is missing.
func readPlans(t *testing.T) []plan {
	t.Helper()
	snippets := readSnippets(t)
	need := func(name string) string {
		s, ok := snippets[name]
		if !ok {
			t.Fatalf("README.md has no snippet %q (a line `<!-- snippet: %s -->` right before its ``` block in \"Peering a router with it\")", name, name)
		}
		return s
	}
	var plans []plan
	for _, s := range speakers {
		p := plan{speaker: s, configText: need(s.config)}
		runs := commands(need(s.run))
		if len(runs) != 1 {
			t.Fatalf("snippet %q: want exactly one command line, got %d: %q", s.run, len(runs), runs)
		}
		p.runCmd = runs[0]
		var announceText string
		if s.announce != "" {
			announceText = need(s.announce)
			p.announce = commands(announceText)
			if len(p.announce) == 0 {
				t.Fatalf("snippet %q has no command", s.announce)
			}
		}
		for _, text := range s.prefixes(p.configText, announceText) {
			pfx, err := netip.ParsePrefix(text)
			if err != nil {
				t.Fatalf("%s snippets: announced route %q is not a prefix: %v", s.name, text, err)
			}
			p.prefixes = append(p.prefixes, pfx)
		}
		if len(p.prefixes) == 0 {
			t.Fatalf("%s snippets (%s %s): found no route they announce", s.name, s.config, s.announce)
		}
		if !strings.Contains(p.configText, s.peer.String()) {
			t.Fatalf("snippet %q does not use the source address %s that the README gives %s", s.config, s.peer, s.name)
		}
		plans = append(plans, p)
	}
	return plans
}

// The README's snippets are all there and parse; this needs no daemon.
func TestSnippetsPresent(t *testing.T) {
	for _, p := range readPlans(t) {
		t.Logf("%s from %s: `%s`, announces %v", p.name, p.peer, p.runCmd, p.prefixes)
	}
}

// Every README router snippet, run exactly as written, peers with
// `collector run` on its defaults and its routes reach NATS.
func TestRouterSnippets(t *testing.T) {
	plans := readPlans(t)
	for _, p := range plans {
		testpeer.Need(t, p.program, p.pkg)
		if p.announce != nil {
			testpeer.Need(t, "gobgp", "gobgpd")
		}
	}
	for _, addr := range []string{defaultBGP, defaultNATS, defaultCHNative, defaultCHHTTP} {
		if err := portFree(addr); err != nil {
			t.Fatalf("%s is in use (%v): a running collector (make run?) holds the port; stop it first, this test runs `collector run` with its built-in defaults", addr, err)
		}
	}
	if err := portFree(gobgpDefaultAPI); err != nil {
		t.Fatalf("%s is in use (%v): the README's gobgpd command puts gobgpd's API there; is a gobgpd running?", gobgpDefaultAPI, err)
	}

	start := time.Now()
	bin := buildCollector(t)
	t.Logf("collector built in %v", time.Since(start).Round(time.Millisecond))
	coll := startCollector(t, bin)
	got := subscribe(t, coll)
	t.Logf("collector up, NATS subscribed after %v", time.Since(start).Round(time.Millisecond))

	procs := map[string]*testpeer.Process{}
	for _, p := range plans {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, p.config), []byte(p.configText), 0o644); err != nil {
			t.Fatal(err)
		}
		procs[p.name] = testpeer.StartCommand(t, dir, p.program[strings.LastIndex(p.program, "/")+1:], p.runCmd)
	}

	// gobgpd's routes are added through its API once it is up.
	announced := map[string]bool{}
	deadline := time.Now().Add(routesDeadline)
	for {
		missing := got.missing(plans)
		for _, p := range plans {
			if p.announce == nil || announced[p.name] {
				continue
			}
			if ok, out := tryAnnounce(procs[p.name].Dir, p.announce); ok {
				announced[p.name] = true
			} else if time.Now().After(deadline) {
				t.Fatalf("%s: the %q snippet's commands still fail after %v:\n%s", p.name, p.announce, routesDeadline, out)
			}
		}
		if len(missing) == 0 {
			break
		}
		for _, p := range plans {
			select {
			case <-procs[p.name].Done():
				t.Fatalf("%s exited before its routes reached the collector (%v); README snippets %q and %q, run as `%s`:\n%s",
					p.name, procs[p.name].Err(), p.config, p.run, p.runCmd, lastLines(procs[p.name].Output(), 20))
			default:
			}
		}
		select {
		case <-coll.done:
			t.Fatalf("collector run exited early: %v", coll.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, UPDATE events missing on %s:\n%s\nseen: %s",
				routesDeadline, eventSubject, strings.Join(missing, "\n"), got.summary())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The README promises documentation next hops, never a loopback one.
	for _, p := range plans {
		for _, pfx := range p.prefixes {
			if nh := got.nextHop(p.peer, pfx); !docNet4.Contains(nh) && !docNet6.Contains(nh) {
				t.Errorf("%s: %s arrived with next hop %v, want a documentation address (%v or %v) as the README says", p.name, pfx, nh, docNet4, docNet6)
			}
		}
	}
	if errs := got.errors(); len(errs) > 0 {
		t.Errorf("bad events on NATS:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("all routes of %d speakers arrived %v after start", len(plans), time.Since(start).Round(time.Millisecond))
}

// portFree reports whether addr can be listened on.
func portFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

// buildCollector builds cmd/collector from the module root.
func buildCollector(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	goTool := "go"
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	} else if gr := os.Getenv("GOROOT"); gr != "" {
		goTool = filepath.Join(gr, "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "collector")
	cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/collector")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/collector: %v\n%s", err, out)
	}
	return bin
}

type collectorProc struct {
	cmd  *exec.Cmd
	out  string
	done chan struct{}
	err  error
}

// startCollector runs `collector run` with no -config in an empty working
// directory, so it uses its defaults (and keeps vantage-data/ there). It
// is stopped with SIGINT, then killed, when the test ends.
func startCollector(t *testing.T, bin string) *collectorProc {
	t.Helper()
	dir := t.TempDir()
	c := &collectorProc{out: filepath.Join(dir, "collector.out"), done: make(chan struct{})}
	out, err := os.Create(c.out)
	if err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(bin, "run")
	c.cmd.Dir = dir
	c.cmd.Stdout, c.cmd.Stderr = out, out
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("collector run: %v", err)
	}
	go func() { c.err = c.cmd.Wait(); out.Close(); close(c.done) }()
	t.Cleanup(func() {
		stopped := time.Now()
		c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.done:
			t.Logf("collector stopped %v after SIGINT (%v)", time.Since(stopped).Round(time.Millisecond), c.err)
		case <-time.After(collectorStopWait):
			c.cmd.Process.Kill()
			<-c.done
			t.Errorf("collector run did not stop within %v of SIGINT; killed", collectorStopWait)
		}
		if t.Failed() {
			data, _ := os.ReadFile(c.out)
			t.Logf("collector run output (in %s):\n%s", dir, lastLines(string(data), 60))
		}
	})
	return c
}

// events collects the UPDATE announcements seen on NATS, per peer.
type events struct {
	mu     sync.Mutex
	routes map[netip.Addr]map[netip.Prefix]netip.Addr // peer -> prefix -> next hop
	types  map[netip.Addr][]string                    // first event types per peer, for messages
	errs   []string
}

func (e *events) handle(m *nats.Msg) {
	var ev schema.Event
	err := json.Unmarshal(m.Data, &ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.errs = append(e.errs, fmt.Sprintf("%s: %v: %s", m.Subject, err, m.Data))
		return
	}
	if want := schema.Subject(&ev); m.Subject != want {
		e.errs = append(e.errs, fmt.Sprintf("event on subject %s, want %s", m.Subject, want))
	}
	if ts := e.types[ev.Peer]; len(ts) < 8 && !slices.Contains(ts, ev.Type.String()) {
		e.types[ev.Peer] = append(ts, ev.Type.String())
	}
	if ev.Type != schema.TypeUpdate {
		return
	}
	if e.routes[ev.Peer] == nil {
		e.routes[ev.Peer] = map[netip.Prefix]netip.Addr{}
	}
	for _, a := range ev.Announcements {
		for _, p := range a.Prefixes {
			e.routes[ev.Peer][p] = a.NextHop
		}
	}
}

// missing lists, per speaker, the prefixes not announced yet.
func (e *events) missing(plans []plan) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, p := range plans {
		var miss []string
		for _, pfx := range p.prefixes {
			if _, ok := e.routes[p.peer][pfx]; !ok {
				miss = append(miss, pfx.String())
			}
		}
		if len(miss) > 0 {
			seen := "no event at all from it"
			if ts := e.types[p.peer]; len(ts) > 0 {
				seen = "events seen: " + strings.Join(ts, ", ")
			}
			out = append(out, fmt.Sprintf("  %s (%s, snippets %s/%s): no UPDATE announcing %s (%s)",
				p.name, p.peer, p.config, p.run, strings.Join(miss, ", "), seen))
		}
	}
	return out
}

func (e *events) summary() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.routes) == 0 {
		return "no UPDATE with announcements"
	}
	var parts []string
	for peer, routes := range e.routes {
		var ps []string
		for p := range routes {
			ps = append(ps, p.String())
		}
		slices.Sort(ps)
		parts = append(parts, fmt.Sprintf("%s: %s", peer, strings.Join(ps, " ")))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

var (
	docNet4 = netip.MustParsePrefix("192.0.2.0/24")
	docNet6 = netip.MustParsePrefix("2001:db8::/32")
)

func (e *events) nextHop(peer netip.Addr, p netip.Prefix) netip.Addr {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.routes[peer][p]
}

func (e *events) errors() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.errs)
}

// subscribe connects to the collector's embedded NATS once it is up and
// collects every event.
func subscribe(t *testing.T, c *collectorProc) *events {
	t.Helper()
	got := &events{routes: map[netip.Addr]map[netip.Prefix]netip.Addr{}, types: map[netip.Addr][]string{}}
	deadline := time.Now().Add(90 * time.Second)
	for {
		nc, err := nats.Connect(natsURL, nats.Timeout(time.Second))
		if err == nil {
			t.Cleanup(nc.Close)
			if _, err := nc.Subscribe(eventSubject, got.handle); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			break
		}
		select {
		case <-c.done:
			data, _ := os.ReadFile(c.out)
			t.Fatalf("collector run exited before NATS was up (%v):\n%s", c.err, lastLines(string(data), 30))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the collector's NATS at %s did not come up within 90s: %v", natsURL, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The BGP port comes last; wait until it listens (read from
	// /proc/net/tcp, so that no probe connects to it or takes it) so that
	// no speaker has to wait out a connect-retry timer.
	for !listening(defaultBGP) {
		select {
		case <-c.done:
			data, _ := os.ReadFile(c.out)
			t.Fatalf("collector run exited before listening on %s (%v):\n%s", defaultBGP, c.err, lastLines(string(data), 30))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector run does not listen on %s within 90s", defaultBGP)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return got
}

// listening reports whether /proc/net/tcp has a listening socket on addr
// (an IPv4 host:port).
func listening(addr string) bool {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return false
	}
	ip := ap.Addr().As4()
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port())
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[1] == want && f[3] == "0A" { // 0A: TCP_LISTEN
			return true
		}
	}
	return false
}

// tryAnnounce runs each announce command in dir, as a shell would.
func tryAnnounce(dir string, cmds []string) (bool, string) {
	for _, c := range cmds {
		cmd := exec.Command("/bin/sh", "-c", c)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return false, fmt.Sprintf("$ %s\n%s%v", c, out, err)
		}
	}
	return true, ""
}

func lastLines(s string, n int) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
