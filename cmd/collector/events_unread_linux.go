package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeUnread returns the bytes in a pipe that its reader has not read yet
// (FIONREAD, named TIOCINQ in x/sys; on the write end too); 0 when the
// kernel does not say.
func pipeUnread(f *os.File) int64 {
	raw, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	var n int
	var ioErr error
	if err := raw.Control(func(fd uintptr) { n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }); err != nil || ioErr != nil {
		return 0
	}
	return int64(n)
}
