package storage

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// TestUpdates: the stored messages and session changes of a window come in
// time order across the chunks the window is read in, From included and
// To excluded, each once though its batch was stored twice; rows without a
// message (a RIB dump's withdrawals) and other peers and collectors are
// left out when asked.
func TestUpdates(t *testing.T) {
	db := testDB(t)
	w := db.NewWriter(WriterConfig{KeepTimestamps: true}, nil)
	withRaw := func(e schema.Event, raw string) schema.Event { e.Raw = raw; return e }
	other := announce(10, peerB, 64501, []uint32{64501}, "10.9.0.0/16")
	other.Host = "rrc-other"
	events := []schema.Event{
		withRaw(announce(-0.000001, peerA, 64500, []uint32{64500}, "10.0.0.0/8"), "01"), // before From
		state(0, peerA, 64500, schema.StateConnected),                                   // at From
		withRaw(announce(0.5, peerA, 64500, []uint32{64500}, "10.0.0.0/8"), "02"),
		withRaw(withdraw(1, peerB, 64501, "10.1.0.0/16"), "03"),     // at a chunk's start
		announce(1.5, peerA, 64500, []uint32{64500}, "10.2.0.0/16"), // no raw: left out
		withRaw(announce(1.999999, peerA, 64500, []uint32{64500}, "10.3.0.0/16"), "04"),
		withRaw(other, "05"),
		state(2.5, peerA, 64500, schema.StateDown),
		withRaw(announce(3, peerA, 64500, []uint32{64500}, "10.0.0.0/8"), "06"), // at To
	}
	for range 2 { // the same batch twice, as a retry stores it
		if err := w.Write(t.Context(), events); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(q UpdatesQuery) []string {
		t.Helper()
		var out []string
		err := db.Updates(t.Context(), q, func(e *ExportEvent) error {
			s := fmt.Sprintf("%d %s %s", int64(e.TimeUs)-t0.UnixMicro(), e.Host, e.Peer)
			if e.Kind == ExportState {
				s += " state " + e.State.String()
			} else {
				s += fmt.Sprintf(" raw %x", e.Raw)
			}
			out = append(out, s)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := []string{
		"0 rrc-test 192.0.2.1 state connected",
		"500000 rrc-test 192.0.2.1 raw 02",
		"1000000 rrc-test 2001:db8::2 raw 03",
		"1999999 rrc-test 192.0.2.1 raw 04",
		"2500000 rrc-test 192.0.2.1 state down",
	}
	for _, chunk := range []time.Duration{0, time.Second, 700 * time.Millisecond} {
		if got := read(UpdatesQuery{From: at(0), To: at(3), Host: "rrc-test", Chunk: chunk}); !slices.Equal(got, want) {
			t.Errorf("chunk %s:\n%q\nwant\n%q", chunk, got, want)
		}
	}
	if got := read(UpdatesQuery{From: at(0), To: at(3), Peers: []netip.Addr{peerB}}); !slices.Equal(got, []string{"1000000 rrc-test 2001:db8::2 raw 03"}) {
		t.Errorf("peer %s: %q", peerB, got)
	}
	if got := read(UpdatesQuery{From: at(0), To: at(11), Peers: []netip.Addr{peerB}}); !slices.Equal(got, []string{"1000000 rrc-test 2001:db8::2 raw 03", "10000000 rrc-other 2001:db8::2 raw 05"}) {
		t.Errorf("peer %s of every collector: %q", peerB, got)
	}
	if err := (UpdatesQuery{From: at(3), To: at(3)}).Validate(); err == nil {
		t.Error("an empty window is valid")
	}
	q := UpdatesQuery{From: at(0), To: at(3)}
	if !q.StillWritten(at(4), 2*time.Second) || q.StillWritten(at(5), 2*time.Second) {
		t.Error("StillWritten: want true 1 s after the window's end with a 2 s lag, false 2 s after")
	}
}
