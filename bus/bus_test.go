package bus

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vantage-bgp/vantage/schema"
)

func TestPublishReachesSubscribersAndStream(t *testing.T) {
	ns, err := StartEmbedded(EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()

	pub, err := Connect(ns.ClientURL(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

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

	med := uint32(7)
	events := []schema.Event{
		{Host: "rrc.test", Type: schema.TypeKeepalive, PeerASN: 65001, Peer: netip.MustParseAddr("192.0.2.1"), ID: "k1"},
		{Host: "rrc.test", Type: schema.TypeUpdate, PeerASN: 65001, Peer: netip.MustParseAddr("192.0.2.1"), ID: "u1", MED: &med,
			Announcements: []schema.Announcement{{NextHop: netip.MustParseAddr("192.0.2.1"), NLRISet: schema.NLRISet{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}}}},
	}
	if err := pub.Write(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "vantage.events.rrc_test.UPDATE.65001" {
		t.Errorf("subject %q", msg.Subject)
	}
	var got schema.Event
	if err := json.Unmarshal(msg.Data, &got); err != nil {
		t.Fatalf("%v: %s", err, msg.Data)
	}
	if got.ID != "u1" || *got.MED != 7 || got.Announcements[0].Prefixes[0].String() != "198.51.100.0/24" {
		t.Errorf("got %+v", got)
	}
	if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Error("KEEPALIVE matched the UPDATE filter")
	}

	js, _ := nc.JetStream()
	var stored uint64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		info, err := js.StreamInfo(StreamName)
		if err != nil {
			t.Fatal(err)
		}
		if stored = info.State.Msgs; stored == 2 {
			break
		}
	}
	if stored != 2 {
		t.Errorf("stream holds %d messages, want 2", stored)
	}
}
