package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
	"github.com/vantage-bgp/vantage/web"
)

// host is the collector name of the data set's events.
const host = "rrc-bench"

// params are what the data set is a function of; a stored data set is
// reused when they are equal.
type params struct {
	Peers       int      `json:"peers"`
	Routes      int      `json:"routes_per_peer"`
	History     int      `json:"history_rows"`
	HistoryDays int      `json:"history_days"`
	Churn       float64  `json:"churn"`
	V6Share     float64  `json:"v6_share"`
	Seed        uint64   `json:"seed"`
	RIBs        []string `json:"ribs"`
	// RawMessages: the routes are stored with the UPDATE that announces
	// them (web.AppendUpdate), as a collector with store_raw on (its
	// default) stores what it receives. Data sets built before they were
	// have it false, and are built again.
	RawMessages bool `json:"raw_messages"`
}

// meta describes a built data set; it is written to the data directory
// when the build is complete.
type meta struct {
	Params params `json:"params"`
	// Schema is the column lists of the tables when the set was built,
	// and SchemaVersion the version of the embedded migrations; a change
	// of either means a rebuild.
	Schema        string `json:"schema"`
	SchemaVersion int    `json:"schema_version"`
	// BaseUS is the time of the first current route; the history lies
	// before it, back to OldestUS. Copies full-table copies make the
	// history, each with Churn' of its routes withdrawn for a while.
	BaseUS     int64   `json:"base_us"`
	BaseEndUS  int64   `json:"base_end_us"`
	OldestUS   int64   `json:"oldest_us"`
	Copies     int     `json:"copies"`
	CopyChurn  float64 `json:"copy_churn"`
	SeqPerCopy uint64  `json:"seq_per_copy"`

	Build buildStats `json:"build"`

	// The RIB snapshot built after the data set (storage.DB.Snapshot at
	// the latest multiple of the snapshot interval): its time, or the
	// error that building it ended with.
	SnapUS     int64         `json:"snap_us,omitempty"`
	SnapRoutes uint64        `json:"snap_routes,omitempty"`
	SnapTook   time.Duration `json:"snap_took,omitempty"`
	SnapErr    string        `json:"snap_err,omitempty"`
}

type buildStats struct {
	Start          time.Time     `json:"start"`
	Pool           time.Duration `json:"pool"`
	PeerEvents     time.Duration `json:"peer_events"`
	Base           time.Duration `json:"base"`
	BaseRows       uint64        `json:"base_rows"`
	History        time.Duration `json:"history"`
	HistoryRows    uint64        `json:"history_rows"`
	Settle         time.Duration `json:"settle"`
	Total          time.Duration `json:"total"`
	CurrentRows    uint64        `json:"current_rows"`
	PeerEventRows  uint64        `json:"peer_event_rows"`
	BaseInsertRate float64       `json:"base_insert_rows_per_s"`
	CPU            cpuUse        `json:"-"`
}

const metaFile = "benchlg.json"

// schemaPrint is the column lists of the tables the data set fills.
func schemaPrint(ctx context.Context, a *admin, db string) (string, error) {
	var b strings.Builder
	for _, t := range []string{"route_events", "peer_events", "routes_current"} {
		cols, err := a.columns(ctx, db, t)
		if err != nil {
			return "", err
		}
		b.WriteString(t + "(")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(c.name + " " + c.typ)
		}
		b.WriteString(");")
	}
	return b.String(), nil
}

// timeline of a build: base routes from BaseUS on, one full-table copy
// every span/copies before it.
func (m *meta) copyShift(c int) int64 {
	span := int64(m.Params.HistoryDays) * 86400e6
	return int64(c) * span / int64(max(m.Copies, 1))
}

// baseSeq is the sequence number of slot i's base announcement. Each copy
// c (0 = the base) owns SeqPerCopy numbers, older copies lower: 8 for its
// peer events, then one per slot for announcements, then one per slot
// for withdrawals.
func (m *meta) baseSeq(i int) uint64 {
	return uint64(m.Copies)*m.SeqPerCopy + 8 + uint64(i) + 1
}

