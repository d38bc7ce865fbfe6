package bus

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkJetStreamFloor measures what storing one event costs in the
// embedded JetStream alone, without the collector: messages of a typical
// event's size (450 bytes of JSON) published to the events stream, as the
// publisher does (asynchronous, acknowledged, with Nats-Msg-Id) and in
// cheaper ways for comparison. cpu-ns/op is the CPU of the whole process,
// JetStream's goroutines included: the floor under the collector's
// per-UPDATE cost while it sends one message per event.
func BenchmarkJetStreamFloor(b *testing.B) {
	payload := make([]byte, 450)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	run := func(b *testing.B, publish func(c *Conn, subject string, i int) error, wait func(c *Conn)) {
		ns, err := StartEmbedded(EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
		c, err := Dial(context.Background(), Options{URL: ns.ClientURL(), Name: "floor", MaxAge: time.Hour}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		subject := SubjectPrefix + ".bench.UPDATE.64500.192_0_2_1"
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := processCPU()
		for i := range b.N {
			if err := publish(c, subject, i); err != nil {
				b.Fatal(err)
			}
		}
		wait(c)
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	}
	asyncWait := func(c *Conn) {
		select {
		case <-c.JS.PublishAsyncComplete():
		case <-time.After(time.Minute):
			b.Fatal("acks did not arrive")
		}
	}
	b.Run("core-publish-no-ack", func(b *testing.B) {
		run(b, func(c *Conn, subject string, _ int) error { return c.NC.Publish(subject, payload) },
			func(c *Conn) {
				if err := c.NC.Flush(); err != nil {
					b.Fatal(err)
				}
				// Wait until the stream holds them all (without acks, the
				// server may drop some when it falls behind: then say so).
				deadline := time.Now().Add(time.Minute)
				for {
					info, err := c.Stream.Info(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					if info.State.Msgs >= uint64(b.N) {
						return
					}
					if time.Now().After(deadline) {
						b.Logf("the stream holds %d of %d messages", info.State.Msgs, b.N)
						return
					}
					time.Sleep(time.Millisecond)
				}
			})
	})
	b.Run("async-acked", func(b *testing.B) {
		run(b, func(c *Conn, subject string, _ int) error {
			_, err := c.JS.PublishMsgAsync(&nats.Msg{Subject: subject, Data: payload})
			return err
		}, asyncWait)
	})
	b.Run("async-acked-msg-id", func(b *testing.B) {
		run(b, func(c *Conn, subject string, i int) error {
			_, err := c.JS.PublishMsgAsync(&nats.Msg{Subject: subject, Data: payload}, jetstream.WithMsgID("bench-"+strconv.Itoa(i)))
			return err
		}, asyncWait)
	})
}

func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
