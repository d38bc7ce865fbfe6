package collector

import (
	"context"
	"log/slog"
	"sync"

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
// sessions (events are never dropped). fanout owns flushing: close
// delivers what is queued and waits for the sinks.
type fanout struct {
	log    *slog.Logger
	queues []chan []schema.Event
	wg     sync.WaitGroup
	once   sync.Once
}

const (
	fanoutQueue = 1024 // batches per sink
	maxBatch    = 1024 // events per batch
)

func newFanout(log *slog.Logger, sinks []NamedSink) *fanout {
	f := &fanout{log: log}
	for _, s := range sinks {
		q := make(chan []schema.Event, fanoutQueue)
		f.queues = append(f.queues, q)
		f.wg.Go(func() {
			for batch := range q {
				// Sinks get a context that is not cancelled on shutdown,
				// so that the last batches are written.
				if err := s.Sink.Write(context.Background(), batch); err != nil {
					log.Error("sink write failed", "sink", s.Name, "events", len(batch), "err", err)
				}
			}
		})
	}
	return f
}

// send delivers one batch (not retained by the caller afterwards) to
// every sink.
func (f *fanout) send(batch []schema.Event) {
	for _, q := range f.queues {
		q <- batch
	}
}

// close flushes every queue and waits for the sinks. Idempotent.
func (f *fanout) close() {
	f.once.Do(func() {
		for _, q := range f.queues {
			close(q)
		}
	})
	f.wg.Wait()
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
