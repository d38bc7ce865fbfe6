//go:build !(cgo && libbz2)

package bgpwire

import (
	"bytes"
	"compress/bzip2"
	"io"
)

// decodeBzip2Block decompresses a one-block bzip2 stream with Go's
// compress/bzip2. Build with -tags libbz2 (and cgo) to use libbz2, about
// twice as fast.
func decodeBzip2Block(stream []byte) ([]byte, error) {
	return io.ReadAll(bzip2.NewReader(bytes.NewReader(stream)))
}

// Bzip2Decoder names the bzip2 block decoder this binary was built with.
const Bzip2Decoder = "compress/bzip2"
