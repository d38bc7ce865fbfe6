package collector

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// Sink receives batches of events. Implementations must not keep the
// slice after Write returns. A Sink is called from one goroutine only.
type Sink interface {
	Write(ctx context.Context, events []schema.Event) error
}

// NamedSink is a sink with a name for logs.
type NamedSink struct {
	Name string
	Sink Sink
}

// fanout delivers every event to every sink, each sink from its own
// goroutine with its own bounded queue, so that a slow sink delays only
// itself until its queue is full, then applies backpressure to the
// sessions. A failed write is retried (with backoff) until it succeeds:
// events are not dropped while the collector runs. fanout owns flushing:
// close delivers what is queued, and gives up on a sink that has not taken
// it when close's deadline passes (counting and logging what it dropped).
type fanout struct {
	log    *slog.Logger
	stats  *Stats
	queues []chan []schema.Event
	wg     sync.WaitGroup
	once   sync.Once
	// ctx is the sinks' context; cancelled when close's deadline passes.
	ctx    context.Context
	cancel context.CancelFunc
}

const (
	fanoutQueue = 1024 // batches per sink
	maxBatch    = 1024 // events per batch
)

func newFanout(log *slog.Logger, stats *Stats, sinks []NamedSink) *fanout {
	f := &fanout{log: log, stats: stats}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	for _, s := range sinks {
		q := make(chan []schema.Event, fanoutQueue)
		f.queues = append(f.queues, q)
		f.wg.Go(func() {
			for batch := range q {
				f.deliver(s, batch)
			}
		})
	}
	return f
}

// deliver writes one batch to a sink, retrying until it succeeds or the
// shutdown deadline has passed.
func (f *fanout) deliver(s NamedSink, batch []schema.Event) {
	backoff := 100 * time.Millisecond
	for {
		err := s.Sink.Write(f.ctx, batch)
		if err == nil {
			return
		}
		if f.ctx.Err() != nil {
			f.stats.Undelivered.Add(int64(len(batch)))
			f.log.Error("events not delivered at shutdown", "sink", s.Name, "events", len(batch), "err", err)
			return
		}
		f.stats.SinkRetries.Add(1)
		f.log.Warn("sink write failed; retrying", "sink", s.Name, "events", len(batch), "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-f.ctx.Done():
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// send delivers one batch (not retained by the caller afterwards) to
// every sink.
func (f *fanout) send(batch []schema.Event) {
	for _, q := range f.queues {
		q <- batch
	}
}

// close flushes every queue and waits for the sinks until ctx ends; then
// what the sinks have not taken is dropped, counted and logged.
// Idempotent.
func (f *fanout) close(ctx context.Context) {
	f.once.Do(func() {
		for _, q := range f.queues {
			close(q)
		}
	})
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		f.cancel()
		// The sinks' writes now fail at once; drain what is queued.
		for _, q := range f.queues {
			for batch := range q {
				f.stats.Undelivered.Add(int64(len(batch)))
			}
		}
		<-done
	}
	f.cancel()
}

// batcher collects events from many sessions into batches for the
// fan-out: it takes what is ready without waiting, so a lone event is
// delivered at once and a burst goes out in large batches.
func runBatcher(in <-chan schema.Event, out *fanout) {
	for ev := range in {
		batch := make([]schema.Event, 1, 64)
		batch[0] = ev
	more:
		for len(batch) < maxBatch {
			select {
			case ev, ok := <-in:
				if !ok {
					break more
				}
				batch = append(batch, ev)
			default:
				break more
			}
		}
		out.send(batch)
	}
}
