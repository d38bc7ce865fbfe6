package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vantage-bgp/vantage/storage"
)

// The data set as built is kept as a snapshot beside the server's files:
// hard links to its tables' active parts (immutable once written) and to
// their metadata. Every run stores 20k events/s for as long as the queries
// take (tens of millions of rows at full scale); restoring the snapshot
// before the server starts gives each run the same data set, at the cost
// of the disk space of the parts merged away since.

const snapshotDir = "snapshot"

// serverPaths are where the local server keeps a database's tables and
// metadata (storage's server config puts the server's path at
// DataDir/data).
func serverPaths(dataDir, db string) (data, meta, metaFile string) {
	root := filepath.Join(dataDir, "data")
	return filepath.Join(root, "data", db), filepath.Join(root, "metadata", db), filepath.Join(root, "metadata", db+".sql")
}

// takeSnapshot links the active parts and the metadata of db's tables
// into DataDir/snapshot. Nothing may insert meanwhile.
func takeSnapshot(ctx context.Context, a *admin, dataDir, db string) error {
	snap := filepath.Join(dataDir, snapshotDir)
	if err := os.RemoveAll(snap); err != nil {
		return err
	}
	data, meta, metaFile := serverPaths(dataDir, db)
	sdata, smeta, smetaFile := serverPaths(snap, db)
	if err := linkTree(meta, smeta, nil); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Link(metaFile, smetaFile); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	tables, err := a.tables(ctx, db)
	if err != nil {
		return err
	}
	for t, engine := range tables {
		if !strings.HasSuffix(engine, "MergeTree") {
			continue
		}
		active, err := activeParts(ctx, a, db, t)
		if err != nil {
			return err
		}
		// Table-level files (format_version.txt) and the active parts;
		// not the parts merged away nor the ones being written.
		keep := func(rel string, d fs.DirEntry) bool {
			top, _, nested := strings.Cut(rel, string(filepath.Separator))
			if !nested && !d.IsDir() {
				return true
			}
			return top == "detached" || active[top]
		}
		if err := linkTree(filepath.Join(data, t), filepath.Join(sdata, t), keep); err != nil {
			return fmt.Errorf("snapshot of %s: %w", t, err)
		}
	}
	return nil
}

func activeParts(ctx context.Context, a *admin, db, table string) (map[string]bool, error) {
	rows, err := a.conn.Query(ctx, "SELECT name FROM system.parts WHERE active AND database = ? AND table = ?", db, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// haveSnapshot reports whether DataDir holds a snapshot of db.
func haveSnapshot(dataDir, db string) bool {
	_, _, f := serverPaths(filepath.Join(dataDir, snapshotDir), db)
	_, err := os.Stat(f)
	return err == nil
}

// restoreSnapshot replaces db's files with the snapshot's (links again).
// The server must not be running.
func restoreSnapshot(dataDir, db string) error {
	if pid, ok := storage.ServerPID(dataDir); ok && processAlive(pid) {
		return fmt.Errorf("the clickhouse-server of %s is running (pid %d): stop it to restore the data set", dataDir, pid)
	}
	data, meta, metaFile := serverPaths(dataDir, db)
	sdata, smeta, smetaFile := serverPaths(filepath.Join(dataDir, snapshotDir), db)
	for _, p := range []string{data, meta, metaFile} {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	if err := linkTree(smeta, meta, nil); err != nil {
		return err
	}
	if err := os.Link(smetaFile, metaFile); err != nil {
		return err
	}
	return linkTree(sdata, data, nil)
}

func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(pid), "cmdline"))
	return err != nil || strings.Contains(string(b), "clickhouse")
}

// linkTree recreates the directories of src under dst and hard-links its
// files; keep, when set, selects entries by their path relative to src.
func linkTree(src, dst string, keep func(rel string, d fs.DirEntry) bool) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel != "." && keep != nil && !keep(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return os.Link(path, target)
	})
}
