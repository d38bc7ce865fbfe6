package bgpwire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
)

var marker16 = bytes.Repeat([]byte{0xff}, 16)

// exaHex reads ExaBGP's hex forms: plain, spaced, or MARKER:LEN:TYPE:BODY.
func exaHex(t *testing.T, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex: %v", err)
	}
	return b
}

// exaFamilies maps ExaBGP's family names to ours.
var exaFamilies = map[string]Family{
	"ipv4 unicast": IPv4Unicast, "ipv6 unicast": IPv6Unicast, "ipv4 multicast": IPv4Multicast,
	"ipv6 multicast": IPv6Multicast, "ipv4 nlri-mpls": IPv4Labeled, "ipv6 nlri-mpls": IPv6Labeled,
	"ipv4 mpls-vpn": IPv4VPN, "ipv6 mpls-vpn": IPv6VPN, "ipv4 flow": IPv4FlowSpec, "ipv6 flow": IPv6FlowSpec,
	"ipv4 flow-vpn": IPv4FlowSpecVPN, "ipv6 flow-vpn": IPv6FlowSpecVPN, "l2vpn evpn": L2VPNEVPN,
	"l2vpn vpls": L2VPNVPLS, "bgp-ls bgp-ls": LinkState, "ipv4 sr-policy": {AFIIPv4, SAFISRPolicy},
	"ipv6 sr-policy": {AFIIPv6, SAFISRPolicy},
}

// TestExaBGPDecoding runs ExaBGP's decoding suite: every message decodes
// and its route content agrees with ExaBGP's JSON.
func TestExaBGPDecoding(t *testing.T) {
	dir := shareddata.Path(t, "exabgp", "qa", "decoding")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		testenv.Skip(t, "shared test file missing: no ExaBGP decoding files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitN(string(data), "\n", 3)
			if len(lines) < 3 {
				t.Fatalf("want 3 lines, have %d", len(lines))
			}
			kind := strings.Fields(lines[0])
			msg := exaHex(t, lines[1])
			var want map[string]any
			if err := json.Unmarshal([]byte(lines[2]), &want); err != nil {
				t.Fatalf("expected JSON: %v", err)
			}
			opt := &DecodeOptions{ASN4: true}
			switch kind[0] {
			case "nlri":
				fam := exaFamilies[kind[1]+" "+kind[2]]
				nl, e := decodeNLRIs(nil, newReader(msg, 0), fam, false, "nlri")
				if e != nil || len(nl) != 1 {
					t.Fatalf("decode: %v (%d NLRI)", e, len(nl))
				}
				checkExaRoute(t, fam, &nl[0], want)
				return
			case "open":
				var m Message
				if err := m.Decode(msg, opt); err != nil {
					t.Fatal(err)
				}
				checkExaOpen(t, &m.Open, want["neighbor"].(map[string]any)["open"].(map[string]any))
				return
			}
			var body []byte
			switch {
			case bytes.HasPrefix(msg, marker16):
				body = msg[HeaderLen:]
			case len(msg) > 3 && int(be16(msg))+16 == len(msg) && msg[2] == 2:
				body = msg[3:]
			default:
				body = msg
			}
			var u Update
			if err := u.Decode(body, opt); err != nil {
				t.Fatal(err)
			}
			if u.Action != ActionNone {
				t.Fatalf("action %v: %v", u.Action, u.Errors)
			}
			upd := want["neighbor"].(map[string]any)["message"].(map[string]any)["update"].(map[string]any)
			checkExaUpdate(t, &u, upd)
			// Re-encoding gives the same body back.
			if got := u.AppendBody(nil, opt); !bytes.Equal(got, body) {
				t.Errorf("re-encoded body differs:\n got %x\nwant %x", got, body)
			}
		})
	}
}

