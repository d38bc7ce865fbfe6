package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/internal/replay"
)

func init() {
	register("replay", "act as a BGP speaker announcing a peer's routes from an MRT RIB, or synthetic ones", runReplay)
}

func runReplay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	to := fs.String("to", "", "the BGP listener to connect to, `host:port` (required)")
	asn := fs.Uint("asn", 0, "the speaker's `AS` (required); prepended to every AS path that does not start with it")
	peerFlag := fs.String("peer", "", "the dump's peer `address` whose routes to announce (default: the peer with the most routes)")
	synthetic := fs.Int("synthetic", 0, "announce `N` synthetic routes instead of a file's")
	v6 := fs.Float64("v6-share", 0.18, "with -synthetic: the `share` of IPv6 prefixes")
	seed := fs.Uint64("seed", 1, "with -synthetic: the `seed` of the routes")
	routerID := fs.String("router-id", "", "BGP identifier (default 198.18.X.Y from the AS)")
	nextHop := fs.String("next-hop", "", "next hop of the IPv4 routes (default: the session's local address when IPv4)")
	hold := fs.Duration("hold", 90*time.Second, "hold time offered")
	exit := fs.Bool("exit", false, "end the session after End-of-RIB (Cease, administrative shutdown) instead of holding it until interrupted")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: collector replay -to HOST:PORT -asn N [flags] (FILE | -synthetic N)")
		fmt.Fprintln(fs.Output(), "\nConnects to a BGP listener (a collector, BIRD, gobgpd, ...), announces one peer's")
		fmt.Fprintln(fs.Output(), "IPv4 and IPv6 unicast routes from an MRT RIB dump (TABLE_DUMP_V2 or TABLE_DUMP;")
		fmt.Fprintln(fs.Output(), "plain, gzip or bzip2), or N synthetic routes with realistic prefix lengths, paths")
		fmt.Fprintln(fs.Output(), "and attribute sharing, then End-of-RIB, and holds the session with KEEPALIVEs.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := replay.Config{To: *to, ASN: uint32(*asn), HoldTime: *hold, Exit: *exit}
	switch {
	case *to == "":
		return fmt.Errorf("-to: not set")
	case *asn == 0 || *asn > 0xffffffff:
		return fmt.Errorf("-asn %d: want an AS number from 1 to 4294967295", *asn)
	case *synthetic < 0:
		return fmt.Errorf("-synthetic %d: want a number of routes", *synthetic)
	case *synthetic > 0 && fs.NArg() > 0:
		return fmt.Errorf("give a FILE or -synthetic, not both")
	case *synthetic == 0 && fs.NArg() != 1:
		return fmt.Errorf("want one MRT RIB file, or -synthetic N")
	case *v6 < 0 || *v6 > 1:
		return fmt.Errorf("-v6-share %v: want a share from 0 to 1", *v6)
	}
	for _, a := range []struct {
		flag, value string
		dst         *netip.Addr
	}{{"-router-id", *routerID, &cfg.RouterID}, {"-next-hop", *nextHop, &cfg.NextHop}} {
		if a.value == "" {
			continue
		}
		addr, err := netip.ParseAddr(a.value)
		if err != nil {
			return fmt.Errorf("%s %q: %w", a.flag, a.value, err)
		}
		*a.dst = addr
	}
	if cfg.RouterID.IsValid() && !cfg.RouterID.Is4() {
		return fmt.Errorf("-router-id %s: want an IPv4 address", cfg.RouterID)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var table *replay.Table
	if *synthetic > 0 {
		table = replay.Synthetic(*synthetic, *v6, *seed)
	} else {
		var peer netip.Addr
		if *peerFlag != "" {
			var err error
			if peer, err = netip.ParseAddr(*peerFlag); err != nil {
				return fmt.Errorf("-peer %q: %w", *peerFlag, err)
			}
		}
		var p replay.MRTPeer
		var err error
		table, p, err = replay.FromMRT(fs.Arg(0), peer, func(err error) { log.Warn("skipped", "file", fs.Arg(0), "err", err) })
		if err != nil {
			return err
		}
		log.Info("routes read", "file", fs.Arg(0), "peer", p.Addr, "peer_asn", p.ASN, "routes", p.Routes, "attribute_sets", len(table.Groups))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := replay.Run(ctx, cfg, table, log)
	return err
}
