package storage

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// HistoryQuery selects every announcement and withdrawal of a prefix (and,
// with MoreSpecific, of the prefixes inside it) in a time window.
type HistoryQuery struct {
	Prefix       netip.Prefix
	MoreSpecific bool
	// From and To bound the window, both included.
	From, To time.Time
	// Peer and Host, when set, keep the events of that peer address and
	// collector only.
	Peer netip.Addr
	Host string
	// Limit caps the number of events (0: no limit); After, when set,
	// keeps the events that sort after it (the key of the last event of
	// the previous page).
	Limit int
	After HistoryKey
}

// RouteEvent is one announcement or withdrawal of one route: the route's
// key, time and event, with the announced attributes.
type RouteEvent struct {
	Route
	Withdrawn bool
}

// HistoryKey is the sort key of a RouteEvent: time, then route.
type HistoryKey struct {
	TimeMicros uint64
	Route      RouteKey
	Withdrawn  bool
}

// Key returns the sort key of e.
func (e RouteEvent) Key() HistoryKey {
	return HistoryKey{TimeMicros: uint64(e.Time.UnixMicro()), Route: e.Route.Key(), Withdrawn: e.Withdrawn}
}

type historyCursorJSON struct {
	T uint64     `json:"t"`
	R cursorJSON `json:"r"`
	W bool       `json:"w"`
}

// Cursor encodes k as an opaque string safe in a URL query;
// ParseHistoryCursor reads it back.
func (k HistoryKey) Cursor() string {
	b, _ := json.Marshal(historyCursorJSON{T: k.TimeMicros, R: cursorJSON(k.Route), W: k.Withdrawn})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseHistoryCursor reads a HistoryKey encoded by Cursor.
func ParseHistoryCursor(s string) (HistoryKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return HistoryKey{}, ErrBadCursor
	}
	var c historyCursorJSON
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil || d.More() || c.T == 0 || (c.R.Prefix.IsValid() && c.R.Prefix != c.R.Prefix.Masked()) {
		return HistoryKey{}, ErrBadCursor
	}
	return HistoryKey{TimeMicros: c.T, Route: RouteKey(c.R), Withdrawn: c.W}, nil
}

// History returns the route events of q's prefix in its window, oldest
// first (then by route), each once however often the store holds it. A
// query that exceeds the DB's QueryLimits fails with an error wrapping
// ErrQueryTooExpensive.
func (db *DB) History(ctx context.Context, q HistoryQuery) ([]RouteEvent, error) {
	switch {
	case !q.Prefix.IsValid():
		return nil, fmt.Errorf("%w: prefix: not set", ErrBadQuery)
	case q.From.IsZero() || q.To.IsZero():
		return nil, fmt.Errorf("%w: from, to: both must be set", ErrBadQuery)
	case q.To.Before(q.From):
		return nil, fmt.Errorf("%w: to %s is before from %s", ErrBadQuery, q.To.UTC().Format(time.RFC3339), q.From.UTC().Format(time.RFC3339))
	}
	p := q.Prefix.Masked()
	addr := schema.AddrTo16(p.Addr())
	var where []string
	var args []any
	if q.MoreSpecific {
		lo, hi := rangeOf(p)
		where = append(where, "prefix >= toFixedString(unhex(?), 16)", "prefix <= toFixedString(unhex(?), 16)", "prefix_len >= ?")
		args = append(args, hex.EncodeToString(lo[:]), hex.EncodeToString(hi[:]), uint8(p.Bits()))
	} else {
		where = append(where, "prefix = toFixedString(unhex(?), 16)", "prefix_len = ?")
		args = append(args, hex.EncodeToString(addr[:]), uint8(p.Bits()))
	}
	where = append(where, "nlri = ''")
	if p.Addr().Is4() {
		where = append(where, "afi = 1", "prefix_len <= 32")
	} else {
		where = append(where, "afi = 2")
	}
	// ts prunes partitions (DateTime has second precision); ts_us decides.
	from, to := max(q.From.UnixMicro(), 0), max(q.To.UnixMicro(), 0)
	where = append(where, "ts >= toDateTime(?)", "ts <= toDateTime(?)", "ts_us >= ?", "ts_us <= ?")
	args = append(args, uint32(from/1e6), uint32(min(to/1e6+1, 1<<32-1)), uint64(from), uint64(to))
	if q.Peer.IsValid() {
		peer := schema.AddrTo16(q.Peer)
		where = append(where, "peer = toFixedString(unhex(?), 16)")
		args = append(args, hex.EncodeToString(peer[:]))
	}
	if q.Host != "" {
		where = append(where, "host = ?")
		args = append(args, q.Host)
	}
	if q.After.TimeMicros != 0 {
		k := q.After.Route
		pk, peer := schema.AddrTo16(k.Prefix.Addr()), schema.AddrTo16(k.Peer)
		kind := int8(1) // the Enum8 values of kind: announce 1, withdraw 2
		if q.After.Withdrawn {
			kind = 2
		}
		where = append(where, "(ts_us, host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, toInt8(kind)) > "+
			"(toUInt64(?), ?, toFixedString(unhex(?), 16), toUInt16(?), toUInt8(?), ?, ?, toFixedString(unhex(?), 16), toUInt8(?), toUInt32(?), toInt8(?))")
		args = append(args, q.After.TimeMicros, k.Host, hex.EncodeToString(peer[:]), uint16(k.Family.AFI), uint8(k.Family.SAFI),
			k.RD, k.NLRI, hex.EncodeToString(pk[:]), uint8(k.Prefix.Bits()), k.PathID, kind)
	}
	limit := ""
	if q.Limit > 0 {
		limit = fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	// A row stored twice (a retried INSERT not merged yet) is one event:
	// the sort key of route_events identifies a row.
	sql := `SELECT DISTINCT ` + routeColumns() + `
FROM route_events
WHERE ` + strings.Join(where, " AND ") + `
ORDER BY ts_us, host, peer, afi, safi, rd, nlri, prefix, prefix_len, path_id, kind` + limit
	rows, err := db.conn.Query(db.bounded(ctx), sql, args...)
	if err != nil {
		return nil, fmt.Errorf("history: %w", db.limited(err))
	}
	defer rows.Close()
	var out []RouteEvent
	for rows.Next() {
		r, kind, err := scanRoute(rows)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		out = append(out, RouteEvent{Route: r, Withdrawn: kind == "withdraw"})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", db.limited(err))
	}
	return out, nil
}
