package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
	"github.com/vantage-bgp/vantage/schema"
)

// risJSON returns the JSON of the UPDATE events of a shared RIS updates
// file, as the log holds them.
func risJSON(b *testing.B) [][]byte {
	path := shareddata.Path(b, "mrt", "mrt-rs", "res", "updates.20190101.0000.gz")
	conv := &collector.MRTConverter{Host: "bench", Source: filepath.Base(path)}
	var out [][]byte
	err := collector.ScanMRTFile(path, 0, nil, nil, func(rec bgpwire.MRTRecord) error {
		conv.Convert(rec, func(ev *schema.Event) error {
			if ev.Type == schema.TypeUpdate {
				out = append(out, ev.AppendJSON(nil))
			}
			return nil
		})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(out) == 0 {
		b.Fatalf("%s: no UPDATE events", path)
	}
	return out
}

// pipelineBatch is the number of events the writer's stages take at once
// (the log consumer hands over up to clickhouse.batch_size, 50,000, or
// what one flush interval brings).
const pipelineBatch = 10_000

// BenchmarkWriterPipeline measures the writer's CPU per real RIS UPDATE
// event, one event per operation, stage by stage, each sub-benchmark
// adding one stage to the one before (collector's BenchmarkPipeline has
// the stages before the log):
//
//	decode  Event.DecodeJSON of the message, into the reused events of the
//	        last batch, as bus.Consume does
//	rows    + the events become column slices (what DB.Insert builds)
//	insert  + DB.Insert into a real ClickHouse, batches of 10,000 events
//
// insert reports cpu-ns/op: this process's CPU, and server-cpu-ns/op:
// the clickhouse-server's.
func BenchmarkWriterPipeline(b *testing.B) {
	msgs := risJSON(b)
	events := make([]schema.Event, 0, pipelineBatch)
	// decode decodes message i into the batch.
	decode := func(i int) {
		if len(events) == cap(events) {
			events = events[:0]
		}
		events = events[:len(events)+1]
		if err := events[len(events)-1].DecodeJSON(msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			decode(i)
			i++
		}
	})
	b.Run("rows", func(b *testing.B) {
		b.ReportAllocs()
		events = events[:0]
		rows := 0
		for i := range b.N {
			decode(i)
			if len(events) == cap(events) || i == b.N-1 {
				c := chunk{routes: &routeBatch{}, peers: &peerBatch{}}
				addEvents(nil, c.routes, c.peers, events)
				rows += c.size()
			}
		}
		b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
	})
	b.Run("insert", func(b *testing.B) {
		if testServer == nil {
			testenv.Skip(b, testSkip)
		}
		db := testDB(b)
		b.ReportAllocs()
		b.ResetTimer()
		events = events[:0]
		cpu0, srv0 := processCPU(), serverCPU(b)
		for i := range b.N {
			decode(i)
			if len(events) == cap(events) || i == b.N-1 {
				if err := db.Insert(b.Context(), events); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(serverCPU(b)-srv0)/float64(b.N), "server-cpu-ns/op")
	})
}

// processCPU is the CPU time (user and system) the process has used so
// far, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// serverCPU is the CPU time the test's clickhouse-server has used so far,
// in nanoseconds (0 when it cannot be read).
func serverCPU(b *testing.B) int64 {
	pid, ok := statusPID(testServer.status)
	if !ok {
		return 0
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command's closing parenthesis: state is field 3,
	// utime and stime (clock ticks, 100 a second) fields 14 and 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return (ut + st) * int64(10*time.Millisecond)
}
