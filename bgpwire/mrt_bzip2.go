package bgpwire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
)

// Parallel bzip2 decoding. A bzip2 stream is a sequence of blocks, each
// starting with the 48-bit magic 0x314159265359 at any bit offset and
// each decodable alone; the stream ends with the magic 0x177245385090 and
// a CRC of the block CRCs. The scanner finds the block magics, wraps each
// block into a stream of its own ("BZh9", the block's bits, the end magic
// and the block's CRC, which is then also the stream CRC), and workers
// decode those with compress/bzip2 while the reader hands out the
// results in order. Every block's CRC is still checked.
//
// A magic can in theory occur inside compressed data (one chance in 2^48
// per bit); the block it splits then fails to decode and is reported as
// an error, like a damaged block.

var (
	bz2BlockMagic = [6]byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	bz2EOSMagic   = [6]byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}
)

const (
	bz2BlockMagicBits = 0x314159265359
	bz2EOSMagicBits   = 0x177245385090
	bz2ReadChunk      = 1 << 20
)

// ErrBzip2Block is wrapped by errors about a block that could not be
// decoded (damaged, or cut short at the end of a truncated file).
var ErrBzip2Block = errors.New("bzip2 block cannot be decoded")

type bz2Result struct {
	data []byte
	err  error
}

type bz2Job struct {
	seq    int
	stream []byte // the block wrapped as a stream
	off    int64  // byte offset of the block in the compressed input
	last   bool   // the input ended inside this block
	out    chan bz2Result
}

type parallelBzip2 struct {
	in      io.Reader
	jobs    chan *bz2Job
	queue   chan *bz2Job
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
	cur     []byte
	err     error
	scanErr error
	cands   []int64
}

// bz2Patterns holds, for both magics and each of the 8 bit alignments,
// the 5 bytes that the magic determines completely.
var bz2Patterns = func() (p [16][5]byte) {
	for m, magic := range []uint64{bz2BlockMagicBits, bz2EOSMagicBits} {
		for s := range 8 {
			// The magic at bit s of a 7-byte window: bytes 1..5 are all
			// magic bits.
			w := magic << (8 - uint(s)) // window bits 0..55, as 56 bits
			for k := range 5 {
				p[m*8+s][k] = byte(w >> (48 - 8*uint(k+1)) & 0xff)
			}
		}
	}
	return p
}()

