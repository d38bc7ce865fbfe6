package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/schema"
)

// ReadAll returns every event the log holds now, in stream order (for
// tests and small tools; a reader of a live log uses Follow).
func ReadAll(ctx context.Context, c *Conn) ([]schema.Event, error) {
	info, err := c.Stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the log: %w", err)
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	cons, err := c.Stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("read the log: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("read the log: %w", err)
	}
	defer it.Stop()
	evs := make([]schema.Event, 0, info.State.Msgs)
	for {
		m, err := it.Next(jetstream.NextMaxWait(10 * time.Second))
		if err != nil {
			return nil, fmt.Errorf("read the log: %w", err)
		}
		var ev schema.Event
		if err := ev.DecodeJSON(m.Data()); err != nil {
			return nil, fmt.Errorf("read the log: %s: %w", m.Subject(), err)
		}
		evs = append(evs, ev)
		if md, err := m.Metadata(); err == nil && md.Sequence.Stream >= info.State.LastSeq {
			return evs, nil
		}
	}
}
