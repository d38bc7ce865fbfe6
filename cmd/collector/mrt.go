package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/collector/bgpdump"
	"github.com/vantage-bgp/vantage/storage"
)

func init() {
	register("mrt", "read MRT files: dump (bgpdump -m lines or JSON events), import (backfill ClickHouse); write them: export (RIB at a time, updates of a window)", runMRT)
}

func mrtUsage() {
	fmt.Fprintln(os.Stderr, `usage:
  collector mrt dump [-m | -json] [-strict] FILE...
  collector mrt import -config FILE [-host NAME] [-publish] FILE...
  collector mrt export -config FILE (-rib -at TIME | -updates -from TIME -to TIME [-seconds]) [-peer IP]... [-collector NAME] [-o FILE] [-cpuprofile FILE]`)
}

func runMRT(args []string) error {
	if len(args) == 0 {
		mrtUsage()
		return flag.ErrHelp
	}
	switch args[0] {
	case "dump":
		return runMRTDump(args[1:])
	case "import":
		return runMRTImport(args[1:])
	case "export":
		return runMRTExport(args[1:])
	}
	mrtUsage()
	return fmt.Errorf("unknown mrt command %q", args[0])
}

func runMRTDump(args []string) error {
	fs := flag.NewFlagSet("mrt dump", flag.ContinueOnError)
	lines := fs.Bool("m", false, "one line per route, as bgpdump -m (the default)")
	jsonOut := fs.Bool("json", false, "JSON lines of normalized events")
	strict := fs.Bool("strict", false, "with -m, print only what bgpdump 1.6 prints (skip RIB_GENERIC, BGP4MP_ENTRY, VPN routes)")
	workers := fs.Int("workers", 0, "goroutines decoding bzip2 blocks (0: all CPUs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lines && *jsonOut {
		return errors.New("-m and -json exclude each other")
	}
	if fs.NArg() == 0 {
		return errors.New("no MRT file given")
	}
	var handle func(bgpwire.MRTRecord) error
	var flush func() error
	if *jsonOut {
		j := collector.NewMRTEvents(os.Stdout)
		handle, flush = j.Record, j.Flush
	} else {
		p := bgpdump.NewPrinter(os.Stdout, bgpdump.Options{Strict: *strict})
		handle, flush = p.Record, p.Flush
	}
	failed := 0
	for _, path := range fs.Args() {
		skipped := map[string]int{}
		warn := func(err error) { fmt.Fprintf(os.Stderr, "collector mrt dump: %s: warning: %v\n", path, err) }
		err := collector.ScanMRTFile(path, *workers, nil, warn, func(rec bgpwire.MRTRecord) error {
			if err := handle(rec); err != nil {
				if errors.Is(err, bgpdump.ErrSkipped) || errors.Is(err, bgpwire.ErrMRTUnsupported) {
					skipped[err.Error()]++
					return nil
				}
				fmt.Fprintf(os.Stderr, "collector mrt dump: %s: record %d at byte %d: %v\n", path, rec.Index, rec.Offset, err)
			}
			return nil
		})
		for what, n := range skipped {
			fmt.Fprintf(os.Stderr, "collector mrt dump: %s: %d records not printed: %s\n", path, n, what)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "collector mrt dump: %v\n", err)
			failed++
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if failed == len(fs.Args()) {
		return errors.New("nothing could be read")
	}
	return nil
}

func runMRTImport(args []string) error {
	fs := flag.NewFlagSet("mrt import", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "YAML config `file` (ClickHouse and the collector name; default: built-in defaults)")
	host := fs.String("host", "", "name of the collector the archive comes from (default: derived from each file's path, rrcNN or route-views…; required when the path does not say)")
	workers := fs.Int("workers", 0, "goroutines decoding bzip2 blocks (0: all CPUs)")
	publish := fs.Bool("publish", false, "publish the events to the event log (nats.url, or a collector's embedded NATS at nats.listen), marked imported, instead of writing them straight to ClickHouse")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("no MRT file given")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	// Archive peers are named after the collector that recorded them,
	// never after this one by accident: each file's collector comes from
	// -host or from its path, and an import without either is refused
	// before anything is written.
	hosts := map[string]string{}
	for _, path := range fs.Args() {
		h := *host
		if h == "" {
			var ok bool
			if h, ok = collector.ArchiveCollector(path); !ok {
				return fmt.Errorf("%s: cannot tell which collector this archive comes from (no rrcNN or route-views… in its path); give -host NAME", path)
			}
		}
		hosts[path] = h
	}
	log := cfg.Log.NewLogger(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var w importSink
	// snapshot applies a RIB dump as its peers' state at dump time (the
	// routes it lacks are withdrawn then); nil when publishing.
	var snapshot func(host string, rib *collector.RIBDump) error
	var recount func() error // after the import, without -publish
	if *publish {
		url := cfg.NATS.URL
		if url == "" {
			url = "nats://" + cfg.NATS.Listen
		}
		conn, err := bus.Dial(ctx, natsOptions(cfg, url, "vantage mrt import"), log.With("component", "nats"))
		if err != nil {
			return err
		}
		defer conn.Close()
		pub, err := bus.NewPublisher(conn, bus.PublisherConfig{QueueBytes: cfg.NATS.QueueBytes}, log.With("component", "nats"))
		if err != nil {
			return err
		}
		w = publisherSink{pub}
	} else {
		db, err := storage.Open(ctx, storageConfig(cfg), log.With("component", "clickhouse"))
		if err != nil {
			return err
		}
		defer db.Close()
		writer := db.NewWriter(storage.WriterConfig{BatchSize: cfg.ClickHouse.BatchSize, FlushInterval: cfg.ClickHouse.FlushInterval, KeepTimestamps: true}, log.With("component", "clickhouse"))
		w = writer
		snapshot = func(host string, rib *collector.RIBDump) error {
			if err := writer.Flush(ctx); err != nil {
				return err
			}
			return db.WithdrawAbsent(ctx, host, rib.Peers, rib.From, rib.To)
		}
		// Imported events carry no route counts: count the archive
		// peers' routes once, after the import.
		recount = func() error {
			done := map[string]bool{}
			for _, host := range hosts {
				if !done[host] {
					done[host] = true
					if err := db.RecountPeers(ctx, host); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	im := &collector.MRTImporter{Sink: w, Workers: *workers}
	tty := isTerminal(os.Stderr)
	failed := 0
	for _, path := range fs.Args() {
		im.Host = hosts[path]
		prog := &collector.MRTProgress{}
		im.Warn = func(err error) {
			if tty {
				fmt.Fprint(os.Stderr, "\r\033[K")
			}
			fmt.Fprintf(os.Stderr, "collector mrt import: %s: warning: %v\n", path, err)
		}
		done := make(chan struct{})
		start := time.Now()
		if tty {
			go progressLine(path, prog, start, done)
		}
		n, err := im.ImportFile(ctx, path, prog)
		close(done)
		if tty {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		el := time.Since(start)
		fmt.Fprintf(os.Stderr, "collector mrt import: %s (collector %s): %d records, %d events, %d warnings in %s (%.0f records/s)\n",
			path, im.Host, prog.Records.Load(), n, prog.Warnings.Load(), el.Round(time.Millisecond), float64(prog.Records.Load())/el.Seconds())
		if err != nil {
			if ctx.Err() != nil {
				w.Close()
				return ctx.Err()
			}
			fmt.Fprintf(os.Stderr, "collector mrt import: %v\n", err)
			failed++
			continue
		}
		if rib := im.RIB; rib != nil {
			if snapshot == nil {
				fmt.Fprintf(os.Stderr, "collector mrt import: %s: a RIB dump of %d peers; with -publish the routes it lacks are not withdrawn (import without -publish to apply it as a snapshot)\n", path, len(rib.Peers))
			} else if err := snapshot(im.Host, rib); err != nil {
				w.Close()
				return err
			} else {
				fmt.Fprintf(os.Stderr, "collector mrt import: %s: applied as the state of its %d peers at %s (their routes it lacks are withdrawn then)\n", path, len(rib.Peers), rib.To.Format(time.RFC3339))
			}
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("storing the last events: %w", err)
	}
	if recount != nil {
		if err := recount(); err != nil {
			return err
		}
	}
	if failed == fs.NArg() {
		return errors.New("nothing could be imported")
	}
	return nil
}

// progressLine redraws one status line on the terminal until done.
func progressLine(path string, p *collector.MRTProgress, start time.Time, done <-chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		el := time.Since(start).Seconds()
		read, recs := p.Read.Load(), p.Records.Load()
		eta := "?"
		if read > 0 && p.Size > 0 {
			eta = time.Duration(el * float64(p.Size-read) / float64(read) * float64(time.Second)).Round(time.Second).String()
		}
		fmt.Fprintf(os.Stderr, "\r\033[K%s: %d records (%.0f/s), %s of %s, ETA %s",
			filepath.Base(path), recs, float64(recs)/el, humanBytes(read), humanBytes(p.Size), eta)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// importSink is where `mrt import` puts events: the ClickHouse writer, or
// the event log.
type importSink interface {
	collector.EventSink
	Close() error
}

// publisherSink closes a publisher once everything is in the log.
type publisherSink struct{ *bus.Publisher }

func (p publisherSink) Close() error {
	// Wait as long as it takes: an import is not interrupted by a slow log.
	return p.Publisher.Close(context.Background())
}
