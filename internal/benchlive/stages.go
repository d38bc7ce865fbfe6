package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vantage-bgp/vantage/web"
)

// This file times each event's stages with -stages: handed to the
// publisher, read from the log by the hub, queued for its client by the hub, read by its
// client. Events are indexed by stream sequence: one publisher into an
// empty stream makes the n-th event sent (from 0) sequence n+1.

const (
	stSent = iota
	stHubRead
	stHubQueued
	stClient
	nStages
)

var stageNames = [nStages]string{"sent", "hub read", "hub queued", "client read"}

// stageTimes holds, per stream sequence, when each stage was reached
// (Unix nanoseconds, 0: not reached).
type stageTimes struct {
	start time.Time // of sending; seconds are counted from it
	t     [nStages][]atomic.Int64
}

func newStageTimes(events int) *stageTimes {
	s := &stageTimes{}
	for i := range s.t {
		s.t[i] = make([]atomic.Int64, events+1)
	}
	return s
}

func (s *stageTimes) mark(stage int, seq uint64, t time.Time) {
	if s == nil || seq >= uint64(len(s.t[stage])) {
		return
	}
	s.t[stage][seq].Store(t.UnixNano())
}

// seqOfFrame reads the stream sequence of a frame of the benchmark's
// events from its id: bench-1-192.0.2.PEER-SEQ, PEER from 1 to 20.
func seqOfFrame(frame []byte) (uint64, bool) {
	const key = `"id":"bench-1-192.0.2.`
	i := bytes.Index(frame, []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := frame[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return 0, false
	}
	peer, seq, ok := strings.Cut(string(rest[:j]), "-")
	if !ok {
		return 0, false
	}
	p, err1 := strconv.Atoi(peer)
	n, err2 := strconv.ParseUint(seq, 10, 64)
	if err1 != nil || err2 != nil || p < 1 || n < 1 {
		return 0, false
	}
	return (n-1)*20 + uint64(p-1) + 1, true
}

// timedLog is the event log as the hub reads it, marking when the hub is
// handed each event and when it has queued it.
type timedLog struct {
	web.EventLog
	st *stageTimes
}

func (l timedLog) Follow(ctx context.Context, start uint64, fn func(seq uint64, data []byte) error) error {
	return l.EventLog.Follow(ctx, start, func(seq uint64, data []byte) error {
		l.st.mark(stHubRead, seq, time.Now())
		err := fn(seq, data)
		l.st.mark(stHubQueued, seq, time.Now())
		return err
	})
}

// report prints each stage's delay from the one before (p50, p99, max)
// over the events sent in [from, to), then, per second of sending, the
// p99 of the whole delay and of each stage.
func (s *stageTimes) report(from, to time.Time) {
	type row struct {
		sent  int64
		stage [nStages]time.Duration // stage i: from stage i-1 (0: the whole)
	}
	var rows []row
	for seq := 1; seq < len(s.t[0]); seq++ {
		var r row
		ok := true
		var ts [nStages]int64
		for i := range ts {
			ts[i] = s.t[i][seq].Load()
			ok = ok && ts[i] != 0
		}
		if !ok || ts[stSent] < from.UnixNano() || ts[stSent] >= to.UnixNano() {
			continue
		}
		r.sent = ts[stSent]
		r.stage[0] = time.Duration(ts[stClient] - ts[stSent])
		for i := 1; i < nStages; i++ {
			r.stage[i] = time.Duration(ts[i] - ts[i-1])
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		fmt.Println("stages: no event timed through every stage")
		return
	}
	pct := func(rs []row, i int, p float64) time.Duration {
		d := make([]time.Duration, len(rs))
		for k := range rs {
			d[k] = rs[k].stage[i]
		}
		slices.Sort(d)
		return d[min(len(d)-1, int(float64(len(d))*p))].Round(100 * time.Microsecond)
	}
	fmt.Printf("stages of %d events (p50 / p99 / max):\n", len(rows))
	fmt.Printf("  %-28s %v / %v / %v\n", "whole (sent -> client read)", pct(rows, 0, .5), pct(rows, 0, .99), pct(rows, 0, 1))
	for i := 1; i < nStages; i++ {
		name := stageNames[i-1] + " -> " + stageNames[i]
		fmt.Printf("  %-28s %v / %v / %v\n", name, pct(rows, i, .5), pct(rows, i, .99), pct(rows, i, 1))
	}
	fmt.Printf("  per second of sending, p99: whole |")
	for i := 1; i < nStages; i++ {
		fmt.Printf(" %s |", stageNames[i])
	}
	fmt.Println()
	for sec := 0; ; sec++ {
		lo, hi := from.Add(time.Duration(sec)*time.Second).UnixNano(), from.Add(time.Duration(sec+1)*time.Second).UnixNano()
		if lo >= to.UnixNano() {
			break
		}
		var rs []row
		for _, r := range rows {
			if r.sent >= lo && r.sent < hi {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			continue
		}
		fmt.Printf("  %3ds:", sec)
		for i := 0; i < nStages; i++ {
			fmt.Printf(" %7v", pct(rs, i, .99))
		}
		fmt.Println()
	}
}
