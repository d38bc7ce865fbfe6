package bgpwire

import (
	"net/netip"
	"reflect"
	"testing"
)

// A hand-built UPDATE announcing 198.51.100.0/24 with ORIGIN IGP,
// AS_PATH 65001 64512 (4-octet), NEXT_HOP 192.0.2.11, COMMUNITIES
// 65001:100 and LARGE_COMMUNITY 65001:1:2, and withdrawing 10.0.0.0/8.
var updateBasic = []byte{
	0x00, 0x02, 0x08, 0x0a, // withdrawn routes length 2: 10.0.0.0/8
	0x00, 0x2e, // path attribute length 46
	0x40, 0x01, 0x01, 0x00, // ORIGIN IGP
	0x40, 0x02, 0x0a, 0x02, 0x02, 0x00, 0x00, 0xfd, 0xe9, 0x00, 0x00, 0xfc, 0x00, // AS_PATH seq 65001 64512
	0x40, 0x03, 0x04, 192, 0, 2, 11, // NEXT_HOP
	0xc0, 0x08, 0x04, 0xfd, 0xe9, 0x00, 0x64, // COMMUNITIES 65001:100
	0xc0, 0x20, 0x0c, 0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2, // LARGE_COMMUNITY 65001:1:2
	0x18, 198, 51, 100, // NLRI 198.51.100.0/24
}

func TestUpdateDecodeBasic(t *testing.T) {
	var u Update
	if err := u.Decode(updateBasic, &DecodeOptions{ASN4: true}); err != nil {
		t.Fatal(err)
	}
	if u.Action != ActionNone {
		t.Fatalf("action %v, errors %v", u.Action, u.Errors)
	}
	if len(u.Withdrawn) != 1 || u.Withdrawn[0].Prefix != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("withdrawn %+v", u.Withdrawn)
	}
	if len(u.NLRI) != 1 || u.NLRI[0].Prefix != netip.MustParsePrefix("198.51.100.0/24") {
		t.Errorf("nlri %+v", u.NLRI)
	}
	a := &u.Attrs
	if len(a.ASPath) != 1 || len(a.ASPath[0].ASNs) != 2 || a.ASPath[0].ASNs[0] != 65001 || a.ASPath[0].ASNs[1] != 64512 {
		t.Errorf("as path %+v", a.ASPath)
	}
	if a.NextHop != netip.MustParseAddr("192.0.2.11") || !a.Has(AttrNextHop) {
		t.Errorf("next hop %v", a.NextHop)
	}
	if len(a.Communities) != 1 || a.Communities[0] != 65001<<16|100 {
		t.Errorf("communities %v", a.Communities)
	}
	if len(a.LargeCommunities) != 1 || a.LargeCommunities[0] != [3]uint32{65001, 1, 2} {
		t.Errorf("large communities %v", a.LargeCommunities)
	}
}

func TestUpdateDecodeNoAllocs(t *testing.T) {
	var u Update
	opt := &DecodeOptions{ASN4: true}
	n := testing.AllocsPerRun(1000, func() {
		if err := u.Decode(updateBasic, opt); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("Decode allocates %v times per message, want 0", n)
	}
}

func TestUpdateMalformedOriginTreatAsWithdraw(t *testing.T) {
	msg := append([]byte(nil), updateBasic...)
	msg[9] = 7 // ORIGIN value 7
	var u Update
	if err := u.Decode(msg, &DecodeOptions{ASN4: true}); err != nil {
		t.Fatal(err)
	}
	if u.Action != ActionTreatAsWithdraw || len(u.Errors) != 1 || u.Errors[0].Subcode != SubcodeInvalidOrigin {
		t.Fatalf("action %v errors %v", u.Action, u.Errors)
	}
	if u.Errors[0].Offset != HeaderLen+6 {
		t.Errorf("offset %d, want %d", u.Errors[0].Offset, HeaderLen+6)
	}
}

// TestMPReachClear guards MPReach.clear against fields added later: every
// field set, then cleared, must equal the zero value but for the kept
// storage.
func TestMPReachClear(t *testing.T) {
	m := MPReach{
		Family: IPv6Unicast, NextHop: netip.MustParseAddr("2001:db8::1"), LinkLocal: netip.MustParseAddr("fe80::1"),
		NextHopRD: RD{1}, NextHopRaw: []byte{1}, Reserved: 1, NLRI: []NLRI{{}}, abbreviated: true,
	}
	v := reflect.ValueOf(m)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("test value leaves MPReach.%s zero: set it", v.Type().Field(i).Name)
		}
	}
	m.clear()
	want := MPReach{NextHopRaw: m.NextHopRaw[:0], NLRI: m.NLRI[:0]}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("after clear: %+v", m)
	}
}
