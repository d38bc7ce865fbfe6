//go:build unix

package storage

import (
	"errors"
	"os"
	"syscall"
)

// fileLocked reports whether another process holds an flock on path, as
// clickhouse-server does on <path>/status while it runs.
func fileLocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
