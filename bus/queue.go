package bus

import (
	"context"
	"errors"
	"sync"
)

// queue is the publisher's FIFO of encoded records: in memory up to a byte
// bound, then in the on-disk spool (when there is one) up to its bound.
// Once a record has gone to the spool, every later record goes there too
// until the spool is empty again, so records leave in the order they came.
// When both are full, push blocks: that is the backpressure that reaches
// the BGP sessions, and the only one.
type queue struct {
	mu       sync.Mutex
	mem      [][]byte // mem[head:] are queued
	head     int
	memBytes int
	maxMem   int
	spool    *spool // nil: memory only

	ready  chan struct{} // a record was pushed (capacity 1)
	space  chan struct{} // a record was taken (capacity 1)
	done   chan struct{} // closed by close
	closed bool

	// blocked counts the pushes that had to wait for room.
	blocked int64
}

var errQueueClosed = errors.New("publisher closed")

func newQueue(maxMem int, sp *spool) *queue {
	return &queue{maxMem: maxMem, spool: sp, ready: make(chan struct{}, 1), space: make(chan struct{}, 1), done: make(chan struct{})}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// push queues records in order, waiting for room when memory and spool
// are full. It returns how many were queued before an error.
func (q *queue) push(ctx context.Context, recs [][]byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	waited := false
	for i := 0; i < len(recs); {
		if q.closed {
			return i, errQueueClosed
		}
		rec := recs[i]
		spooling := q.spool != nil && !q.spool.empty()
		switch {
		case !spooling && (q.memBytes+len(rec) <= q.maxMem || q.memLen() == 0):
			q.mem = append(q.mem, rec)
			q.memBytes += len(rec)
		case q.spool != nil && q.spool.fits(len(rec)):
			if err := q.spool.append(rec); err != nil {
				return i, err
			}
		default:
			if !waited {
				q.blocked++
				waited = true
			}
			signal(q.ready)
			q.mu.Unlock()
			select {
			case <-q.space:
			case <-q.done:
			case <-ctx.Done():
				q.mu.Lock()
				return i, ctx.Err()
			}
			q.mu.Lock()
			continue
		}
		i++
	}
	signal(q.ready)
	return len(recs), nil
}

func (q *queue) memLen() int { return len(q.mem) - q.head }

// blockedCount returns how many pushes have waited for room.
func (q *queue) blockedCount() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.blocked
}

// pop appends up to max records to dst, oldest first: memory, then spool.
func (q *queue) pop(dst [][]byte, max int) ([][]byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for n < max && q.memLen() > 0 {
		rec := q.mem[q.head]
		q.mem[q.head] = nil
		q.head++
		q.memBytes -= len(rec)
		dst = append(dst, rec)
		n++
	}
	if q.memLen() == 0 {
		q.mem, q.head = q.mem[:0], 0
	} else if q.head > 4096 && q.head > len(q.mem)/2 {
		q.mem = append(q.mem[:0], q.mem[q.head:]...)
		q.head = 0
	}
	for n < max && q.spool != nil && q.memLen() == 0 && !q.spool.empty() {
		rec, err := q.spool.next()
		if err != nil {
			return dst, err
		}
		if rec == nil {
			break
		}
		dst = append(dst, rec)
		n++
	}
	if n > 0 || q.spool != nil {
		signal(q.space) // a read may also have deleted a spool segment
	}
	return dst, nil
}

// sizes returns the records and bytes in memory and the spool's bytes.
func (q *queue) sizes() (memRecords, memBytes int, spoolBytes int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.spool != nil {
		spoolBytes = q.spool.size
	}
	return q.memLen(), q.memBytes, spoolBytes
}

// close refuses further pushes and wakes blocked ones.
func (q *queue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.done)
	}
	q.mu.Unlock()
}

// saveLeft writes unpublished records (older than what the queue holds)
// and what memory holds to the front of the spool, for the next start.
// It returns how many records were saved.
func (q *queue) saveLeft(inFlight [][]byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	left := append(inFlight, q.mem[q.head:]...)
	if q.spool == nil {
		return 0, nil
	}
	if err := q.spool.prepend(left); err != nil {
		return 0, err
	}
	q.mem, q.head, q.memBytes = nil, 0, 0
	return len(left), q.spool.close()
}