// plan fills the timeline of a data set of n route rows per copy.
func plan(p params, nSlots int, now time.Time) *meta {
	m := &meta{Params: p}
	base := uint64(p.Peers * p.Routes)
	churn := p.Churn
	copies := 0
	if p.History > int(base) {
		extra := float64(uint64(p.History) - base)
		copies = max(1, int(extra/(float64(base)*(1+churn))+0.5))
		churn = extra/float64(uint64(copies)*base) - 1
		churn = min(max(churn, 0.01), 1)
	}
	m.Copies, m.CopyChurn = copies, churn
	m.SeqPerCopy = uint64(2*nSlots + 16)
	m.BaseUS = now.Add(-time.Hour).Truncate(time.Second).UnixMicro()
	m.OldestUS = m.BaseUS - m.copyShift(copies) - 10e6
	return m
}

// routeStep is the time between a peer's consecutive base routes: a full
// table of 500k routes takes 10 minutes.
func (m *meta) routeStep() int64 { return max(1, 600e6/int64(max(m.Params.Routes, 1))) }

// build fills the database with the data set: peer events and the base
// table through the storage package's insert path (DB.Insert, as the
// collector's log consumer stores events), then the history in SQL.
func build(ctx context.Context, db *storage.DB, a *admin, dbName string, d *dataset, m *meta, settleLimit, snapEvery time.Duration, logf func(string, ...any)) error {
	st := &m.Build
	st.Start = time.Now()

	t := time.Now()
	if err := insertPeerEvents(ctx, db, d, m); err != nil {
		return err
	}
	st.PeerEvents = time.Since(t)
	logf("peer events: %v", st.PeerEvents.Round(time.Millisecond))

	t = time.Now()
	if err := insertBase(ctx, db, d, m, logf); err != nil {
		return err
	}
	st.Base = time.Since(t)
	n, err := a.u64(ctx, "SELECT count() FROM route_events")
	if err != nil {
		return err
	}
	if want := uint64(len(d.slots) * len(d.peers)); n != want {
		return fmt.Errorf("base table: %d rows stored, want %d", n, want)
	}
	st.BaseRows = n
	st.BaseInsertRate = float64(n) / st.Base.Seconds()
	logf("base table: %d routes in %v (%.0f rows/s through DB.Insert)", n, st.Base.Round(time.Millisecond), st.BaseInsertRate)

	t = time.Now()
	if err := growHistory(ctx, a, dbName, d, m, logf); err != nil {
		return err
	}
	st.History = time.Since(t)
	total, err := a.u64(ctx, "SELECT count() FROM route_events")
	if err != nil {
		return err
	}
	st.HistoryRows = total
	logf("history: %d rows in route_events after %v", total, st.History.Round(time.Millisecond))

	t = time.Now()
	if _, err := a.settle(ctx, dbName, settleLimit); err != nil {
		return err
	}
	st.Settle = time.Since(t)

	// A store runs storage.RunSnapshots (collector run): one snapshot,
	// as the latest due one, with the server's default limits.
	if snapEvery > 0 {
		at := time.Now().Truncate(snapEvery)
		t = time.Now()
		n, err := db.Snapshot(ctx, at)
		m.SnapTook = time.Since(t)
		if err != nil {
			m.SnapErr = err.Error()
			logf("RIB snapshot at %s failed after %v: %v", at.UTC().Format(time.RFC3339), m.SnapTook.Round(time.Millisecond), err)
		} else {
			m.SnapUS, m.SnapRoutes = at.UnixMicro(), n
			logf("RIB snapshot at %s: %d routes in %v", at.UTC().Format(time.RFC3339), n, m.SnapTook.Round(time.Millisecond))
		}
		if _, err := a.settle(ctx, dbName, settleLimit); err != nil {
			return err
		}
	}
	st.Total = time.Since(st.Start)
	if st.CurrentRows, err = a.u64(ctx, "SELECT count() FROM routes_current"); err != nil {
		return err
	}
	if st.PeerEventRows, err = a.u64(ctx, "SELECT count() FROM peer_events"); err != nil {
		return err
	}
	return nil
}

