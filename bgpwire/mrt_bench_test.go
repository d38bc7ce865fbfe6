package bgpwire_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"testing"

	"github.com/osrg/gobgp/v3/pkg/packet/mrt"
	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/shareddata"
)

// benchFile is a BGP4MP file (gobgp cannot read BGP4MP_ET): RIS rrc
// updates with 17,406 records, decompressed into memory.
func benchFile(b *testing.B) []byte {
	p := shareddata.Path(b, "mrt", "bgpdump", "test_data", "updates.20160811.1600.gz")
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, _, err := bgpwire.OpenMRT(f, 1)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkMRTReadVantage and BenchmarkMRTReadGobgp are a pair: the same
// file read record by record, every BGP message decoded.
func BenchmarkMRTReadVantage(b *testing.B) {
	data := benchFile(b)
	var m bgpwire.BGP4MP
	var u bgpwire.Update
	n := 0
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := bgpwire.NewMRTReader(bytes.NewReader(data))
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			n++
			if m.Decode(rec.Header, rec.Body) != nil || !m.IsMessage {
				continue
			}
			if m.MsgType == bgpwire.MsgUpdate {
				u.Decode(m.MsgBody, m.DecodeOptions())
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkMRTReadGobgp(b *testing.B) {
	data := benchFile(b)
	n := 0
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for off := 0; off+mrt.MRT_COMMON_HEADER_LEN <= len(data); {
			var h mrt.MRTHeader
			if err := h.DecodeFromBytes(data[off:]); err != nil {
				break
			}
			end := off + mrt.MRT_COMMON_HEADER_LEN + int(h.Len)
			if end > len(data) {
				break
			}
			// ParseMRTBody decodes the BGP message with bgp.ParseBGPMessage.
			_, _ = mrt.ParseMRTBody(&h, data[off+mrt.MRT_COMMON_HEADER_LEN:end])
			n++
			off = end
		}
	}
	_ = binary.BigEndian
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
