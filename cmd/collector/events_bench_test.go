package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/schema"
)

// rawConsumerEnv makes the test binary the raw consumer of
// BenchmarkEvents: "URL N" reads N events of the log with nats.go's
// ordered consumer and writes them as lines to stdout, as `nats sub` would.
const rawConsumerEnv = "VANTAGE_BENCH_RAW_CONSUMER"

func init() {
	if v := os.Getenv(rawConsumerEnv); v != "" {
		url, n, _ := strings.Cut(v, " ")
		count, _ := strconv.Atoi(n)
		if err := rawConsume(url, count); err != nil {
			fmt.Fprintln(os.Stderr, "raw consumer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// rawConsume is the plain nats.go reader BenchmarkEvents compares with.
func rawConsume(url string, n int) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		return err
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	it, err := c.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	for range n {
		m, err := it.Next()
		if err != nil {
			return err
		}
		w.Write(m.Data())
		w.WriteByte('\n')
	}
	return w.Flush()
}

// captureSink keeps what an import gives it.
type captureSink struct{ events []schema.Event }

func (c *captureSink) Write(_ context.Context, evs []schema.Event) error {
	c.events = append(c.events, evs...)
	return nil
}

// BenchmarkEvents: `collector events` reading a log of real events (two
// RIS archives, published twice: 410,404 events) to /dev/null, with and
// without -durable, and to a script that reads its stdin (cat), beside a
// plain nats.go ordered consumer writing the same lines to the same
// places: each a process of its own, the two in turns in every iteration
// (the machine is shared: turns keep a slow moment from favouring one).
// The rates are per whole run (start, connect, read every event, exit);
// x-raw is collector events' rate over the raw reader's.
func BenchmarkEvents(b *testing.B) {
	files := []string{
		shareddata.Path(b, "mrt", "bgpdump", "test_data", "updates.et-header.2015.gz"),
		shareddata.Path(b, "mrt", "bgpdump", "test_data", "bview.20020722.2337.gz"),
	}
	bin := b.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/collector")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	url := ns.ClientURL()
	conn, err := bus.Dial(b.Context(), bus.Options{URL: url}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var cap captureSink
	for _, f := range files {
		if _, err := (&collector.MRTImporter{Sink: &cap, Host: "rrc-bench"}).ImportFile(b.Context(), f, nil); err != nil {
			b.Fatal(err)
		}
	}
	pub, err := bus.NewPublisher(conn, bus.PublisherConfig{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	const rounds = 2
	for r := range rounds {
		evs := make([]schema.Event, len(cap.events))
		copy(evs, cap.events)
		for i := range evs {
			evs[i].ID = fmt.Sprintf("%s#%d", evs[i].ID, r)
		}
		if err := pub.Write(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
	}
	if err := pub.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	n := rounds * len(cap.events)
	cap.events = nil // the embedded server shares this process's heap
	runtime.GC()
	cfg := filepath.Join(b.TempDir(), "vantage.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "nats: {url: %q}\nlog: {level: warn}\n", url), 0o644); err != nil {
		b.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	events := filepath.Join(bin, "collector")
	count := strconv.Itoa(n)
	raw := func() *exec.Cmd {
		c := exec.Command(self)
		c.Env = append(os.Environ(), rawConsumerEnv+"="+url+" "+count)
		return c
	}
	devnull := func(c *exec.Cmd) error {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		var stderr strings.Builder
		c.Stdout, c.Stderr = f, &stderr
		if err := c.Run(); err != nil {
			return fmt.Errorf("%v: %v\n%s", c.Args, err, stderr.String())
		}
		return nil
	}
	// rawToScript is raw | sh -c 'cat > /dev/null', until both exit.
	rawToScript := func() error {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		c, sink := raw(), exec.Command("/bin/sh", "-c", "cat > /dev/null")
		c.Stdout, sink.Stdin = w, r
		err = c.Start()
		if err == nil {
			err = sink.Start()
		}
		r.Close()
		w.Close()
		if err != nil {
			return err
		}
		return errors.Join(c.Wait(), sink.Wait())
	}
	// pair runs the raw reader and collector events in turns, one reading
	// of the whole log each per iteration, and reports both rates and
	// their ratio.
	pair := func(b *testing.B, rawRun, eventsRun func() error) {
		var rawTime, eventsTime time.Duration
		for b.Loop() {
			start := time.Now()
			if err := rawRun(); err != nil {
				b.Fatal(err)
			}
			rawTime += time.Since(start)
			start = time.Now()
			if err := eventsRun(); err != nil {
				b.Fatal(err)
			}
			eventsTime += time.Since(start)
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(n)*float64(b.N)/rawTime.Seconds(), "raw-events/s")
		b.ReportMetric(float64(n)*float64(b.N)/eventsTime.Seconds(), "events/s")
		b.ReportMetric(rawTime.Seconds()/eventsTime.Seconds(), "x-raw")
	}
	b.Run("devnull", func(b *testing.B) {
		pair(b, func() error { return devnull(raw()) },
			func() error { return devnull(exec.Command(events, "events", "-config", cfg, "-n", count)) })
	})
	durables := 0
	b.Run("devnull-durable", func(b *testing.B) {
		pair(b, func() error { return devnull(raw()) }, func() error {
			durables++
			return devnull(exec.Command(events, "events", "-config", cfg, "-n", count, "-durable", fmt.Sprintf("bench%d", durables)))
		})
	})
	b.Run("script", func(b *testing.B) {
		pair(b, rawToScript,
			func() error {
				return devnull(exec.Command(events, "events", "-config", cfg, "-n", count, "-exec", "cat > /dev/null"))
			})
	})
}
