package collector

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/schema"
)

type memSink struct{ events []schema.Event }

func (m *memSink) Write(_ context.Context, evs []schema.Event) error {
	m.events = append(m.events, evs...)
	return nil
}

// TestMRTImportDeterministic imports RIB and update files twice and
// checks that the same events come out (what makes re-import
// idempotent), with the RIB entries as UPDATEs at the dump time.
func TestMRTImportDeterministic(t *testing.T) {
	for _, rel := range [][]string{
		{"mrt", "mrtparse", "samples", "quagga_rib"},
		{"mrt", "bgpdump", "test_data", "updates.20100722.2015.gz"},
		{"mrt", "mrtparse", "samples", "bird6-mrtdump_rib"},
		{"mrt", "mrtparse", "samples", "openbgpd_rib_table-mp"},
	} {
		path := shareddata.Path(t, rel...)
		var runs [2][]byte
		var first memSink
		for i := range runs {
			sink := &memSink{}
			im := &MRTImporter{Sink: sink, Host: "test", BatchSize: 7, Warn: func(err error) { t.Logf("%s: %v", path, err) }}
			n, err := im.ImportFile(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(sink.events) || n == 0 {
				t.Fatalf("%s: %d events reported, %d written", path, n, len(sink.events))
			}
			runs[i], _ = json.Marshal(sink.events)
			first = *sink
		}
		if !reflect.DeepEqual(runs[0], runs[1]) {
			t.Errorf("%s: two imports differ", path)
		}
		ids := map[string]bool{}
		for _, ev := range first.events {
			if ids[ev.ID] {
				t.Fatalf("%s: duplicate id %s", path, ev.ID)
			}
			ids[ev.ID] = true
		}
	}
	// A RIB entry: an UPDATE announcing the prefix at the dump time.
	sink := &memSink{}
	im := &MRTImporter{Sink: sink, Host: "test"}
	if _, err := im.ImportFile(context.Background(), shareddata.Path(t, "mrt", "mrtparse", "samples", "quagga_rib"), nil); err != nil {
		t.Fatal(err)
	}
	ev := sink.events[0]
	if ev.Type != schema.TypeUpdate || ev.Timestamp != 1486802400 || len(ev.Announcements) != 1 || ev.Announcements[0].Prefixes[0].String() != "172.17.0.0/24" || ev.Peer.String() != "192.168.0.10" {
		t.Fatalf("first RIB event %+v", ev)
	}
	// The importer says what the dump covers, for applying it as a snapshot.
	if im.RIB == nil || im.RIB.From.Unix() != 1486802400 || im.RIB.To.Before(im.RIB.From) || !slices.Contains(im.RIB.Peers, ev.Peer) {
		t.Errorf("RIB dump summary %+v; want from 1486802400 with peer %s", im.RIB, ev.Peer)
	}
	if _, err := im.ImportFile(context.Background(), shareddata.Path(t, "mrt", "bgpdump", "test_data", "updates.20020722.2238.gz"), nil); err != nil {
		t.Fatal(err)
	}
	if im.RIB != nil {
		t.Errorf("an updates file reported a RIB dump: %+v", im.RIB)
	}
}