func checkExaOpen(t *testing.T, o *Open, want map[string]any) {
	t.Helper()
	if float64(o.Version) != want["version"] || float64(o.ASN()) != want["asn"] || float64(o.HoldTime) != want["hold_time"] || o.RouterID.String() != want["router_id"] {
		t.Errorf("open %+v, want %v", o, want)
	}
	caps := want["capabilities"].(map[string]any)
	if len(caps) != len(o.Capabilities) {
		t.Errorf("%d capabilities, want %d", len(o.Capabilities), len(caps))
	}
	for _, c := range o.Capabilities {
		w, ok := caps[strconv.Itoa(int(c.Code))].(map[string]any)
		if !ok {
			t.Errorf("capability %s not expected", c.Code)
			continue
		}
		switch c.Code {
		case CapMultiprotocol:
			if fs := w["families"].([]any); len(fs) != 1 || fs[0] != c.Family.String() {
				t.Errorf("multiprotocol %s, want %v", c.Family, fs)
			}
		case CapFourOctetAS:
			if float64(c.ASN) != w["asn4"] {
				t.Errorf("asn4 %d, want %v", c.ASN, w["asn4"])
			}
		case CapSoftwareVersion:
			if c.Software != w["software"] {
				t.Errorf("software %q, want %v", c.Software, w["software"])
			}
		}
	}
}

