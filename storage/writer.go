package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// ErrWriterClosed is returned by Write and Flush after Close.
var ErrWriterClosed = errors.New("storage: writer closed")

// WriterConfig tunes a Writer. The zero value means the defaults.
type WriterConfig struct {
	// BatchSize is the number of rows that triggers a flush (default 50,000).
	BatchSize int
	// FlushInterval is the longest time a row waits before it is sent
	// (default 1s).
	FlushInterval time.Duration
	// CloseTimeout bounds the retries of the last flush done by Close
	// (default 30s).
	CloseTimeout time.Duration
}

// Defaults of WriterConfig.
const (
	DefaultBatchSize     = 50_000
	DefaultFlushInterval = time.Second
)

func (c WriterConfig) withDefaults() WriterConfig {
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = 30 * time.Second
	}
	return c
}

// Writer stores events in batches. Write converts events to rows and hands
// them to the writer's goroutine, which owns flushing: it sends a batch when
// it holds BatchSize rows or its oldest row is FlushInterval old, retrying
// failed sends with backoff. While ClickHouse is unreachable the goroutine
// keeps retrying and stops taking rows, so Write blocks (until its context
// ends): memory stays bounded and the caller sees the back-pressure.
//
// Write returns once the rows are queued; Flush waits until everything
// queued so far is stored. Close flushes and stops the goroutine.
type Writer struct {
	db  *DB
	cfg WriterConfig
	log *slog.Logger

	mu    sync.Mutex // orders conversion: the clock is per peer
	clock clock

	in      chan chunk
	flushes chan chan error
	stop    chan struct{} // closed by Close
	// runCtx bounds sends and retries while running; Close cancels it and
	// gives the final flush its own CloseTimeout.
	runCtx    context.Context
	cancelRun context.CancelFunc
	wg        sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

type chunk struct {
	routes []routeRow
	peers  []peerRow
}

// NewWriter starts a writer. A nil logger uses the DB's.
func (db *DB) NewWriter(cfg WriterConfig, log *slog.Logger) *Writer {
	if log == nil {
		log = db.log
	}
	w := &Writer{
		db:      db,
		cfg:     cfg.withDefaults(),
		log:     log,
		clock:   clock{},
		in:      make(chan chunk, 64),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
	}
	w.runCtx, w.cancelRun = context.WithCancel(context.Background())
	w.wg.Go(w.run)
	return w
}

// Write queues the events for storage; see Writer. It satisfies the
// collector's sink interface.
func (w *Writer) Write(ctx context.Context, events []schema.Event) error {
	w.mu.Lock()
	routes, peers := appendRows(w.clock, nil, nil, events)
	w.mu.Unlock()
	if len(routes) == 0 && len(peers) == 0 {
		return nil
	}
	select {
	case <-w.stop:
		return ErrWriterClosed
	default:
	}
	select {
	case w.in <- chunk{routes, peers}:
		return nil
	case <-w.stop:
		return ErrWriterClosed
	case <-ctx.Done():
		return fmt.Errorf("storage: write: %w", ctx.Err())
	}
}

// Flush waits until every row queued before the call is stored.
func (w *Writer) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case w.flushes <- reply:
	case <-w.stop:
		return ErrWriterClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close flushes what is queued (retrying for up to CloseTimeout) and stops
// the writer. It is idempotent; the error says what could not be stored.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		close(w.stop)
		w.cancelRun()
		w.wg.Wait()
	})
	return w.closeErr
}

