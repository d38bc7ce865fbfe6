package bus

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/internal/freeport"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
)

// natsServer is an external nats-server (Debian's) with JetStream in dir.
type natsServer struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
}

func (s *natsServer) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(s.bin, "-js", "-sd", s.dir, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port))
	out, _ := os.Create(s.dir + "/server.log")
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (s *natsServer) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

func (s *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// TestPublisherRidesOutNATSOutage publishes a steady stream of events for
// two peers while an external nats-server is stopped and started again:
// Write never blocks (memory, then the spool, takes the events), and in the
// end the stream holds every event once, each peer's in order.
func TestPublisherRidesOutNATSOutage(t *testing.T) {
	bin := testpeer.Need(t, "nats-server", "nats-server")
	port, err := freeport.Get()
	if err != nil {
		t.Fatal(err)
	}
	srv := &natsServer{bin: bin, dir: t.TempDir(), port: port}
	srv.start(t)
	defer srv.stop()
	c := dial(t, srv.url())
	pub, err := NewPublisher(c, PublisherConfig{QueueBytes: 256 << 10, SpoolDir: t.TempDir(), MaxPending: 512}, nil)
	if err != nil {
		t.Fatal(err)
	}

	const perPeer = 10_000
	peers := []string{"192.0.2.1", "2001:db8::2"}
	var wg sync.WaitGroup
	written := make(chan uint64, 1000)
	wg.Go(func() {
		defer close(written)
		for n := uint64(1); n <= perPeer; n += 50 {
			var batch []schema.Event
			for i := n; i < n+50; i++ {
				for _, p := range peers {
					batch = append(batch, testEvent(p, i))
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := pub.Write(ctx, batch)
			cancel()
			if err != nil {
				t.Errorf("Write blocked or failed during the outage: %v", err)
				return
			}
			written <- n + 49
			time.Sleep(25 * time.Millisecond) // about 5 s for the whole run
		}
	})
	for n := range written {
		if n >= 2000 {
			break
		}
	}
	srv.stop()
	spooled := false
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		spooled = spooled || pub.Stats().SpoolBytes > 0
	}
	if !spooled {
		t.Error("nothing went to the spool while NATS was down")
	}
	srv.start(t)
	for range written {
	}
	wg.Wait()

	want := uint64(perPeer * len(peers))
	waitFor(t, "every event in the stream", 90*time.Second, func() bool {
		info, err := c.Stream.Info(t.Context())
		return err == nil && info.State.Msgs >= want
	})
	if err := pub.Close(t.Context()); err != nil {
		t.Errorf("Close: %v", err)
	}
	checkStreamOrder(t, c, peers, perPeer)
}

// checkStreamOrder reads the whole stream and checks that each peer's
// events are there once each, in order of their sequence numbers.
func checkStreamOrder(t *testing.T, c *Conn, peers []string, perPeer uint64) {
	t.Helper()
	cons, err := c.Stream.OrderedConsumer(t.Context(), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	last := map[netip.Addr]uint64{}
	info, _ := c.Stream.Info(t.Context())
	total := info.State.Msgs
	it, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	for i := uint64(0); i < total; i++ {
		m, err := it.Next(jetstream.NextMaxWait(10 * time.Second))
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, total, err)
		}
		var ev schema.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Seq != last[ev.Peer]+1 {
			t.Fatalf("peer %s: seq %d follows %d in the stream (lost, duplicated or out of order)", ev.Peer, ev.Seq, last[ev.Peer])
		}
		last[ev.Peer] = ev.Seq
	}
	for _, p := range peers {
		if got := last[netip.MustParseAddr(p)]; got != perPeer {
			t.Errorf("peer %s: last seq %d, want %d", p, got, perPeer)
		}
	}
	if total != perPeer*uint64(len(peers)) {
		t.Errorf("stream holds %d events, want %d", total, perPeer*uint64(len(peers)))
	}
}
