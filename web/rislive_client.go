package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// This file owns one client of the live stream (a WebSocket or a
// /v1/stream/ request): its subscriptions, its bounded queue, and its
// replay of the log when it resumes.

// client is one connection. The hub writes to out (never blocking: a full
// queue kills the client); the connection's handler writes control
// messages to ctl and one writer goroutine sends both.
type client struct {
	live *Live
	out  *frameQueue // ris_message frames
	ctl  chan []byte // pong, ris_error, ris_subscribe_ok, ...

	dead     chan struct{} // closed by kill
	deadOnce sync.Once
	deadErr  error // why, set before dead is closed

	// Guarded by live.mu: the hub sends events after sequence after;
	// sentSeq is the last event it sent.
	after, sentSeq uint64

	// subs are the subscriptions by their key. Lock order: Live.mu, then
	// subMu.
	subMu      sync.Mutex
	subs       map[string]*subscription
	includeRaw atomic.Bool
	ack        atomic.Bool
}

func (l *Live) newClient() *client {
	l.connected.Add(1)
	return &client{live: l, out: newFrameQueue(l.opts.QueueLen), ctl: make(chan []byte, 64), dead: make(chan struct{}),
		subs: map[string]*subscription{}}
}

// maxSubscriptions bounds the subscriptions of one connection.
const maxSubscriptions = 100_000

// errTooSlow is the final error of a client dropped by the hub.
func errTooSlow(queue int) error {
	return fmt.Errorf("client too slow: more than %d messages waiting; closing the connection; subscribe to less, or read faster", queue)
}

// kill ends the client with a final error; the first call wins.
func (c *client) kill(err error) {
	c.deadOnce.Do(func() {
		c.deadErr = err
		close(c.dead)
		signal(c.out.ready)
	})
}

// frameFor returns the frame to send for ev, or nil when no subscription
// matches it (the replay's test; the hub uses its index).
func (c *client) frameFor(ev *liveEvent) []byte {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	for _, s := range c.subs {
		if s.match(ev) {
			return ev.frame(c.includeRaw.Load())
		}
	}
	return nil
}

// subList returns the current subscriptions.
func (c *client) subList() []*subscription {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	out := make([]*subscription, 0, len(c.subs))
	for _, s := range c.subs {
		out = append(out, s)
	}
	return out
}

// subscribe adds subscriptions (one already there is kept once). It
// fails past maxSubscriptions.
func (c *client) subscribe(add []*subscription) error {
	c.subMu.Lock()
	if len(c.subs)+len(add) > maxSubscriptions {
		c.subMu.Unlock()
		return fmt.Errorf("more than %d subscriptions on one connection; unsubscribe some, or subscribe to shorter prefixes", maxSubscriptions)
	}
	var added []*subscription
	for _, s := range add {
		if _, ok := c.subs[s.key]; !ok {
			c.subs[s.key] = s
			added = append(added, s)
		}
	}
	c.subMu.Unlock()
	// The index is updated after: Live.join takes c.subMu under Live.mu.
	c.live.subscriptionsChanged(c, added, nil)
	return nil
}

// unsubscribe removes the subscriptions equal to those given; it returns
// how many it removed.
func (c *client) unsubscribe(del []*subscription) int {
	c.subMu.Lock()
	var removed []*subscription
	for _, s := range del {
		if o, ok := c.subs[s.key]; ok {
			delete(c.subs, s.key)
			removed = append(removed, o)
		}
	}
	c.subMu.Unlock()
	c.live.subscriptionsChanged(c, nil, removed)
	return len(removed)
}

// send queues a control message; false when the client is gone.
func (c *client) send(ctx context.Context, frame []byte) bool {
	select {
	case c.ctl <- frame:
		signal(c.out.ready)
		return true
	case <-c.dead:
	case <-ctx.Done():
	}
	return false
}

// sendError queues a ris_error.
func (c *client) sendError(ctx context.Context, msg string) bool {
	return c.send(ctx, errorFrame(msg))
}

func errorFrame(msg string) []byte {
	data, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{msg})
	return appendFrame(nil, "ris_error", data)
}