func checkExaUpdate(t *testing.T, u *Update, upd map[string]any) {
	t.Helper()
	a := &u.Attrs
	checked := map[AttrCode]bool{}
	if attrs, ok := upd["attribute"].(map[string]any); ok {
		for k, v := range attrs {
			var code AttrCode
			var got, want any = nil, v
			switch k {
			case "origin":
				code, got = AttrOrigin, []string{"igp", "egp", "incomplete"}[a.Origin]
			case "as-path":
				code = AttrASPath
				var segs []string
				for _, s := range a.ASPath {
					segs = append(segs, fmt.Sprint(s.Type, s.ASNs))
				}
				got = strings.Join(segs, " ")
				m := v.(map[string]any)
				var ws []string
				for i := range len(m) {
					s := m[strconv.Itoa(i)].(map[string]any)
					typ := map[string]SegmentType{"as-sequence": SegSequence, "as-set": SegSet, "confed-sequence": SegConfedSequence, "confed-set": SegConfedSet}[s["element"].(string)]
					var asns []uint32
					for _, x := range s["value"].([]any) {
						asns = append(asns, uint32(x.(float64)))
					}
					ws = append(ws, fmt.Sprint(typ, asns))
				}
				want = strings.Join(ws, " ")
			case "med":
				code, got = AttrMED, float64(a.MED)
			case "local-preference":
				code, got = AttrLocalPref, float64(a.LocalPref)
			case "atomic-aggregate":
				code, got = AttrAtomicAggregate, true
			case "aggregator":
				code, got = AttrAggregator, fmt.Sprintf("%d:%s", a.Aggregator.ASN, a.Aggregator.Address)
			case "originator-id":
				code, got = AttrOriginatorID, a.OriginatorID.String()
			case "cluster-list":
				code = AttrClusterList
				var l []any
				for _, c := range a.ClusterList {
					l = append(l, c.String())
				}
				got = l
			case "community":
				code = AttrCommunities
				var l []any
				for _, c := range a.Communities {
					l = append(l, []any{float64(c >> 16), float64(c & 0xffff)})
				}
				got = l
			case "large-community":
				code = AttrLargeCommunity
				var l []any
				for _, c := range a.LargeCommunities {
					l = append(l, []any{float64(c[0]), float64(c[1]), float64(c[2])})
				}
				got = l
			case "extended-community":
				code = AttrExtCommunities
				var gl, wl []uint64
				for _, c := range a.ExtCommunities {
					gl = append(gl, uint64(be32(c[:]))<<32|uint64(be32(c[4:])))
				}
				for _, x := range v.([]any) {
					// JSON numbers lose precision above 2^53: compare
					// through float64 on both sides.
					wl = append(wl, uint64(x.(map[string]any)["value"].(float64)))
				}
				got, want = fmt.Sprint(floatsOf(gl)), fmt.Sprint(floatsOf(wl))
			case "bgp-ls", "bgp-prefix-sid", "tunnel-encap":
				// Kept raw: check presence.
				code = map[string]AttrCode{"bgp-ls": AttrLS, "bgp-prefix-sid": AttrPrefixSID, "tunnel-encap": AttrTunnelEncap}[k]
				_, ok := a.OtherAttr(code)
				got, want = ok, true
			default:
				t.Errorf("attribute %q not checked", k)
				continue
			}
			checked[code] = true
			if !a.Has(code) {
				t.Errorf("attribute %s absent, want %v", code, v)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("attribute %s = %v, want %v", k, got, want)
			}
		}
	}
	for c := range 256 {
		code := AttrCode(c)
		if code == AttrASPath && len(a.ASPath) == 0 {
			continue // ExaBGP does not print an empty AS_PATH
		}
		if a.Has(code) && !checked[code] && code != AttrMPReach && code != AttrMPUnreach && code != AttrNextHop {
			t.Errorf("attribute %s decoded but not in ExaBGP's output", code)
		}
	}
	// Announcements: family -> next hop -> routes.
	var gotAnn []string
	ann, _ := upd["announce"].(map[string]any)
	for fname, byNH := range ann {
		fam, ok := exaFamilies[fname]
		if !ok {
			t.Errorf("unknown ExaBGP family %q", fname)
			continue
		}
		for nh, routes := range byNH.(map[string]any) {
			var nlri []NLRI
			var gotNH netip.Addr
			if fam == IPv4Unicast && len(u.NLRI) > 0 {
				nlri, gotNH = u.NLRI, a.NextHop
			} else {
				if a.MPReach.Family != fam {
					t.Errorf("MP_REACH family %s, want %s", a.MPReach.Family, fam)
					continue
				}
				nlri, gotNH = a.MPReach.NLRI, a.MPReach.NextHop
			}
			if nh == "no-nexthop" {
				if gotNH.IsValid() {
					t.Errorf("next hop %s, want none", gotNH)
				}
			} else if gotNH.String() != nh {
				t.Errorf("next hop %s, want %s", gotNH, nh)
			}
			rs := routes.([]any)
			if len(rs) != len(nlri) {
				t.Errorf("%s: %d routes, want %d", fname, len(nlri), len(rs))
				continue
			}
			for i := range rs {
				checkExaRoute(t, fam, &nlri[i], rs[i].(map[string]any))
				gotAnn = append(gotAnn, fname)
			}
		}
	}
	if len(gotAnn) == 0 && (len(u.NLRI) > 0 || len(a.MPReach.NLRI) > 0) {
		t.Errorf("routes announced but none expected")
	}
	wd, _ := upd["withdraw"].(map[string]any)
	for fname, routes := range wd {
		fam := exaFamilies[fname]
		nlri := a.MPUnreach.NLRI
		if fam == IPv4Unicast && len(u.Withdrawn) > 0 {
			nlri = u.Withdrawn
		}
		rs := routes.([]any)
		if len(rs) != len(nlri) {
			t.Errorf("%s: %d withdrawals, want %d", fname, len(nlri), len(rs))
			continue
		}
		for i := range rs {
			checkExaRoute(t, fam, &nlri[i], rs[i].(map[string]any))
		}
	}
}

func floatsOf(v []uint64) []float64 {
	var f []float64
	for _, x := range v {
		f = append(f, float64(x))
	}
	return f
}

