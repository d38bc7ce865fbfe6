package web

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// This file owns the live stream's hub: one reader of the event log whose
// events are matched against every connected client's subscriptions and
// put on their bounded queues (RIS Live's protocol on /v1/ws/ and
// /v1/stream/ is in rislive_ws.go and rislive_stream.go).
//
// A client that resumes (afterId, since) first replays the log from that
// point with its own reader (rislive_client.go), then joins the hub at the
// sequence it reached: the hub gives it only events after that, so nothing
// is missed or sent twice. A client whose queue is full is dropped by the
// hub (it gets a final ris_error); the hub never waits for a client.

// EventLog is what the live stream reads: the event log (the JetStream
// stream), by position. *bus.Log implements it.
type EventLog interface {
	// Last is the sequence of the last event in the log (0: empty).
	Last(ctx context.Context) (uint64, error)
	// Follow calls fn with every event from sequence start on, in order,
	// until ctx ends (nil) or fn fails (its error).
	Follow(ctx context.Context, start uint64, fn func(seq uint64, data []byte) error) error
	// SeqAt is the sequence of the first event stored at or after t.
	SeqAt(ctx context.Context, t time.Time) (uint64, error)
	// SeqOf is the sequence of the event with this id.
	SeqOf(ctx context.Context, id string) (uint64, error)
}

// LiveOptions tunes the live stream. The zero value means the defaults.
type LiveOptions struct {
	// QueueLen is how many messages may wait for a client; a client that
	// falls further behind is closed with a ris_error (default 4096).
	QueueLen int
	// WriteTimeout bounds one write to a client (default 30s).
	WriteTimeout time.Duration
	// ResumeSettle is how long a resuming WebSocket waits after its last
	// ris_subscribe before it replays (default 250ms), so that a burst of
	// subscriptions is replayed together.
	ResumeSettle time.Duration
	// MaxReplays bounds the clients that replay the log at once (each
	// decodes every event of its window); others wait (default 16).
	MaxReplays int
	Log        *slog.Logger
}

// Live is the live stream: Run reads the log, the handlers of /v1/ws/ and
// /v1/stream/ (New, with Options.Live) serve clients from it.
type Live struct {
	opts LiveOptions
	lg   *slog.Logger

	mu      sync.Mutex
	log     EventLog             // set by Run
	ready   bool                 // pos is known: Run has read the log's end
	pos     uint64               // sequence of the last event dispatched
	clients map[*client]struct{} // joined clients
	index   *subIndex            // their subscriptions
	hosts   map[string]struct{}  // collectors seen, for request_rrc_list
	dropped []*client            // scratch of advance

	// atomic copy of pos, for a replay's cheap "have I caught up?" check.
	posA atomic.Uint64
	// Dropped counts clients closed for being too slow; sent the frames
	// queued; connected the connections.
	Dropped   atomic.Int64
	sent      atomic.Int64
	connected atomic.Int64

	replays chan struct{} // a slot per replay in progress
	// Close sets closed, then ends closing: every client ends.
	closed    atomic.Bool
	closing   context.Context
	closeNow  context.CancelFunc
	closeOnce sync.Once
}

// NewLive returns the live stream. Run starts it over a log; until then
// clients connect and wait.
func NewLive(opts LiveOptions) *Live {
	if opts.QueueLen <= 0 {
		opts.QueueLen = 4096
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.ResumeSettle <= 0 {
		opts.ResumeSettle = 250 * time.Millisecond
	}
	if opts.MaxReplays <= 0 {
		opts.MaxReplays = 16
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	l := &Live{opts: opts, replays: make(chan struct{}, opts.MaxReplays), lg: opts.Log, clients: map[*client]struct{}{}, index: newSubIndex(), hosts: map[string]struct{}{}}
	l.closing, l.closeNow = context.WithCancel(context.Background())
	return l
}

// Close ends every client's connection (a WebSocket with a normal
// closure): call it before shutting the HTTP server down, whose Shutdown
// would wait for streaming responses. It does not stop Run.
func (l *Live) Close() {
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		l.closeNow()
	})
}

// Run reads the log from its end and dispatches every event, until ctx
// ends. A failing log is retried from where it stopped. Call it once.
func (l *Live) Run(ctx context.Context, log EventLog) error {
	l.mu.Lock()
	l.log = log
	l.mu.Unlock()
	for !l.isReady() {
		last, err := log.Last(ctx)
		if err == nil {
			l.mu.Lock()
			l.pos, l.ready = last, true
			l.posA.Store(last)
			l.mu.Unlock()
			break
		}
		l.lg.Warn("live stream: reading the event log's end", "err", err)
		if !sleepCtx(ctx, time.Second) {
			return nil
		}
	}
	for ctx.Err() == nil {
		var scratch liveEvent
		err := log.Follow(ctx, l.posA.Load()+1, func(seq uint64, data []byte) error {
			scratch.reset(seq, data)
			if err := scratch.ev.DecodeJSON(data); err != nil {
				l.lg.Warn("live stream: skipping a log message that is not an event", "seq", seq, "err", err)
				l.advance(seq, nil)
				return nil
			}
			l.advance(seq, &scratch)
			return nil
		})
		if err != nil {
			l.lg.Warn("live stream: following the event log", "err", err)
		}
		sleepCtx(ctx, time.Second)
	}
	return nil
}

