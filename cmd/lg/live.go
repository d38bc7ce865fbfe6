package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/config"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// busOptions are the options of lg's connections to the event log
// (nats.url, or the collector's embedded server on nats.listen).
func busOptions(cfg config.Config, name string) bus.Options {
	n := cfg.NATS
	url := n.URL
	if url == "" {
		url = "nats://" + n.Listen
	}
	return bus.Options{
		URL: url, Name: name,
		User: n.User, Password: n.Password, Token: n.Token, NKeySeedFile: n.NKeySeedFile, CredsFile: n.CredsFile,
		TLSCAFile: n.TLSCAFile, TLSCertFile: n.TLSCertFile, TLSKeyFile: n.TLSKeyFile,
		Existing: true, // the collector owns the stream's configuration
	}
}

// runLive connects to the event log (nats.url, or the collector's embedded
// server on nats.listen) and runs the live stream over it until ctx ends.
// lg serves without it meanwhile: /v1/ws/ clients wait for events, and
// resuming ones get a ris_error.
func runLive(ctx context.Context, cfg config.Config, live *web.Live, log *slog.Logger) {
	opts := busOptions(cfg, "vantage lg")
	url := opts.URL
	for ctx.Err() == nil {
		conn, err := bus.Dial(ctx, opts, log)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("live stream: waiting for the event log", "url", url, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
				}
			}
			continue
		}
		log.Info("live stream: reading the event log", "url", url)
		err = live.Run(ctx, bus.NewLog(conn))
		conn.Close()
		if err != nil {
			log.Warn("live stream", "err", err)
		}
		return
	}
}

// runMemoryRIB keeps rib current until ctx ends: it loads the current
// routes from the store, then applies the events of the log from the first
// one the store may lack (after the store consumer's acknowledged floor),
// and says the RIB is ready once it has applied what the log held when it
// began. A lost log connection, a failed load or routes written to the
// store around the log (MRT imports) start it over (the RIB is not ready
// meanwhile, and queries go to ClickHouse).
func runMemoryRIB(ctx context.Context, cfg config.Config, db *storage.DB, rib *storage.LiveRIB, log *slog.Logger) {
	for ctx.Err() == nil {
		err := memoryRIB(ctx, cfg, db, rib, log)
		rib.SetReady(false)
		if ctx.Err() != nil {
			return
		}
		log.Warn("memory RIB: loading again in 5s", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

func memoryRIB(ctx context.Context, cfg config.Config, db *storage.DB, rib *storage.LiveRIB, log *slog.Logger) error {
	conn, err := bus.Dial(ctx, busOptions(cfg, "vantage lg rib"), log)
	if err != nil {
		return err
	}
	defer conn.Close()
	stored, err := bus.StoredThrough(ctx, conn, cfg.NATS.Consumer)
	if err != nil {
		return fmt.Errorf("store consumer: %w", err)
	}
	start := time.Now()
	if err := rib.Load(ctx, db); err != nil {
		return err
	}
	last, err := bus.LastSeq(ctx, conn)
	if err != nil {
		return err
	}
	st := rib.Stats()
	log.Info("memory RIB: loaded", "routes", st.Routes, "prefixes", st.Prefixes, "took", time.Since(start).Round(time.Millisecond),
		"replaying_from", stored+1, "log_last", last)
	if last <= stored {
		rib.SetReady(true)
	}
	fol, err := bus.Follow(ctx, conn, bus.FollowConfig{Start: bus.Start{Kind: bus.StartSeq, Seq: stored + 1}}, log)
	if err != nil {
		return err
	}
	defer fol.Stop()
	// What `collector mrt import` writes goes to the store only: once it
	// shows there, the RIB loads again.
	check := time.NewTicker(15 * time.Second)
	defer check.Stop()
	var ev schema.Event
	for {
		select {
		case <-check.C:
			if !rib.Ready() {
				break
			}
			changed, why, err := rib.ChangedOutsideLog(ctx, db)
			if err != nil {
				log.Warn("memory RIB: checking the store", "err", err)
			} else if changed {
				return fmt.Errorf("the store changed outside the log (%s)", why)
			}
		default:
		}
		m, err := fol.Next(time.Second)
		if errors.Is(err, nats.ErrTimeout) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := ev.DecodeJSON(m.Data); err != nil {
			log.Warn("memory RIB: event left out", "seq", m.Seq, "err", err)
		} else {
			rib.Apply(&ev)
		}
		if m.Seq >= last && !rib.Ready() {
			rib.SetReady(true)
			log.Info("memory RIB: ready", "routes", rib.Stats().Routes, "took", time.Since(start).Round(time.Millisecond))
		}
	}
}
