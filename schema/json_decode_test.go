package schema

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// dirtyEvents are Events that DecodeJSON filled before, to decode into
// again: their arrays and pointed-to values are reused, so stale values
// must not show through.
func dirtyEvents(t testing.TB) []*Event {
	var out []*Event
	for _, src := range []string{
		string(fullEvent().AppendJSON(nil)),
		// Longer slices than most inputs, elements that null leaves alone.
		`{"path":[1,2,3,4,[5,6,7],8,{"confed_set":[9,9,9,9]}],"community":[[1,2],[3,4],[5,6],[7,8]],
		"large_community":[[1,2,3],[4,5,6],[7,8,9]],"cluster_list":["10.0.0.1","10.0.0.2","10.0.0.3"],
		"other_attributes":[{"flags":1,"code":2,"value":"ab"},{"flags":3,"code":4,"value":"cd"}],
		"announcements":[{"next_hop":"192.0.2.1","next_hop_link_local":"fe80::1","family":"ipv6/vpn",
		"prefixes":["10.0.0.0/8","10.1.0.0/16","10.2.0.0/16"],"path_ids":[1,2,3],"labels":[[1,2],[3],[4,5,6]],
		"rds":["1:1","2:2","3:3"],"nlri":["a","b","c"]},{"next_hop":"192.0.2.2","family":"ipv4/unicast","prefixes":["192.0.2.0/24"]},
		{"family":"ipv4/unicast","prefixes":["192.0.2.0/25","192.0.2.128/25"],"path_ids":[9,9]}],
		"withdrawals":["10.9.0.0/16","10.8.0.0/16","10.7.0.0/16"],
		"withdrawn":[{"family":"ipv4/unicast","prefixes":["10.9.0.0/16"],"path_ids":[5],"labels":[[7]]},{"family":"ipv6/unicast","prefixes":["::/0"]}],
		"med":5,"local_pref":6,"otc":7,"aigp":8,"aggregator":{"asn":9,"address":"192.0.2.9"},
		"notification":{"code":1,"subcode":2,"reason":"r","data":"00","sent":true},
		"open":{"version":4,"asn":1,"hold_time":3,"router_id":"1.1.1.1","capabilities":["x","y"],"sent":true},
		"route_refresh":{"family":"ipv4/unicast","subtype":"borr"},"ext_community":["rt:1:2","rt:3:4"],
		"routes":{"ipv4/unicast":1,"ipv6/unicast":2,"l2vpn/evpn":3,"1/128":4}}`,
	} {
		var e Event
		if err := e.DecodeJSON([]byte(src)); err != nil {
			t.Fatalf("dirty event %s: %v", src, err)
		}
		out = append(out, &e)
	}
	return out
}

// checkDecode decodes data with DecodeJSON, into a zero Event and into
// reused ones, and with encoding/json, and reports any difference. It
// returns DecodeJSON's error.
func checkDecode(t *testing.T, data []byte, dirty []*Event) error {
	t.Helper()
	var want Event
	werr := json.Unmarshal(data, &want)
	var got Event
	gerr := got.DecodeJSON(data)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q:\nDecodeJSON error: %v\nencoding/json error: %v", data, gerr, werr)
	}
	if gerr != nil {
		var de *DecodeError
		if !errors.As(gerr, &de) {
			t.Fatalf("%q: error %v (%T) is not a *DecodeError", data, gerr, gerr)
		}
		return gerr
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nDecodeJSON:    %#v\nencoding/json: %#v", data, got, want)
	}
	for i, d := range dirty {
		e := *d // shares d's arrays and pointees, which DecodeJSON reuses
		if err := e.DecodeJSON(data); err != nil {
			t.Fatalf("%q: into dirty event %d: %v", data, i, err)
		}
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("%q: into dirty event %d:\nDecodeJSON:    %#v\nencoding/json: %#v", data, i, e, want)
		}
	}
	return nil
}

