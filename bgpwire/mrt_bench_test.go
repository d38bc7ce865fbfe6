package bgpwire_test

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/mrt"
	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/shareddata"
)

// mrtBenchFiles are the inputs of the reader benchmark pair: update files
// from RIS and RouteViews collectors and the start of two RIS RIB dumps
// (BGP4MP and TABLE_DUMP_V2; gobgp's mrt cannot read BGP4MP_ET).
var mrtBenchFiles = []struct{ name, path string }{
	{"ris-updates-2016", "mrt/bgpdump/test_data/updates.20160811.1600.gz"},
	{"ris-updates-2007", "mrt/bgpdump/test_data/updates.20070211.0141.gz"},
	{"updates-2018", "mrt/vast/integration/data/mrt/updates.20180530.0000.gz"},
	{"updates-2019", "mrt/mrt-rs/res/updates.20190101.0000.gz"},
	{"ris-rib-2014", "mrt/pyasn/data/rib.20140523.0600_firstMB.bz2"},
	{"ris-rib6-2015", "mrt/pyasn/data/rib6.20151101.0600_firstMB.bz2"},
}

// benchData returns a shared MRT file decompressed into memory, so that
// the pair compares decoding only.
func benchData(b *testing.B, path string) []byte {
	f, err := os.Open(shareddata.Path(b, path))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, _, err := bgpwire.OpenMRT(f, 1)
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if len(data) == 0 {
		b.Fatal(err)
	}
	// The truncated RIB files end inside a record: keep the whole ones,
	// which is what both readers would return.
	return data[:wholeRecords(data)]
}

// wholeRecords returns the length of the run of whole records at the
// start of data.
func wholeRecords(data []byte) int {
	off := 0
	for off+mrt.MRT_COMMON_HEADER_LEN <= len(data) {
		var h mrt.MRTHeader
		if h.DecodeFromBytes(data[off:]) != nil {
			break
		}
		end := off + mrt.MRT_COMMON_HEADER_LEN + int(h.Len)
		if end > len(data) {
			break
		}
		off = end
	}
	return off
}

// vantageReader reads every record with the MRT reader and decodes it in
// full: BGP4MP messages with Update.Decode, RIB records and the
// attributes of every entry with Update.DecodeAttributes.
type vantageReader struct {
	m   bgpwire.BGP4MP
	u   bgpwire.Update
	pit bgpwire.PeerIndexTable
	rib bgpwire.RIB
}

func (v *vantageReader) read(data []byte) (records int) {
	return v.readFrom(bgpwire.NewMRTReaderBytes(data))
}

// readStream is read with data arriving as a stream (as from a
// decompressor), which costs a copy into the reader's buffer.
func (v *vantageReader) readStream(data []byte) (records int) {
	return v.readFrom(bgpwire.NewMRTReader(bytes.NewReader(data)))
}

func (v *vantageReader) readFrom(r *bgpwire.MRTReader) (records int) {
	for {
		rec, err := r.Next()
		if err != nil {
			return records
		}
		records++
		switch rec.Header.Type {
		case bgpwire.MRTBGP4MP, bgpwire.MRTBGP4MPET:
			if v.m.Decode(rec.Header, rec.Body) == nil && v.m.IsMessage && v.m.MsgType == bgpwire.MsgUpdate {
				v.u.Decode(v.m.MsgBody, v.m.DecodeOptions())
			}
		case bgpwire.MRTTableDump2:
			if rec.Header.Subtype == bgpwire.TD2PeerIndexTable {
				v.pit.Decode(rec.Body)
			} else if v.rib.Decode(rec.Header.Subtype, rec.Body) == nil {
				opts := v.rib.DecodeOptions()
				for _, e := range v.rib.Entries {
					v.u.DecodeAttributes(e.Attrs, opts)
				}
			}
		}
	}
}

// readGobgp reads every record with gobgp's mrt: ParseMRTBody, which
// decodes BGP messages with bgp.ParseBGPMessage and RIB entries' path
// attributes.
func readGobgp(data []byte) (records int) {
	for off := 0; off+mrt.MRT_COMMON_HEADER_LEN <= len(data); {
		var h mrt.MRTHeader
		if err := h.DecodeFromBytes(data[off:]); err != nil {
			break
		}
		end := off + mrt.MRT_COMMON_HEADER_LEN + int(h.Len)
		if end > len(data) {
			break
		}
		_, _ = mrt.ParseMRTBody(&h, data[off+mrt.MRT_COMMON_HEADER_LEN:end])
		records++
		off = end
	}
	return records
}

// BenchmarkMRTRead reads each file with Vantage's reader, from memory
// like gobgp's mrt and as a stream, and with gobgp's mrt (see
// BenchmarkMRTReadRatio for the ratio).
func BenchmarkMRTRead(b *testing.B) {
	for _, f := range mrtBenchFiles {
		b.Run(f.name, func(b *testing.B) {
			data := benchData(b, f.path)
			var v vantageReader
			b.Run("vantage", func(b *testing.B) { benchRead(b, data, v.read) })
			b.Run("vantage-stream", func(b *testing.B) { benchRead(b, data, v.readStream) })
			b.Run("gobgp", func(b *testing.B) { benchRead(b, data, readGobgp) })
		})
	}
}

// benchRead times read on data and reports records/s.
func benchRead(b *testing.B, data []byte, read func([]byte) int) {
	n := 0
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n += read(data)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkMRTReadRatio reads each file with both readers in turn in
// every iteration, so that both see the same machine, and reports how
// many times faster Vantage's reader is (x-faster) and each side's time
// per file.
func BenchmarkMRTReadRatio(b *testing.B) {
	for _, f := range mrtBenchFiles {
		b.Run(f.name, func(b *testing.B) {
			data := benchData(b, f.path)
			var v vantageReader
			var tv, tg time.Duration
			for b.Loop() {
				// Each side starts without the other's garbage being
				// collected and pays for its own.
				runtime.GC()
				t0 := time.Now()
				nv := v.read(data)
				t1 := time.Now()
				runtime.GC()
				t2 := time.Now()
				ng := readGobgp(data)
				t3 := time.Now()
				if nv != ng {
					b.Fatalf("vantage read %d records, gobgp %d", nv, ng)
				}
				tv += t1.Sub(t0)
				tg += t3.Sub(t2)
			}
			b.ReportMetric(float64(tg)/float64(tv), "x-faster")
			b.ReportMetric(float64(tv.Nanoseconds())/float64(b.N), "vantage-ns/file")
			b.ReportMetric(float64(tg.Nanoseconds())/float64(b.N), "gobgp-ns/file")
			b.ReportMetric(0, "ns/op")
		})
	}
}
