//go:build unix && !linux

package storage

import "syscall"

// childProcAttr puts the server in its own process group (a terminal's
// Ctrl-C reaches only us; we stop it after flushing).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