// findMagics returns the bit offsets of block and end-of-stream magics
// in b that start at or after bit from, in increasing order.
func findMagics(b []byte, from int64, cands *[]int64) []int64 {
	out := (*cands)[:0]
	startByte := max(from/8-1, 0)
	for i := range bz2Patterns {
		s := int64(i % 8)
		pat := bz2Patterns[i][:]
		for j := startByte; ; {
			k := bytes.Index(b[j:], pat)
			if k < 0 {
				break
			}
			pos := j + int64(k) // window byte 1
			at := (pos-1)*8 + s
			j = pos + 1
			if at < from || pos < 1 || at+48 > int64(len(b))*8 {
				continue
			}
			if v := bitsAt(b, at, 48); v == bz2BlockMagicBits || v == bz2EOSMagicBits {
				out = append(out, at)
			}
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	*cands = out
	return out
}

func newParallelBzip2(r io.Reader, workers int) io.ReadCloser {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &parallelBzip2{
		in:    r,
		jobs:  make(chan *bz2Job, workers),
		queue: make(chan *bz2Job, 2*workers),
		done:  make(chan struct{}),
	}
	p.wg.Add(1 + workers)
	go func() {
		defer p.wg.Done()
		p.scan()
	}()
	for range workers {
		go func() {
			defer p.wg.Done()
			p.work()
		}()
	}
	return p
}

func (p *parallelBzip2) work() {
	for j := range p.jobs {
		data, err := decodeBzip2Block(j.stream)
		if err != nil {
			if j.last {
				err = fmt.Errorf("%w at compressed byte %d: the file ends inside it (%v)", ErrBzip2Block, j.off, err)
			} else {
				err = fmt.Errorf("%w at compressed byte %d: %v", ErrBzip2Block, j.off, err)
			}
		}
		j.out <- bz2Result{data, err}
	}
}

// bitsAt returns the n (≤ 57) bits of b starting at bit i.
func bitsAt(b []byte, i int64, n int) uint64 {
	var v uint64
	for k := range n {
		bit := i + int64(k)
		v = v<<1 | uint64(b[bit>>3]>>(7-uint(bit&7))&1)
	}
	return v
}

// wrapBlock builds a one-block stream from the bits [from, to) of b.
func wrapBlock(b []byte, from, to int64) []byte {
	crc := bitsAt(b, from+48, 32)
	nbits := to - from
	out := make([]byte, 0, 4+(nbits+80)/8+2)
	out = append(out, 'B', 'Z', 'h', '9')
	s := uint(from & 7)
	first := from >> 3
	full := nbits / 8
	for i := range full {
		x := b[first+i] << s
		if s != 0 {
			x |= b[first+i+1] >> (8 - s)
		}
		out = append(out, x)
	}
	// The remaining bits, the end-of-stream magic and the CRC.
	var acc uint64
	var nacc uint
	put := func(v uint64, n uint) {
		for k := int(n) - 1; k >= 0; k-- {
			acc = acc<<1 | (v>>uint(k))&1
			nacc++
			if nacc == 8 {
				out = append(out, byte(acc))
				acc, nacc = 0, 0
			}
		}
	}
	rem := uint(nbits % 8)
	if rem > 0 {
		put(bitsAt(b, from+full*8, int(rem)), rem)
	}
	put(bz2EOSMagicBits, 48)
	put(crc, 32)
	if nacc > 0 {
		out = append(out, byte(acc<<(8-nacc)))
	}
	return out
}

// scan finds the blocks and queues them, in order, for the workers and
// for Read.
func (p *parallelBzip2) scan() {
	defer close(p.jobs)
	defer close(p.queue)
	var buf []byte
	var base int64          // compressed offset of buf[0]
	var scanned int64       // bits of buf examined
	blockStart := int64(-1) // bit offset in buf of the open block
	seq := 0
	eof := false
	send := func(from, to int64, last bool) bool {
		j := &bz2Job{seq: seq, stream: wrapBlock(buf, from, to), off: base + from/8, last: last, out: make(chan bz2Result, 1)}
		seq++
		select {
		case p.queue <- j:
		case <-p.done:
			return false
		}
		select {
		case p.jobs <- j:
		case <-p.done:
			return false
		}
		return true
	}
	for !eof {
		// Keep the open block (or the last 6 bytes, for a magic that
		// straddles reads) and read more.
		keep := scanned/8 - 6
		if blockStart >= 0 {
			keep = blockStart / 8
		}
		if keep > 0 {
			buf = append(buf[:0], buf[keep:]...)
			base += keep
			scanned -= keep * 8
			if blockStart >= 0 {
				blockStart -= keep * 8
			}
		}
		n := len(buf)
		if cap(buf)-n < bz2ReadChunk {
			nb := make([]byte, n, 2*cap(buf)+bz2ReadChunk)
			copy(nb, buf)
			buf = nb
		}
		k, err := io.ReadFull(p.in, buf[n:n+bz2ReadChunk])
		buf = buf[:n+k]
		if err != nil {
			eof = true
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				p.scanErr = err
			}
		}
		end := int64(len(buf)) * 8
		for _, at := range findMagics(buf, scanned, &p.cands) {
			isBlock := bitsAt(buf, at, 48) == bz2BlockMagicBits
			if blockStart >= 0 {
				if !send(blockStart, at, false) {
					return
				}
			}
			blockStart = -1
			if isBlock {
				blockStart = at
			}
		}
		// A magic may straddle the end: look again at the last 47 bits.
		end -= 47
		if end < scanned {
			end = scanned
		}
		scanned = end
	}
	if blockStart >= 0 {
		send(blockStart, int64(len(buf))*8, true)
	}
}

func (p *parallelBzip2) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		j, ok := <-p.queue
		if !ok {
			p.err = io.EOF
			if p.scanErr != nil {
				p.err = p.scanErr
			}
			continue
		}
		r := <-j.out
		p.cur = r.data
		if r.err != nil {
			p.err = r.err
		}
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// Close stops the goroutines and waits for them.
func (p *parallelBzip2) Close() error {
	p.once.Do(func() {
		close(p.done)
		// Drain what the scanner queued so that workers finish.
		go func() {
			for range p.queue {
			}
		}()
	})
	p.wg.Wait()
	return nil
}
