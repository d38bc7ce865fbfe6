package bgpwire

import (
	"bytes"
	"compress/bzip2"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vantage-bgp/vantage/internal/shareddata"
)

// TestParallelBzip2 checks that the parallel decoder gives the same bytes
// as compress/bzip2, and an error at the same point for truncated files,
// on every shared .bz2 file and a multi-block file made by bzip2(1).
func TestParallelBzip2(t *testing.T) {
	root := filepath.Join(shareddata.Dir(t), "mrt")
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".bz2" {
			files = append(files, p)
		}
		return nil
	})
	if bin, err := exec.LookPath("bzip2"); err == nil {
		// Several 100k blocks, in two concatenated streams.
		var plain bytes.Buffer
		for i := range 40000 {
			plain.WriteString("TABLE_DUMP2|1537344000|B|193.0.0.56|3333|")
			plain.WriteString(string(rune('a' + i%26)))
		}
		var out bytes.Buffer
		for range 2 {
			cmd := exec.Command(bin, "-1", "-c")
			cmd.Stdin = bytes.NewReader(plain.Bytes())
			b, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
		}
		p := filepath.Join(t.TempDir(), "multi.bz2")
		os.WriteFile(p, out.Bytes(), 0o644)
		files = append(files, p)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := io.ReadAll(bzip2.NewReader(bytes.NewReader(data)))
		for _, workers := range []int{2, 4} {
			r := newParallelBzip2(bytes.NewReader(data), workers)
			got, gerr := io.ReadAll(r)
			r.Close()
			if !bytes.Equal(got, want) || (gerr == nil) != (werr == nil) {
				t.Errorf("%s, %d workers: %d bytes (err %v), compress/bzip2 %d (err %v)", p, workers, len(got), gerr, len(want), werr)
			}
		}
	}
}

func TestParallelBzip2CloseEarly(t *testing.T) {
	p := shareddata.Path(t, "mrt", "pyasn", "data", "rib.20140523.0600_firstMB.bz2")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := newParallelBzip2(f, 2)
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	r.Close() // must not hang or leak
}
