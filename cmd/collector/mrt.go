package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/collector/bgpdump"
)

func init() {
	register("mrt", "read MRT files: dump (bgpdump -m lines or JSON events), import (backfill ClickHouse)", runMRT)
}

func mrtUsage() {
	fmt.Fprintln(os.Stderr, `usage:
  collector mrt dump [-m | -json] [-strict] FILE...
  collector mrt import -config FILE FILE...`)
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
	return errors.New("mrt import: not yet wired")
}
