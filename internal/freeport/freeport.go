// Package freeport hands out TCP ports on 127.0.0.1 for tests that start
// servers (ClickHouse, BIRD, the collector) on ports they must name in a
// config. A port is free when handed out, and never handed out twice by
// one test binary, so two calls in a row cannot collide.
package freeport

import (
	"net"
	"sync"
)

var (
	mu    sync.Mutex
	given = map[int]bool{}
)

// Get returns a port that was free a moment ago and that this process has
// not been given before.
func Get() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !given[port] {
			given[port] = true
			return port, nil
		}
	}
}
