package collector

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/vantage-bgp/vantage/bgpwire"
)

// MRTProgress counts what has been read of an MRT file. It is updated
// atomically while the file is read, so a progress line can sample it.
type MRTProgress struct {
	Records  atomic.Int64
	Warnings atomic.Int64
	// Read counts compressed bytes read from the file; Size is the
	// file's size (for an ETA).
	Read atomic.Int64
	Size int64
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// ErrMRTNothingRead is returned by ScanMRTFile when a file held no
// readable record at all.
var ErrMRTNothingRead = errors.New("no readable MRT record")

// ScanMRTFile reads the MRT records of a file (plain, gzip or bzip2,
// detected by content) and calls fn for each; fn's record is valid only
// during the call, and an error from fn stops the scan. Framing problems
// (damaged or truncated data) are passed to warn as *bgpwire.MRTWarning
// and reading goes on with what is readable. The error is nil unless the
// file cannot be read at all, nothing in it could be read, or fn failed.
// workers bounds the goroutines decoding bzip2 (0: GOMAXPROCS).
func ScanMRTFile(path string, workers int, prog *MRTProgress, warn func(error), fn func(bgpwire.MRTRecord) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if prog == nil {
		prog = &MRTProgress{}
	}
	if st, err := f.Stat(); err == nil {
		prog.Size = st.Size()
	}
	in, _, err := bgpwire.OpenMRT(countingReader{f, &prog.Read}, workers)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer in.Close()
	rd := bgpwire.NewMRTReader(in)
	rd.Warn = func(w *bgpwire.MRTWarning) {
		prog.Warnings.Add(1)
		if warn != nil {
			warn(w)
		}
	}
	n := 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A decompression error: what came before it was used.
			prog.Warnings.Add(1)
			if warn != nil {
				warn(&bgpwire.MRTWarning{Offset: rd.Offset(), Record: rd.Records() + 1, Err: err})
			}
			break
		}
		n++
		prog.Records.Add(1)
		if err := fn(rec); err != nil {
			return err
		}
	}
	if n == 0 && (prog.Warnings.Load() > 0 || rd.Offset() > 0) {
		return fmt.Errorf("%s: %w", path, ErrMRTNothingRead)
	}
	return nil
}
