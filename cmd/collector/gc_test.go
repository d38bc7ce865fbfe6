package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, 512 << 20},         // before the first collection
		{256 << 20, 512 << 20}, // a small live heap: the floor
		{1 << 30, 3 << 29},     // 1 GiB live: 1.5 GiB
		{8 << 30, 12 << 30},    // RIS scale: never under the live heap
	} {
		if got := memoryLimit(c.live); got != c.want {
			t.Errorf("memoryLimit(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}

// TestTuneMemoryLimitFollowsLiveHeap: after a collection that found 1 GiB
// live the limit is 1.5 GiB; after one that found that memory garbage, the
// floor again.
func TestTuneMemoryLimitFollowsLiveHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	tuneMemoryLimit()
	limitAfterGC := func(want func(int64) bool) int64 {
		runtime.GC()
		// The finalizer runs on its own goroutine after the collection.
		var l int64
		for range 200 {
			if l = debug.SetMemoryLimit(-1); want(l) { // -1: read it
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return l
	}
	big := make([]byte, 1<<30)
	if l := limitAfterGC(func(l int64) bool { return l >= 3<<29 }); l < 3<<29 {
		t.Errorf("memory limit with 1 GiB live: %d MiB, want at least 1536", l>>20)
	}
	runtime.KeepAlive(big)
	big = nil
	if l := limitAfterGC(func(l int64) bool { return l == minMemoryLimit }); l != minMemoryLimit {
		t.Errorf("memory limit after the 1 GiB were collected: %d MiB, want %d", l>>20, minMemoryLimit>>20)
	}
}
