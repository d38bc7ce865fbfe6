package bus

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/schema"
)

// PublisherConfig bounds the publisher's memory, spool and acknowledgements
// in flight. The zero value means the defaults.
type PublisherConfig struct {
	// MaxPending is the number of publishes awaiting JetStream's
	// acknowledgement (default 8192).
	MaxPending int
	// QueueBytes bounds the events held in memory (default 64 MiB).
	QueueBytes int
	// SpoolDir, if set, is where events go when memory is full (NATS
	// unreachable or slow), and where those left unpublished at Close are
	// kept for the next start.
	SpoolDir string
	// SpoolMaxBytes bounds the spool (default 1 GiB).
	SpoolMaxBytes int64
}

func (c PublisherConfig) withDefaults() PublisherConfig {
	if c.MaxPending <= 0 {
		c.MaxPending = 8192
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = 64 << 20
	}
	if c.SpoolMaxBytes <= 0 {
		c.SpoolMaxBytes = 1 << 30
	}
	return c
}

// Publisher puts events into the durable log: each event is published to
// JetStream asynchronously with its id as Nats-Msg-Id (so a publish retried
// after a lost acknowledgement is stored once), and is released only when
// JetStream has acknowledged it. Events wait in a bounded memory queue,
// then in the on-disk spool; when the connection fails, the publisher
// keeps what was not acknowledged, waits for NATS to return, and
// publishes it again in order. Write blocks only when memory and spool are
// both full. It satisfies the collector's Sink interface.
//
// The publisher's goroutine owns publishing; Close stops it, after
// publishing what it can before its context ends, and spools the rest.
type Publisher struct {
	conn *Conn
	cfg  PublisherConfig
	log  *slog.Logger
	q    *queue

	encMu sync.Mutex
	scr   []byte
	recs  [][]byte
	// lastBlockedLog rate-limits the warning that Write had to wait.
	lastBlockedLog time.Time

	stop chan struct{} // closed by Close: drain and return
	done chan struct{} // closed when run returns
	// runCtx ends run's waiting when Close's deadline passes.
	runCtx    context.Context
	cancelRun context.CancelFunc
	closeOnce sync.Once
	closeErr  error

	// window is what run has published and awaits acknowledgement for,
	// oldest first; only run touches it, and Close after run returns.
	window []inFlight
	// backoff is the wait before publishing again after a failure; reset
	// by every acknowledgement. Only run touches it.
	backoff time.Duration

	stats publisherStats
}

type inFlight struct {
	rec []byte
	fut jetstream.PubAckFuture // nil: the publish itself failed
}

type publisherStats struct {
	queued, acked, retried, pending atomic.Int64
}

// PublisherStats are counters for /metrics.
type PublisherStats struct {
	Queued, Acked, Retried int64 // events since start
	Pending                int64 // publishes awaiting acknowledgement
	MemoryEvents           int   // events waiting in memory
	MemoryBytes            int
	SpoolBytes             int64 // bytes waiting in the spool
	Blocked                int64 // writes that waited for room
}

