package web

import "sync"

// frameQueue is a client's queue of ris_message frames: bounded in
// messages, but holding memory only for what waits (1,000 idle clients
// cost nothing). The hub pushes without waiting; a replay waits for room.
type frameQueue struct {
	mu    sync.Mutex
	buf   [][]byte
	head  int
	max   int
	ready chan struct{} // a frame was pushed
	room  chan struct{} // a frame was popped
}

func newFrameQueue(max int) *frameQueue {
	return &frameQueue{max: max, ready: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

// push queues f; false when the queue is full.
func (q *frameQueue) push(f []byte) bool {
	q.mu.Lock()
	if len(q.buf)-q.head >= q.max {
		q.mu.Unlock()
		return false
	}
	q.buf = append(q.buf, f)
	q.mu.Unlock()
	signal(q.ready)
	return true
}

// pop returns the oldest frame; false when the queue is empty.
func (q *frameQueue) pop() ([]byte, bool) {
	q.mu.Lock()
	if q.head == len(q.buf) {
		q.mu.Unlock()
		return nil, false
	}
	f := q.buf[q.head]
	q.buf[q.head] = nil
	q.head++
	if q.head == len(q.buf) { // empty: start again, and give back a large buffer
		q.head = 0
		if cap(q.buf) > 1024 {
			q.buf = nil
		} else {
			q.buf = q.buf[:0]
		}
	}
	q.mu.Unlock()
	signal(q.room)
	return f, true
}

// len returns how many frames wait.
func (q *frameQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf) - q.head
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
