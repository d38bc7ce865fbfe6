package bgpwire

import (
	"compress/bzip2"
	"io"
)

var (
	bz2BlockMagic = [6]byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	bz2EOSMagic   = [6]byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}
)

func newParallelBzip2(r io.Reader, workers int) io.ReadCloser {
	return io.NopCloser(bzip2.NewReader(r))
}