// next returns the next frame to write: control messages first. final is
// set for the last one (the error that ends a killed client); ok is false
// when ctx ended or the live stream closed. The writer waits on one
// channel, out.ready, which the hub's pushes, send, kill and (through
// wakeOn) the end of ctx and Live.Close signal: a receive from one
// channel costs less than a select over five, once per frame.
func (c *client) next(ctx context.Context) (frame []byte, final, ok bool) {
	for {
		select {
		case <-c.dead: // killed: what waits is not worth sending
			return errorFrame(c.deadErr.Error()), true, true
		default:
		}
		select {
		case f := <-c.ctl:
			return f, false, true
		default:
		}
		if f, ok := c.out.pop(); ok {
			return f, false, true
		}
		if ctx.Err() != nil || c.live.closed.Load() {
			return nil, false, false
		}
		<-c.out.ready
	}
}

// wakeOn makes the end of ctx, and Live.Close, wake the client's writer
// waiting in next; call the returned function when the writer is done.
func (c *client) wakeOn(ctx context.Context) (stop func()) {
	wake := func() { signal(c.out.ready) }
	s1 := context.AfterFunc(ctx, wake)
	s2 := context.AfterFunc(c.live.closing, wake)
	return func() { s1(); s2() }
}

// pending reports whether a frame is waiting (the stream flushes when
// none is).
func (c *client) pending() bool { return len(c.ctl) > 0 || c.out.len() > 0 }

// queue puts a frame of the replay on the client's queue, waiting for
// room; false when the client or ctx ended.
func (c *client) queue(ctx context.Context, f []byte) bool {
	for !c.out.push(f) {
		select {
		case <-c.out.room:
		case <-c.dead:
			return false
		case <-ctx.Done():
			return false
		}
	}
	c.live.sent.Add(1)
	return true
}

// resumeSeq is the log sequence a resume point starts at.
func (l *Live) resumeSeq(ctx context.Context, r resumePoint) (uint64, error) {
	log := l.eventLog()
	if log == nil {
		return 0, errors.New(r.String() + ": lg is not connected to the event log yet")
	}
	if r.afterID != "" {
		seq, err := log.SeqOf(ctx, r.afterID)
		if err != nil {
			return 0, fmt.Errorf("afterId %q: %w", r.afterID, err)
		}
		return seq + 1, nil
	}
	seq, err := log.SeqAt(ctx, r.since)
	if err != nil {
		return 0, fmt.Errorf("since %s: %w", r.since.UTC().Format(time.RFC3339Nano), err)
	}
	return seq, nil
}

// resume replays the log from r for c, then joins the hub. A resume point
// the log cannot find is reported with a ris_error, and c streams from now.
func (c *client) resume(ctx context.Context, r resumePoint) {
	select {
	case c.live.replays <- struct{}{}:
		defer func() { <-c.live.replays }()
	case <-ctx.Done():
		return
	case <-c.dead:
		return
	}
	start, err := c.live.resumeSeq(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		c.live.joinNow(c)
		c.sendError(ctx, err.Error()+"; streaming from now on")
		return
	}
	if err := c.replay(ctx, start); err != nil && ctx.Err() == nil {
		c.kill(fmt.Errorf("reading the event log: %v", err))
	}
}

// logMsg is a message of the log as Follow hands it over.
type logMsg struct {
	seq  uint64
	data []byte
}

// replay sends c the matching events from sequence start on, until it has
// caught up with the hub, and joins it there.
func (c *client) replay(ctx context.Context, start uint64) error {
	reached := start - 1
	if c.live.joinAfter(c, reached) {
		return nil
	}
	fctx, cancel := context.WithCancel(ctx)
	msgs := make(chan logMsg, 256)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		errc <- c.live.eventLog().Follow(fctx, start, func(seq uint64, data []byte) error {
			select {
			case msgs <- logMsg{seq, data}:
				return nil
			case <-fctx.Done():
				return fctx.Err()
			}
		})
	})
	defer wg.Wait()
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var ev liveEvent
	for {
		select {
		case m := <-msgs:
			ev.reset(m.seq, m.data)
			if err := ev.ev.DecodeJSON(m.data); err == nil {
				if f := c.frameFor(&ev); f != nil && !c.queue(ctx, f) {
					return nil
				}
			}
			reached = m.seq
			if c.live.posA.Load() <= reached && c.live.joinAfter(c, reached) {
				return nil
			}
		case <-tick.C:
			if c.live.joinAfter(c, reached) {
				return nil
			}
		case err := <-errc:
			if err == nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		case <-c.dead:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}
