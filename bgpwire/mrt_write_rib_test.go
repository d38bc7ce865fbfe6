package bgpwire_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/packet/mrt"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
)

// gobgpRIB is the RIB record as gobgp's mrt package writes it, with each
// attribute as gobgp's raw attribute and a full MP_REACH_NLRI shortened
// to its next hop: what MRTWriter.WriteRIB wrote before it encoded RIB
// records itself.
func gobgpRIB(t *testing.T, ts, seq uint32, f bgpwire.Family, prefix netip.Prefix, entries []bgpwire.RIBEntry) []byte {
	t.Helper()
	addPath := false
	for _, e := range entries {
		addPath = addPath || e.PathID != 0
	}
	var sub mrt.MRTSubTypeTableDumpv2
	switch f {
	case bgpwire.IPv4Unicast:
		sub = mrt.RIB_IPV4_UNICAST
	case bgpwire.Family{AFI: bgpwire.AFIIPv4, SAFI: bgpwire.SAFIMulticast}:
		sub = mrt.RIB_IPV4_MULTICAST
	case bgpwire.IPv6Unicast:
		sub = mrt.RIB_IPV6_UNICAST
	default:
		sub = mrt.RIB_IPV6_MULTICAST
	}
	if addPath {
		sub += mrt.RIB_IPV4_UNICAST_ADDPATH - mrt.RIB_IPV4_UNICAST
	}
	var pfx bgp.AddrPrefixInterface
	prefix = prefix.Masked()
	if prefix.Addr().Is4() {
		pfx = bgp.NewIPAddrPrefix(uint8(prefix.Bits()), prefix.Addr().String())
	} else {
		pfx = bgp.NewIPv6AddrPrefix(uint8(prefix.Bits()), prefix.Addr().String())
	}
	es := make([]*mrt.RibEntry, len(entries))
	for i, e := range entries {
		var attrs []bgp.PathAttributeInterface
		for b := e.Attrs; len(b) >= 3; {
			flags, code := b[0], b[1]
			n, h := int(b[2]), 3
			if flags&bgpwire.FlagExtLength != 0 {
				n, h = int(binary.BigEndian.Uint16(b[2:])), 4
			}
			val := b[h : h+n]
			if bgpwire.AttrCode(code) == bgpwire.AttrMPReach && len(val) >= 4 && int(val[0]) != len(val)-1 {
				if nh := int(val[3]); 4+nh <= len(val) {
					val = append([]byte{byte(nh)}, val[4:4+nh]...)
				}
			}
			attrs = append(attrs, bgp.NewPathAttributeUnknown(bgp.BGPAttrFlag(flags&^bgpwire.FlagExtLength), bgp.BGPAttrType(code), append([]byte(nil), val...)))
			b = b[h+n:]
		}
		es[i] = mrt.NewRibEntry(e.PeerIndex, e.OriginatedTime, e.PathID, attrs, addPath)
	}
	m, err := mrt.NewMRTMessage(ts, mrt.TABLE_DUMPv2, sub, mrt.NewRib(seq, pfx, es))
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWriteRIBAsGobgp checks that WriteRIB writes every RIB record of
// shared RIB dumps (IPv4 and IPv6, ADD-PATH, a 69,700-byte record, full
// MP_REACH_NLRI) to the bytes gobgp's mrt package writes for it.
func TestWriteRIBAsGobgp(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "mrt")
	for _, rel := range []string{
		"bgpdump/test_data/bview.64k_stream_overflow.gz",
		"bgpdump/test_data/bview.ipv4_unicast_add_path.gz",
		"bgpdump/test_data/bview.ipv6_unicast_add_path.gz",
		"mrtparse/samples/quagga_rib",
		"ryu/ryu/tests/packet_data/mrt/rib.20161101.0000_pick.bz2",
		"pyasn/data/rib6.20151101.0600_firstMB.bz2",
		"pyasn/data/rib.20140523.0600_firstMB.bz2",
	} {
		t.Run(rel, func(t *testing.T) {
			f, err := os.Open(filepath.Join(root, rel))
			if err != nil {
				testenv.Skipf(t, "shared test file missing: %v", err)
			}
			defer f.Close()
			in, _, err := bgpwire.OpenMRT(f, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			r := bgpwire.NewMRTReader(in)
			var rib bgpwire.RIB
			var buf bytes.Buffer
			w := bgpwire.NewMRTWriter(&buf)
			n := 0
			for {
				rec, err := r.Next()
				if err != nil {
					if err != io.EOF && n == 0 {
						t.Fatal(err)
					}
					break // a file cut at its first MB ends in a partial record
				}
				h := rec.Header
				if h.Type != bgpwire.MRTTableDump2 || !bgpwire.IsRIBSubtype(h.Subtype) {
					continue
				}
				if err := rib.Decode(h.Subtype, rec.Body); err != nil {
					t.Fatal(err)
				}
				buf.Reset()
				if err := w.WriteRIB(h.Timestamp, rib.Seq, rib.Family, rib.NLRI.Prefix, rib.Entries); err != nil {
					t.Fatal(err)
				}
				if want := gobgpRIB(t, h.Timestamp, rib.Seq, rib.Family, rib.NLRI.Prefix, rib.Entries); !bytes.Equal(buf.Bytes(), want) {
					t.Fatalf("record %d (%s):\n got  %x\n want %x", r.Records(), rib.NLRI.Prefix, buf.Bytes(), want)
				}
				n++
			}
			if n == 0 {
				t.Fatal("no RIB records")
			}
			t.Logf("%d RIB records", n)
		})
	}
}

// TestParseRD: ParseRD reads what RD.String writes, for each RD type where
// the text is not ambiguous, and rejects what is not an RD.
func TestParseRD(t *testing.T) {
	for _, rd := range []bgpwire.RD{
		{0, 0, 0xfd, 0xf2, 0, 0, 0, 15},            // type 0: 65010:15
		{0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // type 0, largest number
		{0, 1, 192, 0, 2, 1, 0, 7},                 // type 1: 192.0.2.1:7
		{0, 2, 0, 1, 0, 0, 0, 9},                   // type 2: 65536:9
		{0, 3, 1, 2, 3, 4, 5, 6},                   // unknown type: 0xHEX
	} {
		got, err := bgpwire.ParseRD(rd.String())
		if err != nil || got != rd {
			t.Errorf("ParseRD(%q) = %x, %v; want %x", rd.String(), got, err, rd)
		}
	}
	for _, s := range []string{"", "1", "x:1", "65536:65536", "192.0.2.1:65536", "0x0102", "2001:db8::1:1"} {
		if _, err := bgpwire.ParseRD(s); err == nil {
			t.Errorf("ParseRD(%q): no error", s)
		}
	}
}
