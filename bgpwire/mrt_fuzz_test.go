package bgpwire

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/vantage-bgp/vantage/internal/shareddata"
)

// decodeAll reads every record of data and decodes it with the decoder
// of its kind, BGP messages and RIB attributes included.
func decodeAll(data []byte) {
	r := NewMRTReader(bytes.NewReader(data))
	var pit PeerIndexTable
	var rib RIB
	var td TableDump
	var m BGP4MP
	var u Update
	for {
		rec, err := r.Next()
		if err != nil {
			return
		}
		h := rec.Header
		switch h.Type {
		case MRTTableDump2:
			if h.Subtype == TD2PeerIndexTable {
				pit.Decode(rec.Body)
			} else if rib.Decode(h.Subtype, rec.Body) == nil {
				for _, e := range rib.Entries {
					u.DecodeAttributes(e.Attrs, rib.DecodeOptions())
				}
			}
		case MRTTableDump:
			td.Decode(h.Subtype, rec.Body)
			for _, e := range td.Entries {
				u.DecodeAttributes(e.Attrs, td.DecodeOptions())
			}
		case MRTBGP4MP, MRTBGP4MPET, MRTBGP:
			if m.Decode(h, rec.Body) == nil && m.IsMessage && m.MsgType == MsgUpdate {
				u.Decode(m.MsgBody, m.DecodeOptions())
			}
		}
	}
}

// FuzzMRTRecords feeds arbitrary streams to the reader and the record
// decoders: nothing may panic. Seeds are the first records of every
// shared MRT file.
func FuzzMRTRecords(f *testing.F) {
	if dir, ok := shareddata.Find(); ok {
		filepath.WalkDir(filepath.Join(dir, "mrt"), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			fh, err := os.Open(p)
			if err != nil {
				return nil
			}
			defer fh.Close()
			in, c, err := OpenMRT(fh, 1)
			if err != nil {
				return nil
			}
			defer in.Close()
			if c == MRTPlain && filepath.Ext(p) != "" && filepath.Ext(p) != ".0" && filepath.Ext(p) != ".0800" {
				return nil // a text file
			}
			b, _ := io.ReadAll(io.LimitReader(in, 16<<10))
			f.Add(b)
			return nil
		})
	}
	f.Add(mrtRecord(1700000000, MRTBGP4MP, BGP4MPMessageAS4, messageAS4()))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameRecords(t, data)
		decodeAll(data)
	})
}

// TestMRTDamagedNoPanic cuts and corrupts every shared MRT file at many
// places and reads the results.
func TestMRTDamagedNoPanic(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "mrt", "bgpkit-parser")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".gz" {
			return nil
		}
		data, ok := readMRTFile(t, p, 256<<10)
		if !ok {
			t.Fatalf("%s: not an MRT file", p)
		}
		decodeAll(data)
		for i := 1; i < 64; i++ {
			cut := len(data) * i / 64
			decodeAll(data[:cut])
			bad := append([]byte(nil), data...)
			for k := cut; k < cut+16 && k < len(bad); k++ {
				bad[k] ^= byte(0x5a + i + k)
			}
			decodeAll(bad)
		}
		return nil
	})
}
