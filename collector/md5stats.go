package collector

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"time"
)

// MD5Counters are the kernel's TCP MD5 counters (Linux, /proc/net/netstat,
// for the whole host): segments dropped because their signature was wrong
// (Failure), missing though a key is set (NotFound), or present though no
// key is set (Unexpected). The kernel drops them silently: these counters
// are all that shows a wrong or missing password.
type MD5Counters struct {
	Failure, NotFound, Unexpected int64
}

// ReadMD5Counters reads them; ok is false where there are none.
func ReadMD5Counters() (c MD5Counters, ok bool) {
	f, err := os.Open("/proc/net/netstat")
	if err != nil {
		return c, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		names := strings.Fields(sc.Text())
		if !sc.Scan() {
			break
		}
		values := strings.Fields(sc.Text())
		if len(names) == 0 || names[0] != "TcpExt:" {
			continue
		}
		for i, n := range names {
			if i >= len(values) {
				break
			}
			v, _ := strconv.ParseInt(values[i], 10, 64)
			switch n {
			case "TCPMD5Failure":
				c.Failure, ok = v, true
			case "TCPMD5NotFound":
				c.NotFound = v
			case "TCPMD5Unexpected":
				c.Unexpected = v
			}
		}
	}
	return c, ok
}

// md5WatchInterval is how often watchMD5 reads the counters.
const md5WatchInterval = 10 * time.Second

// watchMD5 logs a warning whenever the kernel's TCP MD5 counters rise
// while some neighbor has a password: a neighbor's segments are being
// dropped for a wrong or missing password (the counters are the host's,
// so they do not say which neighbor).
func (s *Server) watchMD5(ctx context.Context) {
	last, ok := ReadMD5Counters()
	if !ok {
		return
	}
	t := time.NewTicker(md5WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, _ := ReadMD5Counters()
		s.mu.Lock()
		keyed := false
		for _, r := range s.rules {
			keyed = keyed || r.Password != ""
		}
		s.mu.Unlock()
		if keyed && now != last {
			s.log.Warn("the kernel dropped TCP segments for their MD5 signature: a neighbor's password is wrong or missing (host-wide counts; the neighbor is not known)",
				"wrong", now.Failure-last.Failure, "missing", now.NotFound-last.NotFound, "unexpected", now.Unexpected-last.Unexpected)
		}
		last = now
	}
}
