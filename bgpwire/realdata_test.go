package bgpwire

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
)

// realMessage is a BGP message taken from a shared file, with the session
// context its framing tells.
type realMessage struct {
	msg     []byte
	asn4    bool
	addPath bool
}

func (m *realMessage) opts() *DecodeOptions {
	o := &DecodeOptions{ASN4: m.asn4, ExtendedMessage: true}
	if m.addPath {
		o.AddPath = []Family{IPv4Unicast, IPv6Unicast, IPv4Multicast, IPv6Multicast}
	}
	return o
}

// openMaybeCompressed opens a plain, gzip or bzip2 file by content.
func openMaybeCompressed(t testing.TB, path string) io.Reader {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return z
	case bytes.HasPrefix(b, []byte("BZh")):
		return bzip2.NewReader(bytes.NewReader(b))
	}
	return bytes.NewReader(b)
}

// mrtMessages walks the MRT framing of a shared updates file just enough
// to find the BGP messages of BGP4MP / BGP4MP_ET records (RFC 6396
// section 4.4; the MRT package proper lives elsewhere). A damaged or cut
// record ends the walk.
func mrtMessages(t testing.TB, path string) []realMessage {
	t.Helper()
	r := bufio.NewReader(openMaybeCompressed(t, path))
	var out []realMessage
	var hdr [12]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return out
		}
		typ, sub, n := binary.BigEndian.Uint16(hdr[4:]), binary.BigEndian.Uint16(hdr[6:]), binary.BigEndian.Uint32(hdr[8:])
		if n > 1<<24 {
			return out
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return out
		}
		if typ != 16 && typ != 17 {
			continue
		}
		if typ == 17 {
			if len(body) < 4 {
				continue
			}
			body = body[4:]
		}
		var asn4, addPath bool
		switch sub {
		case 1, 6:
		case 4, 7:
			asn4 = true
		case 8, 10:
			addPath = true
		case 9, 11:
			asn4, addPath = true, true
		default:
			continue
		}
		asw := 2
		if asn4 {
			asw = 4
		}
		off := 2*asw + 2
		if len(body) < off+2 {
			continue
		}
		afi := binary.BigEndian.Uint16(body[off:])
		off += 2
		switch afi {
		case 1:
			off += 8
		case 2:
			off += 32
		default:
			continue
		}
		if len(body) < off+HeaderLen {
			continue
		}
		out = append(out, realMessage{msg: body[off:], asn4: asn4, addPath: addPath})
	}
}

// updateFiles lists the shared MRT updates files.
func updateFiles(t testing.TB) []string {
	dir := shareddata.Dir(t)
	var files []string
	filepath.WalkDir(filepath.Join(dir, "mrt"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			base := filepath.Base(p)
			if bytes.Contains([]byte(base), []byte("updates")) || bytes.HasSuffix([]byte(base), []byte("_bgp")) {
				files = append(files, p)
			}
		}
		return nil
	})
	if len(files) == 0 {
		testenv.Skip(t, "shared test file missing: no shared MRT updates files")
	}
	return files
}

// realUpdates returns the UPDATE messages of one file.
func realUpdates(t testing.TB, path string) []realMessage {
	var ups []realMessage
	for _, m := range mrtMessages(t, path) {
		if len(m.msg) >= HeaderLen && MessageType(m.msg[18]) == MsgUpdate {
			ups = append(ups, m)
		}
	}
	return ups
}

// benchFile is the RIS updates file the benchmarks and allocation test
// use.
var benchFile = []string{"mrt", "mrt-rs", "res", "updates.20190101.0000.gz"}

// TestDecodeReuse decodes every shared UPDATE into one reused Update and
// into a fresh one, and checks that both hold the same: decoding resets
// what earlier messages set (including malformed ones, which may leave
// attributes half decoded).
func TestDecodeReuse(t *testing.T) {
	n := 0
	for _, f := range updateFiles(t) {
		var reused Update
		for i, m := range realUpdates(t, f) {
			var fresh Update
			errFresh := fresh.Decode(m.msg[HeaderLen:], m.opts())
			errReused := reused.Decode(m.msg[HeaderLen:], m.opts())
			if fmt.Sprint(errFresh) != fmt.Sprint(errReused) || fresh.Action != reused.Action || len(fresh.Errors) != len(reused.Errors) {
				t.Fatalf("%s #%d: fresh: %v %v, reused: %v %v", f, i, errFresh, fresh.Errors, errReused, reused.Errors)
			}
			if got, want := summarize(&reused), summarize(&fresh); !slices.Equal(got, want) {
				t.Fatalf("%s #%d: reused Update holds\n%q\nfresh one\n%q", f, i, got, want)
			}
			if got, want := reused.AppendWire(nil, m.opts()), fresh.AppendWire(nil, m.opts()); !bytes.Equal(got, want) {
				t.Fatalf("%s #%d: reused Update encodes to %x, fresh one to %x", f, i, got, want)
			}
			n++
		}
	}
	t.Logf("%d UPDATEs", n)
}
