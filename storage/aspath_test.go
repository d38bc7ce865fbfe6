package storage

import (
	"reflect"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

func TestParseASPathRoundTrip(t *testing.T) {
	tests := []schema.ASPath{
		nil,
		{{Type: schema.SegmentSequence, ASNs: []uint32{65001}}},
		{{Type: schema.SegmentSequence, ASNs: []uint32{1, 2, 4294967295}}},
		{{Type: schema.SegmentSequence, ASNs: []uint32{1, 2}}, {Type: schema.SegmentSet, ASNs: []uint32{3, 4}}},
		{{Type: schema.SegmentConfedSequence, ASNs: []uint32{64512, 64513}}, {Type: schema.SegmentSequence, ASNs: []uint32{7}}},
		{{Type: schema.SegmentConfedSet, ASNs: []uint32{64512, 64514}}, {Type: schema.SegmentSet, ASNs: []uint32{9}}},
	}
	for _, p := range tests {
		got, err := parseASPath(p.String())
		if err != nil {
			t.Errorf("parseASPath(%q): %v", p.String(), err)
			continue
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("parseASPath(%q) = %#v, want %#v", p.String(), got, p)
		}
	}
}

func TestParseASPathErrors(t *testing.T) {
	for _, s := range []string{"1 x", "{1,2", "(1 y)", "99999999999"} {
		if _, err := parseASPath(s); err == nil {
			t.Errorf("parseASPath(%q): no error", s)
		}
	}
}
