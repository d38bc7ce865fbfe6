package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// peerList is a repeatable -peer flag.
type peerList []netip.Addr

func (p *peerList) String() string { return fmt.Sprint(*p) }

func (p *peerList) Set(s string) error {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return fmt.Errorf("peer %q: not an IP address", s)
	}
	*p = append(*p, a.Unmap())
	return nil
}

// timeFlag is a flag of RFC 3339 or Unix seconds.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339Nano)
}

func (f *timeFlag) Set(s string) error {
	t, err := web.ParseTime(s)
	f.t = t
	return err
}

// exportLag is how long after an event's time it may still be on its way
// to the store: the writer's flush interval and some margin for the log.
func exportLag(flush time.Duration) time.Duration { return flush + 5*time.Second }

func runMRTExport(args []string) error {
	fs := flag.NewFlagSet("mrt export", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "YAML config `file` (ClickHouse; default: built-in defaults)")
	rib := fs.Bool("rib", false, "write the RIB at -at as TABLE_DUMP_V2")
	updates := fs.Bool("updates", false, "write the messages and session changes from -from to -to as BGP4MP_ET")
	var at, from, to timeFlag
	fs.Var(&at, "at", "with -rib, the `time` (RFC 3339 or Unix seconds) of the state")
	fs.Var(&from, "from", "with -updates, the window's start `time` (included)")
	fs.Var(&to, "to", "with -updates, the window's end `time` (excluded)")
	var peers peerList
	fs.Var(&peers, "peer", "keep this peer `address` only (repeatable)")
	host := fs.String("collector", "", "keep this collector's peers only (the host `name` events are stored under)")
	out := fs.String("o", "", "output `file`: gzip when it ends in .gz, bzip2 (the bzip2 program) in .bz2; default: uncompressed to standard output")
	seconds := fs.Bool("seconds", false, "with -updates, write BGP4MP records with second timestamps (as RIS and RouteViews files) instead of BGP4MP_ET")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole export to `file` (for go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *rib == *updates {
		return errors.New("give one of -rib -at TIME or -updates -from TIME -to TIME")
	}
	if *rib && at.t.IsZero() {
		return errors.New("-rib needs -at TIME")
	}
	var uq storage.UpdatesQuery
	if *updates {
		uq = storage.UpdatesQuery{From: from.t, To: to.t, Peers: peers, Host: *host}
		if err := uq.Validate(); err != nil {
			return fmt.Errorf("-from and -to: %w", err)
		}
	}
	format := ""
	switch {
	case strings.HasSuffix(*out, ".gz"):
		format = "gz"
	case strings.HasSuffix(*out, ".bz2"):
		format = "bz2"
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	// As `collector run`: the garbage collector runs less often, within
	// a soft memory limit.
	setGC()
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	log := cfg.Log.NewLogger(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	db, err := storage.Open(ctx, storageConfig(cfg), log.With("component", "clickhouse"))
	if err != nil {
		return err
	}
	defer db.Close()

	// A file is written under a temporary name and renamed when complete.
	var dst io.Writer = os.Stdout
	var tmp *os.File
	if *out != "" {
		tmp, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		dst = tmp
	}
	cw, err := web.Compress(dst, format)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(cw, 1<<16)
	start := time.Now()
	var stats web.ExportStats
	if *rib {
		stats, err = web.ExportRIB(ctx, db, storage.RIBQuery{At: at.t, Peers: peers, Host: *host}, bw)
	} else {
		if uq.StillWritten(time.Now(), exportLag(cfg.ClickHouse.FlushInterval)) {
			fmt.Fprintf(os.Stderr, "collector mrt export: warning: the window ends at %s, less than %s ago: events of it may still be on their way to the store, and a later export may have more\n",
				uq.To.UTC().Format(time.RFC3339), exportLag(cfg.ClickHouse.FlushInterval))
		}
		stats, err = web.ExportUpdates(ctx, db, uq, bw, web.UpdatesOptions{Seconds: *seconds})
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := cw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), *out); err != nil {
			return err
		}
	}
	el := time.Since(start)
	if stats.Unstored > 0 {
		fmt.Fprintf(os.Stderr, "collector mrt export: warning: %d routes of families without IP prefixes (FlowSpec, EVPN, ...) left out: the UPDATEs that announced them, which alone hold their NLRI bytes, are not stored (collector.store_raw off, or routes of an imported RIB dump)\n", stats.Unstored)
	}
	fmt.Fprintf(os.Stderr, "collector mrt export: %d records (%d messages, %d state changes, %d RIB entries) in %s (%.0f records/s)\n",
		stats.Records, stats.Messages, stats.States, stats.Routes, el.Round(time.Millisecond), float64(stats.Records)/el.Seconds())
	return nil
}