// NewPublisher starts a publisher on c. With a SpoolDir, events an earlier
// run left in the spool are published first. log may be nil.
func NewPublisher(c *Conn, cfg PublisherConfig, log *slog.Logger) (*Publisher, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	var sp *spool
	if cfg.SpoolDir != "" {
		var err error
		if sp, err = openSpool(cfg.SpoolDir, cfg.SpoolMaxBytes, log); err != nil {
			return nil, err
		}
		if !sp.empty() {
			log.Info("publishing events left in the spool by an earlier run", "dir", cfg.SpoolDir, "bytes", sp.size)
		}
	}
	p := &Publisher{
		conn: c, cfg: cfg, log: log,
		q:    newQueue(cfg.QueueBytes, sp),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	p.runCtx, p.cancelRun = context.WithCancel(context.Background())
	if sp != nil && !sp.empty() {
		signal(p.q.ready)
	}
	go p.run()
	return p, nil
}

// Write queues events for publishing, in order. It blocks while memory and
// spool are full, until ctx ends.
func (p *Publisher) Write(ctx context.Context, events []schema.Event) error {
	p.encMu.Lock()
	defer p.encMu.Unlock()
	p.recs = p.recs[:0]
	for i := range events {
		p.recs = append(p.recs, p.encode(&events[i]))
	}
	before := p.q.blockedCount()
	n, err := p.q.push(ctx, p.recs)
	p.stats.queued.Add(int64(n))
	if p.q.blockedCount() != before && time.Since(p.lastBlockedLog) > 10*time.Second {
		p.lastBlockedLog = time.Now()
		p.log.Warn("the event queue and the spool are full: BGP sessions wait for NATS (nothing is dropped)",
			"queue_bytes", p.cfg.QueueBytes, "spool_dir", p.cfg.SpoolDir, "spool_max_bytes", p.cfg.SpoolMaxBytes)
	}
	clear(p.recs)
	if err != nil {
		return fmt.Errorf("publish %d events: %w", len(events)-n, err)
	}
	return nil
}

// encode makes the record of an event: subject, id and JSON, in one slice.
//
//	[2] subject length, [2] id length, subject, id, JSON
func (p *Publisher) encode(ev *schema.Event) []byte {
	b := append(p.scr[:0], 0, 0, 0, 0)
	b = schema.AppendSubject(b, ev)
	subj := len(b) - 4
	b = append(b, ev.ID...)
	binary.BigEndian.PutUint16(b[0:], uint16(subj))
	binary.BigEndian.PutUint16(b[2:], uint16(len(ev.ID)))
	b = ev.AppendJSON(b)
	p.scr = b
	return append(make([]byte, 0, len(b)), b...)
}

// decodeRecord splits a record.
func decodeRecord(rec []byte) (subject, id string, data []byte, ok bool) {
	if len(rec) < 4 {
		return "", "", nil, false
	}
	s, i := int(binary.BigEndian.Uint16(rec[0:])), int(binary.BigEndian.Uint16(rec[2:]))
	if 4+s+i > len(rec) {
		return "", "", nil, false
	}
	return string(rec[4 : 4+s]), string(rec[4+s : 4+s+i]), rec[4+s+i:], true
}

// publish sends one record asynchronously.
func (p *Publisher) publish(rec []byte) inFlight {
	subj, id, data, ok := decodeRecord(rec)
	if !ok {
		p.log.Error("dropping a damaged spool record", "bytes", len(rec))
		return inFlight{}
	}
	msg := &nats.Msg{Subject: subj, Data: data, Header: nats.Header{jetstream.MsgIDHeader: []string{id}}}
	fut, err := p.conn.JS.PublishMsgAsync(msg)
	if err != nil {
		return inFlight{rec: rec}
	}
	return inFlight{rec: rec, fut: fut}
}

// run publishes queued records, keeping at most MaxPending unacknowledged,
// and releases them in order as acknowledgements arrive. On a failure it
// waits for the acknowledgements in flight, then publishes every record
// that was not acknowledged again, in order, once NATS is back.
func (p *Publisher) run() {
	defer close(p.done)
	var batch [][]byte
	stopping := false
	p.backoff = 100 * time.Millisecond
	for {
		// Release the acknowledged head of the window.
		failed := false
	harvest:
		for len(p.window) > 0 {
			h := &p.window[0]
			if h.fut == nil {
				if h.rec == nil { // damaged record, dropped
					p.popHead()
					continue
				}
				failed = true
				break
			}
			select {
			case <-h.fut.Ok():
				p.popHead()
				p.stats.acked.Add(1)
			case err := <-h.fut.Err():
				p.log.Debug("publish not acknowledged", "err", err)
				h.fut = nil
				failed = true
				break harvest
			default:
				break harvest
			}
		}
		if failed {
			if !p.retry(&p.backoff) {
				return
			}
			continue
		}

		// Publish more.
		if room := p.cfg.MaxPending - len(p.window); room > 0 {
			var err error
			batch, err = p.q.pop(batch[:0], min(room, 1024))
			if err != nil {
				p.log.Error("reading the spool", "err", err)
			}
			broken := false
			for _, rec := range batch {
				f := p.publish(rec)
				p.window = append(p.window, f)
				broken = broken || (f.fut == nil && f.rec != nil)
			}
			clear(batch)
			p.stats.pending.Store(int64(len(p.window)))
			if broken {
				if !p.retry(&p.backoff) {
					return
				}
				continue
			}
			if len(batch) > 0 {
				continue
			}
		}

		if !stopping {
			select {
			case <-p.stop:
				stopping = true
			default:
			}
		}
		if stopping && len(p.window) == 0 {
			if m, _, sp := p.q.sizes(); m == 0 && sp == 0 {
				return
			}
		}
		// Wait for an acknowledgement, new records, Close or its deadline.
		var ok <-chan *jetstream.PubAck
		var errc <-chan error
		if len(p.window) > 0 {
			if p.window[0].fut == nil {
				continue // a dropped record or a failure: the harvest handles it
			}
			ok, errc = p.window[0].fut.Ok(), p.window[0].fut.Err()
		}
		select {
		case <-ok:
			p.popHead()
			p.stats.acked.Add(1)
		case err := <-errc:
			p.log.Debug("publish not acknowledged", "err", err)
			p.window[0].fut = nil
		case <-p.q.ready:
		case <-p.stop:
			stopping = true
		case <-p.runCtx.Done():
			return
		}
	}
}

func (p *Publisher) popHead() {
	p.backoff = 100 * time.Millisecond // an acknowledgement: NATS works
	p.window[0] = inFlight{}
	p.window = p.window[1:]
	if len(p.window) == 0 {
		p.window = p.window[:0:0]
	}
	p.stats.pending.Store(int64(len(p.window)))
}

// retry waits until every publish in flight has an answer, keeps the
// records not acknowledged, waits for the connection, and publishes them
// again in order. It returns false when Close's deadline has passed.
func (p *Publisher) retry(backoff *time.Duration) bool {
	kept := p.window[:0]
	for _, f := range p.window {
		if f.rec == nil {
			continue
		}
		if f.fut != nil {
			select {
			case <-f.fut.Ok():
				p.stats.acked.Add(1)
				continue
			case <-f.fut.Err():
			case <-p.runCtx.Done():
			}
		}
		kept = append(kept, inFlight{rec: f.rec})
	}
	clear(p.window[len(kept):])
	p.window = kept
	p.stats.pending.Store(int64(len(p.window)))
	// Wait before publishing again, longer after each failure in a row
	// (JetStream may be answering "no responders" while it starts), and
	// until the connection is back.
	for first := true; first || p.conn.NC.Status() != nats.CONNECTED; first = false {
		select {
		case <-p.runCtx.Done():
			return false
		case <-time.After(*backoff):
		}
		*backoff = min(2**backoff, 2*time.Second)
	}
	if p.runCtx.Err() != nil {
		return false
	}
	p.log.Info("publishing events again after a failure", "events", len(p.window))
	for i := range p.window {
		p.stats.retried.Add(1)
		f := p.publish(p.window[i].rec)
		p.window[i] = f
		if f.fut == nil {
			select {
			case <-p.runCtx.Done():
				return false
			case <-time.After(*backoff):
			}
			*backoff = min(2**backoff, 2*time.Second)
			break
		}
	}
	return true
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() PublisherStats {
	m, mb, sb := p.q.sizes()
	p.q.mu.Lock()
	blocked := p.q.blocked
	p.q.mu.Unlock()
	return PublisherStats{
		Queued: p.stats.queued.Load(), Acked: p.stats.acked.Load(), Retried: p.stats.retried.Load(),
		Pending: p.stats.pending.Load(), MemoryEvents: m, MemoryBytes: mb, SpoolBytes: sb, Blocked: blocked,
	}
}

// Close stops taking events, publishes what is queued until ctx ends, and
// then writes what is left (unacknowledged or still queued) to the spool
// for the next start. The error says what could not be kept. Idempotent.
func (p *Publisher) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.q.close()
		close(p.stop)
		select {
		case <-p.done:
		case <-ctx.Done():
			p.cancelRun()
			<-p.done
		}
		p.cancelRun()
		var left [][]byte
		for _, f := range p.window {
			if f.rec != nil {
				left = append(left, f.rec)
			}
		}
		m, _, sb := p.q.sizes()
		if len(left)+m == 0 && sb == 0 {
			p.log.Info("every event is in the log")
			return
		}
		if p.q.spool == nil {
			p.closeErr = fmt.Errorf("%d events not published (no spool directory)", len(left)+m)
			return
		}
		n, err := p.q.saveLeft(left)
		if err != nil {
			p.closeErr = fmt.Errorf("%d events not published: spool: %w", len(left)+m, err)
			return
		}
		_, _, sb = p.q.sizes()
		p.log.Warn("events left in the spool for the next start", "events_saved_now", n, "spool_bytes", sb, "dir", p.cfg.SpoolDir)
	})
	return p.closeErr
}
