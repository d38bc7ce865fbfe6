package bus

import (
	"context"
	"fmt"
	"time"
)

// Flush waits until every event queued so far (those an earlier run left
// in the spool included) is acknowledged by JetStream, or ctx ends. The
// collector calls it at start, before it reads the peers' last events from
// the log, so that what the spool held counts.
func (p *Publisher) Flush(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		st := p.Stats()
		if st.MemoryEvents == 0 && st.SpoolBytes == 0 && st.Pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("publishing what the spool held: %w (%d bytes still in the spool)", ctx.Err(), st.SpoolBytes)
		case <-t.C:
		}
	}
}