// eventLog returns the log Run reads (nil before Run).
func (l *Live) eventLog() EventLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.log
}

func (l *Live) isReady() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ready
}

// advance dispatches the event of sequence seq (nil: not an event) to the
// joined clients, dropping those whose queue is full.
func (l *Live) advance(seq uint64, ev *liveEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pos = seq
	l.posA.Store(seq)
	if ev == nil {
		return
	}
	if _, ok := l.hosts[ev.ev.Host]; !ok && len(l.hosts) < 10_000 {
		l.hosts[ev.ev.Host] = struct{}{}
	}
	l.index.candidates(ev, func(r subRef) {
		c := r.c
		if c.sentSeq == seq || seq <= c.after || !r.s.match(ev) {
			return
		}
		c.sentSeq = seq // once per event, however many subscriptions match
		if !c.out.push(ev.frame(c.includeRaw.Load())) {
			l.dropped = append(l.dropped, c)
			return
		}
		l.sent.Add(1)
	})
	for _, c := range l.dropped {
		if _, ok := l.clients[c]; ok {
			l.unjoin(c)
			l.Dropped.Add(1)
			c.kill(errTooSlow(l.opts.QueueLen))
		}
	}
	clear(l.dropped)
	l.dropped = l.dropped[:0]
}

// join adds c to the joined clients and its subscriptions to the index;
// l.mu is held.
func (l *Live) join(c *client) {
	l.clients[c] = struct{}{}
	for _, s := range c.subList() {
		l.index.add(subRef{c, s})
	}
}

// unjoin is the reverse of join; l.mu is held.
func (l *Live) unjoin(c *client) {
	if _, ok := l.clients[c]; !ok {
		return
	}
	delete(l.clients, c)
	for _, s := range c.subList() {
		l.index.remove(subRef{c, s})
	}
}

// subscriptionsChanged updates the index after c's subscriptions changed
// (c.subMu is not held): added ones are indexed when c is joined, removed ones
// are dropped from it in any case.
func (l *Live) subscriptionsChanged(c *client, added, removed []*subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range removed {
		l.index.remove(subRef{c, s})
	}
	if _, ok := l.clients[c]; ok {
		for _, s := range added {
			l.index.add(subRef{c, s})
		}
	}
}

// joinNow makes c receive every event after the hub's position.
func (l *Live) joinNow(c *client) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.after = l.pos
	l.join(c)
}

// joinAfter makes c receive every event after seq, if the hub has not
// dispatched any of them yet; false when it has (the client replays on).
func (l *Live) joinAfter(c *client, seq uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ready || l.pos > seq {
		return false
	}
	c.after = seq
	l.join(c)
	return true
}

// leave stops dispatching to c, whose connection ends.
func (l *Live) leave(c *client) {
	l.connected.Add(-1)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unjoin(c)
}

// Hosts returns the collectors whose events the hub has seen, sorted.
func (l *Live) Hosts() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.hosts))
	for h := range l.hosts {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// liveEvent is one event of the log, decoded once, with its frames built
// once for every client that wants them.
type liveEvent struct {
	seq     uint64
	data    []byte // the event's JSON as in the log
	ev      schema.Event
	path    []pathItem
	pathSet bool
	withRaw []byte // {"type":"ris_message","data":...} as logged
	noRaw   []byte // the same without raw
}

func (e *liveEvent) reset(seq uint64, data []byte) {
	*e = liveEvent{seq: seq, data: data}
}

func (e *liveEvent) pathItems() []pathItem {
	if !e.pathSet {
		e.path, e.pathSet = flattenPath(e.ev.Path), true
	}
	return e.path
}

// frame returns the ris_message frame of the event; frames are shared
// between clients and never changed.
func (e *liveEvent) frame(includeRaw bool) []byte {
	if e.ev.Raw == "" {
		includeRaw = true // the same frame either way
	}
	slot := &e.noRaw
	if includeRaw {
		slot = &e.withRaw
	}
	if *slot == nil {
		*slot = appendFrame(nil, "ris_message", e.risData(includeRaw))
	}
	return *slot
}

// risData is the event's JSON as RIS Live writes it: the log's, except
// that aggregator is "ASN:ADDRESS" (as RIS Live has it, and its clients
// parse it) and raw only when asked for.
func (e *liveEvent) risData(includeRaw bool) []byte {
	if e.ev.Aggregator == nil && (includeRaw || e.ev.Raw == "") {
		return e.data
	}
	ev := e.ev
	if !includeRaw {
		ev.Raw = ""
	}
	agg := ev.Aggregator
	ev.Aggregator = nil
	b := ev.AppendJSON(nil)
	if agg != nil && len(b) > 0 && b[len(b)-1] == '}' {
		b = append(b[:len(b)-1], `,"aggregator":"`...)
		b = strconv.AppendUint(b, uint64(agg.ASN), 10)
		b = append(b, ':')
		if agg.Address.IsValid() {
			b = agg.Address.AppendTo(b)
		} else {
			b = append(b, "0.0.0.0"...)
		}
		b = append(b, `"}`...)
	}
	return b
}

// appendFrame writes {"type":TYPE,"data":DATA}.
func appendFrame(dst []byte, typ string, data []byte) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","data":`...)
	dst = append(dst, data...)
	return append(dst, '}')
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
