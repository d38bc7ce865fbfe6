package web

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/vantage-bgp/vantage/storage"
)

// Rolling MRT files, as RIS writes them: updates.YYYYMMDD.HHMM.gz for every
// UpdatesInterval (named after the period's start, holding its messages),
// and bview.YYYYMMDD.HHMM.gz at every RIBInterval (the RIB at that time),
// under Dir/COLLECTOR/YYYY.MM/ (with seconds, HHMMSS, for intervals that
// are not whole minutes). Each is written under a temporary name
// and renamed, so a reader never sees half a file, and is a function of
// the stored history alone: writing a past period again gives the same
// bytes.

// RollConfig configures the rolling files of one collector.
type RollConfig struct {
	// Dir is the root directory; Host the collector (events' host) whose
	// peers the files hold, and the name of its directory.
	Dir  string
	Host string
	// UpdatesInterval and RIBInterval are the periods of the updates and
	// bview files (RIS: 5 minutes and 8 hours); both divide a day's
	// epoch-aligned time into periods.
	UpdatesInterval time.Duration
	RIBInterval     time.Duration
	// Lag is how long after a period ends its file is written: the time
	// its last events take to be stored.
	Lag time.Duration
}

// Validate checks the intervals.
func (c RollConfig) Validate() error {
	if c.Dir == "" || c.Host == "" {
		return fmt.Errorf("rolling MRT files: directory and collector must be set")
	}
	if c.UpdatesInterval < time.Second || c.RIBInterval < time.Second {
		return fmt.Errorf("rolling MRT files: intervals %s and %s: at least 1s", c.UpdatesInterval, c.RIBInterval)
	}
	return nil
}

// rollPath is where the file of kind at t goes: RIS's name
// (kind.YYYYMMDD.HHMM.gz), with the seconds after the minutes
// (kind.YYYYMMDD.HHMMSS.gz) when an interval is not whole minutes.
func (c RollConfig) rollPath(kind string, t time.Time) string {
	t = t.UTC()
	name := risName(kind, t, "gz")
	if c.UpdatesInterval%time.Minute != 0 || c.RIBInterval%time.Minute != 0 {
		name = kind + "." + t.Format("20060102.150405") + ".gz"
	}
	return filepath.Join(c.Dir, c.Host, t.Format("2006.01"), name)
}

// RollFiles writes the files of c due in the time range (from, to]: the
// updates file of every period that ends in it, and the bview of every
// RIB time in it. It returns the paths written.
func RollFiles(ctx context.Context, st MRTStore, c RollConfig, from, to time.Time) ([]string, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var written []string
	for end := from.Truncate(c.UpdatesInterval).Add(c.UpdatesInterval); !end.After(to); end = end.Add(c.UpdatesInterval) {
		if !end.After(from) {
			continue
		}
		start := end.Add(-c.UpdatesInterval)
		path := c.rollPath("updates", start)
		err := writeAtomically(path, func(f *os.File) error {
			z, err := Compress(f, "gz")
			if err != nil {
				return err
			}
			if _, err := ExportUpdates(ctx, st, storage.UpdatesQuery{From: start, To: end, Host: c.Host}, z, UpdatesOptions{}); err != nil {
				return err
			}
			return z.Close()
		})
		if err != nil {
			return written, err
		}
		written = append(written, path)
	}
	for at := from.Truncate(c.RIBInterval); !at.After(to); at = at.Add(c.RIBInterval) {
		if !at.After(from) {
			continue
		}
		path := c.rollPath("bview", at)
		err := writeAtomically(path, func(f *os.File) error {
			z, err := Compress(f, "gz")
			if err != nil {
				return err
			}
			// The routes current at the RIB time itself: events stamped
			// exactly then are in, as in /api/v1/routes?at=.
			if _, err := ExportRIB(ctx, st, storage.RIBQuery{At: at, Host: c.Host}, z); err != nil {
				return err
			}
			return z.Close()
		})
		if err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// writeAtomically writes path through a temporary file in its directory,
// renamed to path once complete.
func writeAtomically(path string, write func(*os.File) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// RunRolling writes c's files as their periods end (Lag after), from now
// on, until ctx ends. A file that fails is logged and tried again at the
// next tick.
func RunRolling(ctx context.Context, st MRTStore, c RollConfig, log *slog.Logger) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	done := time.Now().Add(-c.Lag) // periods ending before now are not this run's
	tick := time.NewTicker(min(c.UpdatesInterval, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		due := time.Now().Add(-c.Lag)
		if due.Truncate(c.UpdatesInterval).After(done.Truncate(c.UpdatesInterval)) || due.Truncate(c.RIBInterval).After(done.Truncate(c.RIBInterval)) {
			paths, err := RollFiles(ctx, st, c, done, due)
			for _, p := range paths {
				log.Info("MRT file written", "path", p)
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				log.Error("MRT file", "err", err)
				continue
			}
			done = due
		}
	}
}
