package storage

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// pagingEvents announces 25 routes under 10.0.0.0/16: 12 from peer A and
// 13 from peer B, interleaved by prefix.
func pagingEvents(t *testing.T, db *DB) {
	t.Helper()
	var a, b []string
	for i := range 13 {
		p := fmt.Sprintf("10.0.%d.0/24", i)
		if i < 12 {
			a = append(a, p)
		}
		b = append(b, p)
	}
	store(t, db,
		announce(0, peerA, 64500, []uint32{64500, 1}, a...),
		announce(0, peerB, 64501, []uint32{64501, 2}, b...),
	)
}

// pages reads every page of q, limit routes at a time, as a client would:
// ask for one more to know whether there is a next page.
func pages(t *testing.T, db *DB, q RoutesQuery, limit int) (sizes []int, all []Route) {
	t.Helper()
	q.Limit = limit + 1
	for range 100 {
		rs, err := db.Routes(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		more := len(rs) > limit
		rs = rs[:min(len(rs), limit)]
		sizes = append(sizes, len(rs))
		all = append(all, rs...)
		if !more {
			return sizes, all
		}
		k, err := ParseCursor(rs[len(rs)-1].Key().Cursor())
		if err != nil {
			t.Fatal(err)
		}
		q.After = k
	}
	t.Fatal("no last page after 100")
	return nil, nil
}

func TestRoutesPaging(t *testing.T) {
	db := testDB(t)
	pagingEvents(t, db)
	tests := []struct {
		prefix string
		match  Match
		limit  int
		sizes  []int
	}{
		{"10.0.0.0/16", MatchMore, 10, []int{10, 10, 5}},
		{"10.0.0.0/16", MatchMore, 25, []int{25}},
		{"10.0.0.0/16", MatchMore, 5, []int{5, 5, 5, 5, 5}},
		{"10.0.12.0/24", MatchLess, 1, []int{1}},
		{"10.0.3.0/24", MatchExact, 1, []int{1, 1}},
		{"10.0.3.7/32", MatchLongest, 1, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s-%v-%d", tt.prefix, tt.match, tt.limit), func(t *testing.T) {
			q := RoutesQuery{Prefix: netip.MustParsePrefix(tt.prefix), Match: tt.match}
			want, err := db.Routes(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			sizes, got := pages(t, db, q, tt.limit)
			if !reflect.DeepEqual(sizes, tt.sizes) {
				t.Errorf("page sizes %v, want %v", sizes, tt.sizes)
			}
			if !reflect.DeepEqual(summary(got), summary(want)) {
				t.Errorf("paged routes\n%q\nwant the unpaged\n%q", summary(got), summary(want))
			}
		})
	}
}

func TestCursor(t *testing.T) {
	k := Route{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Host: "rrc00", Peer: peerB, PathID: 7, RD: "1:2"}.Key()
	got, err := ParseCursor(k.Cursor())
	if err != nil || got != k {
		t.Errorf("ParseCursor(Cursor(%v)) = %v, %v", k, got, err)
	}
	for _, bad := range []string{"", "x", "!!!!", k.Cursor() + "A", "e30", // {}
		"eyJwIjoiMTAuMC4wLjEvOCJ9", // {"p":"10.0.0.1/8"}: host bits
	} {
		if _, err := ParseCursor(bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("ParseCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
}

func TestQueryLimits(t *testing.T) {
	db := testDB(t)
	pagingEvents(t, db)
	q := RoutesQuery{Prefix: netip.MustParsePrefix("10.0.0.0/16"), Match: MatchMore}
	if _, err := db.Routes(t.Context(), q); err != nil {
		t.Fatalf("within the default limits: %v", err)
	}

	db.limits = QueryLimits{MaxExecutionTime: time.Second, MaxRowsToRead: 3, MaxResultRows: 1000}
	_, err := db.Routes(t.Context(), q)
	var le *LimitError
	var ex *clickhouse.Exception
	if !errors.Is(err, ErrQueryTooExpensive) || !errors.As(err, &le) || !errors.As(err, &ex) {
		t.Fatalf("Routes over max_rows_to_read: %v, want ErrQueryTooExpensive wrapping the exception", err)
	}
	if le.Reason != "read more than 3 rows" || ex.Code != 158 {
		t.Errorf("reason %q, code %d", le.Reason, ex.Code)
	}
	if _, err := db.Peers(t.Context()); !errors.Is(err, ErrQueryTooExpensive) {
		t.Errorf("Peers over max_rows_to_read: %v", err)
	}

	db.limits = QueryLimits{MaxExecutionTime: time.Second, MaxRowsToRead: 100_000, MaxResultRows: 2}
	_, err = db.Routes(t.Context(), q)
	if !errors.As(err, &le) || le.Reason != "more than 2 result rows" {
		t.Errorf("Routes over max_result_rows: %v", err)
	}

	// The limits are per query: a narrow query still works. (ClickHouse
	// reads whole granules of 8192 rows.)
	db.limits = QueryLimits{MaxExecutionTime: time.Second, MaxRowsToRead: 100_000, MaxResultRows: 2}
	rs, err := db.Routes(t.Context(), RoutesQuery{Prefix: netip.MustParsePrefix("10.0.3.0/24"), Peer: peerA})
	if err != nil || len(rs) != 1 {
		t.Errorf("narrow query: %v, %v", summary(rs), err)
	}
}

func TestQueryLimitsDefaults(t *testing.T) {
	l := QueryLimits{MaxExecutionTime: 1500 * time.Millisecond}.withDefaults()
	if l.seconds() != 2 || l.MaxRowsToRead != DefaultMaxRowsToRead || l.MaxResultRows != DefaultMaxResultRows {
		t.Errorf("withDefaults: %+v, %d s", l, l.seconds())
	}
	if err := (Config{Limits: QueryLimits{MaxExecutionTime: -1}}).Validate(); err == nil || !strings.Contains(err.Error(), "limits") {
		t.Errorf("negative time: %v", err)
	}
}
