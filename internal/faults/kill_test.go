// Package faults runs the built collector and lg against real parts on
// loopback (BIRD, clickhouse-server, NATS) and breaks them: the collector
// killed with -9 in the middle of a burst, ClickHouse frozen and killed,
// an external NATS stopped. Each test checks that nothing is lost, nothing
// is counted twice, and that sessions and routes are shown as they are.
package faults

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/storage"
)

var peerAddr = netip.MustParseAddr("127.0.0.11")

// TestKillCollectorMidBurst kills the collector with -9 (lg running beside
// it) while BIRD sends 20,000 routes, one UPDATE each; while it is dead,
// BIRD drops 1,000 of them. After the restart and BIRD's reconnect:
// ClickHouse holds an announcement of every route BIRD was told to send,
// no stored event counts twice, lg shows the session down (collector
// restart) and then up again, and none of the dropped routes is current.
func TestKillCollectorMidBurst(t *testing.T) {
	t.Parallel()
	testpeer.Need(t, "bird", "bird2")
	const total, dropN = 20_000, 1_000
	base := netip.MustParseAddr("10.0.0.0")
	s := newStack(t, stackOptions{name: "faults-kill"})
	col := s.startCollector()
	_, lgURL := s.startLG()
	ch := s.ch()
	ctx := context.Background()

	birdPort := port(t)
	bird := testpeer.StartBIRD(t, birdConf(birdPort, s.bgpPort, staticProtocol("burst4", base, 1, total, false, nil)))

	// Kill once part of the burst is in the log (enough to withdraw 1,000
	// of its routes later), before all of it is.
	var atKill map[string]float64
	deadline := time.Now().Add(60 * time.Second)
	for {
		m, err := s.scrape()
		if err == nil && m["vantage_publish_acked_total"] >= 1500 {
			if err := col.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			atKill = m
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want the burst to reach the log (vantage_publish_acked_total >= 1500) within 60s; last /metrics: %v, err %v", m, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	<-col.Done()
	killedAt := time.Now()
	t.Logf("killed the collector after %v events (%v acknowledged by JetStream, %v stored)",
		atKill["vantage_events_total"], atKill["vantage_publish_acked_total"], atKill["vantage_store_events_total"])
	if atKill["vantage_publish_acked_total"] >= total {
		t.Fatalf("want the kill in the middle of the burst (fewer than %d events in the log), it came after %v", total, atKill["vantage_publish_acked_total"])
	}

	// While the collector is dead, BIRD drops 1,000 routes that reached
	// the log before the kill (read from the log's files with a NATS server
	// of the test's own), and stays away until the restarted collector has
	// recorded the session as down.
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: filepath.Join(s.dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	logged := readLog(t, ns.ClientURL(), s.name)
	ns.Shutdown()
	ns.WaitForShutdown()
	dropped := map[netip.Prefix]bool{}
	var droppedList []netip.Prefix
	for _, e := range logged {
		for _, a := range e.ev.Announcements {
			for _, p := range a.Prefixes {
				if len(droppedList) < dropN && !dropped[p] {
					dropped[p] = true
					droppedList = append(droppedList, p)
				}
			}
		}
	}
	t.Logf("the log held %d events of the first session; BIRD drops %d routes announced in them", len(logged), len(droppedList))
	if len(droppedList) < dropN {
		t.Fatalf("want at least %d routes announced in the log before the kill (to withdraw while the collector is dead), saw %d in %d events",
			dropN, len(droppedList), len(logged))
	}
	conf := birdConf(birdPort, s.bgpPort, staticProtocol("burst4", base, 1, total, false, dropped))
	if err := os.WriteFile(filepath.Join(bird.Dir, "bird.conf"), []byte(strings.ReplaceAll(conf, "DIR", bird.Dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := bird.Ctl("configure"); err != nil || !strings.Contains(out, "Reconfigured") {
		t.Fatalf("birdc configure: want Reconfigured, saw %q (%v)", out, err)
	}
	if _, err := bird.Ctl("disable", "collector"); err != nil {
		t.Fatal(err)
	}

	s.startCollector()
	type apiPeer struct {
		Host  string     `json:"host"`
		Peer  netip.Addr `json:"peer"`
		State string     `json:"state"`
		Since float64    `json:"since"`
		IPv4  uint64     `json:"prefixes_ipv4"`
	}
	lgPeer := func() (apiPeer, error) {
		var out struct{ Peers []apiPeer }
		if err := getJSON(lgURL+"/api/v1/peers", &out); err != nil {
			return apiPeer{}, err
		}
		for _, p := range out.Peers {
			if p.Host == s.name && p.Peer == peerAddr {
				return p, nil
			}
		}
		return apiPeer{}, fmt.Errorf("peer %s of %s not in /api/v1/peers: %+v", peerAddr, s.name, out.Peers)
	}
	eventually(t, 60*time.Second, "lg shows the session of the killed collector down", func() error {
		p, err := lgPeer()
		if err != nil {
			return err
		}
		if p.State != "down" || p.Since < float64(killedAt.Unix()) {
			return fmt.Errorf("want state down since the restart (after %v), saw %+v", killedAt.Format(time.TimeOnly), p)
		}
		return nil
	})
	states, err := peerStates(ctx, ch, s.name, peerAddr)
	if err != nil {
		t.Fatal(err)
	}
	// (Only the down yet: the first session's events that the killed
	// writer had fetched are delivered again after the consumer's AckWait.)
	if n := len(states); n == 0 || states[n-1] != [2]string{"down", "collector restart"} {
		t.Errorf("peer_events of %s: want the last state down (collector restart) while lg shows it down, saw %v", peerAddr, states)
	}

	if _, err := bird.Ctl("enable", "collector"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, "lg shows the session up again with every route BIRD still has", func() error {
		p, err := lgPeer()
		if err != nil {
			return err
		}
		if p.State != "connected" || p.IPv4 != total-dropN {
			return fmt.Errorf("want connected with %d IPv4 routes, saw %+v", total-dropN, p)
		}
		return nil
	})
	s.waitStored(60 * time.Second)

	// Every route BIRD was told to send has a stored announcement, and no
	// stored announcement counts twice: per prefix, the rows a query sees
	// are distinct events, at most one per session.
	stored, err := announcedPerPrefix(ctx, ch, s.name)
	if err != nil {
		t.Fatal(err)
	}
	var missing, twice []string
	for i := range total {
		p := prefixOf(base, i)
		a := stored[p]
		switch {
		case a.rows == 0:
			missing = append(missing, p.String())
		case a.rows != a.ids || a.ids > 2:
			twice = append(twice, fmt.Sprintf("%s: %d rows of %d events", p, a.rows, a.ids))
		}
	}
	if len(missing) > 0 {
		t.Errorf("want an announcement of each of the %d routes stored, %d have none: %v", total, len(missing), head(missing))
	}
	if len(twice) > 0 {
		t.Errorf("want each stored announcement counted once, at most one per session (2), saw %d prefixes otherwise: %v", len(twice), head(twice))
	}
	if len(stored) != total {
		t.Errorf("want announcements for exactly the %d generated prefixes, saw %d prefixes", total, len(stored))
	}

	// Current routes, as lg computes them: the kept ones once each, none
	// of those BIRD dropped while the collector was dead.
	db := s.store(ctx)
	routes, err := db.Routes(ctx, storage.RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Match: storage.MatchMore, Peer: peerAddr, Host: s.name})
	if err != nil {
		t.Fatal(err)
	}
	count := map[netip.Prefix]int{}
	for _, r := range routes {
		count[r.Prefix]++
	}
	var stale, dups []string
	for p, n := range count {
		if dropped[p] {
			stale = append(stale, p.String())
		}
		if n > 1 {
			dups = append(dups, fmt.Sprintf("%s ×%d", p, n))
		}
	}
	if len(stale) > 0 {
		t.Errorf("want none of the %d routes withdrawn while the collector was dead current, saw %d: %v", dropN, len(stale), head(stale))
	}
	if len(dups) > 0 {
		t.Errorf("want each current route once, saw %d twice or more: %v", len(dups), head(dups))
	}
	if len(count) != total-dropN {
		t.Errorf("want %d current routes of %s, saw %d", total-dropN, peerAddr, len(count))
	}
	// And through lg's API, for a few of each.
	for i, p := range droppedList {
		if i%200 != 0 {
			continue
		}
		var out struct{ Routes []map[string]any }
		if err := getJSON(lgURL+"/api/v1/routes?prefix="+p.String(), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Routes) != 0 {
			t.Errorf("lg /api/v1/routes?prefix=%s: want no route (withdrawn while the collector was dead), saw %v", p, out.Routes)
		}
	}
	for i := 0; i < total; i += 3001 {
		p := prefixOf(base, i)
		if dropped[p] {
			continue
		}
		var out struct{ Routes []map[string]any }
		if err := getJSON(lgURL+"/api/v1/routes?prefix="+p.String(), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Routes) != 1 {
			t.Errorf("lg /api/v1/routes?prefix=%s: want 1 route, saw %d: %v", p, len(out.Routes), out.Routes)
		}
	}
	states, err = peerStates(ctx, ch, s.name, peerAddr)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(states); n < 3 || states[n-1][0] != "connected" || states[n-2] != [2]string{"down", "collector restart"} {
		t.Errorf("peer_events of %s: want connected, down (collector restart), connected; saw %v", peerAddr, states)
	}
}

// announced is what the store holds of a prefix's announcements.
type announced struct{ rows, ids uint64 }

// announcedPerPrefix counts, per prefix, the announcement rows of peerAddr
// a query sees (FINAL) and the distinct events among them.
func announcedPerPrefix(ctx context.Context, c driver.Conn, host string) (map[netip.Prefix]announced, error) {
	rows, err := c.Query(ctx, `SELECT IPv6NumToString(prefix), prefix_len, count(), uniqExact(id)
FROM vantage.route_events FINAL
WHERE host = ? AND peer = IPv6StringToNum(?) AND kind = 'announce'
GROUP BY prefix, prefix_len`, host, netip.AddrFrom16(peerAddr.As16()).String())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[netip.Prefix]announced{}
	for rows.Next() {
		var addr string
		var bits uint8
		var a announced
		if err := rows.Scan(&addr, &bits, &a.rows, &a.ids); err != nil {
			return nil, err
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			return nil, err
		}
		out[netip.PrefixFrom(ip.Unmap(), int(bits))] = a
	}
	return out, rows.Err()
}