// hash01 is a deterministic number in [0, 1) for the given keys.
func hash01(keys ...uint64) float64 {
	h := fnv.New64a()
	var b [8]byte
	for _, k := range keys {
		for i := range b {
			b[i] = byte(k >> (8 * i))
		}
		h.Write(b[:])
	}
	return float64(h.Sum64()>>11) / (1 << 53)
}

// insertPeerEvents stores each peer's sessions: one before the oldest
// copy, and before each later copy (and the base) a reset (down, OPENs,
// connected) for about a third of the peers, so that "current after the
// peer's last down" matters at many times.
func insertPeerEvents(ctx context.Context, db *storage.DB, d *dataset, m *meta) error {
	var events []schema.Event
	for k, pr := range d.peers {
		for c := m.Copies; c >= 0; c-- {
			if c != m.Copies && hash01(uint64(k), uint64(c), 7) >= 0.3 {
				continue
			}
			t := m.BaseUS - m.copyShift(c)
			seq := uint64(m.Copies-c) * m.SeqPerCopy
			ev := func(us int64, typ schema.Type) schema.Event {
				seq++
				return schema.Event{
					Timestamp: float64(us) / 1e6, Peer: pr.addr, PeerASN: pr.asn, Host: host, Type: typ, Seq: seq,
					ID: eventID(m.BaseUS/1e6, pr.addr, seq),
				}
			}
			if c != m.Copies {
				down := ev(t-3e6, schema.TypePeerState)
				down.State, down.Reason = schema.StateDown, "hold timer expired"
				down.Routes = schema.RouteCounts{{Family: schema.IPv4Unicast}, {Family: schema.IPv6Unicast}}
				events = append(events, down)
			}
			open := ev(t-2e6, schema.TypeOpen)
			open.Open = &schema.Open{Version: 4, ASN: pr.asn, HoldTime: 180, RouterID: netip.AddrFrom4([4]byte{10, 0, byte(k >> 8), byte(k)}),
				Capabilities: []string{"multiprotocol ipv4/unicast", "multiprotocol ipv6/unicast", "route-refresh", "4-octet-as " + strconv.Itoa(int(pr.asn))}}
			sent := ev(t-2e6+1, schema.TypeOpen)
			sent.Open = &schema.Open{Version: 4, ASN: 65000, HoldTime: 180, RouterID: netip.AddrFrom4([4]byte{127, 0, 0, 1}),
				Capabilities: []string{"multiprotocol ipv4/unicast", "multiprotocol ipv6/unicast", "route-refresh", "4-octet-as 65000"}, Sent: true}
			up := ev(t-1e6, schema.TypePeerState)
			up.State = schema.StateConnected
			events = append(events, open, sent, up)
		}
	}
	return db.Insert(ctx, events)
}

// eventID has the form of the collector's event IDs: HOST-START-PEER-SEQ.
func eventID(start int64, peer netip.Addr, seq uint64) string {
	b := make([]byte, 0, 64)
	b = append(b, host...)
	b = append(b, '-')
	b = strconv.AppendInt(b, start, 10)
	b = append(b, '-')
	b = peer.AppendTo(b)
	b = append(b, '-')
	b = strconv.AppendUint(b, seq, 10)
	return string(b)
}

// insertBatch is the number of events per DB.Insert: the log consumer's
// default batch (clickhouse.batch_size).
const insertBatch = 50_000

