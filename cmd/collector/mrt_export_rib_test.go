package main

import (
	"cmp"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/mrt"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// ribModelLines applies bgpdump -m lines in order up to time at, as
// ribModel does, keeping each route's whole line after its time and kind
// (peer AS, path, origin, next hop, LOCAL_PREF, MED, communities, atomic
// aggregate, aggregator: the same fields for TABLE_DUMP2 and BGP4MP A
// lines). Each route is "peer|prefix|peerAS|path|...".
func ribModelLines(lines []string, at int64) []string {
	type key struct{ peer, prefix string }
	state := map[key]string{}
	var dumpPeers map[string]bool
	dropPeer := func(peer string) {
		for k := range state {
			if k.peer == peer {
				delete(state, k)
			}
		}
	}
	for _, l := range lines {
		f := strings.Split(l, "|")
		if len(f) < 6 {
			continue
		}
		ts, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || ts > at {
			continue
		}
		switch {
		case f[0] == "TABLE_DUMP2" && f[2] == "B":
			if dumpPeers == nil {
				dumpPeers = map[string]bool{}
			}
			if !dumpPeers[f[3]] {
				dumpPeers[f[3]] = true
				dropPeer(f[3])
			}
			state[key{f[3], f[5]}] = f[4] + "|" + strings.Join(f[6:], "|")
		case f[2] == "A":
			dumpPeers = nil
			state[key{f[3], f[5]}] = f[4] + "|" + strings.Join(f[6:], "|")
		case f[2] == "W":
			dumpPeers = nil
			delete(state, key{f[3], f[5]})
		case f[2] == "STATE" && len(f) >= 7 && f[5] == "6" && f[6] != "6":
			dropPeer(f[3])
		}
	}
	out := make([]string, 0, len(state))
	for k, rest := range state {
		out = append(out, k.peer+"|"+k.prefix+"|"+rest)
	}
	slices.Sort(out)
	return out
}

// ribExportLines is the routes of a TABLE_DUMP2 export's bgpdump -m lines
// in ribModelLines' form, with the time every line carries.
func ribExportLines(t *testing.T, lines []string) (routes []string, times []string) {
	t.Helper()
	for _, l := range lines {
		f := strings.Split(l, "|")
		if len(f) < 7 || f[0] != "TABLE_DUMP2" || f[2] != "B" {
			t.Fatalf("not a TABLE_DUMP2 line: %s", l)
		}
		routes = append(routes, f[3]+"|"+f[5]+"|"+f[4]+"|"+strings.Join(f[6:], "|"))
		times = append(times, f[1])
	}
	slices.Sort(routes)
	return routes, times
}

// checkPrefixOrder checks that bgpdump -m lines of a RIB are in prefix
// order, IPv4 first, as RIS's bviews are.
func checkPrefixOrder(t *testing.T, lines []string) {
	t.Helper()
	var prev netip.Prefix
	for i, l := range lines {
		p, err := netip.ParsePrefix(strings.Split(l, "|")[5])
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if i > 0 {
			c := cmp.Or(cmp.Compare(b2i(prev.Addr().Is6()), b2i(p.Addr().Is6())), prev.Addr().Compare(p.Addr()), cmp.Compare(prev.Bits(), p.Bits()))
			if c > 0 {
				t.Fatalf("line %d: %s after %s", i+1, p, prev)
			}
		}
		prev = p
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// gobgpRecords reads a gzip MRT file with gobgp's mrt package and counts
// its records by type and subtype; it fails on any record gobgp cannot
// parse.
func gobgpRecords(t *testing.T, file string) map[string]int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for off := 0; off < len(data); {
		var h mrt.MRTHeader
		if err := h.DecodeFromBytes(data[off:]); err != nil {
			t.Fatalf("gobgp: record at byte %d: %v", off, err)
		}
		end := off + mrt.MRT_COMMON_HEADER_LEN + int(h.Len)
		if end > len(data) {
			t.Fatalf("gobgp: record at byte %d: truncated", off)
		}
		if _, err := mrt.ParseMRTBody(&h, data[off+mrt.MRT_COMMON_HEADER_LEN:end]); err != nil {
			t.Fatalf("gobgp: record at byte %d (type %d subtype %d): %v", off, h.Type, h.SubType, err)
		}
		counts[fmt.Sprintf("%d/%d", h.Type, h.SubType)]++
		off = end
	}
	return counts
}

// TestMRTExportRIB: a RouteViews RIB dump and the updates after it,
// imported; the RIB exported at times during and after the updates
// (from the events, then through a snapshot) is, by bgpdump -m, the dump
// with the updates applied, computed from `collector mrt dump` lines
// alone, attribute for attribute; gobgp's mrt package reads every record.
func TestMRTExportRIB(t *testing.T) {
	bin := testpeer.Need(t, "bgpdump", "bgpdump")
	rib := shareddata.Path(t, "mrt", "ryu", "ryu", "tests", "packet_data", "mrt", "rib.20161101.0000_pick.bz2")
	updates := shareddata.Path(t, "mrt", "ryu", "ryu", "tests", "packet_data", "mrt", "updates.20161101.0000.bz2")
	const host = "route-views-test"
	cfgFile, storeCfg := exportConfig(t)
	if err := runMRTImport([]string{"-config", cfgFile, "-host", host, rib, updates}); err != nil {
		t.Fatal(err)
	}
	lines := dumpLines(t, rib, updates)
	first, last := lineTime(t, lines[0]), lineTime(t, lines[len(lines)-1])
	dir := t.TempDir()
	check := func(how string) {
		t.Helper()
		for _, at := range []int64{first, first + (last-first)/2, last} {
			want := ribModelLines(lines, at)
			if len(want) == 0 {
				t.Fatalf("the model has no routes at %d", at)
			}
			out := filepath.Join(dir, fmt.Sprintf("bview.%d.gz", at))
			// The end of second at: the importer spreads one second's
			// messages over its microseconds, in file order.
			atArg := time.Unix(at, 0).Add(time.Second - time.Microsecond).UTC().Format(time.RFC3339Nano)
			if err := runMRTExport([]string{"-config", cfgFile, "-rib", "-at", atArg, "-collector", host, "-o", out}); err != nil {
				t.Fatal(err)
			}
			exported := bgpdumpLines(t, bin, out)
			checkPrefixOrder(t, exported)
			got, times := ribExportLines(t, exported)
			if !slices.Equal(got, want) {
				t.Errorf("%s: RIB at %d: %d routes, want %d\n%s", how, at, len(got), len(want), diff(got, want))
			}
			for _, ts := range times {
				if ts != strconv.FormatInt(at, 10) {
					t.Fatalf("%s: RIB at %d: a line dated %s", how, at, ts)
				}
			}
			counts := gobgpRecords(t, out)
			if counts["13/1"] != 1 || counts["13/2"]+counts["13/4"] == 0 {
				t.Errorf("%s: RIB at %d: records %v, want one PEER_INDEX_TABLE and RIB_IPV4/IPV6_UNICAST", how, at, counts)
			}
			if dumped := dumpLines(t, out); !slices.Equal(dumped, bgpdumpLines(t, bin, out)) {
				t.Errorf("%s: collector mrt dump of the RIB at %d differs from bgpdump -m", how, at)
			}
		}
	}
	check("from the events")
	db, err := storage.Open(t.Context(), storeCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.Snapshot(t.Context(), time.Unix(first+(last-first)/3, 0))
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the snapshot holds no routes")
	}
	check("through a snapshot")
}

// TestMRTExportRIBAddPath: RIB dumps with ADD-PATH entries (bgpdump's
// samples), imported and exported at their time: bgpdump -m prints the
// same TABLE_DUMP2_AP lines, path identifiers included.
func TestMRTExportRIBAddPath(t *testing.T) {
	bin := testpeer.Need(t, "bgpdump", "bgpdump")
	for _, rel := range []string{"bview.ipv4_unicast_add_path.gz", "bview.ipv6_unicast_add_path.gz"} {
		t.Run(rel, func(t *testing.T) {
			src := shareddata.Path(t, "mrt", "bgpdump", "test_data", rel)
			cfgFile, _ := exportConfig(t)
			if err := runMRTImport([]string{"-config", cfgFile, "-host", "lab", src}); err != nil {
				t.Fatal(err)
			}
			want := bgpdumpLines(t, bin, src)
			out := filepath.Join(t.TempDir(), "bview.gz")
			if err := runMRTExport([]string{"-config", cfgFile, "-rib", "-at", strings.Split(want[0], "|")[1], "-o", out}); err != nil {
				t.Fatal(err)
			}
			// The export is in prefix order, the samples are not.
			got := bgpdumpLines(t, bin, out)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("bgpdump -m of the export: %s", firstDiff(got, want))
			}
			if n := gobgpRecords(t, out); n["13/8"]+n["13/10"] == 0 {
				t.Errorf("records %v: no RIB_*_UNICAST_ADDPATH", n)
			}
		})
	}
}

// TestMRTExportRIBGeneric: OpenBGPD's RIB dump with RIB_GENERIC records
// of VPNv4 routes (and IPv4 and IPv6 unicast ones), imported and exported
// at its time: the export has a RIB_GENERIC record per VPN route with
// the original's NLRI (labels, RD, prefix), its next hop in the RFC 6396
// form (an abbreviated MP_REACH_NLRI: the RD of zeros and the address,
// where OpenBGPD wrote a NEXT_HOP), gobgp's mrt package reads every
// record, bgpdump reads it without warnings (printing the unicast routes;
// it skips RIB_GENERIC, as it does in the original), and `collector mrt
// dump` prints the same routes as for the original.
func TestMRTExportRIBGeneric(t *testing.T) {
	bin := testpeer.Need(t, "bgpdump", "bgpdump")
	src := shareddata.Path(t, "mrt", "mrtparse", "samples", "openbgpd_rib_table-v2")
	cfgFile, _ := exportConfig(t)
	if err := runMRTImport([]string{"-config", cfgFile, "-host", "lab", src}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bview.gz")
	if err := runMRTExport([]string{"-config", cfgFile, "-rib", "-at", "1444842657", "-o", out}); err != nil {
		t.Fatal(err)
	}
	counts := gobgpRecords(t, out)
	if counts["13/6"] != 2 {
		t.Errorf("records %v: want 2 RIB_GENERIC (13/6), one per VPN route", counts)
	}
	got, want := genericRecords(t, out), genericRecords(t, src)
	if len(got) != 2 || !slices.Equal(got, want) {
		t.Errorf("RIB_GENERIC records of the export:\n %q\nof the original:\n %q", got, want)
	}
	// The lines but for the VPN routes' next hop, which the printer
	// shows as bgpdump would the 12-byte VPN form.
	vpnNextHop := func(lines []string) []string {
		for i, l := range lines {
			if f := strings.Split(l, "|"); strings.HasPrefix(f[1], "65010:15:") {
				f[5] = "-"
				lines[i] = strings.Join(f, "|")
			}
		}
		return lines
	}
	gotL, _ := ribExportLines(t, dumpLines(t, out))
	wantL, _ := ribExportLines(t, dumpLines(t, src))
	if gotL, wantL = vpnNextHop(gotL), vpnNextHop(wantL); !slices.Equal(gotL, wantL) {
		t.Errorf("collector mrt dump of the export: %d routes, of the original %d\n%s", len(gotL), len(wantL), diff(gotL, wantL))
	}
	gotB, _ := ribExportLines(t, bgpdumpLines(t, bin, out))
	wantB, _ := ribExportLines(t, bgpdumpLines(t, bin, src))
	if len(gotB) != 31 || !slices.Equal(gotB, wantB) {
		t.Errorf("bgpdump -m of the export: %d routes, of the original %d (want 31)\n%s", len(gotB), len(wantB), diff(gotB, wantB))
	}
}

// genericRecords describes the RIB_GENERIC records of an MRT file: the
// family, NLRI (prefix, RD, labels) and, per entry, the peer index, next
// hop (with its RD) and AS path, as bgpwire decodes them.
func genericRecords(t *testing.T, file string) []string {
	t.Helper()
	var out []string
	var rib bgpwire.RIB
	if err := collector.ScanMRTFile(file, 1, nil, func(error) {}, func(rec bgpwire.MRTRecord) error {
		if rec.Header.Type != bgpwire.MRTTableDump2 || rec.Header.Subtype != bgpwire.TD2RIBGeneric {
			return nil
		}
		if err := rib.Decode(rec.Header.Subtype, rec.Body); err != nil {
			return err
		}
		n := rib.NLRI
		var labels []uint32
		for i := range n.Labels.Len() {
			labels = append(labels, n.Labels.At(i))
		}
		s := fmt.Sprintf("%s %s rd %s labels %v:", rib.Family, n.Prefix, n.RD, labels)
		for _, e := range rib.Entries {
			var u bgpwire.Update
			if err := u.DecodeAttributes(e.Attrs, rib.DecodeOptions()); err != nil {
				return err
			}
			nh, rd := u.Attrs.NextHop, bgpwire.RD{}
			if u.Attrs.Has(bgpwire.AttrMPReach) {
				nh, rd = u.Attrs.MPReach.NextHop, u.Attrs.MPReach.NextHopRD
			}
			s += fmt.Sprintf(" peer %d next hop %s (rd %s) path %v;", e.PeerIndex, nh, rd, u.Attrs.ASPath)
		}
		out = append(out, s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMRTExportRIBNLRIFamilies: FlowSpec routes (ExaBGP's decoding
// vectors, real UPDATEs) and EVPN routes (the NLRI of ExaBGP's EVPN
// vector, announced) stored as a session stores them, raw message
// included; one FlowSpec route withdrawn later. The RIB export holds one
// RIB_GENERIC record per current NLRI, with the NLRI's bytes as announced
// and an entry per peer; gobgp reads every record, bgpdump without
// warnings.
func TestMRTExportRIBNLRIFamilies(t *testing.T) {
	bin := testpeer.Need(t, "bgpdump", "bgpdump")
	dir := shareddata.Path(t, "exabgp", "qa", "decoding")
	var msgs [][]byte
	for i := 1; i <= 5; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("bgp-flow-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		m, err := hex.DecodeString(strings.ReplaceAll(lines[1], ":", ""))
		if err != nil {
			t.Fatalf("bgp-flow-%d: %v", i, err)
		}
		msgs = append(msgs, m)
	}
	// The EVPN vector withdraws its routes: the same NLRI, announced.
	b, err := os.ReadFile(filepath.Join(dir, "bgp-evpn-1"))
	if err != nil {
		t.Fatal(err)
	}
	var evpn []bgpwire.NLRI
	for _, raw := range []string{
		"02210001252C37370001000000000000000000000000076D30FC15B4787B8F00000000",
		"02250001252C372E0001000000000000000000000000051530E88088308BE9200A22100A000000",
	} {
		if !strings.Contains(string(b), raw) {
			t.Fatalf("bgp-evpn-1 has no NLRI %s", raw)
		}
		n, _ := hex.DecodeString(raw)
		evpn = append(evpn, bgpwire.NLRI{Raw: n})
	}
	var u bgpwire.Update
	u.Attrs.Set(bgpwire.AttrOrigin)
	u.Attrs.Set(bgpwire.AttrASPath)
	u.Attrs.ASPath = bgpwire.ASPath{{Type: bgpwire.SegSequence, ASNs: []uint32{65010}}}
	u.Attrs.Set(bgpwire.AttrMPReach)
	u.Attrs.MPReach = bgpwire.MPReach{Family: bgpwire.L2VPNEVPN, NextHop: netip.MustParseAddr("192.0.2.1"), NLRI: evpn}
	opt := bgpwire.DecodeOptions{ASN4: true}
	msgs = append(msgs, u.AppendWire(nil, &opt))

	cfgFile, scfg := exportConfig(t)
	ctx := t.Context()
	db, err := storage.Open(ctx, scfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	type route struct{ family, nlri string }
	want := map[route]map[string]bool{} // the peers of each current route
	var events []schema.Event
	var withdrawn schema.NLRISet
	var withdrawnRoute route
	for k, peer := range []string{"10.0.0.1", "10.0.0.2"} {
		for i, m := range msgs {
			var d bgpwire.Update
			if err := d.Decode(m[bgpwire.HeaderLen:], &opt); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			ev := schema.Event{Host: "lab", Peer: netip.MustParseAddr(peer), PeerASN: 65010, Seq: uint64(i + 1),
				Timestamp: float64(t0.Add(time.Duration(k*100+i)*time.Second).UnixMicro()) / 1e6, Raw: hex.EncodeToString(m)}
			ev.ID = fmt.Sprintf("%s-%d", peer, ev.Seq)
			collector.FillUpdate(&ev, &d)
			if len(ev.Announcements) != 1 || len(ev.Announcements[0].NLRI) == 0 {
				t.Fatalf("message %d: announcements %+v", i, ev.Announcements)
			}
			a := ev.Announcements[0]
			for j, text := range a.NLRI {
				n := d.Attrs.MPReach.NLRI[j]
				r := route{a.Family.String(), fmt.Sprintf("%x", n.Raw)}
				if want[r] == nil {
					want[r] = map[string]bool{}
				}
				want[r][peer] = true
				if k == 1 && i == 0 && j == 0 {
					withdrawn, withdrawnRoute = schema.NLRISet{Family: a.Family, NLRI: []string{text}}, r
				}
			}
			events = append(events, ev)
		}
	}
	// The second peer withdraws the first FlowSpec route of bgp-flow-1
	// (the first peer keeps it).
	delete(want[withdrawnRoute], "10.0.0.2")
	// A third peer's FlowSpec route without its message (store_raw off):
	// left out, and counted.
	unstored := events[1]
	unstored.Peer, unstored.ID, unstored.Raw = netip.MustParseAddr("10.0.0.3"), "10.0.0.3-1", ""
	events = append(events, unstored)
	events = append(events, schema.Event{Host: "lab", Peer: netip.MustParseAddr("10.0.0.2"), PeerASN: 65010, Type: schema.TypeUpdate,
		Seq: 100, ID: "10.0.0.2-100", Timestamp: float64(t0.Add(time.Hour).UnixMicro()) / 1e6, Withdrawn: []schema.NLRISet{withdrawn}})
	if err := db.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bview.gz")
	if err := runMRTExport([]string{"-config", cfgFile, "-rib", "-at", strconv.FormatInt(t0.Add(2*time.Hour).Unix(), 10), "-o", out}); err != nil {
		t.Fatal(err)
	}
	got := map[route][]string{}
	var peers []string
	var rib bgpwire.RIB
	if err := collector.ScanMRTFile(out, 1, nil, func(err error) { t.Errorf("reading the export: %v", err) }, func(rec bgpwire.MRTRecord) error {
		if rec.Header.Type == bgpwire.MRTTableDump2 && rec.Header.Subtype == bgpwire.TD2PeerIndexTable {
			var pit bgpwire.PeerIndexTable
			if err := pit.Decode(rec.Body); err != nil {
				return err
			}
			for _, p := range pit.Peers {
				peers = append(peers, p.Addr.String())
			}
			return nil
		}
		if rec.Header.Type != bgpwire.MRTTableDump2 || rec.Header.Subtype != bgpwire.TD2RIBGeneric {
			return nil
		}
		if err := rib.Decode(rec.Header.Subtype, rec.Body); err != nil {
			return err
		}
		r := route{fmt.Sprint(rib.Family), fmt.Sprintf("%x", rib.NLRI.Raw)}
		for _, e := range rib.Entries {
			got[r] = append(got[r], peers[e.PeerIndex])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) < 6 {
		t.Fatalf("only %d routes to export: %v", len(want), want)
	}
	for r, set := range want {
		p := slices.Sorted(maps.Keys(set))
		if !slices.Equal(got[r], p) {
			t.Errorf("%s %s: entries of peers %v, want %v", r.family, r.nlri, got[r], p)
		}
	}
	for r, p := range got {
		if _, ok := want[r]; !ok {
			t.Errorf("%s %s: exported with peers %v, not current", r.family, r.nlri, p)
		}
	}
	stats, err := web.ExportRIB(ctx, db, storage.RIBQuery{At: t0.Add(2 * time.Hour)}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Unstored != 1 {
		t.Errorf("routes left out without their UPDATE: %d, want 1", stats.Unstored)
	}
	counts := gobgpRecords(t, out)
	if counts["13/6"] != len(want) {
		t.Errorf("gobgp read %v, want %d RIB_GENERIC (13/6) records", counts, len(want))
	}
	bgpdumpLines(t, bin, out)
}
