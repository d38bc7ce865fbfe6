package collector

import (
	"context"
	"encoding/binary"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/schema"
)

// risMessage is one UPDATE as a session reads it: the body, and the
// session's decoding options and peer.
type risMessage struct {
	body    []byte
	opts    bgpwire.DecodeOptions
	peer    netip.Addr
	peerASN uint32
}

// risMessages reads the UPDATEs of a shared RIS updates file.
func risMessages(b *testing.B) []risMessage {
	path := shareddata.Path(b, "mrt", "mrt-rs", "res", "updates.20190101.0000.gz")
	var msgs []risMessage
	var m bgpwire.BGP4MP
	err := ScanMRTFile(path, 0, nil, nil, func(rec bgpwire.MRTRecord) error {
		if m.Decode(rec.Header, rec.Body) != nil || !m.IsMessage || m.MsgType != bgpwire.MsgUpdate || m.Cut > 0 {
			return nil
		}
		msgs = append(msgs, risMessage{body: append([]byte(nil), m.MsgBody...), opts: *m.DecodeOptions(), peer: m.PeerAddr, peerASN: m.PeerASN})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(msgs) == 0 {
		b.Fatalf("%s: no UPDATEs", path)
	}
	return msgs
}

// BenchmarkPipeline measures the collector's CPU per real RIS UPDATE, one
// UPDATE per operation, stage by stage, each sub-benchmark adding one
// stage to the one before:
//
//	decode   bgpwire decodes the UPDATE into a reused value
//	event    + FillUpdate builds the event, the session's Adj-RIB-In
//	         applies it (route counts), emit stamps it (seq, time, id)
//	         and it is copied into a batch, as the batcher does
//	record   + the publisher's record: subject, id and JSON in one slice
//	publish  + Publisher.Write into an embedded JetStream, every
//	         publish acknowledged before the benchmark ends
//
// The writer's stages (DecodeJSON, rows, INSERT) are storage's
// BenchmarkWriterPipeline.
func BenchmarkPipeline(b *testing.B) {
	msgs := risMessages(b)
	srv := &Server{cfg: Config{Host: "bench"}, peers: map[netip.Addr]*peerCounters{}, started: time.Now()}
	// Each peer's session has its own Adj-RIB-In: ribs[ribOf[i]] is
	// message i's (an index, not a pointer, so that the collector's
	// scans of the heap do not grow with the file).
	var ribs []adjRIBIn
	ribOf := make([]uint16, len(msgs))
	index := map[netip.Addr]uint16{}
	for i, m := range msgs {
		j, ok := index[m.peer]
		if !ok {
			j = uint16(len(ribs))
			index[m.peer] = j
			ribs = append(ribs, adjRIBIn{})
		}
		ribOf[i] = j
	}
	var u bgpwire.Update
	// event decodes message i and builds its event into the batch.
	event := func(i int, batch []schema.Event) []schema.Event {
		m := &msgs[i%len(msgs)]
		if err := u.Decode(m.body, &m.opts); err != nil {
			b.Fatal(err)
		}
		ev := schema.Event{Type: schema.TypeUpdate, Peer: m.peer, PeerASN: m.peerASN}
		FillUpdate(&ev, &u)
		ribs[ribOf[i%len(msgs)]].apply(&ev, nil)
		srv.stamp(&ev, time.Now())
		if len(batch) == maxBatch {
			batch = make([]schema.Event, 0, 64) // the batcher's new batch
		}
		return append(batch, ev)
	}

	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m := &msgs[i%len(msgs)]
			if err := u.Decode(m.body, &m.opts); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("event", func(b *testing.B) {
		b.ReportAllocs()
		var batch []schema.Event
		i := 0
		for b.Loop() {
			batch = event(i, batch)
			i++
		}
	})
	b.Run("record", func(b *testing.B) {
		b.ReportAllocs()
		var batch []schema.Event
		var scr []byte
		i := 0
		for b.Loop() {
			batch = event(i, batch)
			scr = appendRecord(scr[:0], &batch[len(batch)-1])
			_ = append(make([]byte, 0, len(scr)), scr...)
			i++
		}
	})
	b.Run("publish", func(b *testing.B) {
		ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
		ctx := context.Background()
		conn, err := bus.Dial(ctx, bus.Options{URL: ns.ClientURL(), Name: "bench", MaxAge: time.Hour}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		pub, err := bus.NewPublisher(conn, bus.PublisherConfig{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer pub.Close(ctx)
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := processCPU()
		var batch []schema.Event
		flush := func() {
			if err := pub.Write(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = make([]schema.Event, 0, 64)
		}
		for i := range b.N {
			batch = event(i, batch)
			if len(batch) == maxBatch {
				flush()
			}
		}
		flush()
		for pub.Stats().Acked < int64(b.N) {
			time.Sleep(100 * time.Microsecond)
		}
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	})
}

// processCPU is the CPU time (user and system) the process has used so
// far, in nanoseconds: with JetStream in the process, its goroutines run
// beside the benchmark's, so CPU per operation exceeds ns/op.
func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// appendRecord is the publisher's record of an event (bus.Publisher's
// encode): subject and id lengths, subject, id, JSON.
func appendRecord(b []byte, ev *schema.Event) []byte {
	b = append(b, 0, 0, 0, 0)
	b = schema.AppendSubject(b, ev)
	subj := len(b) - 4
	b = append(b, ev.ID...)
	binary.BigEndian.PutUint16(b[0:], uint16(subj))
	binary.BigEndian.PutUint16(b[2:], uint16(len(ev.ID)))
	return ev.AppendJSON(b)
}
