package collector

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// TestDecodeJSONSharedMRT reads back the JSON of every event of every
// shared MRT file (in -short mode, the first 20,000 events of each) with
// DecodeJSON, into one reused Event: it must equal what encoding/json
// reads, equal the event it was written from (up to what JSON does not
// carry: see readBack), and write the same bytes again.
func TestDecodeJSONSharedMRT(t *testing.T) {
	total := 0
	var got schema.Event // reused across all events, as a consumer would
	for _, path := range sharedMRTFiles(t) {
		n := 0
		buf := make([]byte, 0, 4096)
		var again []byte
		mrtEvents(t, path, func(ev *schema.Event) {
			if t.Failed() || testing.Short() && n >= 20_000 {
				return
			}
			n++
			buf = ev.AppendJSON(buf[:0])
			if err := got.DecodeJSON(buf); err != nil {
				t.Errorf("%s: event %s: DecodeJSON: %v\n%s", path, ev.ID, err, buf)
				return
			}
			var want schema.Event
			if err := json.Unmarshal(buf, &want); err != nil {
				t.Errorf("%s: event %s: encoding/json: %v\n%s", path, ev.ID, err, buf)
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: event %s\nDecodeJSON:    %#v\nencoding/json: %#v\nfrom %s", path, ev.ID, got, want, buf)
				return
			}
			if orig := readBack(*ev); !reflect.DeepEqual(got, orig) {
				t.Errorf("%s: event %s\nDecodeJSON: %#v\noriginal:   %#v\nfrom %s", path, ev.ID, got, orig, buf)
				return
			}
			if again = got.AppendJSON(again[:0]); !bytes.Equal(again, buf) {
				t.Errorf("%s: event %s: written again as\n%s\nfirst\n%s", path, ev.ID, again, buf)
			}
		})
		total += n
	}
	t.Logf("%d events", total)
	if total == 0 {
		t.Fatal("no events")
	}
}

// readBack returns e as it reads back from its JSON: empty lists that
// AppendJSON leaves out are nil, adjacent AS_SEQUENCE segments are one,
// an empty AS_PATH is nil, and extended communities are what their text
// form reads as.
func readBack(e schema.Event) schema.Event {
	nilIfEmpty(&e.Community)
	nilIfEmpty(&e.LargeCommunity)
	nilIfEmpty(&e.ExtCommunity)
	nilIfEmpty(&e.ClusterList)
	nilIfEmpty(&e.OtherAttrs)
	nilIfEmpty(&e.Announcements)
	nilIfEmpty(&e.Withdrawals)
	nilIfEmpty(&e.Withdrawn)
	var p schema.ASPath
	for _, s := range e.Path {
		if s.Type == schema.SegmentSequence {
			for _, a := range s.ASNs {
				if n := len(p); n > 0 && p[n-1].Type == schema.SegmentSequence {
					p[n-1].ASNs = append(p[n-1].ASNs, a)
				} else {
					p = append(p, schema.Segment{Type: schema.SegmentSequence, ASNs: []uint32{a}})
				}
			}
			continue
		}
		if s.ASNs == nil {
			s.ASNs = []uint32{}
		}
		p = append(p, s)
	}
	e.Path = p
	if e.ExtCommunity != nil {
		ext := make([]schema.ExtCommunity, len(e.ExtCommunity))
		for i, c := range e.ExtCommunity {
			if err := ext[i].UnmarshalText([]byte(c.String())); err != nil {
				ext[i] = c
			}
		}
		e.ExtCommunity = ext
	}
	set := func(s *schema.NLRISet) {
		nilIfEmpty(&s.PathIDs)
		nilIfEmpty(&s.Labels)
		nilIfEmpty(&s.RDs)
		nilIfEmpty(&s.NLRI)
	}
	e.Announcements = append([]schema.Announcement(nil), e.Announcements...)
	for i := range e.Announcements {
		set(&e.Announcements[i].NLRISet)
	}
	e.Withdrawn = append([]schema.NLRISet(nil), e.Withdrawn...)
	for i := range e.Withdrawn {
		set(&e.Withdrawn[i])
	}
	if e.Open != nil {
		o := *e.Open
		nilIfEmpty(&o.Capabilities)
		e.Open = &o
	}
	return e
}

func nilIfEmpty[S ~[]E, E any](s *S) {
	if len(*s) == 0 {
		*s = nil
	}
}

// BenchmarkDecodeJSON reads real RIS UPDATE events from their JSON, one
// per operation: DecodeJSON into a reused Event against encoding/json's
// Unmarshal into a new one (it does not reset what it decodes into).
func BenchmarkDecodeJSON(b *testing.B) {
	evs := risUpdates(b)
	msgs := make([][]byte, len(evs))
	size := 0
	for i := range evs {
		msgs[i] = evs[i].AppendJSON(nil)
		size += len(msgs[i])
	}
	b.Run("DecodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size / len(msgs)))
		var e schema.Event
		i := 0
		for b.Loop() {
			if err := e.DecodeJSON(msgs[i]); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(msgs) {
				i = 0
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size / len(msgs)))
		i := 0
		for b.Loop() {
			var e schema.Event
			if err := json.Unmarshal(msgs[i], &e); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(msgs) {
				i = 0
			}
		}
	})
}
