package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the JetStream stream that keeps events: the durable log.
const StreamName = "VANTAGE_EVENTS"

// Options says how to reach NATS and how the stream keeps events.
type Options struct {
	// URL is one server or a comma-separated list of a cluster's servers.
	URL string
	// Name identifies the connection on the server (monitoring).
	Name string
	// Authentication: at most one of user/password, token, NKey seed file
	// or credentials (JWT) file.
	User, Password string
	Token          string
	NKeySeedFile   string
	CredsFile      string
	// TLS: a CA file to verify the server, and a client certificate.
	TLSCAFile, TLSCertFile, TLSKeyFile string
	// ConnectTimeout bounds the wait for the first connection (0: wait
	// for ever, retrying, with a log line now and then).
	ConnectTimeout time.Duration

	// Stream retention: by age and total size (0: unlimited), the
	// duplicate-detection window for retried publishes, and the replicas
	// in a JetStream cluster.
	MaxAge     time.Duration
	MaxBytes   int64
	Duplicates time.Duration
	Replicas   int
	// Existing uses the stream as it is, without creating or changing it
	// (a reader such as lg, whose config must not change the collector's
	// retention); Dial fails while the stream does not exist.
	Existing bool
}

// Conn is a connection to NATS with JetStream and the events stream.
type Conn struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	Stream jetstream.Stream
	log    *slog.Logger
}

// Dial connects to NATS, retrying until it answers (or ctx ends), and
// creates or updates the events stream. log may be nil.
func Dial(ctx context.Context, o Options, log *slog.Logger) (*Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		// No reconnect buffer: while disconnected, publishes fail at once
		// and the publisher spools them, in order, instead.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("NATS reconnected", "url", c.ConnectedUrl()) }),
	}
	auth := 0
	if o.User != "" {
		opts = append(opts, nats.UserInfo(o.User, o.Password))
		auth++
	}
	if o.Token != "" {
		opts = append(opts, nats.Token(o.Token))
		auth++
	}
	if o.NKeySeedFile != "" {
		opt, err := nats.NkeyOptionFromSeed(o.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("nats.nkey_seed_file %s: %w", o.NKeySeedFile, err)
		}
		opts = append(opts, opt)
		auth++
	}
	if o.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(o.CredsFile))
		auth++
	}
	if auth > 1 {
		return nil, errors.New("nats: give one of user/password, token, nkey_seed_file or creds_file")
	}
	if o.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(o.TLSCAFile))
	}
	if o.TLSCertFile != "" || o.TLSKeyFile != "" {
		opts = append(opts, nats.ClientCert(o.TLSCertFile, o.TLSKeyFile))
	}

	var nc *nats.Conn
	start := time.Now()
	for attempt := 0; ; attempt++ {
		var err error
		nc, err = nats.Connect(o.URL, opts...)
		if err == nil {
			break
		}
		if o.ConnectTimeout > 0 && time.Since(start) > o.ConnectTimeout {
			return nil, fmt.Errorf("connect to NATS at %s: %w", o.URL, err)
		}
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) {
			return nil, fmt.Errorf("connect to NATS at %s: %w", o.URL, err)
		}
		if attempt%10 == 0 {
			log.Warn("NATS does not answer; retrying (the collector needs its log to start)", "url", o.URL, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to NATS at %s: %w", o.URL, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(1<<20), // the publisher bounds it
		jetstream.WithPublishAsyncTimeout(PublishAckTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS JetStream: %w", err)
	}
	c := &Conn{NC: nc, JS: js, log: log}
	if o.Existing {
		s, err := js.Stream(ctx, StreamName)
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("JetStream stream %s at %s: %w", StreamName, o.URL, err)
		}
		c.Stream = s
		return c, nil
	}
	if err := c.ensureStream(ctx, o); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// PublishAckTimeout is how long a publish waits for JetStream's
// acknowledgement before the publisher sends it again.
const PublishAckTimeout = 10 * time.Second

// DefaultDuplicates is the stream's duplicate window: a publish sent again
// within it (after PublishAckTimeout and a backoff of at most 2 s) is
// stored once. JetStream keeps every message id of the window in memory
// (about 60 bytes each: 186 MB of the collector's 541 MB heap with a
// one-minute window at 5M routes in 100 s), so it is not longer than a
// retry needs.
const DefaultDuplicates = 20 * time.Second

func (c *Conn) ensureStream(ctx context.Context, o Options) error {
	dup := o.Duplicates
	if dup == 0 {
		dup = DefaultDuplicates
	}
	if o.MaxAge > 0 && dup > o.MaxAge {
		dup = o.MaxAge
	}
	cfg := jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Vantage events: the durable log between BGP sessions and storage",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		MaxAge:      o.MaxAge,
		MaxBytes:    orUnlimited(o.MaxBytes),
		Duplicates:  dup,
		Replicas:    max(o.Replicas, 1),
		Discard:     jetstream.DiscardOld,
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := c.JS.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return fmt.Errorf("JetStream stream %s: %w", StreamName, err)
	}
	c.Stream = s
	return nil
}

func orUnlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// Close closes the connection.
func (c *Conn) Close() { c.NC.Close() }
