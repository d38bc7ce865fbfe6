//go:build unix && !linux

package storage

import "syscall"

func setPdeathsig(*syscall.SysProcAttr) {}
