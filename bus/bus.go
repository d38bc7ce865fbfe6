// Package bus owns the NATS side of Vantage: the embedded nats-server
// (with JetStream) that a collector runs when no external NATS URL is
// configured, the subject naming of events, and the publisher that the
// collector's fan-out hands events to.
//
// Subjects are vantage.events.HOST.TYPE.PEER_ASN, for example
// vantage.events.rrc-local.UPDATE.65001, so consumers filter by collector,
// message type and peer AS on the server (vantage.events.*.UPDATE.>).
// A JetStream stream named VANTAGE_EVENTS captures every event subject
// so that consumers can replay what they missed.
package bus

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/vantage-bgp/vantage/schema"
)

// SubjectPrefix starts every event subject.
const SubjectPrefix = "vantage.events"

// StreamName is the JetStream stream that keeps events.
const StreamName = "VANTAGE_EVENTS"

// Subject returns the subject an event is published on.
func Subject(ev *schema.Event) string {
	return SubjectPrefix + "." + token(ev.Host) + "." + ev.Type.String() + "." + strconv.FormatUint(uint64(ev.PeerASN), 10)
}

// token makes a string safe as one subject token.
func token(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, s)
}

// EmbeddedConfig configures the embedded server.
type EmbeddedConfig struct {
	Host     string // listen address, e.g. 127.0.0.1
	Port     int    // -1 picks a free port
	StoreDir string // JetStream storage
}

// StartEmbedded starts an in-process nats-server with JetStream. Stop it
// with Shutdown and WaitForShutdown.
func StartEmbedded(cfg EmbeddedConfig) (*server.Server, error) {
	opts := &server.Options{
		ServerName: "vantage",
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS on %s:%d did not start within 10s (is the port in use?)", cfg.Host, cfg.Port)
	}
	return ns, nil
}

// Publisher publishes events as JSON on their subjects. It satisfies the
// collector's Sink interface.
type Publisher struct {
	nc  *nats.Conn
	log *slog.Logger
}

// Connect connects a publisher to url and makes sure the JetStream stream
// exists (maxAge bounds how long it keeps events; 0 keeps them until the
// stream's limits). log may be nil.
func Connect(url string, maxAge time.Duration, log *slog.Logger) (*Publisher, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	nc, err := nats.Connect(url, nats.Name("vantage collector"), nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("NATS reconnected", "url", c.ConnectedUrl()) }))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	js, err := nc.JetStream()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS JetStream: %w", err)
	}
	sc := &nats.StreamConfig{Name: StreamName, Subjects: []string{SubjectPrefix + ".>"}, MaxAge: maxAge, Storage: nats.FileStorage}
	if _, err := js.StreamInfo(StreamName); err != nil {
		if _, err := js.AddStream(sc); err != nil {
			nc.Close()
			return nil, fmt.Errorf("create JetStream stream %s: %w", StreamName, err)
		}
	}
	return &Publisher{nc: nc, log: log}, nil
}

// Write publishes each event on its subject, then flushes.
func (p *Publisher) Write(ctx context.Context, events []schema.Event) error {
	var buf []byte // reused: Publish copies the message
	for i := range events {
		ev := &events[i]
		buf = ev.AppendJSON(buf[:0])
		if err := p.nc.Publish(Subject(ev), buf); err != nil {
			return fmt.Errorf("publish event %s: %w", ev.ID, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return p.nc.FlushWithContext(ctx)
}

// Close drains and closes the connection.
func (p *Publisher) Close() error {
	return p.nc.Drain()
}