func (w *Writer) run() {
	var pending chunk
	var oldest time.Time // when the oldest pending row was queued
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	size := func() int { return len(pending.routes) + len(pending.peers) }
	take := func(c chunk) {
		if size() == 0 {
			oldest = time.Now()
			timer.Reset(w.cfg.FlushInterval)
		}
		pending.routes = append(pending.routes, c.routes...)
		pending.peers = append(pending.peers, c.peers...)
	}
	drain := func() {
		for {
			select {
			case c := <-w.in:
				take(c)
			default:
				return
			}
		}
	}
	// flush sends pending, retrying until it succeeds or until ctx ends.
	flush := func(ctx context.Context) error {
		timer.Stop()
		if size() == 0 {
			return nil
		}
		backoff := 100 * time.Millisecond
		for attempt := 1; ; attempt++ {
			err := w.send(ctx, pending)
			if err == nil {
				if w.log.Enabled(ctx, slog.LevelDebug) {
					w.log.Debug("stored events", "route_rows", len(pending.routes), "peer_rows", len(pending.peers), "age", time.Since(oldest))
				}
				clear(pending.routes) // drop references to attributes
				clear(pending.peers)
				pending = chunk{routes: pending.routes[:0], peers: pending.peers[:0]}
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("storage: %d route rows and %d peer rows not stored: %w", len(pending.routes), len(pending.peers), err)
			}
			w.log.Warn("clickhouse insert failed; retrying", "err", err, "attempt", attempt, "rows", size(), "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return fmt.Errorf("storage: %d route rows and %d peer rows not stored: %w", len(pending.routes), len(pending.peers), err)
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}
	running := w.runCtx
	for {
		select {
		case c := <-w.in:
			take(c)
			if size() >= w.cfg.BatchSize {
				_ = flush(running) // fails only when stopping; Close retries
			}
		case <-timer.C:
			_ = flush(running)
		case reply := <-w.flushes:
			drain()
			reply <- flush(running)
		case <-w.stop:
			drain()
			ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CloseTimeout)
			w.closeErr = flush(ctx)
			cancel()
			if w.closeErr != nil {
				w.log.Error("events lost at shutdown", "err", w.closeErr)
			}
			return
		}
	}
}

// send inserts one batch into each table that has rows.
func (w *Writer) send(ctx context.Context, c chunk) error {
	if len(c.peers) > 0 {
		if err := w.sendPeers(ctx, c.peers); err != nil {
			return err
		}
	}
	if len(c.routes) > 0 {
		if err := w.sendRoutes(ctx, c.routes); err != nil {
			return err
		}
	}
	return nil
}

const insertRoutes = `INSERT INTO route_events (host, peer, peer_asn, ts, ts_us, seq, id, idx, kind, afi, safi,
 prefix, prefix_len, path_id, rd, labels, nlri, next_hop, next_hop_ll, as_path, as_path_text, origin_asn, origin,
 med, has_med, local_pref, has_local_pref, communities, large_communities, ext_communities, atomic_aggregate,
 has_aggregator, aggregator_asn, aggregator_addr, originator_id, cluster_list, otc, has_otc, aigp, has_aigp,
 other_attr_flags, other_attr_codes, other_attr_values, raw)`

func (w *Writer) sendRoutes(ctx context.Context, rows []routeRow) error {
	b, err := w.db.conn.PrepareBatch(ctx, insertRoutes)
	if err != nil {
		return fmt.Errorf("prepare route_events batch: %w", err)
	}
	defer b.Abort() // no-op once sent
	for i := range rows {
		r := &rows[i]
		a := r.attrs
		kind := "announce"
		if r.withdraw {
			kind = "withdraw"
		}
		err := b.Append(r.host, r.peer[:], r.peerASN, usTime(r.tsUs), r.tsUs, r.seq, r.id, r.idx, kind,
			r.family.AFI, r.family.SAFI, r.prefix[:], r.prefixLen, r.pathID, r.rd, nonNil(r.labels), r.nlri,
			r.nextHop[:], r.nextHopLL[:], nonNil(a.asPath), a.asPathText, a.originASN, a.origin,
			a.med, a.hasMED, a.localPref, a.hasLocalPref, nonNil(a.communities), nonNil(a.large), nonNil(a.ext),
			a.atomicAggregate, a.hasAggregator, a.aggregatorASN, a.aggregatorAddr[:], a.originatorID[:],
			nonNil(a.clusterList), a.otc, a.hasOTC, a.aigp, a.hasAIGP,
			nonNil(a.otherFlags), nonNil(a.otherCodes), nonNil(a.otherValues), r.raw)
		if err != nil {
			return fmt.Errorf("append route_events row: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send %d route_events rows: %w", len(rows), err)
	}
	return nil
}

const insertPeers = `INSERT INTO peer_events (host, peer, peer_asn, ts, ts_us, seq, id, type, state, reason,
 has_notification, notification_code, notification_subcode, notification_data, sent, open_version, open_asn,
 hold_time, router_id, capabilities, raw)`

func (w *Writer) sendPeers(ctx context.Context, rows []peerRow) error {
	b, err := w.db.conn.PrepareBatch(ctx, insertPeers)
	if err != nil {
		return fmt.Errorf("prepare peer_events batch: %w", err)
	}
	defer b.Abort()
	for i := range rows {
		r := &rows[i]
		err := b.Append(r.host, r.peer[:], r.peerASN, usTime(r.tsUs), r.tsUs, r.seq, r.id, r.typ, r.state, r.reason,
			r.hasNotif, r.code, r.subcode, r.notifData, r.sent, r.version, r.openASN,
			r.holdTime, r.routerID[:], nonNil(r.caps), r.raw)
		if err != nil {
			return fmt.Errorf("append peer_events row: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send %d peer_events rows: %w", len(rows), err)
	}
	return nil
}

// nonNil returns an empty slice for nil: arrays are never NULL.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
