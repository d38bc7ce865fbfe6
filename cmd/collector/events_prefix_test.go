package main

import (
	"net/netip"
	"testing"
)

// -prefix matches the announced and withdrawn prefixes of UPDATEs: exact,
// with -more those inside, with -less those that cover it.
func TestPrefixMatcher(t *testing.T) {
	ann := func(p string) []byte {
		return []byte(`{"timestamp":1,"peer":"192.0.2.1","peer_asn":"65001","id":"x","host":"h","type":"UPDATE","seq":1,"path":[65001],"announcements":[{"next_hop":"192.0.2.1","family":"ipv4/unicast","prefixes":["` + p + `"]}]}`)
	}
	wd := []byte(`{"timestamp":1,"peer":"192.0.2.1","peer_asn":"65001","id":"x","host":"h","type":"UPDATE","seq":1,"withdrawals":["203.0.113.0/24"]}`)
	state := []byte(`{"timestamp":1,"peer":"192.0.2.1","peer_asn":"65001","id":"x","host":"h","type":"RIS_PEER_STATE","seq":1,"state":"down"}`)
	p := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	for _, c := range []struct {
		more, less bool
		data       []byte
		want       bool
	}{
		{false, false, ann("203.0.113.0/24"), true},
		{false, false, ann("203.0.113.0/25"), false},
		{true, false, ann("203.0.113.0/25"), true},
		{true, false, ann("203.0.112.0/23"), false},
		{false, true, ann("203.0.112.0/23"), true},
		{false, true, ann("203.0.113.128/25"), false},
		{true, true, ann("198.51.100.0/24"), false},
		{false, false, wd, true},
		{true, true, state, false},
		{true, true, []byte(`{"not an event"`), false},
	} {
		if got := prefixMatcher(p, c.more, c.less)(c.data); got != c.want {
			t.Errorf("more %v less %v %s: %v, want %v", c.more, c.less, c.data, got, c.want)
		}
	}
	if prefixMatcher(nil, true, true) != nil {
		t.Error("a matcher without prefixes")
	}
}
