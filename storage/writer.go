package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	chcolumn "github.com/ClickHouse/clickhouse-go/v2/lib/column"

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
	// KeepTimestamps stores each event at its own microsecond timestamp
	// instead of moving it past the peer's previous event. The MRT import
	// uses it: its timestamps are already ordered and deterministic, so a
	// file imported again writes identical rows, which the
	// ReplacingMergeTree tables collapse, whatever was imported before.
	KeepTimestamps bool
}

// sendTimeout bounds one INSERT while the writer runs.
const sendTimeout = time.Minute

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
	stop    chan struct{} // closed by Close first: wakes blocked callers
	// gate lets Close wait until no Write is between its closed check and
	// its send; closed is set under it.
	gate   sync.RWMutex
	closed bool
	quit   chan struct{} // closed by Close once no Write can queue rows
	// runCtx bounds sends and retries while running; Close cancels it and
	// gives the final flush its own CloseTimeout.
	runCtx    context.Context
	cancelRun context.CancelFunc
	wg        sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	// failures counts failed inserts (for tests and, later, metrics).
	failures atomic.Int64
}

// chunk is the rows of one Write.
type chunk struct {
	routes *routeBatch
	peers  *peerBatch
	stats  *peerStats
}

func (c chunk) size() int { return c.routes.len() + c.peers.len() }

func newChunk(events []schema.Event, c clock) chunk {
	ch := chunk{routes: &routeBatch{}, peers: &peerBatch{}, stats: &peerStats{}}
	addEvents(c, ch.routes, ch.peers, events)
	ch.stats.add(events)
	return ch
}

// NewWriter starts a writer. A nil logger uses the DB's.
func (db *DB) NewWriter(cfg WriterConfig, log *slog.Logger) *Writer {
	if log == nil {
		log = db.log
	}
	c := clock{}
	if cfg.KeepTimestamps {
		c = nil // a nil clock keeps times as they are
	}
	w := &Writer{
		db:      db,
		cfg:     cfg.withDefaults(),
		log:     log,
		clock:   c,
		in:      make(chan chunk, 64),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
		quit:    make(chan struct{}),
	}
	w.runCtx, w.cancelRun = context.WithCancel(context.Background())
	w.wg.Go(w.run)
	return w
}

// Write queues the events for storage; see Writer. It satisfies the
// collector's sink interface.
func (w *Writer) Write(ctx context.Context, events []schema.Event) error {
	w.mu.Lock()
	c := newChunk(events, w.clock)
	w.mu.Unlock()
	if c.size() == 0 && c.stats.empty() {
		return nil
	}
	w.gate.RLock()
	defer w.gate.RUnlock()
	if w.closed {
		return ErrWriterClosed
	}
	select {
	case w.in <- c:
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
		close(w.stop)   // blocked Writes and Flushes return
		w.cancelRun()   // a retrying flush gives up; the final one retries
		w.gate.Lock()   // wait for Writes in flight: their rows are queued
		w.closed = true // or refused
		w.gate.Unlock()
		close(w.quit) // now the goroutine drains, flushes and returns
		w.wg.Wait()
	})
	return w.closeErr
}

