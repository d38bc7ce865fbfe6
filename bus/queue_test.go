package bus

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func rec(i int) []byte {
	return []byte(fmt.Sprintf("record %06d %s", i, bytes.Repeat([]byte("x"), i%50)))
}

// TestQueueKeepsOrderThroughSpool pushes more than memory holds, so that
// records spill to the spool, while popping now and then: every record
// comes out once, in order.
func TestQueueKeepsOrderThroughSpool(t *testing.T) {
	sp, err := openSpool(t.TempDir(), 1<<20, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(2000, sp)
	var out [][]byte
	next := 0
	for i := 0; i < 5000; i++ {
		if _, err := q.push(t.Context(), [][]byte{rec(i)}); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			if out, err = q.pop(out[:0], 3); err != nil {
				t.Fatal(err)
			}
			for _, r := range out {
				if !bytes.Equal(r, rec(next)) {
					t.Fatalf("popped %q, want %q", r, rec(next))
				}
				next++
			}
		}
	}
	if sp.empty() {
		t.Fatal("nothing spilled to the spool; the test does not test it")
	}
	for {
		if out, err = q.pop(out[:0], 100); err != nil {
			t.Fatal(err)
		}
		if len(out) == 0 {
			break
		}
		for _, r := range out {
			if !bytes.Equal(r, rec(next)) {
				t.Fatalf("popped %q, want %q", r, rec(next))
			}
			next++
		}
	}
	if next != 5000 {
		t.Errorf("popped %d records, want 5000", next)
	}
	if entries, _ := os.ReadDir(sp.dir); len(entries) > 1 {
		t.Errorf("%d spool segments left after reading everything", len(entries))
	}
}

// TestQueueBlocksWhenFull checks the backpressure: with memory and spool
// full, push waits until a pop makes room (or its context ends).
func TestQueueBlocksWhenFull(t *testing.T) {
	sp, err := openSpool(t.TempDir(), 300, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(100, sp)
	i := 0
	for ; ; i++ {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		n, err := q.push(ctx, [][]byte{rec(i)})
		cancel()
		if err != nil {
			if n != 0 {
				t.Fatal("push reported a record queued and an error")
			}
			break
		}
	}
	if q.blocked == 0 {
		t.Error("a push that waited was not counted")
	}
	done := make(chan error)
	go func() { _, err := q.push(context.Background(), [][]byte{rec(i)}); done <- err }()
	select {
	case <-done:
		t.Fatal("push did not wait for room")
	case <-time.After(100 * time.Millisecond):
	}
	// Records leave in order, memory first: the waiting push gets in once
	// the spool has room again, which takes reading it all.
	deadline := time.After(10 * time.Second)
	for {
		if _, err := q.pop(nil, 1); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("push after room was made: %v", err)
			}
			return
		case <-deadline:
			t.Fatal("push still waits after the queue was read")
		case <-time.After(time.Millisecond):
		}
	}
}

// TestSpoolSurvivesRestart writes records, closes the spool as at a
// shutdown with records left in flight, reopens it, and reads every
// record in order; a damaged last record is skipped with the rest intact.
func TestSpoolSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	sp, err := openSpool(dir, 1<<20, log)
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(1000, sp)
	for i := 10; i < 100; i++ {
		q.push(t.Context(), [][]byte{rec(i)})
	}
	// Records 0-9 were in flight (popped, never acknowledged).
	var inFlight [][]byte
	for i := 0; i < 10; i++ {
		inFlight = append(inFlight, rec(i))
	}
	if n, err := q.saveLeft(inFlight); err != nil || n == 0 {
		t.Fatal(n, err)
	}
	// A torn write at the end of the last segment.
	entries, _ := os.ReadDir(dir)
	last := filepath.Join(dir, entries[len(entries)-1].Name())
	f, _ := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{50, 0, 0, 0, 1, 2})
	f.Close()

	sp2, err := openSpool(dir, 1<<20, log)
	if err != nil {
		t.Fatal(err)
	}
	q2 := newQueue(1000, sp2)
	got, err := q2.pop(nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 {
		t.Fatalf("read %d records back, want 100", len(got))
	}
	for i, r := range got {
		if !bytes.Equal(r, rec(i)) {
			t.Fatalf("record %d is %q", i, r)
		}
	}
}
