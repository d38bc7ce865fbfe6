package replay

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testpeer"
)

// birdReceiver starts BIRD 2 accepting any peer from 127/8 on a free
// port, importing IPv4 and IPv6 routes whatever their next hop (as in
// PEERS.md's benchmark receiver), and returns it and its address.
func birdReceiver(t *testing.T) (*testpeer.BIRD, string) {
	port := testpeer.FreePort(t)
	bird := testpeer.StartBIRD(t, fmt.Sprintf(`log "DIR/bird.log" all;
router id 192.0.2.100;
protocol device { }
template bgp receiver {
  local 127.0.0.1 port %d as 65000;
  strict bind on;
  neighbor range 127.0.0.0/8 external;
  dynamic name "peer";
  passive on;
  multihop;
  ipv4 { import all; export none; gateway recursive; };
  ipv6 { import all; export none; gateway recursive; };
}
protocol bgp listener from receiver { }
`, port))
	return bird, fmt.Sprintf("127.0.0.1:%d", port)
}

var routeCount = regexp.MustCompile(`Total: (\d+) of (\d+) routes for (\d+) networks`)

// waitRoutes waits until BIRD holds want routes (for as many networks).
func waitRoutes(t *testing.T, bird *testpeer.BIRD, want int, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("the speaker stopped before BIRD had its routes: %v (BIRD: %s)", err, last)
		default:
		}
		out, err := bird.Ctl("show", "route", "count")
		if err == nil {
			if m := routeCount.FindStringSubmatch(out); m != nil {
				last = m[0]
				if n, _ := strconv.Atoi(m[2]); n == want {
					if nets, _ := strconv.Atoi(m[3]); nets != want {
						t.Fatalf("BIRD: %s, want %d networks", m[0], want)
					}
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("BIRD did not get %d routes within 90 s: %s", want, last)
}

// birdPath returns the AS path BIRD has for prefix.
func birdPath(t *testing.T, bird *testpeer.BIRD, prefix netip.Prefix) string {
	t.Helper()
	out, err := bird.Ctl("show", "route", prefix.String(), "all")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if _, v, ok := strings.Cut(line, "BGP.as_path:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("BIRD has no AS path for %s:\n%s", prefix, out)
	return ""
}

func startSpeaker(t *testing.T, cfg Config, table *Table) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, cfg, table, nil)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("speaker: %v", err)
		}
	})
	return done
}

// TestSyntheticIntoBIRD: BIRD receives every synthetic route, IPv4 and
// IPv6, each with the speaker's AS first in its path.
func TestSyntheticIntoBIRD(t *testing.T) {
	bird, addr := birdReceiver(t)
	const n = 20_000
	table := Synthetic(n, 0.2, 7)
	if table.Routes() != n {
		t.Fatalf("Synthetic(%d) made %d routes", n, table.Routes())
	}
	v6 := 0
	for _, g := range table.Groups {
		if g.Family.AFI == 2 {
			v6 += len(g.Prefixes)
		}
	}
	if v6 < n/10 || v6 > n*3/10 {
		t.Errorf("%d of %d prefixes are IPv6, want about 20%%", v6, n)
	}
	if perSet := float64(n) / float64(len(table.Groups)); perSet < 2 || perSet > 5 {
		t.Errorf("%.1f prefixes per attribute set, want about 3", perSet)
	}
	done := startSpeaker(t, Config{To: addr, ASN: 65010}, table)
	waitRoutes(t, bird, n, done)
	for _, g := range []*Group{table.Groups[0], table.Groups[len(table.Groups)-1]} {
		if p := birdPath(t, bird, g.Prefixes[0]); !strings.HasPrefix(p, "65010 ") {
			t.Errorf("%s: BIRD has the AS path %q, want it to start with 65010", g.Prefixes[0], p)
		}
	}
}

// TestMRTPeerIntoBIRD: one peer's routes of a RIS dump (TABLE_DUMP, 2-octet
// paths) reach BIRD, as many as bgpdump lists for that peer, each with the
// dump's AS path after the speaker's AS.
func TestMRTPeerIntoBIRD(t *testing.T) {
	file := shareddata.Path(t, "mrt", "bgpdump", "test_data", "bview.20020722.2337.gz")
	bgpdump := testpeer.Need(t, "bgpdump", "bgpdump")
	table, peer, err := FromMRT(file, netip.Addr{}, func(err error) { t.Logf("warning: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	// What bgpdump (an independent reader) lists for that peer.
	out, err := exec.Command(bgpdump, "-m", file).Output()
	if err != nil {
		t.Fatalf("bgpdump: %v", err)
	}
	want := map[netip.Prefix]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 7 || f[3] != peer.Addr.String() {
			continue
		}
		p, err := netip.ParsePrefix(f[5])
		if err != nil {
			t.Fatalf("bgpdump line %q: %v", line, err)
		}
		if _, dup := want[p]; !dup {
			want[p] = f[6]
		}
	}
	if len(want) == 0 || table.Routes() != len(want) {
		t.Fatalf("replay read %d routes of peer %s, bgpdump lists %d", table.Routes(), peer.Addr, len(want))
	}
	bird, addr := birdReceiver(t)
	const asn = 65020
	done := startSpeaker(t, Config{To: addr, ASN: asn}, table)
	waitRoutes(t, bird, len(want), done)
	checked := 0
	for p, path := range want {
		if checked == 5 {
			break
		}
		checked++
		if got := birdPath(t, bird, p); got != strconv.Itoa(asn)+" "+path {
			t.Errorf("%s: BIRD has the AS path %q, bgpdump %q (want %d before it)", p, got, path, asn)
		}
	}
}
