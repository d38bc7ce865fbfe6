package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/schema"
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
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := clickhouse.Open(opts)
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
		if err := runMRTImport(append([]string{"-config", cfgFile, "-host", "rrc-test"}, files...)); err != nil {
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

// mrt import -publish puts the events into the log, each marked imported,
// where a collector's writer (or a live consumer) takes them; importing
// the file again is stored once (the ids are deterministic).
func TestMRTImportPublishes(t *testing.T) {
	updates := shareddata.Path(t, "mrt", "bgpdump", "test_data", "updates.20020722.2238.gz")
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	cfgFile := filepath.Join(t.TempDir(), "vantage.yaml")
	cfg := fmt.Sprintf("nats: {url: %q}\nlog: {level: warn}\n", ns.ClientURL())
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := runMRTImport([]string{"-config", cfgFile, "-host", "rrc-archive", "-publish", updates}); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := bus.Dial(t.Context(), bus.Options{URL: ns.ClientURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	info, err := conn.Stream.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := info.State.Msgs
	if n == 0 {
		t.Fatal("nothing published")
	}
	// Every event, once, marked imported, under the archive's name.
	cons, err := conn.Stream.OrderedConsumer(t.Context(), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	it, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	ids := map[string]bool{}
	for i := uint64(0); i < n; i++ {
		m, err := it.Next(jetstream.NextMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var ev schema.Event
		if err := ev.DecodeJSON(m.Data()); err != nil {
			t.Fatal(err)
		}
		if !ev.Imported || ev.Host != "rrc-archive" || ids[ev.ID] {
			t.Fatalf("event %d: imported %v, host %q, id %q seen before: %v", i, ev.Imported, ev.Host, ev.ID, ids[ev.ID])
		}
		ids[ev.ID] = true
	}
	// As many as the file holds events.
	var counted countSink
	if _, err := (&collector.MRTImporter{Sink: &counted, Host: "x"}).ImportFile(t.Context(), updates, nil); err != nil {
		t.Fatal(err)
	}
	if n != uint64(counted) {
		t.Errorf("%d events in the log after importing twice, the file holds %d", n, counted)
	}
}

type countSink int

func (c *countSink) Write(_ context.Context, events []schema.Event) error {
	*c += countSink(len(events))
	return nil
}

// An archive whose path does not say which collector recorded it is not
// imported under the live collector's name: the import is refused before
// anything is written, naming the file and what to do.
func TestMRTImportNeedsArchiveName(t *testing.T) {
	updates := shareddata.Path(t, "mrt", "bgpdump", "test_data", "updates.20020722.2238.gz")
	err := runMRTImport([]string{updates})
	if err == nil || !strings.Contains(err.Error(), updates) || !strings.Contains(err.Error(), "-host") {
		t.Errorf("import without a collector name: %v; want an error naming the file and -host", err)
	}
}
