//go:build !linux

package collector

import (
	"errors"
	"net"
	"net/netip"
)

var errNoSockopt = errors.New("TCP MD5 and TTL security need Linux")

func setMD5(fd uintptr, v6 bool, p netip.Prefix, key string) error { return errNoSockopt }
func isV6(a net.Addr) bool                                         { return false }
func rawControl(c any, f func(fd uintptr) error) error             { return errNoSockopt }
func setMinTTL(fd uintptr, v6 bool, hops int) error                { return errNoSockopt }
func setTTL(fd uintptr, v6 bool) error                             { return errNoSockopt }
