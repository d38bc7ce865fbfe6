package bgpwire_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
	"github.com/vantage-bgp/vantage/internal/testpeer"
)

// rewrite reads an MRT file and writes its records with MRTWriter:
// TABLE_DUMP_V2 as TABLE_DUMP_V2, BGP4MP and BGP4MP_ET as BGP4MP_ET.
func rewrite(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, _, err := bgpwire.OpenMRT(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	bw := bufio.NewWriter(out)
	w := bgpwire.NewMRTWriter(bw)
	r := bgpwire.NewMRTReader(in)
	var pit bgpwire.PeerIndexTable
	var rib bgpwire.RIB
	var m bgpwire.BGP4MP
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			break // a truncated bzip2 stream: what came before is used
		}
		h := rec.Header
		switch h.Type {
		case bgpwire.MRTTableDump2:
			if h.Subtype == bgpwire.TD2PeerIndexTable {
				if err := pit.Decode(rec.Body); err != nil {
					t.Fatal(err)
				}
				if err := w.WritePeerIndexTable(h.Timestamp, pit.CollectorID, pit.ViewName, pit.Peers); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := rib.Decode(h.Subtype, rec.Body); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteRIB(h.Timestamp, rib.Seq, rib.Family, rib.NLRI.Prefix, rib.Entries); err != nil {
				t.Fatal(err)
			}
		case bgpwire.MRTBGP4MP, bgpwire.MRTBGP4MPET:
			if err := m.Decode(h, rec.Body); err != nil {
				continue // bgpdump skips these too
			}
			info := bgpwire.BGP4MPInfo{Timestamp: h.Timestamp, Microseconds: h.Microseconds, PeerASN: m.PeerASN, LocalASN: m.LocalASN,
				IfIndex: m.IfIndex, PeerAddr: m.PeerAddr, LocalAddr: m.LocalAddr, Local: m.Local, AddPath: m.AddPath, TwoOctetAS: !m.AS4}
			switch {
			case m.IsStateChange:
				err = w.WriteBGP4MPStateChange(info, m.OldState, m.NewState)
			case m.IsMessage && m.Raw != nil && m.Cut == 0:
				err = w.WriteBGP4MPMessage(info, m.Raw)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestMRTWriterRoundTrip writes shared files' records with MRTWriter and
// checks that bgpdump -m prints the same lines for the copy as for the
// source (BGP4MP lines becoming BGP4MP_ET ones).
func TestMRTWriterRoundTrip(t *testing.T) {
	bin := testpeer.Need(t, "bgpdump", "bgpdump")
	root := filepath.Join(shareddata.Dir(t), "mrt")
	asET := regexp.MustCompile(`(?m)^BGP4MP(_LOCAL)?(_AP)?\|(\d+)\|`)
	for _, rel := range []string{
		"bgpdump/test_data/bview.64k_stream_overflow.gz",
		"bgpdump/test_data/bview.ipv4_unicast_add_path.gz",
		"bgpdump/test_data/bview.ipv6_unicast_add_path.gz",
		"mrtparse/samples/quagga_rib",
		"ryu/ryu/tests/packet_data/mrt/rib.20161101.0000_pick.bz2",
		"pyasn/data/rib6.20151101.0600_firstMB.bz2",
		"bgpdump/test_data/updates.et-header.2015.gz",
		"bgpdump/test_data/updates.20160811.1600.gz",
		"bgpdump/test_data/updates.long_withdrawal.gz",
		"bgpdump/test_data/updates.20100722.2015.gz",
		"bgpkit-parser/examples/local_only/updates.bz2",
		"mrtparse/samples/bird-mrtdump_bgp",
	} {
		t.Run(rel, func(t *testing.T) {
			src := filepath.Join(root, rel)
			if _, err := os.Stat(src); err != nil {
				testenv.Skipf(t, "shared test file missing: %v", err)
			}
			dst := filepath.Join(t.TempDir(), "copy.mrt")
			rewrite(t, src, dst)
			want, _ := exec.Command(bin, "-m", src).Output()
			got, _ := exec.Command(bin, "-m", dst).Output()
			want = asET.ReplaceAll(want, []byte("BGP4MP_ET${1}${2}|${3}.000000|"))
			if len(want) == 0 {
				t.Fatal("bgpdump printed nothing for the source")
			}
			if !bytes.Equal(got, want) {
				gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
				for i := range min(len(gl), len(wl)) {
					if !bytes.Equal(gl[i], wl[i]) {
						t.Fatalf("line %d:\n copy   %s\n source %s", i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("copy has %d lines, source %d", len(gl), len(wl))
			}
		})
	}
}
