package bus

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// spool is the on-disk part of the publish queue: records appended to
// numbered segment files and read back in order. Each record is framed as
// a 4-byte length, a 4-byte CRC-32C of the payload, and the payload. A
// record cut short or damaged (a crash while writing it) ends the reading
// of its segment, with a warning.
//
// The reader reads closed segments only: when it reaches the segment being
// written, that segment is closed first. A segment is deleted once read.
// The spool is not safe for concurrent use; the queue locks around it.
type spool struct {
	dir      string
	maxBytes int64
	log      *slog.Logger

	size int64    // bytes of every segment on disk
	segs []uint64 // segment numbers on disk, oldest first

	w     *bufio.Writer // the segment being written (the last of segs), or nil
	wf    *os.File
	wsize int64

	r   *bufio.Reader // the segment being read (the first of segs), or nil
	rf  *os.File
	hdr [8]byte
}

const (
	segmentBytes  = 8 << 20
	spoolSuffix   = ".spool"
	frameHeader   = 8
	maxRecordSize = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errSpoolFull is returned by append when the record does not fit.
var errSpoolFull = errors.New("spool full")

// openSpool opens (creating) the spool in dir and finds what an earlier
// run left there.
func openSpool(dir string, maxBytes int64, log *slog.Logger) (*spool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, log: log}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), spoolSuffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		s.segs = append(s.segs, n)
		s.size += info.Size()
	}
	slices.Sort(s.segs)
	return s, nil
}

func (s *spool) path(n uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", n, spoolSuffix))
}

// empty reports whether the spool holds no record.
func (s *spool) empty() bool { return s.size == 0 }

// fits reports whether a record of n bytes can be appended.
func (s *spool) fits(n int) bool { return s.size+int64(n)+frameHeader <= s.maxBytes }

// append writes one record at the end.
func (s *spool) append(rec []byte) error {
	if !s.fits(len(rec)) {
		return errSpoolFull
	}
	if s.w == nil || s.wsize >= segmentBytes {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	var hdr [frameHeader]byte
	binary.LittleEndian.PutUint32(hdr[0:], uint32(len(rec)))
	binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(rec, crcTable))
	if _, err := s.w.Write(hdr[:]); err != nil {
		return fmt.Errorf("spool write: %w", err)
	}
	if _, err := s.w.Write(rec); err != nil {
		return fmt.Errorf("spool write: %w", err)
	}
	n := int64(frameHeader + len(rec))
	s.wsize += n
	s.size += n
	return nil
}

// rotate closes the segment being written and starts the next.
func (s *spool) rotate() error {
	if err := s.closeWriter(); err != nil {
		return err
	}
	next := uint64(1) << 32 // room below for prepend
	if len(s.segs) > 0 {
		next = s.segs[len(s.segs)-1] + 1
	}
	f, err := os.OpenFile(s.path(next), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.segs = append(s.segs, next)
	s.wf, s.w, s.wsize = f, bufio.NewWriterSize(f, 256<<10), 0
	return nil
}

func (s *spool) closeWriter() error {
	if s.w == nil {
		return nil
	}
	err := s.w.Flush()
	if cerr := s.wf.Close(); err == nil {
		err = cerr
	}
	s.w, s.wf = nil, nil
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// next reads the oldest record, or returns nil when the spool is empty.
// The record is a new slice.
func (s *spool) next() ([]byte, error) {
	for !s.empty() {
		if s.r == nil {
			if len(s.segs) == 0 {
				s.size = 0
				return nil, nil
			}
			if s.w != nil && s.segs[0] == s.segs[len(s.segs)-1] {
				if err := s.closeWriter(); err != nil {
					return nil, err
				}
			}
			f, err := os.Open(s.path(s.segs[0]))
			if err != nil {
				return nil, fmt.Errorf("spool: %w", err)
			}
			s.rf, s.r = f, bufio.NewReaderSize(f, 256<<10)
		}
		rec, err := s.readRecord()
		if err == nil {
			return rec, nil
		}
		if err != io.EOF {
			s.log.Warn("spool segment damaged; skipping its rest", "segment", s.path(s.segs[0]), "err", err)
		}
		if err := s.dropFirst(); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func (s *spool) readRecord() ([]byte, error) {
	if _, err := io.ReadFull(s.r, s.hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, errors.New("record header cut short")
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint32(s.hdr[0:])
	if n > maxRecordSize {
		return nil, fmt.Errorf("record length %d", n)
	}
	rec := make([]byte, n)
	if _, err := io.ReadFull(s.r, rec); err != nil {
		return nil, errors.New("record cut short")
	}
	if crc32.Checksum(rec, crcTable) != binary.LittleEndian.Uint32(s.hdr[4:]) {
		return nil, errors.New("record checksum mismatch")
	}
	return rec, nil
}

// dropFirst deletes the segment being read.
func (s *spool) dropFirst() error {
	if s.rf != nil {
		s.rf.Close()
		s.rf, s.r = nil, nil
	}
	p := s.path(s.segs[0])
	info, err := os.Stat(p)
	if err == nil {
		s.size -= info.Size()
	}
	s.segs = s.segs[1:]
	if len(s.segs) == 0 {
		s.size = 0
	}
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// prepend writes records as a segment before every other one, so that
// they are read first (the records a publisher could not publish before
// it stopped, which are older than anything spooled).
func (s *spool) prepend(recs [][]byte) error {
	if len(recs) == 0 {
		return nil
	}
	if s.r != nil {
		// The segment being read is partly consumed (what was read is in
		// recs): its rest comes after recs, in the new segment.
		for {
			rec, err := s.readRecord()
			if err != nil {
				break
			}
			recs = append(recs, rec)
		}
		if err := s.dropFirst(); err != nil {
			return err
		}
	}
	first := uint64(1) << 32
	if len(s.segs) > 0 {
		first = s.segs[0]
	}
	n := first - 1
	f, err := os.OpenFile(s.path(n), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	w := bufio.NewWriter(f)
	var size int64
	for _, rec := range recs {
		var hdr [frameHeader]byte
		binary.LittleEndian.PutUint32(hdr[0:], uint32(len(rec)))
		binary.LittleEndian.PutUint32(hdr[4:], crc32.Checksum(rec, crcTable))
		w.Write(hdr[:])
		w.Write(rec)
		size += int64(frameHeader + len(rec))
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(s.path(n))
		return fmt.Errorf("spool: %w", err)
	}
	s.segs = append([]uint64{n}, s.segs...)
	s.size += size
	return nil
}

// close flushes what is being written.
func (s *spool) close() error {
	if s.rf != nil {
		s.rf.Close()
		s.rf, s.r = nil, nil
	}
	return s.closeWriter()
}
