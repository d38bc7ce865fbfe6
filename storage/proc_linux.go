package storage

import "syscall"

// childProcAttr puts the server in its own process group (a terminal's
// Ctrl-C reaches only us; we stop it after flushing) and has the kernel
// send it SIGTERM if we die without stopping it. (Pdeathsig follows the
// thread that started the child; the Go runtime does not end idle threads.)
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
