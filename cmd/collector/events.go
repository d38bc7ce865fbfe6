package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/web"
)

func init() {
	register("events", "the event stream as JSON lines on stdout, or on a script's stdin (-exec)", runEvents)
}

// eventsFlags are the options of `collector events`.
type eventsFlags struct {
	filters  []string
	prefixes []netip.Prefix
	more     bool
	less     bool
	start    bus.Start
	durable  string
	exec     string
	count    int64
}

// runEvents is `collector events`: a reader of the log (bus.Follow) whose
// events go as JSON lines to stdout or to a script's stdin, the script
// restarted when it exits. An event is acknowledged (a durable reader's
// position moves past it) once its line has been taken by the reader: for
// a pipe, when the reader has read it from the pipe; for a file or
// terminal, once written.
func runEvents(args []string) error {
	fs := flag.NewFlagSet("collector events", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "YAML config `file` (nats.url, or a collector's embedded NATS at nats.listen; default: built-in defaults)")
	var ef eventsFlags
	fs.Func("filter", "only events on this `subject` (vantage.events.HOST.TYPE.PEER_ASN.PEER, * and > as wildcards; the vantage.events. prefix may be left out); repeatable", func(s string) error {
		if !strings.HasPrefix(s, bus.SubjectPrefix+".") {
			s = bus.SubjectPrefix + "." + s
		}
		ef.filters = append(ef.filters, s)
		return nil
	})
	fs.Func("prefix", "only UPDATEs that announce or withdraw this `prefix` (client side; see -more, -less); repeatable", func(s string) error {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("want a prefix such as 192.0.2.0/24: %w", err)
		}
		ef.prefixes = append(ef.prefixes, p.Masked())
		return nil
	})
	fs.BoolVar(&ef.more, "more", false, "with -prefix: also the more specific prefixes inside it")
	fs.BoolVar(&ef.less, "less", false, "with -prefix: also the less specific prefixes that cover it")
	since := fs.String("since", "", "start at the first event stored at or after `TIME` (RFC 3339 or Unix seconds)")
	seq := fs.Uint64("seq", 0, "start at stream sequence `N` (the exit line of an earlier run says where to go on)")
	newOnly := fs.Bool("new", false, "only events published from now on")
	fs.StringVar(&ef.durable, "durable", "", "keep the position on the server under `NAME`: a run with the same name goes on where the last stopped")
	fs.StringVar(&ef.exec, "exec", "", "feed the lines to the stdin of `CMD` (run by /bin/sh), restarted with backoff when it exits; its stdout and stderr are ours")
	fs.Int64Var(&ef.count, "n", 0, "exit after `N` events have been taken by the reader (0: run until interrupted)")
	cfg, err := parseCommand(fs, cfgPath, args)
	if err != nil {
		return err
	}
	starts := 0
	if *since != "" {
		t, err := web.ParseTime(*since)
		if err != nil {
			return fmt.Errorf("-since %q: %w", *since, err)
		}
		ef.start, starts = bus.Start{Kind: bus.StartTime, Time: t}, starts+1
	}
	if *seq != 0 {
		ef.start, starts = bus.Start{Kind: bus.StartSeq, Seq: *seq}, starts+1
	}
	if *newOnly {
		ef.start, starts = bus.Start{Kind: bus.StartNew}, starts+1
	}
	if starts > 1 {
		return errors.New("give at most one of -since, -seq and -new")
	}
	if (ef.more || ef.less) && len(ef.prefixes) == 0 {
		return errors.New("-more and -less need -prefix")
	}
	if ef.count < 0 {
		return fmt.Errorf("-n %d: want a count of events, 0 for no limit", ef.count)
	}
	log := cfg.Log.NewLogger(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// A second Ctrl-C ends at once what the first could not (a reader
	// that takes nothing keeps the last write waiting).
	context.AfterFunc(ctx, stop)
	url := cfg.NATS.URL
	if url == "" {
		url = "nats://" + cfg.NATS.Listen
	}
	conn, err := bus.Dial(ctx, natsOptions(cfg, url, "vantage events"), log.With("component", "nats"))
	if err != nil {
		return err
	}
	defer conn.Close()
	fol, err := bus.Follow(ctx, conn, bus.FollowConfig{Filters: ef.filters, Durable: ef.durable, Start: ef.start}, log.With("component", "events"))
	if err != nil {
		return err
	}
	what := strings.Join(ef.filters, " ")
	if what == "" {
		what = bus.SubjectPrefix + ".>"
	}
	to := "stdout"
	if ef.exec != "" {
		to = "the stdin of " + strconv.Quote(ef.exec)
	}
	fmt.Fprintf(os.Stderr, "collector events: %s from %s to %s\n", what, url, to)
	n, err := pump(ctx, fol, ef, log)
	if errors.Is(err, errStdoutClosed) {
		err = nil
	}
	last, stopErr := fol.Stop()
	fmt.Fprintf(os.Stderr, "collector events: %d events taken, up to stream sequence %d (go on with -seq %d)\n", n, last, last+1)
	return errors.Join(err, stopErr)
}

// idleWait is the longest Next waits while nothing is buffered, so that
// acknowledgements and a script's exit are seen while the log is quiet;
// flushWait the longest while lines wait in the buffer.
const (
	idleWait  = 100 * time.Millisecond
	flushWait = time.Millisecond
	// drainWait bounds the wait, at the end, for the reader to take what
	// was written to it.
	drainWait = 2 * time.Second
)

// pump moves events from the log to the reader until ctx ends, the
// reader failed for good, or ef.count events were taken. It returns the
// number of events taken.
func pump(ctx context.Context, fol *bus.Follower, ef eventsFlags, log *slog.Logger) (int64, error) {
	var out lineReader
	if ef.exec != "" {
		s, err := startScript(ctx, ef.exec, fol, log)
		if err != nil {
			return 0, err
		}
		out = s
	} else {
		out = newStdoutReader(fol)
	}
	match := prefixMatcher(ef.prefixes, ef.more, ef.less)
	reached := func() bool { return ef.count > 0 && out.taken() >= ef.count }
	var queued int64
	err := func() error {
		for ctx.Err() == nil && !reached() {
			if ef.count > 0 && queued >= ef.count {
				// Everything asked for is written: wait for the reader.
				if err := out.flush(); err != nil {
					return err
				}
				if err := out.drain(ctx, 0); err != nil {
					return err
				}
				continue
			}
			wait := idleWait
			if out.buffered() {
				wait = flushWait
			}
			m, err := fol.Next(wait)
			if err != nil {
				if errors.Is(err, bus.ErrFollowStopped) {
					return nil
				}
				if !errors.Is(err, nats.ErrTimeout) {
					log.Warn("reading the log", "err", err)
				}
				if err := out.flush(); err != nil {
					return err
				}
				if err := out.release(); err != nil {
					return err
				}
				continue
			}
			matched := match == nil || match(m.Data)
			out.add(m, matched)
			if matched {
				queued++
			}
			if out.full() {
				if err := out.flush(); err != nil {
					return err
				}
				if err := out.release(); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	if err == nil {
		err = out.flush()
	}
	if err == nil {
		err = out.drain(context.Background(), drainWait)
	}
	return out.taken(), errors.Join(err, out.close())
}
