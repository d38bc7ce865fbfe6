package bgpwire

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// MRTCompression is the compression of an MRT file, detected by content.
type MRTCompression uint8

// Compressions OpenMRT recognizes.
const (
	MRTPlain MRTCompression = iota
	MRTGzip
	MRTBzip2
)

func (c MRTCompression) String() string {
	switch c {
	case MRTGzip:
		return "gzip"
	case MRTBzip2:
		return "bzip2"
	}
	return "plain"
}

// DetectMRTCompression tells the compression from the first bytes of a
// file.
func DetectMRTCompression(b []byte) MRTCompression {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		return MRTGzip
	case len(b) >= 10 && bytes.Equal(b[:3], []byte("BZh")) && b[3] >= '1' && b[3] <= '9' &&
		(bytes.Equal(b[4:10], bz2BlockMagic[:]) || bytes.Equal(b[4:10], bz2EOSMagic[:])):
		return MRTBzip2
	}
	return MRTPlain
}

// OpenMRT returns a reader of the decompressed content of an MRT file,
// plain, gzip or bzip2 (detected by content). bzip2 is decoded in
// parallel blocks by up to workers goroutines (0 means GOMAXPROCS). Close
// the result to stop them.
func OpenMRT(r io.Reader, workers int) (io.ReadCloser, MRTCompression, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(10)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, MRTPlain, err
	}
	c := DetectMRTCompression(head)
	switch c {
	case MRTGzip:
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("gzip: %w", err)
		}
		return z, c, nil
	case MRTBzip2:
		if workers == 1 {
			return io.NopCloser(bzip2.NewReader(br)), c, nil
		}
		return newParallelBzip2(br, workers), c, nil
	}
	return io.NopCloser(br), c, nil
}
