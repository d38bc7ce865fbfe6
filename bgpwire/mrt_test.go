package bgpwire

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/vantage-bgp/vantage/internal/shareddata"
)

// mrtRecord builds a record: header (timestamp, type, subtype, length)
// and body; for BGP4MP_ET the microseconds come first in the body.
func mrtRecord(ts uint32, t MRTType, sub uint16, body []byte) []byte {
	b := appendU32(nil, ts)
	b = appendU16(b, uint16(t))
	b = appendU16(b, sub)
	b = appendU32(b, uint32(len(body)))
	return append(b, body...)
}

// stateChangeAS4 is a BGP4MP STATE_CHANGE_AS4 body: peer AS 65001,
// local AS 65000, ifindex 0, AFI 1, peer 192.0.2.1, local 192.0.2.2,
// Established (6) to Idle (1).
var stateChangeAS4 = []byte{
	0, 0, 0xfd, 0xe9, // peer AS
	0, 0, 0xfd, 0xe8, // local AS
	0, 0, // interface index
	0, 1, // AFI IPv4
	192, 0, 2, 1, // peer
	192, 0, 2, 2, // local
	0, 6, 0, 1, // old, new state
}

// messageAS4 is a BGP4MP MESSAGE_AS4 body carrying the UPDATE of
// update_test.go.
func messageAS4() []byte {
	b := append([]byte(nil), stateChangeAS4[:20]...)
	b = AppendHeader(b, MsgUpdate, len(updateBasic))
	return append(b, updateBasic...)
}

func readAll(t *testing.T, data []byte) ([]MRTRecord, []*MRTWarning) {
	t.Helper()
	recs, warns, err := readRecords(NewMRTReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	checkSameRecords(t, data)
	return recs, warns
}

// readRecords returns every record of r (bodies copied) and its warnings.
func readRecords(r *MRTReader) ([]MRTRecord, []*MRTWarning, error) {
	var warns []*MRTWarning
	r.Warn = func(w *MRTWarning) { warns = append(warns, w) }
	var recs []MRTRecord
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, warns, nil
		}
		if err != nil {
			return recs, warns, err
		}
		rec.Body = append([]byte(nil), rec.Body...)
		recs = append(recs, *rec)
	}
}

