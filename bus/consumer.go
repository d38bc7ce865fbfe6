package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/schema"
)

// ConsumerConfig configures a durable consumer of the log. The zero value
// means the defaults.
type ConsumerConfig struct {
	// Durable is the consumer's name; processes that use the same name
	// share the work (default "vantage-store").
	Durable string
	// BatchSize bounds the rows handed over at once: an UPDATE makes one
	// per route it announces or withdraws, any other event one (default
	// 50,000).
	BatchSize int
	// FlushInterval is the longest an event waits for its batch to fill
	// (default 1s).
	FlushInterval time.Duration
	// AckWait is how long the server waits for an acknowledgement before
	// it delivers a message again, to this or another process sharing the
	// consumer: after a crash, the events a writer held are stored by the
	// next one after AckWait (default 30s). A batch being stored or retried
	// is kept alive meanwhile.
	AckWait time.Duration
}

// DefaultDurable is the name of the ClickHouse writer's consumer.
const DefaultDurable = "vantage-store"

func (c ConsumerConfig) withDefaults() ConsumerConfig {
	if c.Durable == "" {
		c.Durable = DefaultDurable
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 50_000
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	return c
}

// Handler stores a batch of events. An error makes Consume retry the same
// batch (with backoff) until it succeeds or Consume's context ends, so a
// handler must be idempotent.
type Handler func(ctx context.Context, events []schema.Event) error

// ConsumerStats are counters for /metrics.
type ConsumerStats struct {
	Handled  atomic.Int64 // events handed over and acknowledged
	Failures atomic.Int64 // failed handler calls
	Poison   atomic.Int64 // messages that are not events, discarded
	// Latency of the last successful handler call, in microseconds.
	LastLatencyMicros atomic.Int64
}

// idleFlush is the pause in the log that ends a batch early, and
// minInsertGap the least time between two such early batches.
const (
	idleFlush    = 20 * time.Millisecond
	minInsertGap = 200 * time.Millisecond
)

// handlerTimeout bounds one call of the handler.
const handlerTimeout = 2 * time.Minute

// Consume hands the events of the log to h in batches, in stream order,
// and acknowledges each batch only after h returned nil for it; what is
// not acknowledged (Consume stopped, the process died) is delivered again
// later. It returns when ctx ends (nil) or on an error of the server.
func Consume(ctx context.Context, c *Conn, cfg ConsumerConfig, h Handler, stats *ConsumerStats, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if stats == nil {
		stats = &ConsumerStats{}
	}
	cfg = cfg.withDefaults()
	cons, err := c.JS.CreateOrUpdateConsumer(ctx, StreamName, jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "Vantage: events to storage",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxAckPending: max(4*cfg.BatchSize, 200_000),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: SubjectPrefix + ".>",
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("JetStream consumer %s: %w", cfg.Durable, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(min(cfg.BatchSize, 20_000)))
	if err != nil {
		return fmt.Errorf("JetStream consumer %s: %w", cfg.Durable, err)
	}
	// When ctx ends, stop pulling; what was delivered but not stored
	// (the batch at hand, and what the iterator had fetched ahead) is given
	// back at once, rather than after AckWait.
	giveBack := func(msgs []jetstream.Msg) {
		for _, m := range msgs {
			m.Nak()
		}
		for {
			m, err := it.Next(jetstream.NextMaxWait(50 * time.Millisecond))
			if err != nil {
				return
			}
			m.Nak()
		}
	}
	defer it.Stop()
	stopIt := context.AfterFunc(ctx, it.Drain)
	defer stopIt()

	// Two batches take turns: while the storer goroutine stores one and
	// then acknowledges its messages, this loop fetches and decodes the
	// next, so the INSERT's round trips overlap with reading the log. At
	// most one batch is being stored and one built; each batch's acks
	// follow its own INSERT.
	free := make(chan *consumerBatch, 2)
	free <- &consumerBatch{}
	free <- &consumerBatch{}
	work := make(chan *consumerBatch)
	var storer sync.WaitGroup
	storer.Go(func() {
		for b := range work {
			if handle(ctx, cfg, h, b.events, b.msgs, stats, log) {
				for _, m := range b.msgs {
					m.Ack()
				}
				stats.Handled.Add(int64(len(b.msgs)))
			} else {
				for _, m := range b.msgs { // stopped before the batch was stored
					m.Nak()
				}
			}
			free <- b
		}
	})
	defer storer.Wait()
	defer close(work)

	b := <-free
	var lastInsert time.Time
	for {
		b.msgs, b.events = b.msgs[:0], b.events[:0]
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				giveBack(nil)
				return nil
			}
			log.Warn("reading the log", "err", err)
			continue
		}
		rows := b.add(m, stats, log)
		// A batch ends when it holds BatchSize rows (an UPDATE makes one
		// per route it announces or withdraws, another event one), when
		// its first event has waited FlushInterval, or when the log has
		// gone quiet (nothing for idleFlush) and the last INSERT began
		// minInsertGap ago: a burst is stored as soon as it ends, and a
		// trickle of events still makes few INSERTs (ClickHouse wants
		// large ones).
		deadline := time.Now().Add(cfg.FlushInterval)
		for rows < cfg.BatchSize {
			wait := time.Until(deadline)
			if wait <= 0 {
				break
			}
			quiet := time.Since(lastInsert) >= minInsertGap
			if quiet {
				wait = min(wait, idleFlush)
			}
			m, err := it.Next(jetstream.NextMaxWait(wait))
			if err != nil {
				if quiet || !errors.Is(err, nats.ErrTimeout) {
					break
				}
				continue // not quiet long enough: keep filling
			}
			rows += b.add(m, stats, log)
		}
		if ctx.Err() != nil {
			giveBack(b.msgs)
			return nil
		}
		if len(b.events) == 0 {
			continue
		}
		select {
		case work <- b: // the storer is done with the batch before
		case <-ctx.Done():
			giveBack(b.msgs)
			return nil
		}
		lastInsert = time.Now()
		b = <-free
	}
}

