package bgpwire

import (
	"testing"

	gobgp "github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
)

// benchUpdates loads the UPDATEs of the benchmark file (a RIS updates
// file), whole messages with their session options.
//
// The messages are packed back to back in one buffer, as a session's read
// buffer or an MRT file presents them, so that both decoders read them
// the way they do in production rather than from scattered allocations.
func benchUpdates(tb testing.TB) []realMessage {
	ups := realUpdates(tb, shareddata.Path(tb, benchFile...))
	if len(ups) == 0 {
		testenv.Skip(tb, "shared test file missing: no UPDATEs in the benchmark file")
	}
	total := 0
	for _, m := range ups {
		total += len(m.msg)
	}
	packed := make([]byte, 0, total)
	for i := range ups {
		start := len(packed)
		packed = append(packed, ups[i].msg...)
		ups[i].msg = packed[start:len(packed):len(packed)]
	}
	return ups
}

// TestDecodeRealUpdatesNoAllocs pins that decoding real UPDATEs into a
// reused value allocates nothing once the value has grown.
func TestDecodeRealUpdatesNoAllocs(t *testing.T) {
	ups := benchUpdates(t)
	var u Update
	opts := make([]*DecodeOptions, len(ups))
	for i := range ups {
		opts[i] = ups[i].opts()
		u.Decode(ups[i].msg[HeaderLen:], opts[i]) // grow to the largest shapes
	}
	i := 0
	n := testing.AllocsPerRun(len(ups), func() {
		m := &ups[i%len(ups)]
		u.Decode(m.msg[HeaderLen:], opts[i%len(ups)])
		i++
	})
	if n != 0 {
		t.Fatalf("Decode allocates %v times per real UPDATE, want 0", n)
	}
}

// BenchmarkDecodeUpdate decodes the UPDATEs of a RIS updates file into
// one reused Update. Compare with BenchmarkGobgpParseUpdate.
func BenchmarkDecodeUpdate(b *testing.B) {
	ups := benchUpdates(b)
	opts := make([]*DecodeOptions, len(ups))
	bytes := 0
	for i := range ups {
		opts[i] = ups[i].opts()
		bytes += len(ups[i].msg)
	}
	var u Update
	b.SetBytes(int64(bytes / len(ups)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		i := n % len(ups)
		u.Decode(ups[i].msg[HeaderLen:], opts[i])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkGobgpParseUpdate parses the same UPDATEs with gobgp's
// bgp.ParseBGPMessage.
func BenchmarkGobgpParseUpdate(b *testing.B) {
	ups := benchUpdates(b)
	bytes := 0
	for i := range ups {
		bytes += len(ups[i].msg)
	}
	opt := &gobgp.MarshallingOption{}
	b.SetBytes(int64(bytes / len(ups)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		i := n % len(ups)
		gobgpParse(ups[i].msg, opt)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