// checkSameRecords reads data from memory (NewMRTReaderBytes) and as a
// stream arriving a few bytes at a time (NewMRTReader), and fails unless
// both give the same records and warnings.
func checkSameRecords(t testing.TB, data []byte) {
	t.Helper()
	want, wantWarns, err := readRecords(NewMRTReader(iotest.HalfReader(bytes.NewReader(data))))
	if err != nil {
		t.Fatal(err)
	}
	got, gotWarns, err := readRecords(NewMRTReaderBytes(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("from memory: %d records, as a stream: %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Header != w.Header || g.Offset != w.Offset || g.Index != w.Index || !bytes.Equal(g.Body, w.Body) {
			t.Fatalf("record %d from memory: %+v, as a stream: %+v", i+1, g, w)
		}
	}
	if len(gotWarns) != len(wantWarns) {
		t.Fatalf("from memory: %d warnings, as a stream: %d", len(gotWarns), len(wantWarns))
	}
	for i := range gotWarns {
		if gotWarns[i].Error() != wantWarns[i].Error() {
			t.Fatalf("warning %d from memory: %v, as a stream: %v", i+1, gotWarns[i], wantWarns[i])
		}
	}
}

func TestMRTReaderET(t *testing.T) {
	body := append([]byte{0, 0x07, 0xa1, 0x20}, stateChangeAS4...) // 500000 µs
	recs, warns := readAll(t, mrtRecord(1700000000, MRTBGP4MPET, BGP4MPStateChangeAS4, body))
	if len(warns) != 0 || len(recs) != 1 {
		t.Fatalf("records %d warnings %v", len(recs), warns)
	}
	h := recs[0].Header
	if h.Microseconds != 500000 || h.Length != len(stateChangeAS4) || !bytes.Equal(recs[0].Body, stateChangeAS4) {
		t.Fatalf("header %+v", h)
	}
	var m BGP4MP
	if err := m.Decode(h, recs[0].Body); err != nil {
		t.Fatal(err)
	}
	if !m.IsStateChange || m.PeerASN != 65001 || m.PeerAddr != netip.MustParseAddr("192.0.2.1") || m.OldState != 6 || m.NewState != 1 {
		t.Fatalf("%+v", m)
	}
}

func TestMRTReaderResync(t *testing.T) {
	a := mrtRecord(1700000000, MRTBGP4MP, BGP4MPMessageAS4, messageAS4())
	b := mrtRecord(1700000001, MRTBGP4MP, BGP4MPStateChangeAS4, stateChangeAS4)
	data := append(append(append([]byte(nil), a...), 0xde, 0xad, 0xbe, 0xef, 0x99, 0x98, 0x97), b...)
	data = append(data, b...)
	recs, warns := readAll(t, data)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	if len(warns) != 1 || !errors.Is(warns[0], ErrMRTDamaged) || warns[0].Offset != int64(len(a)) || warns[0].Record != 2 {
		t.Fatalf("warnings %v", warns)
	}
}

func TestMRTReaderLengthOverrun(t *testing.T) {
	// A record whose declared length runs into the next record.
	a := mrtRecord(1700000000, MRTBGP4MP, BGP4MPStateChangeAS4, stateChangeAS4)
	a[11] += 5
	b := mrtRecord(1700000001, MRTBGP4MP, BGP4MPStateChangeAS4, stateChangeAS4)
	data := append(append(append([]byte(nil), a...), b...), b...)
	recs, warns := readAll(t, data)
	if len(recs) != 3 || len(warns) != 1 {
		t.Fatalf("%d records, warnings %v", len(recs), warns)
	}
	if recs[0].Header.Length != len(stateChangeAS4) {
		t.Fatalf("first record length %d", recs[0].Header.Length)
	}
}

func TestMRTReaderTruncated(t *testing.T) {
	a := mrtRecord(1700000000, MRTBGP4MP, BGP4MPStateChangeAS4, stateChangeAS4)
	data := append(append([]byte(nil), a...), a[:len(a)-3]...)
	recs, warns := readAll(t, data)
	if len(recs) != 1 || len(warns) != 1 || !errors.Is(warns[0], ErrMRTTruncated) || warns[0].Record != 2 {
		t.Fatalf("%d records, warnings %v", len(recs), warns)
	}
}

func TestMRTReaderTD1ShortLength(t *testing.T) {
	// Two TABLE_DUMP entries in one record that declares 4 bytes too
	// few, as early RIS bviews do.
	entry := []byte{
		0, 0, 0, 1, // view, sequence
		10, 0, 0, 0, 8, 1, // 10.0.0.0/8, status
		0, 0, 0, 0, // originated
		192, 0, 2, 1, 0xfd, 0xe9, // peer, AS
		0, 4, 0x40, 1, 1, 0, // attributes: ORIGIN IGP
	}
	body := append(append([]byte(nil), entry...), entry...)
	rec := mrtRecord(1700000000, MRTTableDump, TableDumpIPv4, body)
	rec[11] -= 4
	data := append(append([]byte(nil), rec...), rec...)
	recs, warns := readAll(t, data)
	if len(recs) != 2 || len(warns) != 1 {
		t.Fatalf("%d records, warnings %v", len(recs), warns)
	}
	var td TableDump
	if err := td.Decode(recs[1].Header.Subtype, recs[1].Body); err != nil || len(td.Entries) != 2 {
		t.Fatalf("%v, %d entries", err, len(td.Entries))
	}
	if td.Entries[1].Prefix != netip.MustParsePrefix("10.0.0.0/8") || td.Entries[1].PeerASN != 65001 {
		t.Fatalf("%+v", td.Entries[1])
	}
}

func TestMRTDecodeNoAllocs(t *testing.T) {
	rec := mrtRecord(1700000000, MRTBGP4MP, BGP4MPMessageAS4, messageAS4())
	data := bytes.Repeat(rec, 2000)
	br := bytes.NewReader(data)
	r := NewMRTReader(br)
	var m BGP4MP
	var u Update
	n := testing.AllocsPerRun(1000, func() {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Decode(rec.Header, rec.Body); err != nil {
			t.Fatal(err)
		}
		if err := u.Decode(m.MsgBody, m.DecodeOptions()); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per record, want 0", n)
	}
}

// TestMRTReaderBytesSharedFiles reads every shared MRT file (its first
// 8 MiB decompressed, damaged ones included) from memory and as a stream,
// and checks that both give the same records and warnings.
func TestMRTReaderBytesSharedFiles(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "mrt")
	n := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "test_expect") {
			return nil
		}
		data, ok := readMRTFile(t, p, 8<<20)
		if !ok {
			return nil // not MRT
		}
		t.Run(strings.TrimPrefix(p, root+"/"), func(t *testing.T) { checkSameRecords(t, data) })
		n++
		return nil
	})
	if n < 40 {
		t.Fatalf("only %d shared MRT files found", n)
	}
}

// readMRTFile returns up to limit bytes of a file's decompressed MRT
// stream, and false when it is not an MRT file.
func readMRTFile(t testing.TB, path string, limit int64) ([]byte, bool) {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	in, _, err := OpenMRT(fh, 1)
	if err != nil {
		return nil, false
	}
	defer in.Close()
	data, _ := io.ReadAll(io.LimitReader(in, limit))
	return data, true
}
