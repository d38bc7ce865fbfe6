package web_test

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/web"
)

// TestAppendUpdate encodes the routes of real RIB dumps (IPv4 and IPv6)
// as UPDATE messages, decodes them as a session does, and gets the same
// events back; then withdrawals of both families.
func TestAppendUpdate(t *testing.T) {
	files := []string{
		shareddata.Path(t, "mrt", "bgpdump", "test_data", "bview.20020722.2337.gz"),
		shareddata.Path(t, "mrt", "pyasn", "data", "rib6.20151101.0600_firstMB.bz2"),
	}
	opt := bgpwire.DecodeOptions{ASN4: true}
	roundTrip := func(ev *schema.Event) {
		t.Helper()
		msg := web.AppendUpdate(nil, ev)
		var u bgpwire.Update
		if err := u.Decode(msg[bgpwire.HeaderLen:], &opt); err != nil {
			t.Fatalf("%v: decoding the encoded UPDATE %x: %v", ev.Announcements, msg, err)
		}
		var got schema.Event
		collector.FillUpdate(&got, &u)
		want := *ev
		want.Timestamp, want.Peer, want.PeerASN, want.ID, want.Host, want.Seq, want.Raw = 0, netip.Addr{}, 0, "", "", 0, ""
		a, _ := json.Marshal(&want)
		b, _ := json.Marshal(&got)
		if string(a) != string(b) {
			t.Fatalf("round trip:\nwant %s\ngot  %s", a, b)
		}
	}
	for _, path := range files {
		conv := &collector.MRTConverter{Host: "rib", Source: "test"}
		n := 0
		err := collector.ScanMRTFile(path, 0, nil, nil, func(rec bgpwire.MRTRecord) error {
			_ = conv.Convert(rec, func(ev *schema.Event) error {
				if ev.Type != schema.TypeUpdate || len(ev.Announcements) != 1 || ev.Announcements[0].Family.SAFI != 1 {
					return nil
				}
				roundTrip(ev)
				n++
				return nil
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 1000 {
			t.Fatalf("%s: only %d routes", path, n)
		}
		t.Logf("%s: %d routes encoded and decoded back", path, n)
	}
	for _, s := range []schema.NLRISet{
		{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("10.0.0.0/8")}},
		{Family: schema.IPv6Unicast, Prefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}},
	} {
		ev := schema.Event{Type: schema.TypeUpdate, Withdrawals: s.Prefixes, Withdrawn: []schema.NLRISet{s}}
		roundTrip(&ev)
	}
}
