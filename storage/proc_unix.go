//go:build unix

package storage

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// childProcAttr starts the server in its own session: it is not part of
// the starter's process group (a terminal's Ctrl-C reaches only the
// Vantage processes, which decide whether to stop it) and it outlives the
// starter. With exitWithStarter (tests, Linux) the kernel sends it SIGTERM
// when the starting thread dies; the Go runtime does not end idle threads.
func childProcAttr(exitWithStarter bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setsid: true}
	if exitWithStarter {
		setPdeathsig(a)
	}
	return a
}

// reap reports, without blocking, whether the child p has exited, and how.
func reap(p *os.Process) (exited bool, how string) {
	var ws syscall.WaitStatus
	pid, err := syscall.Wait4(p.Pid, &ws, syscall.WNOHANG, nil)
	switch {
	case errors.Is(err, syscall.ECHILD):
		return true, "unknown (already reaped)"
	case err != nil || pid != p.Pid:
		return false, ""
	case ws.Exited():
		return true, fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return true, "signal: " + ws.Signal().String()
	default:
		return false, ""
	}
}
