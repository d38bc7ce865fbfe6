package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
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
		if err := fn(*rec); err != nil {
			return err
		}
	}
	if n == 0 && (prog.Warnings.Load() > 0 || rd.Offset() > 0) {
		return fmt.Errorf("%s: %w", path, ErrMRTNothingRead)
	}
	return nil
}

// EventSink stores batches of events; storage.Writer satisfies it.
type EventSink interface {
	Write(ctx context.Context, events []schema.Event) error
}

// MRTImporter backfills a sink from MRT files: a RIB dump becomes the
// state at its dump time (one UPDATE event per RIB entry, stamped with
// the dump time), update files become history. Events carry IDs derived
// from the file name and record number, and a file yields the same
// events in the same order every time, so importing it again writes the
// same rows (storage collapses them). Every event is marked Imported.
type MRTImporter struct {
	Sink EventSink
	// Host is the collector name written in the events.
	Host string
	// BatchSize is the number of events handed to the sink at a time
	// (default 10,000).
	BatchSize int
	// Workers bounds the bzip2 decoding goroutines (0: GOMAXPROCS).
	Workers int
	// Warn receives framing problems and records that could not be
	// converted; the import goes on.
	Warn func(error)

	// RIB describes the RIB entries (TABLE_DUMP, TABLE_DUMP_V2) of the
	// file ImportFile read last; nil when it held none. The caller applies
	// the dump as its peers' state at dump time (the routes it lacks are
	// withdrawn then).
	RIB *RIBDump
}

// RIBDump is what a file's RIB entries cover: their peers, and the first
// and last of their times.
type RIBDump struct {
	Peers    []netip.Addr
	From, To time.Time
}

// ImportFile imports one file. prog, when not nil, is updated as the
// file is read.
func (im *MRTImporter) ImportFile(ctx context.Context, path string, prog *MRTProgress) (events int, err error) {
	size := im.BatchSize
	if size <= 0 {
		size = 10_000
	}
	conv := &MRTConverter{Host: im.Host, Source: filepath.Base(path)}
	im.RIB = nil
	ribPeers := map[netip.Addr]bool{}
	var ribFrom, ribTo float64
	batch := make([]schema.Event, 0, size)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := im.Sink.Write(ctx, batch); err != nil {
			return err
		}
		events += len(batch)
		batch = batch[:0]
		return nil
	}
	warn := im.Warn
	if warn == nil {
		warn = func(error) {}
	}
	err = ScanMRTFile(path, im.Workers, prog, warn, func(rec bgpwire.MRTRecord) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		isRIB := rec.Header.Type == bgpwire.MRTTableDump || rec.Header.Type == bgpwire.MRTTableDump2
		err := conv.Convert(rec, func(ev *schema.Event) error {
			ev.Imported = true
			if isRIB {
				if len(ribPeers) == 0 || ev.Timestamp < ribFrom {
					ribFrom = ev.Timestamp
				}
				ribTo = max(ribTo, ev.Timestamp)
				ribPeers[ev.Peer] = true
			}
			batch = append(batch, *ev)
			if len(batch) >= size {
				if err := flush(); err != nil {
					return &sinkError{err}
				}
			}
			return nil
		})
		if err != nil {
			var sinkErr *sinkError
			if errors.As(err, &sinkErr) {
				return sinkErr.err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			warn(&bgpwire.MRTWarning{Offset: rec.Offset, Record: rec.Index, Err: err})
		}
		return nil
	})
	if ferr := flush(); err == nil {
		err = ferr
	}
	if len(ribPeers) > 0 {
		im.RIB = &RIBDump{From: unixTime(ribFrom), To: unixTime(ribTo)}
		for p := range ribPeers {
			im.RIB.Peers = append(im.RIB.Peers, p)
		}
		slices.SortFunc(im.RIB.Peers, netip.Addr.Compare)
	}
	return events, err
}

// sinkError marks an error of the sink (which stops the import), as
// opposed to a record that cannot be converted (which is skipped).
type sinkError struct{ err error }

func (e *sinkError) Error() string { return e.err.Error() }

// unixTime is the time of an event timestamp (seconds with microseconds).
func unixTime(sec float64) time.Time {
	return time.UnixMicro(int64(sec*1e6 + 0.5)).UTC()
}