func (w *Writer) run() {
	var pending []chunk
	rows := 0
	var oldest time.Time // when the oldest pending row was queued
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	take := func(c chunk) {
		if rows == 0 {
			oldest = time.Now()
			timer.Reset(w.cfg.FlushInterval)
		}
		pending = append(pending, c)
		rows += c.size()
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
	// While running, ctx (canceled by Close) ends the retries but not a
	// send in flight: cutting an INSERT the server may already have
	// committed would store its rows twice when the final flush retries.
	flush := func(ctx context.Context, final bool) error {
		timer.Stop()
		if rows == 0 {
			return nil
		}
		backoff := 100 * time.Millisecond
		for attempt := 1; ; attempt++ {
			sendCtx, cancel := ctx, context.CancelFunc(func() {})
			if !final {
				sendCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
			}
			err := w.db.send(sendCtx, pending)
			cancel()
			if err == nil {
				if w.log.Enabled(ctx, slog.LevelDebug) {
					w.log.Debug("stored events", "rows", rows, "age", time.Since(oldest))
				}
				clear(pending) // drop the references to the rows
				pending, rows = pending[:0], 0
				return nil
			}
			w.failures.Add(1)
			if ctx.Err() != nil {
				return fmt.Errorf("storage: %d rows not stored: %w", rows, err)
			}
			w.log.Warn("clickhouse insert failed; retrying", "err", err, "attempt", attempt, "rows", rows, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return fmt.Errorf("storage: %d rows not stored: %w", rows, err)
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}
	running := w.runCtx
	for {
		select {
		case c := <-w.in:
			take(c)
			if rows >= w.cfg.BatchSize {
				_ = flush(running, false) // fails only when stopping; Close retries
			}
		case <-timer.C:
			_ = flush(running, false)
		case reply := <-w.flushes:
			drain()
			reply <- flush(running, false)
		case <-w.quit:
			drain()
			ctx, cancel := context.WithTimeout(context.Background(), w.cfg.CloseTimeout)
			w.closeErr = flush(ctx, true)
			cancel()
			if w.closeErr != nil {
				w.log.Error("events lost at shutdown", "err", w.closeErr)
			}
			return
		}
	}
}

// Insert stores events at once and at their own timestamps: one INSERT per
// table, returning when ClickHouse has them. Rows are a function of the
// events alone, so inserting the same events again (a batch retried after
// a lost answer, one delivered twice by the log) writes identical rows,
// which the ReplacingMergeTree tables collapse and the queries do not
// count twice. The log consumer of the collector calls it.
func (db *DB) Insert(ctx context.Context, events []schema.Event) error {
	c := newChunk(events, nil)
	if c.size() > 0 || !c.stats.empty() {
		if err := db.send(ctx, []chunk{c}); err != nil {
			return err
		}
	}
	return db.insertSeen(ctx, events)
}

// send inserts the chunks: one INSERT per table that has rows.
func (db *DB) send(ctx context.Context, chunks []chunk) error {
	if err := db.markStale(ctx, chunks); err != nil {
		return err
	}
	var peers, routes []batchColumns
	var stats peerStats
	for _, c := range chunks {
		if c.stats != nil {
			stats.merge(c.stats)
		}
		if c.peers.len() > 0 {
			peers = append(peers, c.peers)
		}
		if c.routes.len() > 0 {
			routes = append(routes, c.routes)
		}
	}
	if err := db.insert(ctx, "peer_events", peers); err != nil {
		return err
	}
	if err := db.insert(ctx, "route_events", routes); err != nil {
		return err
	}
	return db.insertStats(ctx, &stats)
}

// batchColumns is a routeBatch or a peerBatch.
type batchColumns interface {
	len() int
	columns() []column
}

// insert sends the batches to table in one INSERT.
func (db *DB) insert(ctx context.Context, table string, batches []batchColumns) error {
	if len(batches) == 0 {
		return nil
	}
	var names []string
	for _, c := range batches[0].columns() {
		names = append(names, c.name)
	}
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(names, ", ")+")")
	if err != nil {
		return fmt.Errorf("prepare %s batch: %w", table, err)
	}
	defer b.Abort() // no-op once sent
	n := 0
	cols := b.Columns()
	var scratch [][]byte // a FixedString column's rows, reused column after column
	for _, rows := range batches {
		n += rows.len()
		for i, c := range rows.columns() {
			// Arrays row by row: clickhouse-go's Append of a slice of
			// slices goes through reflection, AppendRow of a typed slice
			// does not, and the rows are already boxed (see emptyUint32s).
			var err error
			switch v := c.values.(type) {
			case []any:
				err = appendRows(cols[i], v)
			case fixed16:
				scratch = v.values(scratch)
				err = b.Column(i).Append(scratch)
			default:
				err = b.Column(i).Append(v)
			}
			if err != nil {
				return fmt.Errorf("%s column %s: %w", table, c.name, err)
			}
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send %d %s rows: %w", n, table, err)
	}
	return nil
}

func appendRows(col chcolumn.Interface, rows []any) error {
	for _, r := range rows {
		if err := col.AppendRow(r); err != nil {
			return err
		}
	}
	return nil
}
