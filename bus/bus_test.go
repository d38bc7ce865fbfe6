package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/vantage-bgp/vantage/schema"
)

// embedded starts an in-process nats-server with JetStream for one test.
func embedded(t *testing.T) *server.Server {
	t.Helper()
	ns, err := StartEmbedded(EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

func dial(t *testing.T, url string) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, Options{URL: url, Name: t.Name(), MaxAge: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// testEvent is the n-th UPDATE of a peer.
func testEvent(peer string, n uint64) schema.Event {
	p := netip.MustParseAddr(peer)
	return schema.Event{
		Host: "rrc.test", Type: schema.TypeUpdate, PeerASN: 65001, Peer: p, Seq: n,
		Timestamp: 1700000000 + float64(n)/1000,
		ID:        fmt.Sprintf("rrc.test-1-%s-%d", peer, n),
		Announcements: []schema.Announcement{{NextHop: p, NLRISet: schema.NLRISet{Family: schema.IPv4Unicast,
			Prefixes: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}), 32)}}}},
	}
}

func streamMsgs(t *testing.T, c *Conn) uint64 {
	t.Helper()
	info, err := c.Stream.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPublishReachesSubscribersAndStream(t *testing.T) {
	ns := embedded(t)
	c := dial(t, ns.ClientURL())
	pub, err := NewPublisher(c, PublisherConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(context.Background())

	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync(SubjectPrefix + ".*.UPDATE.>")
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()

	keepalive := schema.Event{Host: "rrc.test", Type: schema.TypeKeepalive, PeerASN: 65001, Peer: netip.MustParseAddr("192.0.2.1"), ID: "k1"}
	update := testEvent("192.0.2.1", 1)
	if err := pub.Write(t.Context(), []schema.Event{keepalive, update}); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "vantage.events.rrc_test.UPDATE.65001.192_0_2_1" {
		t.Errorf("subject %q", msg.Subject)
	}
	if msg.Header.Get("Nats-Msg-Id") != update.ID {
		t.Errorf("Nats-Msg-Id %q, want the event id %q", msg.Header.Get("Nats-Msg-Id"), update.ID)
	}
	var got schema.Event
	if err := json.Unmarshal(msg.Data, &got); err != nil {
		t.Fatalf("%v: %s", err, msg.Data)
	}
	if got.ID != update.ID || got.Announcements[0].Prefixes[0] != update.Announcements[0].Prefixes[0] {
		t.Errorf("got %+v", got)
	}
	if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Error("KEEPALIVE matched the UPDATE filter")
	}
	waitFor(t, "2 events in the stream", 5*time.Second, func() bool { return streamMsgs(t, c) == 2 })

	// A retried publish (same id) is stored once.
	if err := pub.Write(t.Context(), []schema.Event{update}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the publish acknowledged", 5*time.Second, func() bool { return pub.Stats().Acked == 3 })
	if n := streamMsgs(t, c); n != 2 {
		t.Errorf("stream holds %d messages after a duplicate publish, want 2", n)
	}
	if err := pub.Close(t.Context()); err != nil {
		t.Errorf("Close: %v", err)
	}
}
