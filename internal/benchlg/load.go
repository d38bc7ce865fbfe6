package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// The machine is shared: other work running during a measurement slows
// it down. cpuMeter tells how much CPU went to this process and the
// server, and how much to everything else, between two readings.
type cpuMeter struct {
	pids []int
}

// cpuReading is cumulative CPU time in clock ticks.
type cpuReading struct {
	at          time.Time
	busy, total uint64   // all CPUs (/proc/stat)
	ours        uint64   // the meter's processes
	each        []uint64 // each of them
}

func (m *cpuMeter) read() cpuReading {
	r := cpuReading{at: time.Now()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i := 1; i < len(f); i++ {
			v, _ := strconv.ParseUint(f[i], 10, 64)
			r.total += v
			if i != 4 && i != 5 { // idle, iowait
				r.busy += v
			}
		}
	}
	for _, pid := range m.pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces), from field 3:
		// utime and stime are fields 14 and 15.
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			s = s[i+1:]
		}
		f := strings.Fields(s)
		var t uint64
		if len(f) > 12 {
			u, _ := strconv.ParseUint(f[11], 10, 64)
			st, _ := strconv.ParseUint(f[12], 10, 64)
			t = u + st
		}
		r.ours += t
		r.each = append(r.each, t)
	}
	return r
}

// cpuUse is what happened between two readings: CPUs in use by us and by
// other processes (1.0 = one CPU busy all the time), and the CPU seconds
// of each of the meter's processes.
type cpuUse struct {
	ours, others float64
	seconds      []float64
}

func (m *cpuMeter) since(a cpuReading) cpuUse {
	b := m.read()
	const hz = 100 // USER_HZ
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 || b.total <= a.total {
		return cpuUse{}
	}
	busy := float64(b.busy-a.busy) / hz / secs
	ours := float64(b.ours-a.ours) / hz / secs
	u := cpuUse{ours: ours, others: max(busy-ours, 0)}
	for i := range min(len(a.each), len(b.each)) {
		u.seconds = append(u.seconds, float64(b.each[i]-a.each[i])/hz)
	}
	return u
}
