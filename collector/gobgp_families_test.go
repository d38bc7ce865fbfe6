package collector

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// gobgpdFamilies is a gobgpd neighbor for EVPN, which ExaBGP 4.2 cannot
// announce.
const gobgpdFamilies = `
[global.config]
  as = 65016
  router-id = "192.0.2.16"
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
    local-address = "127.0.0.16"
    remote-port = PORT
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
`

// TestGoBGPFamilies: gobgpd announces EVPN routes over a real session;
// each arrives as an UPDATE of l2vpn/evpn with its NLRI, next hop and
// attributes. (gobgp 3.10's CLI has no multicast families.)
func TestGoBGPFamilies(t *testing.T) {
	gobgpd := testpeer.Need(t, "gobgpd", "gobgpd")
	gobgp := testpeer.Need(t, "gobgp", "gobgpd")
	rec := &recorder{}
	srv, cancel, done := startServer(t, rec)
	defer func() { cancel(); <-done }()

	dir := t.TempDir()
	port := srv.Addr().(*net.TCPAddr).Port
	conf := filepath.Join(dir, "gobgpd.toml")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(gobgpdFamilies, "PORT", fmt.Sprint(port))), 0o644); err != nil {
		t.Fatal(err)
	}
	api := fmt.Sprint(testpeer.FreePort(t))
	p := testpeer.StartCommand(t, dir, "gobgpd", gobgpd+" -f "+conf+" -l info --api-hosts=127.0.0.1:"+api+" --pprof-disable")

	const peer = "127.0.0.16"
	t.Cleanup(func() {
		if t.Failed() {
			for _, ev := range recorded(rec) {
				if ev.Peer.String() == peer {
					b, _ := json.Marshal(ev)
					t.Logf("event: %s", b)
				}
			}
		}
	})
	cli := func(args ...string) {
		t.Helper()
		var out []byte
		var err error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			out, err = exec.Command(gobgp, append([]string{"-p", api}, args...)...).CombinedOutput()
			if err == nil {
				return
			}
			select {
			case <-p.Done():
				t.Fatalf("gobgpd exited: %v", p.Err())
			default:
			}
		}
		t.Fatalf("gobgp %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	cli("global", "rib", "-a", "evpn", "add", "macadv", "aa:bb:cc:dd:ee:01", "198.51.100.7", "esi", "single-homed", "etag", "10", "label", "1000",
		"rd", "65016:5", "rt", "65016:5", "nexthop", "192.0.2.16")
	cli("global", "rib", "-a", "evpn", "add", "prefix", "203.0.113.0/24", "esi", "0", "etag", "0", "label", "1600", "rd", "65016:6", "rt", "65016:6",
		"gw", "0.0.0.0", "nexthop", "192.0.2.16")

	route := func(what string, f schema.Family, ok func(s *schema.NLRISet) bool) (*schema.Event, *schema.Announcement) {
		t.Helper()
		var ev schema.Event
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			evs := recorded(rec)
			i := slices.IndexFunc(evs, func(ev schema.Event) bool {
				return ev.Peer.String() == peer && ev.Type == schema.TypeUpdate && len(ev.Announcements) > 0 && ev.Announcements[0].Family == f && ok(&ev.Announcements[0].NLRISet)
			})
			if i >= 0 {
				ev = evs[i]
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s route from gobgpd", what)
			}
		}
		return &ev, &ev.Announcements[0]
	}
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}

	// gobgp writes the label value in the field's 24 bits as they are (a
	// VXLAN VNI, RFC 8365); the collector reads the MPLS label of RFC 7432
	// 7.2, its high 20 bits: 1000 -> 62, 1600 -> 100.
	evpn := func(kind string) func(s *schema.NLRISet) bool {
		return func(s *schema.NLRISet) bool { return len(s.NLRI) == 1 && strings.HasPrefix(s.NLRI[0], kind) }
	}
	ev, a := route("EVPN MAC/IP", schema.Family{AFI: 25, SAFI: 70}, evpn("mac-ip"))
	check("EVPN MAC/IP NLRI", a.NLRI, "[mac-ip rd 65016:5 esi 0 etag 10 mac aa:bb:cc:dd:ee:01 ip 198.51.100.7 label 62]")
	check("EVPN MAC/IP next hop", a.NextHop, "192.0.2.16")
	check("EVPN MAC/IP route target", ev.ExtCommunity, "[rt:65016:5]")
	check("EVPN MAC/IP path", ev.Path, "65016")

	ev, a = route("EVPN IP prefix", schema.Family{AFI: 25, SAFI: 70}, evpn("ip-prefix"))
	check("EVPN IP prefix NLRI", a.NLRI, "[ip-prefix rd 65016:6 esi 0 etag 0 prefix 203.0.113.0/24 gw 0.0.0.0 label 100]")
	check("EVPN IP prefix next hop", a.NextHop, "192.0.2.16")
	check("EVPN IP prefix route target", ev.ExtCommunity, "[rt:65016:6]")
}