// consumerBatch is the messages of one batch and their events.
type consumerBatch struct {
	msgs   []jetstream.Msg
	events []schema.Event
}

// add decodes m into the batch's next event, reusing the arrays of an
// earlier batch's events (the handler keeps nothing of them), and returns
// the rows it makes: the routes of an UPDATE, 1 for any other event. A
// message that is not an event is terminated (never delivered again),
// counted and logged, and adds nothing.
func (b *consumerBatch) add(m jetstream.Msg, stats *ConsumerStats, log *slog.Logger) int {
	if len(b.events) < cap(b.events) {
		b.events = b.events[:len(b.events)+1]
	} else {
		b.events = append(b.events, schema.Event{})
	}
	e := &b.events[len(b.events)-1]
	if err := e.DecodeJSON(m.Data()); err != nil {
		b.events = b.events[:len(b.events)-1]
		stats.Poison.Add(1)
		log.Error("discarding a message of the log that is not an event", "subject", m.Subject(), "err", err)
		m.Term()
		return 0
	}
	b.msgs = append(b.msgs, m)
	return max(e.RouteCount(), 1)
}

// handle calls h until it succeeds; false when ctx ended first.
func handle(ctx context.Context, cfg ConsumerConfig, h Handler, events []schema.Event, msgs []jetstream.Msg, stats *ConsumerStats, log *slog.Logger) bool {
	if len(events) == 0 {
		return true
	}
	// Keep the batch ours while it is being stored or retried.
	alive := time.NewTicker(cfg.AckWait / 3)
	defer alive.Stop()
	stopAlive := make(chan struct{})
	defer close(stopAlive)
	go func() {
		for {
			select {
			case <-alive.C:
				for _, m := range msgs {
					m.InProgress()
				}
			case <-stopAlive:
				return
			}
		}
	}()
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		hctx, cancel := context.WithTimeout(ctx, handlerTimeout)
		err := h(hctx, events)
		cancel()
		if err == nil {
			stats.LastLatencyMicros.Store(time.Since(start).Microseconds())
			if attempt > 1 {
				log.Info("stored after retrying", "events", len(events), "attempts", attempt)
			}
			return true
		}
		stats.Failures.Add(1)
		if ctx.Err() != nil {
			return false
		}
		log.Warn("storing a batch failed; retrying (the log keeps it)", "events", len(events), "attempt", attempt, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// Lag returns the messages the consumer has not yet acknowledged: waiting
// in the stream, and delivered but not acknowledged.
func Lag(ctx context.Context, c *Conn, durable string) (uint64, error) {
	if durable == "" {
		durable = DefaultDurable
	}
	cons, err := c.Stream.Consumer(ctx, durable)
	if err != nil {
		return 0, err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// StoredThrough returns the stream sequence up to which the durable
// consumer (the store's by default) has acknowledged every event: what
// the store holds for sure. 0 when the consumer does not exist.
func StoredThrough(ctx context.Context, c *Conn, durable string) (uint64, error) {
	if durable == "" {
		durable = DefaultDurable
	}
	cons, err := c.Stream.Consumer(ctx, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.AckFloor.Stream, nil
}

// LastSeq returns the stream sequence of the newest event of the log.
func LastSeq(ctx context.Context, c *Conn) (uint64, error) {
	info, err := c.Stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}
