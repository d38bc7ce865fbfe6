package storage

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
)

// TestAttrTextRoundTrip: every attribute of the attrs column reads back
// as the event had it, including addresses that are set but all-zero
// IPv4 (0.0.0.0), and the IPv4-mapped form the migration from schema 010
// writes.
func TestAttrTextRoundTrip(t *testing.T) {
	u32 := func(v uint32) *uint32 { return &v }
	aigp := uint64(1) << 40
	var ext schema.ExtCommunity
	if err := ext.UnmarshalText([]byte("rt:64500:7")); err != nil {
		t.Fatal(err)
	}
	e := &schema.Event{
		MED: u32(0), LocalPref: u32(4294967295), AtomicAggregate: true,
		Aggregator:   &schema.Aggregator{ASN: 4200000000, Address: netip.MustParseAddr("0.0.0.0")},
		OriginatorID: netip.MustParseAddr("192.0.2.9"),
		ClusterList:  []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::a")},
		OTC:          u32(64501), AIGP: &aigp,
		ExtCommunity: []schema.ExtCommunity{ext, ext},
		OtherAttrs:   []schema.RawAttribute{{Flags: 192, Code: 99, Value: "0A0b"}, {Flags: 128, Code: 200}},
	}
	nhLL := netip.MustParseAddr("fe80::1")
	text := appendRouteAttrText(appendUpdateAttrText(nil, e), nhLL, []uint32{16, 1048575})
	var r Route
	if err := parseAttrText(text, &r, new(attrScratch)); err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	want := Route{
		MED: e.MED, LocalPref: e.LocalPref, AtomicAggregate: true, Aggregator: e.Aggregator,
		OriginatorID: e.OriginatorID, ClusterList: e.ClusterList, OTC: e.OTC, AIGP: e.AIGP,
		ExtCommunity:     e.ExtCommunity,
		OtherAttrs:       []schema.RawAttribute{{Flags: 192, Code: 99, Value: "0a0b"}, {Flags: 128, Code: 200}},
		NextHopLinkLocal: nhLL, Labels: []uint32{16, 1048575},
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("%q read back as\n %+v\nwant\n %+v", text, r, want)
	}

	var empty Route
	if err := parseAttrText(appendUpdateAttrText(nil, &schema.Event{}), &empty, new(attrScratch)); err != nil || !reflect.DeepEqual(empty, Route{}) {
		t.Errorf("no attributes: %+v, %v", empty, err)
	}

	var mapped Route
	if err := parseAttrText([]byte("agg=64500:::ffff:192.0.2.1 orig=::ffff:0.0.0.0 nhll=::"), &mapped, new(attrScratch)); err != nil {
		t.Fatal(err)
	}
	if mapped.Aggregator.Address != netip.MustParseAddr("192.0.2.1") || mapped.OriginatorID != netip.MustParseAddr("0.0.0.0") || mapped.NextHopLinkLocal.IsValid() {
		t.Errorf("migrated form: %+v", mapped)
	}

	for _, bad := range []string{"med=x", "lp=4294967296", "agg=1", "orig=1.2.3", "other=1:2", "other=1:2:zz", "labels=1,,2", "nosuch=1", "ext=rt:1"} {
		var r Route
		if err := parseAttrText([]byte(bad), &r, new(attrScratch)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzParseAttrText: any stored text gives a route or an error, never a
// panic; what it reads writes back to text that reads the same.
func FuzzParseAttrText(f *testing.F) {
	for _, s := range []string{"", "med=10 lp=20 atomic agg=1:192.0.2.1 orig=::ffff:1.2.3.4 cluster=1.1.1.1,::1 otc=5 aigp=6",
		"ext=rt:64500:1,soo:192.0.2.1:9,0x0102030405060708 other=192:99:0102 nhll=fe80::1 labels=3,4", "agg=:", "cluster=,", "other=::"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		var r Route
		if err := parseAttrText(text, &r, new(attrScratch)); err != nil {
			return
		}
		e := &schema.Event{MED: r.MED, LocalPref: r.LocalPref, AtomicAggregate: r.AtomicAggregate, Aggregator: r.Aggregator,
			OriginatorID: r.OriginatorID, ClusterList: r.ClusterList, OTC: r.OTC, AIGP: r.AIGP,
			ExtCommunity: r.ExtCommunity, OtherAttrs: r.OtherAttrs}
		again := appendRouteAttrText(appendUpdateAttrText(nil, e), r.NextHopLinkLocal, r.Labels)
		var r2 Route
		if err := parseAttrText(again, &r2, new(attrScratch)); err != nil {
			t.Fatalf("%q read, written as %q, does not read: %v", text, again, err)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("%q: read %+v, written %q, read again %+v", text, r, again, r2)
		}
	})
}
