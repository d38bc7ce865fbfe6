package main

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

// TestRunMemoryRIB: lg loads the current routes from ClickHouse (a route
// the log no longer holds), applies the log's events after what the store
// has (a route only the log has: the store consumer has not stored it),
// and then answers queries about now from memory, following the log:
// a withdrawal, then the session going down.
func TestRunMemoryRIB(t *testing.T) {
	pub, natsURL := startEventLog(t)
	peer := netip.MustParseAddr("192.0.2.1")
	base := float64(time.Now().Add(-time.Minute).UnixMicro()) / 1e6
	seq := uint64(0)
	update := func(announce, withdraw string) schema.Event {
		seq++
		e := schema.Event{Timestamp: base + float64(seq), Peer: peer, PeerASN: 64500, Host: "rrc-lg", Type: schema.TypeUpdate,
			Seq: seq, ID: fmt.Sprintf("rrc-lg-1-192.0.2.1-%d", seq), Path: schema.ASPath{{Type: schema.SegmentSequence, ASNs: []uint32{64500, 64496}}}}
		if announce != "" {
			e.Announcements = []schema.Announcement{{NextHop: peer, NLRISet: schema.NLRISet{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{netip.MustParsePrefix(announce)}}}}
		}
		if withdraw != "" {
			e.Withdrawals = []netip.Prefix{netip.MustParsePrefix(withdraw)}
		}
		return e
	}

	dsn, database := storagetest.DSN(t), storagetest.Database(t)
	db, err := storage.Open(t.Context(), storage.Config{DSN: dsn, Database: database}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Insert(t.Context(), []schema.Event{update("198.51.100.0/24", "")}); err != nil { // stored, not in the log
		t.Fatal(err)
	}
	if err := pub.Write(t.Context(), []schema.Event{update("198.51.100.128/25", "")}); err != nil { // in the log only
		t.Fatal(err)
	}

	cfg := writeConfig(t, fmt.Sprintf("clickhouse: {dsn: %q, database: %s}\nlg: {listen: '127.0.0.1:0'}\nnats: {url: %q}\n", dsn, database, natsURL))
	url, out, stop := startLG(t, cfg)
	waitFor := func(what, path, want string) string {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, body := httpGet(t, url+path)
			if strings.Contains(body, want) {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s does not hold %q:\n%s\n%s", what, path, want, body, out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("memory RIB loaded", "metrics", "vantage_lg_memory_rib_ready 1\n")
	waitFor("memory RIB", "metrics", "vantage_lg_memory_rib_routes 2\n")
	// The /25 is in no ClickHouse table: only the memory RIB has it.
	body := waitFor("longest match", "api/v1/routes?prefix=198.51.100.200", `"prefix":"198.51.100.128/25"`)
	if !strings.Contains(body, `"id":"rrc-lg-1-192.0.2.1-2"`) || !strings.Contains(body, `"path":[64500,64496]`) {
		t.Errorf("longest match of 198.51.100.200: %s", body)
	}
	waitFor("loaded from ClickHouse", "api/v1/routes?prefix=198.51.100.0/24", `"id":"rrc-lg-1-192.0.2.1-1"`)
	if rows, err := db.Routes(t.Context(), storage.RoutesQuery{Prefix: netip.MustParsePrefix("198.51.100.128/25")}); err != nil || len(rows) != 0 {
		t.Fatalf("ClickHouse has the /25: %v %v", rows, err)
	}

	if err := pub.Write(t.Context(), []schema.Event{update("", "198.51.100.128/25")}); err != nil {
		t.Fatal(err)
	}
	waitFor("after the withdrawal", "api/v1/routes?prefix=198.51.100.200", `"prefix":"198.51.100.0/24"`)
	seq++
	down := schema.Event{Timestamp: base + float64(seq), Peer: peer, PeerASN: 64500, Host: "rrc-lg", Type: schema.TypePeerState,
		State: schema.StateDown, Seq: seq, ID: fmt.Sprintf("rrc-lg-1-192.0.2.1-%d", seq)}
	if err := pub.Write(t.Context(), []schema.Event{down}); err != nil {
		t.Fatal(err)
	}
	waitFor("after the session went down", "api/v1/routes?prefix=198.51.100.200", `"routes":[]`)

	if err := stop(); err != nil {
		t.Errorf("run: %v\n%s", err, out)
	}
}
