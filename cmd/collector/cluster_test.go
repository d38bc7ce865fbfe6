package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// clusterBIRD announces an IPv4 and an IPv6 route to the collector.
const clusterBIRD = `
log "DIR/bird.log" all;
router id 192.0.2.11;
protocol device { }
protocol static static4 { ipv4; route 198.51.100.0/24 blackhole; route 203.0.113.0/25 blackhole; }
protocol static static6 { ipv6; route 2001:db8:100::/48 blackhole; }
protocol bgp collector {
  connect delay time 1;
  connect retry time 2;
  local 127.0.0.11 port BIRDPORT as 65001;
  strict bind on;
  neighbor 127.0.0.1 port COLLECTORPORT as 65000;
  multihop;
  ipv4 { import none; export where source = RTS_STATIC; next hop address 192.0.2.11; };
  ipv6 { import none; export where source = RTS_STATIC; next hop address 2001:db8::11; };
}
`

// TestRunOnCluster runs the built collector and lg with clickhouse.cluster
// over two local clickhouse-servers: a BGP peer's routes reach the looking
// glass through the sharded store, and its rows are on the shards.
func TestRunOnCluster(t *testing.T) {
	testpeer.Need(t, "bird", "bird2")
	if storagetest.Addr() == "" {
		storagetest.DSN(t) // skips, saying why
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/collector", "./cmd/lg")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := storagetest.FreePort
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var cfgs []storage.ServerConfig
	for range 2 {
		cfgs = append(cfgs, storage.ServerConfig{DataDir: t.TempDir(), TCPPort: port(), HTTPPort: port(), ExitWithStarter: true})
	}
	servers, err := storage.StartLocalCluster(ctx, "vantage", cfgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	var shards []string
	for _, s := range servers {
		t.Cleanup(func() { s.Close() })
		shards = append(shards, fmt.Sprintf("%q", s.DSN()))
	}

	dir := t.TempDir()
	bgpPort := port()
	cfg := filepath.Join(dir, "vantage.yaml")
	body := fmt.Sprintf(`collector: {listen: "127.0.0.1:%d", metrics_listen: ""}
nats: {listen: "127.0.0.1:%d", store_dir: %q, spool_dir: %q}
clickhouse: {cluster: vantage, shards: [%s], flush_interval: 200ms}
lg: {listen: "127.0.0.1:%d"}
`, bgpPort, port(), filepath.Join(dir, "nats"), filepath.Join(dir, "spool"), strings.Join(shards, ", "), port())
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	collector := startProc(t, dir, filepath.Join(bin, "collector"), "run", "-config", cfg)
	collector.waitFor(t, "collector: BGP on")
	if !strings.Contains(collector.out.String(), "on cluster vantage (2 shards)") {
		t.Errorf("the collector does not say it stores on the cluster:\n%s", collector.out)
	}
	lg := startProc(t, dir, filepath.Join(bin, "lg"), "-config", cfg)
	url := lg.waitFor(t, `lg: looking glass on (http://\S+/)`)

	testpeer.StartBIRD(t, strings.NewReplacer("BIRDPORT", fmt.Sprint(port()), "COLLECTORPORT", fmt.Sprint(bgpPort)).Replace(clusterBIRD))
	for _, p := range []string{"198.51.100.0/24", "203.0.113.0/25", "2001:db8:100::/48"} {
		deadline := time.Now().Add(60 * time.Second)
		for {
			peers, err := routePeers(url + "api/v1/routes?prefix=" + p)
			if err == nil && len(peers) == 1 && peers[0] == "127.0.0.11" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lg's routes for %s: %v, %v; want the route from 127.0.0.11\ncollector:\n%s\nlg:\n%s", p, peers, err, collector.out, lg.out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// The rows are in the shards' local tables (lg may have answered from
	// its memory RIB, fed by the log, before the store's flush).
	count := func() uint64 {
		var total uint64
		for _, s := range servers {
			conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{s.Addr()}, Auth: clickhouse.Auth{Username: storage.ServerUser, Password: s.Password(), Database: "vantage"}})
			if err != nil {
				t.Fatal(err)
			}
			var n uint64
			err = conn.QueryRow(t.Context(), "SELECT count() FROM route_events"+storage.LocalSuffix).Scan(&n)
			conn.Close()
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
		return total
	}
	deadline := time.Now().Add(30 * time.Second)
	for total := count(); total != 3; total = count() {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows in the shards' route_events_local, want 3", total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range []*proc{collector, lg} {
		p.stop(t)
	}
}

// TestDeployClusterExample: the cluster of deploy/collector-cluster.yaml
// is the one deploy/clickhouse-cluster/remote_servers.xml defines (name,
// a DSN per shard, at the shard's host and port, as its user), and the
// user's password in the DSNs is the one users.xml has the hash of.
func TestDeployClusterExample(t *testing.T) {
	cfg, err := loadConfig("../../deploy/collector-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ch := cfg.ClickHouse
	var remote struct {
		Servers struct {
			Clusters []struct {
				XMLName xml.Name
				Shards  []struct {
					Replicas []struct {
						Host     string `xml:"host"`
						Port     int    `xml:"port"`
						User     string `xml:"user"`
						Password string `xml:"password"`
					} `xml:"replica"`
				} `xml:"shard"`
			} `xml:",any"`
		} `xml:"remote_servers"`
	}
	readXML(t, "../../deploy/clickhouse-cluster/remote_servers.xml", &remote)
	clusters := remote.Servers.Clusters
	if len(clusters) != 1 || clusters[0].XMLName.Local != ch.Cluster {
		t.Fatalf("remote_servers.xml does not define the cluster %q alone: %+v", ch.Cluster, clusters)
	}
	shards := clusters[0].Shards
	if len(shards) != len(ch.Shards) {
		t.Fatalf("remote_servers.xml has %d shards, clickhouse.shards %d", len(shards), len(ch.Shards))
	}
	var users struct {
		Users struct {
			List []struct {
				XMLName xml.Name
				SHA256  string `xml:"password_sha256_hex"`
			} `xml:",any"`
		} `xml:"users"`
	}
	readXML(t, "../../deploy/clickhouse-cluster/users.xml", &users)
	for i, sh := range shards {
		if len(sh.Replicas) != 1 {
			t.Fatalf("shard %d has %d replicas, want 1", i+1, len(sh.Replicas))
		}
		r := sh.Replicas[0]
		u, err := neturl.Parse(ch.Shards[i])
		if err != nil {
			t.Fatal(err)
		}
		pw, _ := u.User.Password()
		if u.Host != fmt.Sprintf("%s:%d", r.Host, r.Port) || u.User.Username() != r.User || pw != r.Password {
			t.Errorf("clickhouse.shards[%d] %s is not the replica %+v of remote_servers.xml", i, ch.Shards[i], r)
		}
		found := false
		for _, us := range users.Users.List {
			sum := sha256.Sum256([]byte(r.Password))
			found = found || us.XMLName.Local == r.User && us.SHA256 == hex.EncodeToString(sum[:])
		}
		if !found {
			t.Errorf("users.xml has no user %s with the password of remote_servers.xml", r.User)
		}
	}
}

func readXML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// routePeers returns the peer of every route /api/v1/routes answers.
func routePeers(url string) ([]string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		Routes []struct {
			Peer string `json:"peer"`
		} `json:"routes"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	var peers []string
	for _, r := range out.Routes {
		peers = append(peers, r.Peer)
	}
	return peers, nil
}