// checkExaRoute compares one route with ExaBGP's JSON for it.
func checkExaRoute(t *testing.T, fam Family, n *NLRI, w map[string]any) {
	t.Helper()
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s route %s: %s", fam, n.Text(fam), fmt.Sprintf(format, args...))
	}
	if pi, ok := w["path-information"].(string); ok {
		if got := netip.AddrFrom4([4]byte(appendU32(nil, n.PathID))).String(); got != pi {
			errorf("path id %s, want %s", got, pi)
		}
	}
	switch {
	case IsPrefixFamily(fam):
		if n.Prefix.String() != w["nlri"] {
			errorf("prefix %s, want %v", n.Prefix, w["nlri"])
		}
		if rd, ok := w["rd"].(string); ok && n.RD.String() != rd {
			errorf("rd %s, want %s", n.RD, rd)
		}
		if ls, ok := w["label"].([]any); ok {
			var got []any
			for i := range n.Labels.Len() {
				got = append(got, []any{float64(n.Labels.At(i)), float64(n.Labels.Entry(i))})
			}
			if fmt.Sprint(got) != fmt.Sprint(ls) {
				errorf("labels %v, want %v", got, ls)
			}
		}
	case fam.SAFI == SAFIFlowSpec || fam.SAFI == SAFIFlowSpecVPN:
		fs, err := DecodeFlowSpec(n.Raw, fam)
		if err != nil {
			errorf("%v", err)
			return
		}
		if got := exaFlowString(&fs, fam); got != w["string"] {
			errorf("flow %q, want %q", got, w["string"])
		}
	case fam == L2VPNEVPN:
		if got := strings.ToUpper(hex.EncodeToString(n.Raw)); got != w["raw"] {
			errorf("raw %s, want %v", got, w["raw"])
		}
		e, err := DecodeEVPN(n.Raw)
		if err != nil {
			errorf("%v", err)
			return
		}
		if float64(e.Type) != w["code"] {
			errorf("code %d, want %v", e.Type, w["code"])
		}
		if w["parsed"] != true {
			return
		}
		esi := e.ESI.String()
		if esi == "0" {
			esi = "-"
		}
		var labels []any
		for i := range e.Labels.Len() {
			labels = append(labels, []any{float64(e.Labels.At(i))})
		}
		got := map[string]any{"rd": e.RD.String(), "esi": esi, "ethernet-tag": float64(e.EthernetTag), "mac": strings.ToUpper(e.MAC.String()), "label": labels}
		if e.IP.IsValid() {
			got["ip"] = e.IP.String()
		}
		for k, gv := range got {
			if fmt.Sprint(gv) != fmt.Sprint(w[k]) {
				errorf("%s %v, want %v", k, gv, w[k])
			}
		}
	case fam == LinkState:
		ls, err := DecodeLS(n.Raw)
		if err != nil {
			errorf("%v", err)
			return
		}
		checkExaLS(t, &ls, w)
	case fam.SAFI == SAFISRPolicy:
		// RFC 9830: length in bits, distinguisher, color, endpoint.
		r := n.Raw
		if len(r) < 13 {
			errorf("sr-policy NLRI of %d bytes", len(r))
			return
		}
		ep, _ := netip.AddrFromSlice(r[9:])
		got := fmt.Sprintf("%d %d %s", be32(r[1:]), be32(r[5:]), ep)
		if want := fmt.Sprintf("%v %v %v", w["distinguisher"], w["color"], w["endpoint"]); got != want {
			errorf("sr-policy %s, want %s", got, want)
		}
	default:
		errorf("family not checked")
	}
}

// exaFlowString renders a FlowSpec the way ExaBGP's "string" does.
func exaFlowString(fs *FlowSpec, fam Family) string {
	v := "ipv4"
	if fam.AFI == AFIIPv6 {
		v = "ipv6"
	}
	parts := []string{"flow"}
	for _, c := range fs.Components {
		name := c.Type.String()
		val := c.ValueString()
		switch c.Type {
		case FlowDestination, FlowSource:
			name += "-" + v
			if v == "ipv6" {
				val = c.Prefix.String() + "/" + strconv.Itoa(int(c.Offset))
			}
		case FlowProtocol:
			if v == "ipv6" {
				name = "next-header"
			}
			val = strings.NewReplacer("=6", "=tcp", "=17", "=udp", "=1", "=icmp").Replace(val)
		}
		if len(c.Ops) > 1 {
			val = "[ " + val + " ]"
		}
		parts = append(parts, name, val)
	}
	return strings.Join(parts, " ")
}

