package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/config"
	"github.com/vantage-bgp/vantage/web"
)

// runLive connects to the event log (nats.url, or the collector's embedded
// server on nats.listen) and runs the live stream over it until ctx ends.
// lg serves without it meanwhile: /v1/ws/ clients wait for events, and
// resuming ones get a ris_error.
func runLive(ctx context.Context, cfg config.Config, live *web.Live, log *slog.Logger) {
	n := cfg.NATS
	url := n.URL
	if url == "" {
		url = "nats://" + n.Listen
	}
	opts := bus.Options{
		URL: url, Name: "vantage lg",
		User: n.User, Password: n.Password, Token: n.Token, NKeySeedFile: n.NKeySeedFile, CredsFile: n.CredsFile,
		TLSCAFile: n.TLSCAFile, TLSCertFile: n.TLSCertFile, TLSKeyFile: n.TLSKeyFile,
		Existing: true, // the collector owns the stream's configuration
	}
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
