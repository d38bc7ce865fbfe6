package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/storage/storagetest"
)

func TestMain(m *testing.M) { os.Exit(storagetest.Run(m)) }

// Importing a file again, before or after other files, stores nothing
// new: the rows are identical and the ReplacingMergeTree tables collapse
// them.
func TestMRTImportIsIdempotent(t *testing.T) {
	dsn := storagetest.DSN(t)
	database := storagetest.Database(t)
	updates := shareddata.Path(t, "mrt", "bgpdump", "test_data", "updates.20020722.2238.gz")
	rib := shareddata.Path(t, "mrt", "mrtparse", "samples", "quagga_rib")

	cfgFile := filepath.Join(t.TempDir(), "vantage.yaml")
	cfg := fmt.Sprintf("clickhouse: {dsn: %q, database: %s, flush_interval: 100ms}\nlog: {level: warn}\n", dsn, database)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ch, err := clickhouse.Open(&clickhouse.Options{Addr: []string{storagetest.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	count := func(table string) uint64 {
		t.Helper()
		ctx := context.Background()
		if err := ch.Exec(ctx, "OPTIMIZE TABLE "+database+"."+table+" FINAL"); err != nil {
			t.Fatal(err)
		}
		var n uint64
		if err := ch.QueryRow(ctx, "SELECT count() FROM "+database+"."+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	importFiles := func(files ...string) {
		t.Helper()
		if err := runMRTImport(append([]string{"-config", cfgFile}, files...)); err != nil {
			t.Fatal(err)
		}
	}

	importFiles(updates)
	routes, peers := count("route_events"), count("peer_events")
	if routes == 0 || peers == 0 {
		t.Fatalf("first import stored %d route and %d peer rows", routes, peers)
	}
	importFiles(updates)
	if r, p := count("route_events"), count("peer_events"); r != routes || p != peers {
		t.Errorf("after a second import: %d route rows (want %d), %d peer rows (want %d)", r, routes, p, peers)
	}
	importFiles(rib)
	routes = count("route_events")
	// Again, in another order, the updates twice in one run: the same
	// peers' events are written again after later ones.
	importFiles(updates, rib, updates)
	if r := count("route_events"); r != routes {
		t.Errorf("after importing again in another order: %d route rows, want %d", r, routes)
	}
}
