package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// queryKind is one of the looking-glass queries measured, with its target.
type queryKind struct {
	name   string
	what   string // the storage call, for the report
	target time.Duration
	run    func(ctx context.Context, rng *rand.Rand) (int, error) // returns the rows answered
}

// latency is what one kind measured.
type latency struct {
	kind      *queryKind
	durations []time.Duration
	errors    int
	firstErr  error
	rows      int
	stopped   bool          // the budget ran out before every query ran
	idle      time.Duration // waited for failed queries to end on the server
	errKinds  map[string]int
	cpu       cpuUse
	ingested  int64         // events the ingest stored meanwhile,
	ingestFor time.Duration // in this time
	from, to  time.Time
}

func (l *latency) quantile(q float64) time.Duration {
	if len(l.durations) == 0 {
		return 0
	}
	s := slices.Clone(l.durations)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// uiLimit is what lg asks for: its default page (1,000) plus one to tell
// whether the answer was cut.
const uiLimit = 1001

// randomAddr is an address in a random prefix of the data set.
func randomAddr(d *dataset, rng *rand.Rand) netip.Addr {
	p := d.slots[rng.IntN(len(d.slots))].prefix
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		if rng.IntN(2) == 1 {
			b[i/8] |= 1 << (7 - i%8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// queryKinds are the five queries, through the storage functions
// that lg's handlers call.
// With a RIB snapshot, state at T is measured twice: T anywhere in the
// history (mostly before the snapshot) and T after it.
func queryKinds(db *storage.DB, rib *storage.LiveRIB, d *dataset, m *meta) []*queryKind {
	oldest := time.UnixMicro(m.OldestUS)
	kinds := []*queryKind{
		{
			name: "longest match now, memory RIB", what: "LiveRIB.Routes{match: longest, address} (lg.memory_rib)", target: 20 * time.Millisecond,
			run: func(ctx context.Context, rng *rand.Rand) (int, error) {
				a := randomAddr(d, rng)
				r, ok := rib.Routes(storage.RoutesQuery{Prefix: netip.PrefixFrom(a, a.BitLen()), Match: storage.MatchLongest, Limit: uiLimit})
				if !ok {
					return 0, errors.New("the memory RIB did not answer")
				}
				return len(r), nil
			},
		},
		{
			name: "longest match now", what: "DB.Routes{match: longest, address}", target: 20 * time.Millisecond,
			run: func(ctx context.Context, rng *rand.Rand) (int, error) {
				a := randomAddr(d, rng)
				r, err := db.Routes(ctx, storage.RoutesQuery{Prefix: netip.PrefixFrom(a, a.BitLen()), Match: storage.MatchLongest, Limit: uiLimit})
				return len(r), err
			},
		},
		{
			name: "state at T, one prefix", what: "DB.Routes{match: exact, at: T}", target: 50 * time.Millisecond,
			run: func(ctx context.Context, rng *rand.Rand) (int, error) {
				s := &d.slots[rng.IntN(len(d.slots))]
				at := oldest.Add(time.Duration(rng.Int64N(int64(time.Since(oldest)))))
				r, err := db.Routes(ctx, storage.RoutesQuery{Prefix: s.prefix, Match: storage.MatchExact, At: at, Limit: uiLimit})
				return len(r), err
			},
		},
		{
			name: "state at T after the snapshot", what: "DB.Routes{match: exact, at: T >= snapshot}", target: 50 * time.Millisecond,
			run: func(ctx context.Context, rng *rand.Rand) (int, error) {
				s := &d.slots[rng.IntN(len(d.slots))]
				snap := time.UnixMicro(m.SnapUS)
				at := snap.Add(time.Duration(rng.Int64N(int64(max(time.Since(snap), 1)))))
				r, err := db.Routes(ctx, storage.RoutesQuery{Prefix: s.prefix, Match: storage.MatchExact, At: at, Limit: uiLimit})
				return len(r), err
			},
		},
		{
			name: "one prefix's full history", what: "DB.History{prefix, from: oldest, to: now}", target: 100 * time.Millisecond,
			run: func(ctx context.Context, rng *rand.Rand) (int, error) {
				s := &d.slots[rng.IntN(len(d.slots))]
				r, err := db.History(ctx, storage.HistoryQuery{Prefix: s.prefix, From: oldest.Add(-24 * time.Hour), To: time.Now(), Limit: uiLimit})
				return len(r), err
			},
		},
		{
			name: "peers with counts", what: "DB.Peers", target: 50 * time.Millisecond,
			run: func(ctx context.Context, rng *rand.Rand) (int, error) {
				r, err := db.Peers(ctx)
				return len(r), err
			},
		},
		{
			name: "peers with counts, memory RIB", what: "LiveRIB.Peers (lg.memory_rib)", target: 50 * time.Millisecond,
			run: func(ctx context.Context, rng *rand.Rand) (int, error) {
				r, ok := rib.Peers()
				if !ok {
					return 0, errors.New("the memory RIB did not answer")
				}
				return len(r), nil
			},
		},
		{
			name: "origin-ASN search, memory RIB", what: "LiveRIB.Routes{filter: origin} (lg.memory_rib)", target: 500 * time.Millisecond,
			run: func(ctx context.Context, rng *rand.Rand) (int, error) {
				asn := d.origins[rng.IntN(len(d.origins))]
				r, ok := rib.Routes(storage.RoutesQuery{Filter: storage.RouteFilter{OriginASN: asn}, Limit: uiLimit})
				if !ok {
					return 0, errors.New("the memory RIB did not answer")
				}
				return len(r), nil
			},
		},
		{
			name: "origin-ASN search", what: "DB.Routes{filter: origin}", target: 500 * time.Millisecond,
			run: func(ctx context.Context, rng *rand.Rand) (int, error) {
				asn := d.origins[rng.IntN(len(d.origins))]
				r, err := db.Routes(ctx, storage.RoutesQuery{Filter: storage.RouteFilter{OriginASN: asn}, Limit: uiLimit})
				return len(r), err
			},
		},
	}
	if m.SnapUS == 0 {
		kinds = slices.DeleteFunc(kinds, func(k *queryKind) bool { return k.name == "state at T after the snapshot" })
	}
	if rib == nil {
		kinds = slices.DeleteFunc(kinds, func(k *queryKind) bool { return strings.HasSuffix(k.name, ", memory RIB") })
	}
	return kinds
}

// measure runs n queries of the kind one after the other (after warm-up
// ones), stopping when budget is spent. Each query has lg's timeout.
//
// The measured queries start at a whole second after the warm-up ones
// and are followed by a pause to the next second but one, so that the
// query log (whose times are whole seconds) tells them apart: storage's
// statements cannot be tagged (a query ID shared by a call's statements
// collides with the previous statement still finishing on the server).
//
// After a query that failed (a timeout leaves the server running it: it
// checks max_execution_time between blocks only), idle waits until the
// server has no query of ours left running, so that queries do not pile
// up; that wait is not counted.
func measure(ctx context.Context, k *queryKind, n, warmup int, budget, timeout time.Duration, seed uint64, idle func() time.Duration) *latency {
	rng := rand.New(rand.NewPCG(seed, uint64(len(k.name))))
	l := &latency{kind: k}
	one := func() (time.Duration, int, error) {
		qctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		t := time.Now()
		rows, err := k.run(qctx, rng)
		return time.Since(t), rows, err
	}
	warmStart := time.Now()
	for range warmup {
		if ctx.Err() != nil || time.Since(warmStart) > 30*time.Second {
			break
		}
		if _, _, err := one(); err != nil {
			idle()
		}
	}
	nextSecond(1)
	l.from = time.Now()
	for range n {
		if ctx.Err() != nil || time.Since(l.from) > budget {
			l.stopped = true
			break
		}
		dur, rows, err := one()
		if err != nil {
			l.errors++
			if l.firstErr == nil {
				l.firstErr = err
			}
			if l.errKinds == nil {
				l.errKinds = map[string]int{}
			}
			l.errKinds[errKind(err)]++
			l.idle += idle()
		}
		l.durations = append(l.durations, dur)
		l.rows += rows
	}
	l.to = time.Now()
	nextSecond(2)
	return l
}

// nextSecond sleeps past the n-th next whole second.
func nextSecond(n int) {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Duration(n)*time.Second + 50*time.Millisecond).Sub(now))
}

// ingester stores a live-like stream of UPDATEs through DB.Insert while
// the queries run: events of the data set's peers at rate per second,
// each announcing (with the path of another RIB view) or withdrawing 1 to
// 2*perEvent-1 routes; withdrawn routes are announced again a little
// later. Like the collector's log consumer, it inserts what accumulated
// every interval (one INSERT in flight), and every peer sends a KEEPALIVE
// every 30 s.
type ingester struct {
	db       *storage.DB
	d        *dataset
	rate     int
	perEvent int
	interval time.Duration
	seq      []uint64
	lastUS   []int64
	start    int64
	// Each peer's route count per family and its withdrawn routes, as the
	// collector's Adj-RIB-In keeps them, for the events' Routes.
	counts [][2]uint64
	gone   []map[int32]bool
	raw    []byte // the generator's last message, encoded
	// rib, when set, gets every event as lg's memory RIB gets the log's:
	// as JSON, decoded and applied, in order.
	rib   *storage.LiveRIB
	toRIB chan []schema.Event
	noRaw bool // the UPDATEs are stored without their message (store_raw: false)

	mu        sync.Mutex
	pending   []schema.Event
	withdrawn []withdrawal

	generated, stored, rows, inserts atomic.Int64
	behind                           atomic.Int64 // ticks skipped: the inserter was more than 10 s behind
	insertTime                       atomic.Int64 // ns spent in DB.Insert
	maxInsert                        atomic.Int64
	failed                           atomic.Int64
	firstErr                         atomic.Value
	began, ended                     time.Time
}

type withdrawal struct {
	peer  int
	slots []int32
}

func newIngester(db *storage.DB, d *dataset, lastSeq map[netip.Addr]uint64, rate, perEvent int, interval time.Duration) *ingester {
	in := &ingester{db: db, d: d, rate: rate, perEvent: max(perEvent, 1), interval: interval, start: time.Now().Unix()}
	in.seq = make([]uint64, len(d.peers))
	in.lastUS = make([]int64, len(d.peers))
	var n4, n6 uint64
	for _, s := range d.slots {
		if s.prefix.Addr().Is4() {
			n4++
		} else {
			n6++
		}
	}
	in.counts = make([][2]uint64, len(d.peers))
	in.gone = make([]map[int32]bool, len(d.peers))
	for k, p := range d.peers {
		in.seq[k] = lastSeq[p.addr]
		in.counts[k] = [2]uint64{n4, n6}
		in.gone[k] = map[int32]bool{}
	}
	return in
}

// run generates and stores until ctx ends.
func (in *ingester) run(ctx context.Context, seed uint64) {
	in.began = time.Now()
	var wg sync.WaitGroup
	wg.Go(func() { in.insertLoop(ctx) })
	if in.rib != nil {
		in.toRIB = make(chan []schema.Event, 1000)
		wg.Go(in.applyLoop)
	}
	rng := rand.New(rand.NewPCG(seed, 0x1a6e57))
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	owed := 0.0
	last := time.Now()
	lastKeepalive := time.Now()
	for {
		select {
		case <-ctx.Done():
			if in.toRIB != nil {
				close(in.toRIB)
				in.toRIB = nil
			}
			wg.Wait()
			in.ended = time.Now()
			return
		case now := <-t.C:
			owed += now.Sub(last).Seconds() * float64(in.rate)
			last = now
			in.mu.Lock()
			lag := len(in.pending)
			in.mu.Unlock()
			if lag > 10*in.rate {
				in.behind.Add(1)
				owed = 0
				continue
			}
			var evs []schema.Event
			for ; owed >= 1; owed-- {
				evs = append(evs, in.event(rng, now))
			}
			if now.Sub(lastKeepalive) >= 30*time.Second {
				lastKeepalive = now
				for k, p := range in.d.peers {
					ka := schema.Event{Type: schema.TypeKeepalive, Peer: p.addr, PeerASN: p.asn,
						Routes: schema.RouteCounts{{Family: schema.IPv4Unicast, Routes: in.counts[k][0]}, {Family: schema.IPv6Unicast, Routes: in.counts[k][1]}}}
					evs = append(evs, in.stamp(ka, k, now))
				}
			}
			in.generated.Add(int64(len(evs)))
			if in.toRIB != nil {
				in.toRIB <- evs
			}
			in.mu.Lock()
			in.pending = append(in.pending, evs...)
			in.mu.Unlock()
		}
	}
}

func (in *ingester) stamp(ev schema.Event, k int, now time.Time) schema.Event {
	us := now.UnixMicro()
	if us <= in.lastUS[k] {
		us = in.lastUS[k] + 1
	}
	in.lastUS[k] = us
	in.seq[k]++
	ev.Host, ev.Seq, ev.Timestamp = host, in.seq[k], float64(us)/1e6
	ev.ID = eventID(in.start, in.d.peers[k].addr, in.seq[k])
	if ev.Type == schema.TypeUpdate && !in.noRaw {
		// The message, as a collector with store_raw on stores it.
		in.raw = web.AppendUpdate(in.raw[:0], &ev)
		ev.Raw = hex.EncodeToString(in.raw)
	}
	return ev
}

func (in *ingester) event(rng *rand.Rand, now time.Time) schema.Event {
	d := in.d
	// A withdrawn route comes back in one event of ten.
	if len(in.withdrawn) > 0 && rng.IntN(10) == 0 {
		i := rng.IntN(len(in.withdrawn))
		w := in.withdrawn[i]
		in.withdrawn[i] = in.withdrawn[len(in.withdrawn)-1]
		in.withdrawn = in.withdrawn[:len(in.withdrawn)-1]
		return in.stamp(in.announce(rng, w.peer, w.slots), w.peer, now)
	}
	k := rng.IntN(len(d.peers))
	n := 1 + rng.IntN(2*in.perEvent-1)
	first := rng.IntN(len(d.slots))
	v6 := d.slots[first].prefix.Addr().Is6()
	var slots []int32
	for i := first; i < len(d.slots) && len(slots) < n; i++ {
		if d.slots[i].prefix.Addr().Is6() == v6 {
			slots = append(slots, int32(i))
		}
	}
	if rng.IntN(10) == 0 {
		var ev schema.Event
		ev.Type, ev.Peer, ev.PeerASN = schema.TypeUpdate, d.peers[k].addr, d.peers[k].asn
		fam := schema.IPv4Unicast
		if v6 {
			fam = schema.IPv6Unicast
		}
		set := schema.NLRISet{Family: fam}
		for _, s := range slots {
			ev.Withdrawals = append(ev.Withdrawals, d.slots[s].prefix)
			set.Prefixes = append(set.Prefixes, d.slots[s].prefix)
		}
		ev.Withdrawn = []schema.NLRISet{set}
		ev.Routes = in.count(k, slots, false)
		if len(in.withdrawn) < 100_000 {
			in.withdrawn = append(in.withdrawn, withdrawal{peer: k, slots: slots})
		}
		return in.stamp(ev, k, now)
	}
	return in.stamp(in.announce(rng, k, slots), k, now)
}

// announce is one UPDATE of peer k announcing the slots with the
// attributes of the first one's route (another RIB view than the base's
// in two cases of three: a path change).
func (in *ingester) announce(rng *rand.Rand, k int, slots []int32) schema.Event {
	var ev schema.Event
	in.d.route(&ev, &in.d.slots[slots[0]], k, rng.IntN(3))
	a := &ev.Announcements[0]
	for _, s := range slots[1:] {
		a.Prefixes = append(a.Prefixes, in.d.slots[s].prefix)
	}
	ev.Routes = in.count(k, slots, true)
	return ev
}

// count updates peer k's count for the slots (of one family) announced
// or withdrawn and returns the family's count after the event.
func (in *ingester) count(k int, slots []int32, announce bool) schema.RouteCounts {
	fam, f := schema.IPv4Unicast, 0
	if in.d.slots[slots[0]].prefix.Addr().Is6() {
		fam, f = schema.IPv6Unicast, 1
	}
	for _, s := range slots {
		switch gone := in.gone[k][s]; {
		case announce && gone:
			delete(in.gone[k], s)
			in.counts[k][f]++
		case !announce && !gone:
			in.gone[k][s] = true
			in.counts[k][f]--
		}
	}
	return schema.RouteCounts{{Family: fam, Routes: in.counts[k][f]}}
}

// applyLoop applies the generated events to the memory RIB, as lg does
// with the log's: each as JSON, decoded, then applied.
func (in *ingester) applyLoop() {
	var buf []byte
	var ev schema.Event
	for evs := range in.toRIB {
		for i := range evs {
			buf = evs[i].AppendJSON(buf[:0])
			if err := ev.DecodeJSON(buf); err != nil {
				in.firstErr.CompareAndSwap(nil, fmt.Errorf("memory RIB: %w", err))
				continue
			}
			in.rib.Apply(&ev)
		}
	}
}

func (in *ingester) insertLoop(ctx context.Context) {
	t := time.NewTicker(in.interval)
	defer t.Stop()
	for stop := false; !stop; {
		select {
		case <-ctx.Done():
			stop = true // store what is left, as a consumer's shutdown does
		case <-t.C:
		}
		in.mu.Lock()
		batch := in.pending
		in.pending = nil
		in.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		start := time.Now()
		err := in.db.Insert(context.WithoutCancel(ctx), batch)
		dur := time.Since(start)
		in.insertTime.Add(int64(dur))
		if int64(dur) > in.maxInsert.Load() {
			in.maxInsert.Store(int64(dur))
		}
		in.inserts.Add(1)
		if err != nil {
			in.failed.Add(int64(len(batch)))
			in.firstErr.CompareAndSwap(nil, err)
			continue
		}
		in.stored.Add(int64(len(batch)))
		for i := range batch {
			for _, a := range batch[i].Announcements {
				in.rows.Add(int64(len(a.Prefixes)))
			}
			in.rows.Add(int64(len(batch[i].Withdrawals)))
		}
	}
}

func (in *ingester) err() error {
	if e, ok := in.firstErr.Load().(error); ok {
		return e
	}
	return nil
}

// lastSeqs reads each peer's highest sequence number, so that the
// ingest's events follow the stored ones.
func lastSeqs(ctx context.Context, a *admin, m *meta) (map[netip.Addr]uint64, error) {
	out := map[netip.Addr]uint64{}
	for _, t := range []string{"route_events", "peer_events"} {
		rows, err := a.conn.Query(ctx, "SELECT peer, max(seq) FROM "+t+" WHERE ts >= toDateTime(?) GROUP BY peer", uint32(m.BaseUS/1e6))
		if err != nil {
			return nil, fmt.Errorf("last seq of the peers: %w", err)
		}
		for rows.Next() {
			var p string
			var s uint64
			if err := rows.Scan(&p, &s); err != nil {
				rows.Close()
				return nil, err
			}
			if len(p) == 16 {
				a := schema.AddrFrom16([16]byte([]byte(p)))
				out[a] = max(out[a], s)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, errors.New("last seq of the peers: no events since the base table")
	}
	return out, nil
}

// errKind is an error's message without its numbers, for counting kinds.
func errKind(err error) string {
	s := err.Error()
	if len(s) > 160 {
		s = s[:160]
	}
	return reNum.ReplaceAllString(s, "N")
}

// ribLoad is what loading the memory RIB took.
type ribLoad struct {
	stats storage.LiveRIBStats
	took  time.Duration
	heap  uint64 // live heap it added
}

// loadRIB loads a memory RIB from the data set's current routes, as lg
// does at start.
func loadRIB(ctx context.Context, db *storage.DB) (*storage.LiveRIB, ribLoad, error) {
	var res ribLoad
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	start := time.Now()
	rib := storage.NewLiveRIB()
	if err := rib.Load(ctx, db); err != nil {
		return nil, res, fmt.Errorf("memory RIB: %w", err)
	}
	res.took = time.Since(start)
	if after := heap(); after > before {
		res.heap = after - before
	}
	res.stats = rib.Stats()
	rib.SetReady(true)
	return rib, res, nil
}