// decodeCases returns inputs with every field in its usual and unusual
// forms, those that decode and those that fail.
func decodeCases() (ok, fail []string) {
	ok = []string{
		// Whole input.
		`null`, ` null `, `{}`, " \t\r\n{ } \n",
		`{"unknown":{"a":[1,2,{"b":null}],"c":"\u00e9"},"x":-1.5e-3,"y":true,"z":false}`,
		// timestamp
		`{"timestamp":1700000000.123456}`, `{"timestamp":-0}`, `{"timestamp":1e-400}`, `{"timestamp":1E+2}`,
		`{"timestamp":0.5e1}`, `{"timestamp":null}`, `{"timestamp":12345678901234567890123}`,
		// peer and the other addresses
		`{"peer":"192.0.2.1"}`, `{"peer":"2001:db8::1"}`, `{"peer":""}`, `{"peer":null}`, `{"peer":"fe80::1%eth0"}`,
		`{"peer":"::ffff:192.0.2.1"}`, `{"peer":"\u0031\u0039\u0032.0.2.1"}`,
		`{"originator_id":"10.0.0.1"}`, `{"originator_id":""}`,
		`{"cluster_list":["10.0.0.1","2001:db8::2",null,""]}`, `{"cluster_list":[]}`, `{"cluster_list":null}`,
		// peer_asn, quoted
		`{"peer_asn":"65001"}`, `{"peer_asn":"4294967295"}`, `{"peer_asn":"007"}`, `{"peer_asn":null}`,
		`{"peer_asn":"null"}`, `{"peer_asn":"\u0035"}`,
		// id, host, reason, raw: strings and escapes
		`{"id":"rrc00:1","host":"rrc00","reason":"hold timer expired","raw":"ffff"}`,
		`{"id":"\"\\\/\b\f\n\r\t\u0000\u00e9\u2028\ud83d\ude00"}`, `{"id":"\ud800"}`, `{"id":"\ud800\u0041"}`,
		`{"id":"\udc00\ud800"}`, "{\"id\":\"\xff\xfe\"}", "{\"id\":\"\xe2\x82\"}", `{"id":"é😀"}`,
		`{"id":null,"host":null,"reason":null,"raw":null}`, `{"id":""}`,
		// type, origin, state
		`{"type":"UPDATE"}`, `{"type":"UNKNOWN"}`, `{"type":"OPEN"}`, `{"type":"NOTIFICATION"}`,
		`{"type":"KEEPALIVE"}`, `{"type":"ROUTE_REFRESH"}`, `{"type":"RIS_PEER_STATE"}`, `{"type":null}`,
		`{"origin":"IGP"}`, `{"origin":"egp"}`, `{"origin":"Incomplete"}`, `{"origin":""}`, `{"origin":"ıgp"}`,
		`{"origin":null}`, `{"state":"connected"}`, `{"state":"down"}`, `{"state":""}`, `{"state":null}`,
		// seq
		`{"seq":0}`, `{"seq":18446744073709551615}`, `{"seq":null}`,
		// path
		`{"path":[3333,1299]}`, `{"path":[1,[2,3],4]}`, `{"path":[[2,3],1]}`, `{"path":[]}`, `{"path":null}`,
		`{"path":[[]]}`, `{"path":[null,1]}`, `{"path":[[null,1]]}`, `{"path":[{"confed_sequence":[1,2]},{"confed_set":[3]},4]}`,
		`{"path":[{}]}`, `{"path":[{"confed_sequence":null}]}`, `{"path":[{"confed_sequence":[]}]}`,
		`{"path":[{"confed_set":[]}]}`, `{"path":[{"CONFED_SET":[1],"x":1}]}`,
		`{"path":[{"confed_sequence":[1,2],"confed_sequence":[null]}]}`,
		`{"path":[{"confed_set":[1],"confed_sequence":[2]}]}`, `{"path":[4294967295]}`,
		`{"path":[1],"path":[2,[3]]}`, `{"path":[1],"path":null}`,
		// community, large_community
		`{"community":[[3333,100],[65535,65535]]}`, `{"community":[[1],[],[1,2,3],[1,2,{"x":[]}]]}`,
		`{"community":[null,[null,5]]}`, `{"community":[]}`, `{"community":null}`,
		`{"large_community":[[4200000000,1,2],[1],[1,2,3,4]]}`, `{"large_community":[null]}`,
		// med, local_pref, otc, aigp
		`{"med":0,"local_pref":100,"otc":4294967295,"aigp":18446744073709551615}`,
		`{"med":null,"local_pref":null,"otc":null,"aigp":null}`, `{"med":1,"med":null}`, `{"med":1,"med":2}`,
		// aggregator
		`{"aggregator":{"asn":65000,"address":"192.0.2.1"}}`, `{"aggregator":{}}`, `{"aggregator":null}`,
		`{"aggregator":{"asn":1},"aggregator":{"address":"192.0.2.1"}}`, `{"aggregator":{"asn":1},"aggregator":null}`,
		`{"aggregator":{"ASN":1,"Address":"192.0.2.1","x":[]}}`,
		// atomic_aggregate
		`{"atomic_aggregate":true}`, `{"atomic_aggregate":false}`, `{"atomic_aggregate":null}`,
		`{"imported":true}`, `{"imported":false}`, `{"Imported":true}`,
		// ext_community
		`{"ext_community":["rt:65000:100","soo:192.0.2.1:7","rt:4200000000:1","0x8006000000000000"]}`,
		`{"ext_community":["rt:2001:db8::1:7",null]}`, `{"ext_community":[]}`,
		// other_attributes
		`{"other_attributes":[{"flags":192,"code":99,"value":"deadbeef"},null,{}]}`,
		// announcements
		`{"announcements":[{"next_hop":"192.0.2.254","family":"ipv4/unicast","prefixes":["198.51.100.0/24","203.0.113.0/25"]}]}`,
		`{"announcements":[{"next_hop":"2001:db8::fe","next_hop_link_local":"fe80::1","family":"ipv6/vpn","prefixes":["2001:db8:1::/48"],"path_ids":[7],"labels":[[16000,16001],null,[]],"rds":["65000:1",null],"nlri":["x"]}]}`,
		`{"announcements":[{"family":"ipv4/flowspec","prefixes":[],"nlri":["dst 10.0.0.0/8"]}]}`,
		`{"announcements":[{"family":"1/1","prefixes":null},{"family":"25/70"},null,{}]}`,
		`{"announcements":[{"prefixes":["10.0.0.1/8",null,""]}]}`,
		`{"announcements":[{"next_hop":"192.0.2.1"}],"announcements":[{"family":"ipv4/unicast"}]}`,
		`{"announcements":[{"prefixes":["10.0.0.0/8"]},{"prefixes":["11.0.0.0/8"]}],"announcements":[{}],"announcements":[{},{"family":"ipv4/unicast"}]}`,
		`{"announcements":[{"prefixes":["10.0.0.0/8","11.0.0.0/8"],"prefixes":[null]}]}`,
		`{"announcements":[{"Next_Hop":"192.0.2.1","FAMILY":"ipv4/unicast"}]}`,
		// withdrawals, withdrawn
		`{"withdrawals":["192.0.2.0/24","::/0"]}`, `{"withdrawals":[]}`, `{"withdrawals":null}`,
		`{"withdrawn":[{"family":"ipv4/unicast","prefixes":["192.0.2.0/24"],"path_ids":[1],"next_hop":"1.2.3.4"}]}`,
		`{"withdrawn":[null,{}]}`,
		// end_of_rib, route_refresh
		`{"end_of_rib":"ipv6/unicast"}`, `{"end_of_rib":"l2vpn/evpn"}`, `{"end_of_rib":"3/77"}`, `{"end_of_rib":null}`,
		`{"route_refresh":{"family":"ipv4/unicast","subtype":"borr"}}`, `{"route_refresh":{}}`,
		// routes
		`{"routes":{"ipv4/unicast":912345,"ipv6/unicast":201234}}`, `{"routes":{}}`, `{"routes":null}`,
		`{"routes":{"ipv6/unicast":0,"ipv4/flowspec-vpn":18446744073709551615,"3/77":1}}`,
		`{"routes":{"ipv4/unicast":1,"1/1":2,"ipv6/unicast":3,"ipv4/unicast":null}}`, `{"routes":{"ipv4\/unicast":5}}`,
		`{"routes":{"ipv4/unicast":1},"routes":{"ipv6/unicast":2}}`, `{"routes":{"ipv4/unicast":1},"Routes":null}`,
		`{"ROUTES":{"ipv4/unicast":1}}`, `{"type":"KEEPALIVE","routes":{"l2vpn/evpn":7}}`,
		// notification, open
		`{"notification":{"code":6,"subcode":2,"reason":"cease","data":"0b","sent":true}}`,
		`{"notification":{"code":255,"subcode":0,"sent":false}}`, `{"notification":null}`,
		`{"open":{"version":4,"asn":65001,"hold_time":65535,"router_id":"192.0.2.9","capabilities":["a",null],"sent":true}}`,
		`{"open":{"capabilities":["a","b"]},"open":{"capabilities":[null]}}`,
		// Keys: case folding (U+212A KELVIN SIGN folds to k, U+017F LONG S to s), escapes.
		`{"PEER":"192.0.2.1","Peer_ASN":"1","HOST":"h"}`, `{"\u0070eer":"192.0.2.1"}`, `{"ſtate":"down"}`,
		`{"K":1}`, `{"peer":"192.0.2.1","PEER":"192.0.2.2"}`, `{"id":"a","id":"b"}`, `{"id":"a","id":null}`,
		// Deep nesting in skipped values, to encoding/json's limit.
		`{"x":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}`,
	}
	fail = []string{
		// Syntax.
		``, ` `, `{`, `}`, `{"id":"x"`, `{"id":"x",}`, `{"id" "x"}`, `{"id":}`, `{,}`, `{"id":"x"}x`, `{} {}`,
		`{"x":[1,]}`, `{"x":01}`, `{"x":1.}`, `{"x":.5}`, `{"x":-}`, `{"x":1e}`, `{"x":+1}`, `{"x":tru}`,
		`{"x":nul}`, `{"x":"\x"}`, `{"x":"\u12"}`, "{\"x\":\"\x01\"}", `{"x":'a'}`, `{x:1}`, "\xef\xbb\xbf{}",
		`{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
		`{"x":1}}`, `{"id":"x"`, `{"id`, `{"x":[1 2]}`, `{"x":{"a" 1}}`, `{"x":{"a":1,}}`, `{"x":NaN}`,
		// Top level.
		`[]`, `1`, `"x"`, `true`,
		// Values that do not fit.
		`{"timestamp":"1"}`, `{"timestamp":1e400}`, `{"timestamp":true}`, `{"timestamp":[]}`,
		`{"peer":"x"}`, `{"peer":"192.0.2.1/24"}`, `{"peer":1}`, `{"peer":{}}`, `{"peer":[]}`,
		`{"peer_asn":65001}`, `{"peer_asn":"4294967296"}`, `{"peer_asn":"-1"}`, `{"peer_asn":""}`, `{"peer_asn":"1.0"}`,
		`{"peer_asn":"true"}`, `{"peer_asn":" 1"}`, `{"peer_asn":"nul"}`, `{"peer_asn":"\"1\""}`, `{"peer_asn":[]}`,
		`{"id":1}`, `{"id":true}`, `{"id":[]}`, `{"host":{}}`,
		`{"type":"update"}`, `{"type":""}`, `{"type":1}`, `{"origin":"x"}`, `{"origin":1}`, `{"state":"up"}`,
		`{"seq":-1}`, `{"seq":-0}`, `{"seq":1.0}`, `{"seq":1e2}`, `{"seq":18446744073709551616}`, `{"seq":"1"}`,
		`{"path":{}}`, `{"path":1}`, `{"path":"1"}`, `{"path":[-1]}`, `{"path":[1.5]}`, `{"path":[4294967296]}`,
		`{"path":["1"]}`, `{"path":[true]}`, `{"path":[[[1]]]}`, `{"path":[["1"]]}`, `{"path":[{"confed_set":"x"}]}`,
		`{"path":[{"confed_set":[-1]}]}`,
		`{"community":[[65536,1]]}`, `{"community":[1]}`, `{"community":[{}]}`, `{"community":{}}`, `{"community":[["1"]]}`,
		`{"large_community":[[4294967296]]}`, `{"med":-1}`, `{"med":4294967296}`, `{"med":"1"}`, `{"aigp":1.5}`,
		`{"aggregator":1}`, `{"aggregator":[]}`, `{"aggregator":{"asn":"1"}}`, `{"aggregator":{"address":"x"}}`,
		`{"atomic_aggregate":1}`, `{"atomic_aggregate":"true"}`,
		`{"ext_community":["x"]}`, `{"ext_community":["0x00"]}`, `{"ext_community":[1]}`, `{"ext_community":[[]]}`,
		`{"ext_community":"rt:1:2"}`,
		`{"cluster_list":["x"]}`, `{"other_attributes":[{"flags":256}]}`, `{"other_attributes":[1]}`,
		`{"announcements":[{"family":"x"}]}`, `{"announcements":[{"family":""}]}`, `{"announcements":[{"prefixes":["10.0.0.1"]}]}`,
		`{"announcements":[{"next_hop":"x"}]}`, `{"announcements":[{"labels":[[-1]]}]}`, `{"announcements":[1]}`,
		`{"announcements":[[]]}`, `{"announcements":{}}`, `{"withdrawals":["x"]}`, `{"withdrawn":[{"family":1}]}`,
		`{"end_of_rib":"x"}`, `{"routes":[]}`, `{"routes":1}`, `{"routes":"x"}`, `{"routes":{"x":1}}`,
		`{"routes":{"IPV4/UNICAST":1}}`, `{"routes":{"ipv4/unicast":-1}}`, `{"routes":{"ipv4/unicast":1.5}}`,
		`{"routes":{"ipv4/unicast":"1"}}`, `{"routes":{"ipv4/unicast":18446744073709551616}}`, `{"routes":{"ipv4/unicast":{}}}`,
		`{"routes":{"ipv4/unicast":1,}}`, `{"routes":{"1/256":1}}`, `{"notification":{"code":256}}`, `{"notification":{"sent":1}}`, `{"open":{"hold_time":65536}}`,
		`{"open":{"capabilities":[1]}}`, `{"route_refresh":{"family":"x"}}`, `{"route_refresh":[]}`,
		`{"peer":"x","id":"y"`, `{"id":1,"x":[}`,
		// Found by FuzzDecodeJSON (testdata/fuzz/FuzzDecodeJSON/1fefb14d5dd2638d):
		// a confederation segment closed by ']' read as closed.
		`{"pAth":[{"000000000000000":0]}`, `{"path":[{"confed_set":[1]]}`,
	}
	return ok, fail
}

// TestDecodeJSONFields decodes decodeCases: each must decode as
// encoding/json decodes it, and succeed or fail as the case says.
func TestDecodeJSONFields(t *testing.T) {
	ok, fail := decodeCases()
	dirty := dirtyEvents(t)
	for _, in := range ok {
		if err := checkDecode(t, []byte(in), dirty); err != nil {
			t.Errorf("%.200q: %v", in, err)
		}
	}
	for _, in := range fail {
		if err := checkDecode(t, []byte(in), dirty); err == nil {
			t.Errorf("%.200q: no error", in)
		}
	}
}

// TestDecodeJSONRoundTrip reads back what AppendJSON writes.
func TestDecodeJSONRoundTrip(t *testing.T) {
	dirty := dirtyEvents(t)
	for _, c := range jsonCases() {
		data := c.ev.AppendJSON(nil)
		// Both fail on what encoding/json cannot read back (a prefix
		// that is not valid, a NaN timestamp written as null...).
		if err := checkDecode(t, data, dirty); err != nil {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"timestamp":1,"peer":"x"}`, `event: field "peer": bad address "x" at byte 22`},
		{`{"announcements":[{"family":"ipv4/unicast"},{"next_hop":"1.2.3"}]}`,
			`event: field "announcements[1].next_hop": bad address "1.2.3" at byte 56`},
		{`{"path":[1,[2,"x"]]}`, `event: field "path[1]": want number, got string at byte 14`},
		{`{"peer_asn":"65536x"}`, `event: field "peer_asn": bad ASN "65536x" (want a number from 0 to 4294967295 in a string) at byte 12`},
		{`{"id":"x",}`, `event: invalid character '}' at byte 10`},
		{`{"id":"x"`, `event: unexpected end of JSON input at byte 9`},
		{`[1]`, `event: want an object, got array at byte 0`},
	} {
		var e Event
		err := e.DecodeJSON([]byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}

// TestDecodeJSONAllocs pins what decoding an UPDATE into a reused Event
// allocates: its ID and Host strings.
func TestDecodeJSONAllocs(t *testing.T) {
	data := []byte(`{"timestamp":1546300800.123456,"peer":"2001:7f8:1::a500:6939:1","peer_asn":"6939","id":"rrc00-1546300800-42","host":"rrc00","type":"UPDATE","seq":42,` +
		`"path":[6939,3356,1299,[64512,64513]],"community":[[6939,1000],[3356,2]],"origin":"IGP","med":0,"aggregator":{"asn":1299,"address":"192.0.2.1"},` +
		`"large_community":[[6939,1,2]],"announcements":[{"next_hop":"2001:7f8:1::a500:6939:1","next_hop_link_local":"fe80::1","family":"ipv6/unicast","prefixes":["2001:db8::/32","2001:db8:1::/48"]}],` +
		`"withdrawals":["2001:db8:2::/48"],"withdrawn":[{"family":"ipv6/unicast","prefixes":["2001:db8:2::/48"]}],"routes":{"ipv6/unicast":201234}}`)
	var e Event
	if err := e.DecodeJSON(data); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if err := e.DecodeJSON(data); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Errorf("DecodeJSON into a reused Event: %v allocations, want at most 2 (ID, Host)", n)
	}
}

// FuzzDecodeJSON checks that DecodeJSON never panics and decodes every
// input as encoding/json does (or both fail), into a zero Event and into
// reused ones.
func FuzzDecodeJSON(f *testing.F) {
	for _, c := range jsonCases() {
		f.Add(c.ev.AppendJSON(nil))
	}
	ok, fail := decodeCases()
	for _, in := range append(ok, fail...) {
		if len(in) < 1000 {
			f.Add([]byte(in))
		}
	}
	f.Add([]byte(`{"path":[1,[2],{"confed_sequence":null},{}],"ext_community":["rt:1:2","0x4002000000000001"],"type":"OPEN"}`))
	f.Add([]byte(`{"announcements":[{"prefixes":["10.0.0.0/8"]},{"prefixes":["11.0.0.0/8"]}],"announcements":[{}],"ANNOUNCEMENTS":[{},{"family":"ipv4/unicast"}]}`))
	f.Add([]byte(`{"aggregator":{"asn":1},"aggregator":{"address":"192.0.2.1"},"community":[[1,2]],"community":[[null,5]],"peer_asn":"\u0031"}`))
	f.Add([]byte(`{"ſtate":"down","\u212a":1,"id":"\ud83d\ude00\ud800"}`))
	var dirty []*Event
	f.Fuzz(func(t *testing.T, data []byte) {
		if dirty == nil {
			dirty = dirtyEvents(t)
		}
		checkDecode(t, data, dirty)
	})
}

// TestRouteCountsRoundTrip writes route counts and reads them back, alone
// (MarshalJSON, UnmarshalJSON) and in an event (AppendJSON, DecodeJSON
// and encoding/json).
func TestRouteCountsRoundTrip(t *testing.T) {
	for _, rc := range []RouteCounts{
		{{IPv4Unicast, 912345}, {IPv6Unicast, 201234}},
		{{IPv6Unicast, 0}},
		{{L2VPNEVPN, 1}, {IPv4FlowSpecVPN, 2}, {Family{AFI: 16388, SAFI: 72}, 18446744073709551615}},
	} {
		b, err := json.Marshal(rc)
		if err != nil {
			t.Fatal(err)
		}
		if want := rc.appendJSON(nil); string(b) != string(want) {
			t.Errorf("json.Marshal %s, appendJSON %s", b, want)
		}
		var back RouteCounts
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, rc) {
			t.Errorf("%s read back as %v (%v), want %v", b, back, err, rc)
		}
		for _, fc := range rc {
			if n, ok := back.Get(fc.Family); !ok || n != fc.Routes {
				t.Errorf("%s: Get(%s) = %d, %v", b, fc.Family, n, ok)
			}
		}
		if _, ok := back.Get(IPv4Multicast); ok {
			t.Errorf("%s: Get(ipv4/multicast) found a count", b)
		}

		ev := Event{Type: TypeKeepalive, Peer: addr("192.0.2.1"), PeerASN: 65001, Seq: 9, Routes: rc}
		data := ev.AppendJSON(nil)
		if !strings.Contains(string(data), `,"routes":`+string(b)) {
			t.Errorf("AppendJSON %s does not hold routes %s", data, b)
		}
		var dec, ref Event
		if err := dec.DecodeJSON(data); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &ref); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(dec, ev) || !reflect.DeepEqual(ref, ev) {
			t.Errorf("%s read back as\n DecodeJSON    %+v\n encoding/json %+v\nwant %+v", data, dec, ref, ev)
		}
	}

	// A family twice: its first place, its last count.
	var rc RouteCounts
	if err := json.Unmarshal([]byte(`{"ipv6/unicast":1,"ipv4/unicast":2,"2/1":3}`), &rc); err != nil {
		t.Fatal(err)
	}
	if want := (RouteCounts{{IPv6Unicast, 3}, {IPv4Unicast, 2}}); !reflect.DeepEqual(rc, want) {
		t.Errorf("duplicate family: %v, want %v", rc, want)
	}
	var e Event
	err := e.DecodeJSON([]byte(`{"routes":{"ipv4/unicast":1,"bogus":2}}`))
	if err == nil || err.Error() != `event: field "routes": bad family "bogus" (want a name such as ipv4/unicast, or AFI/SAFI numbers) at byte 28` {
		t.Errorf("bad family: %v", err)
	}
	err = e.DecodeJSON([]byte(`{"routes":{"ipv4/unicast":-1}}`))
	if err == nil || err.Error() != `event: field "routes.ipv4/unicast": bad number -1 (want an integer from 0 to 18446744073709551615) at byte 26` {
		t.Errorf("bad count: %v", err)
	}
}
