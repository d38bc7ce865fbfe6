package collector

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// TestMRTEventsMatchLiveEvents checks that an archived message becomes the
// event a live session builds from the same bytes: sessions, MRT import
// and `collector decode` share one builder (FillMessage and its parts).
func TestMRTEventsMatchLiveEvents(t *testing.T) {
	open := &bgpwire.Open{Version: 4, MyAS: 65001, HoldTime: 90, RouterID: netip.MustParseAddr("192.0.2.1"),
		Capabilities: []bgpwire.Capability{
			bgpwire.MultiprotocolCapability(bgpwire.IPv6Unicast),
			bgpwire.FourOctetASCapability(4200000001),
			bgpwire.AddPathCapability(bgpwire.AddPathFamily{Family: bgpwire.IPv4Unicast, Mode: bgpwire.AddPathSend}),
		}}
	note := bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeAdminShutdown, Data: []byte("bye")}
	rr := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 23, 5, 0, 2, 0, 1}
	for _, msg := range [][]byte{open.AppendWire(nil), note.AppendWire(nil), rr} {
		var m bgpwire.Message
		if err := m.Decode(msg, &bgpwire.DecodeOptions{ASN4: true}); err != nil {
			t.Fatal(err)
		}
		var live schema.Event
		FillMessage(&live, &m)

		// The same message in a BGP4MP_ET MESSAGE_AS4 record.
		body := []byte{0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 192, 0, 2, 1, 192, 0, 2, 2}
		rec := append([]byte{0, 0, 0, 1}, body...) // microseconds
		rec = append(rec, msg...)
		hdr := []byte{0x5f, 0x5e, 0x0f, 0x00, 0, 17, 0, 4, byte(len(rec) >> 24), byte(len(rec) >> 16), byte(len(rec) >> 8), byte(len(rec))}
		r := bgpwire.NewMRTReader(bytes.NewReader(append(hdr, rec...)))
		record, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		c := &MRTConverter{}
		var archived schema.Event
		if err := c.Convert(*record, func(ev *schema.Event) error { archived = *ev; return nil }); err != nil {
			t.Fatal(err)
		}
		archived.Timestamp, archived.Peer, archived.PeerASN, archived.ID, archived.Raw = 0, live.Peer, 0, "", ""
		got, want := archived.AppendJSON(nil), live.AppendJSON(nil)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: archived and live events differ:\narchived %s\nlive     %s", live.Type, got, want)
		}
	}
}