// insertBase stores every peer's full table through DB.Insert, one UPDATE
// event per route (as a RIB import or a session's initial table), the
// peers' tables interleaved as when they all connect at once. One
// goroutine builds batches while the other inserts.
func insertBase(ctx context.Context, db *storage.DB, d *dataset, m *meta, logf func(string, ...any)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []schema.Event, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(batches)
		batch := make([]schema.Event, 0, insertBatch)
		step := m.routeStep()
		// Each peer's routes per family so far: a live session puts its
		// Adj-RIB-In's count of the UPDATE's family on the event.
		counts := make([][2]uint64, len(d.peers))
		var raw []byte
		for i := range d.slots {
			fam, f := schema.IPv4Unicast, 0
			if d.slots[i].prefix.Addr().Is6() {
				fam, f = schema.IPv6Unicast, 1
			}
			for k := range d.peers {
				var ev schema.Event
				d.route(&ev, &d.slots[i], k, 0)
				raw = web.AppendUpdate(raw[:0], &ev)
				ev.Raw = hex.EncodeToString(raw)
				counts[k][f]++
				ev.Routes = schema.RouteCounts{{Family: fam, Routes: counts[k][f]}}
				ev.Host = host
				ev.Seq = m.baseSeq(i)
				ev.Timestamp = float64(m.BaseUS+int64(i)*step+int64(k)) / 1e6
				ev.ID = eventID(m.BaseUS/1e6, ev.Peer, ev.Seq)
				batch = append(batch, ev)
				if len(batch) == insertBatch {
					select {
					case batches <- batch:
					case <-ctx.Done():
						return
					}
					batch = make([]schema.Event, 0, insertBatch)
				}
			}
		}
		if len(batch) > 0 {
			select {
			case batches <- batch:
			case <-ctx.Done():
			}
		}
	})
	m.BaseEndUS = m.BaseUS + int64(len(d.slots))*m.routeStep() + int64(len(d.peers))
	var err error
	done, last := 0, time.Now()
	for b := range batches {
		if err != nil {
			continue // drain
		}
		if err = db.Insert(ctx, b); err != nil {
			cancel()
			continue
		}
		done += len(b)
		if time.Since(last) > 15*time.Second {
			logf("base table: %d of %d routes", done, len(d.slots)*len(d.peers))
			last = time.Now()
		}
	}
	wg.Wait()
	if err != nil {
		return fmt.Errorf("base table: %w", err)
	}
	return nil
}

// keepOnWithdraw are the columns a withdrawal row carries (the route's
// key and the event's); the writer leaves the others at their defaults,
// and so do the withdrawals made here.
var keepOnWithdraw = []string{"host", "peer", "peer_asn", "ts_us", "seq", "id", "kind",
	"afi", "safi", "prefix", "prefix_len", "path_id", "rd", "nlri"}

