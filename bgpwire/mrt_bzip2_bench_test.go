package bgpwire_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
)

// bz2BenchFile returns a multi-block .bz2 MRT file made at test time: a
// RIS BGP4MP_ET updates file three times over (40 MB, bzip2 -9), the same
// file scripts/bench-mrt.sh uses.
func bz2BenchFile(b *testing.B) string {
	bzip2, err := exec.LookPath("bzip2")
	if err != nil {
		testenv.Skip(b, "bzip2 not installed (apt-get install bzip2, or make deps-test)")
	}
	f, err := os.Open(shareddata.Path(b, "mrt", "bgpdump", "test_data", "updates.et-header.2015.gz"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "updates3.mrt.bz2")
	cmd := exec.Command(bzip2, "-9")
	cmd.Stdin = bytes.NewReader(bytes.Repeat(plain, 3))
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout = out
	if err := cmd.Run(); err != nil {
		b.Fatal(err)
	}
	out.Close()
	return path
}

// BenchmarkMRTReadBzip2 and BenchmarkBzip2Command are a pair: reading
// every record of a .bz2 MRT file (block-parallel decompression and
// framing) against `bzip2 -dc` alone decompressing the same file.
func BenchmarkMRTReadBzip2(b *testing.B) {
	path := bz2BenchFile(b)
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r, _, err := bgpwire.OpenMRT(f, 0)
		if err != nil {
			b.Fatal(err)
		}
		mr := bgpwire.NewMRTReader(r)
		for {
			if _, err := mr.Next(); err != nil {
				break
			}
			records++
		}
		r.Close()
		f.Close()
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkBzip2Command(b *testing.B) {
	path := bz2BenchFile(b)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	for b.Loop() {
		cmd := exec.Command("bzip2", "-dc", path)
		cmd.Stdout = devnull
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}
