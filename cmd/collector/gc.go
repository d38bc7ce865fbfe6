package main

import (
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
)

// The collector's garbage collector, unless GOGC or GOMEMLIMIT say
// otherwise. Every event allocates on its way through the sessions, the
// embedded JetStream and the writer, and with Go's default GOGC=100 the
// collector spent about 15% of its CPU collecting. GOGC=400 cut the CPU
// per UPDATE of BenchmarkPipeline/publish by about 11% and of
// BenchmarkWriterPipeline/insert by about 9% (interleaved pairs). A soft
// memory limit keeps that headroom from growing with the live heap: the
// heap stays under minMemoryLimit while the live heap is small. A fixed
// limit would make a collector whose Adj-RIB-In outgrows it (hundreds of
// full-table peers) collect without pause, so after each collection the
// limit becomes the live heap plus half of it, when that is more. With 10
// peers sending 500k routes each (benchingest), a 1 GiB floor let the
// process grow by 206 bytes per route, a 640 MiB one by 134 (BIRD 2: 161)
// for the same time and CPU: the pipeline's live heap is 400-500 MB there,
// so its limit was 1.5x that.
const (
	gcPercent      = 400
	minMemoryLimit = 512 << 20
)

// setGC sets GOGC and starts tuning the memory limit, unless the
// environment sets GOGC or GOMEMLIMIT (then Go's own policy applies as
// set).
func setGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(gcPercent)
	tuneMemoryLimit()
}

// tuneMemoryLimit sets the memory limit from the live heap the last
// collection left, and arms itself again for the next one: a finalizer
// runs once the collection that found its object unreachable is done.
func tuneMemoryLimit() {
	debug.SetMemoryLimit(memoryLimit(liveHeap()))
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) { tuneMemoryLimit() })
}

// gcSentinel is an object only the finalizer refers to (not a tiny
// allocation, which could be kept alive by its neighbours).
type gcSentinel struct{ _ [32]byte }

// memoryLimit is the soft limit for a live heap of live bytes.
func memoryLimit(live uint64) int64 {
	return int64(max(minMemoryLimit, live+live/2))
}

// liveHeap is the heap the last collection found live (0 before the first).
func liveHeap() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