func checkExaLS(t *testing.T, ls *LS, w map[string]any) {
	t.Helper()
	typ := map[LSNLRIType]string{LSNode: "bgpls-node", LSLink: "bgpls-link", LSIPv4Prefix: "bgpls-prefix-v4", LSIPv6Prefix: "bgpls-prefix-v6"}[ls.Type]
	if typ != w["ls-nlri-type"] || float64(ls.Protocol) != w["protocol-id"] || float64(ls.Identifier) != w["l3-routing-topology"] {
		t.Errorf("bgp-ls %s protocol %d id %d, want %v %v %v", ls.Type, ls.Protocol, ls.Identifier, w["ls-nlri-type"], w["protocol-id"], w["l3-routing-topology"])
	}
	desc := func(d *LSNodeDescriptor) string {
		var parts []string
		for _, t := range d.TLVs {
			switch t.Type {
			case 512:
				parts = append(parts, fmt.Sprintf("autonomous-system=%d", d.ASN))
			case 513:
				parts = append(parts, fmt.Sprintf("bgp-ls-identifier=%d", d.BGPLSID))
			case 514:
				parts = append(parts, "ospf-area-id="+netip.AddrFrom4([4]byte(t.Value)).String())
			case 515:
				switch len(t.Value) {
				case 4:
					parts = append(parts, "router-id="+netip.AddrFrom4([4]byte(t.Value)).String())
				case 8:
					parts = append(parts, "router-id="+netip.AddrFrom4([4]byte(t.Value)).String(), "designated-router-id="+netip.AddrFrom4([4]byte(t.Value[4:])).String())
				case 7:
					parts = append(parts, fmt.Sprintf("router-id=%X", t.Value), fmt.Sprintf("psn=%d", t.Value[6]))
				default:
					parts = append(parts, fmt.Sprintf("router-id=%X", t.Value))
				}
			}
		}
		slices.Sort(parts)
		return strings.Join(parts, " ")
	}
	wdesc := func(v any) string {
		var parts []string
		l, _ := v.([]any)
		for _, x := range l {
			for k, y := range x.(map[string]any) {
				parts = append(parts, fmt.Sprintf("%s=%v", k, y))
			}
		}
		slices.Sort(parts)
		return strings.Join(parts, " ")
	}
	local := w["local-node-descriptors"]
	if local == nil {
		local = w["node-descriptors"]
	}
	if got, want := desc(&ls.Local), wdesc(local); got != want {
		t.Errorf("local node %q, want %q", got, want)
	}
	if ls.Type == LSLink {
		if got, want := desc(&ls.Remote), wdesc(w["remote-node-descriptors"]); got != want {
			t.Errorf("remote node %q, want %q", got, want)
		}
		addrs := func(l []netip.Addr) string { return fmt.Sprint(l) }
		waddrs := func(v any) string {
			var l []netip.Addr
			for _, x := range v.([]any) {
				l = append(l, netip.MustParseAddr(x.(string)))
			}
			return fmt.Sprint(l)
		}
		if addrs(ls.InterfaceAddrs) != waddrs(w["interface-addresses"]) || addrs(ls.NeighborAddrs) != waddrs(w["neighbor-addresses"]) {
			t.Errorf("link addresses %v %v, want %v %v", ls.InterfaceAddrs, ls.NeighborAddrs, w["interface-addresses"], w["neighbor-addresses"])
		}
		var mt []any
		for _, m := range ls.MultiTopology {
			mt = append(mt, float64(m))
		}
		if fmt.Sprint(mt) != fmt.Sprint(w["multi-topology-ids"]) {
			t.Errorf("multi-topology %v, want %v", mt, w["multi-topology-ids"])
		}
	}
	if p, ok := w["ip-reach-prefix"].(string); ok && ls.Prefix.String() != p {
		t.Errorf("prefix %s, want %s", ls.Prefix, p)
	}
}