// growHistory adds the older history in ClickHouse: copy c (1..Copies)
// of the base rows, moved copyShift(c) back in time, is every route
// announced again (with the session resets of insertPeerEvents: a full
// table after each), and a CopyChurn share of them withdrawn at a random
// time before the next copy announces them again. Columns are read from
// system.columns: the copies move ts_us, seq and id and copy every
// other column as it is, whatever the schema holds.
//
// The materialized views on route_events are detached meanwhile: these
// rows are older than the current ones, so in a store that received them
// over months routes_current would have merged them away; through the
// view they would sit there unmerged, many times the current table.
func growHistory(ctx context.Context, a *admin, dbName string, d *dataset, m *meta, logf func(string, ...any)) error {
	if m.Copies == 0 {
		return nil
	}
	cols, err := a.columns(ctx, dbName, "route_events")
	if err != nil {
		return err
	}
	types := map[string]string{}
	for _, c := range cols {
		types[c.name] = c.typ
	}
	for _, need := range []string{"ts_us", "seq", "id", "kind", "prefix", "prefix_len", "peer"} {
		if types[need] == "" {
			return fmt.Errorf("route_events has no column %s: the history copies move ts_us, seq and id and key on prefix, prefix_len and peer", need)
		}
	}
	tables, err := a.tables(ctx, dbName)
	if err != nil {
		return err
	}
	var views []string
	for n, e := range tables {
		if e == "MaterializedView" {
			views = append(views, n)
		}
	}
	slices.Sort(views)
	for _, v := range views {
		if err := a.exec(ctx, "DETACH TABLE "+v); err != nil {
			return err
		}
	}
	attached := false
	attach := func() error {
		if attached {
			return nil
		}
		attached = true
		var errs []error
		for _, v := range views {
			errs = append(errs, a.exec(context.WithoutCancel(ctx), "ATTACH TABLE "+v))
		}
		return errors.Join(errs...)
	}
	defer attach()

	base := fmt.Sprintf("ts >= toDateTime(%d) AND ts_us >= %d AND ts_us <= %d", m.BaseUS/1e6, m.BaseUS, m.BaseEndUS)
	n := uint64(len(d.slots))
	threshold := uint64(m.CopyChurn * 1e6)
	for c := 1; c <= m.Copies; c++ {
		t := time.Now()
		shift := m.copyShift(c)
		seqShift := uint64(c) * m.SeqPerCopy
		// moved returns the select expression of a column for the copy:
		// ts columns moved by shift (plus extra µs), seq by seqShift
		// (less seqBack), id rewritten to end in the new seq.
		moved := func(name string, extraUS string, seqBack uint64, kind string) string {
			tsUS := fmt.Sprintf("(ts_us - %d%s)", shift, extraUS)
			seq := fmt.Sprintf("(seq - %d + %d)", seqShift, seqBack)
			var e string
			switch name {
			case "ts_us":
				e = tsUS
			case "ts":
				e = "toDateTime(intDiv(" + tsUS + ", 1000000))"
			case "seq":
				e = seq
			case "id":
				e = "concat(substring(id, 1, length(id) - length(toString(seq))), toString(" + seq + "))"
			case "kind":
				if kind == "" {
					return name
				}
				e = "'" + kind + "'"
			default:
				return name
			}
			return "CAST(" + e + " AS " + types[name] + ")"
		}
		var names, exprs []string
		for _, col := range cols {
			names = append(names, col.name)
			exprs = append(exprs, moved(col.name, "", 0, ""))
		}
		sql := "INSERT INTO route_events (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(exprs, ", ") +
			" FROM route_events WHERE " + base
		if err := a.exec(ctx, sql); err != nil {
			return err
		}
		// The withdrawals: at 1 µs to half the copy spacing after the
		// copy's announcement, so before the next copy's.
		half := max(m.copyShift(1)/2, 2)
		extra := fmt.Sprintf(" + 1 + cityHash64(prefix, prefix_len, peer, %d) %% %d", c, half-1)
		names, exprs = nil, nil
		for _, col := range cols {
			if !slices.Contains(keepOnWithdraw, col.name) {
				continue
			}
			names = append(names, col.name)
			exprs = append(exprs, moved(col.name, extra, n, "withdraw"))
		}
		sql = "INSERT INTO route_events (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(exprs, ", ") +
			" FROM route_events WHERE " + base + fmt.Sprintf(" AND kind = 'announce' AND cityHash64(prefix, prefix_len, peer, %d, 'churn') %% 1000000 < %d", c, threshold)
		if err := a.exec(ctx, sql); err != nil {
			return err
		}
		logf("history: copy %d of %d (%.1f days back) in %v", c, m.Copies, float64(shift)/86400e6, time.Since(t).Round(time.Millisecond))
	}
	return attach()
}

func loadMeta(path string) (*meta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

func saveMeta(path string, m *meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func sameParams(a, b params) bool {
	return a.Peers == b.Peers && a.Routes == b.Routes && a.History == b.History && a.HistoryDays == b.HistoryDays &&
		a.Churn == b.Churn && a.V6Share == b.V6Share && a.Seed == b.Seed && slices.Equal(a.RIBs, b.RIBs) && a.RawMessages == b.RawMessages
}
