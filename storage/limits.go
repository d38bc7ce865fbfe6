package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// QueryLimits bound what one query of the looking glass may cost
// ClickHouse. Every query of Routes and Peers runs with them as ClickHouse
// settings (max_execution_time, max_rows_to_read, max_result_rows); a query
// that would exceed one is refused by the server, and the method returns an
// error wrapping ErrQueryTooExpensive. The zero value of a field means its
// default.
type QueryLimits struct {
	// MaxExecutionTime is how long a query may run, in whole seconds
	// (rounded up); default 10s.
	MaxExecutionTime time.Duration
	// MaxRowsToRead is how many table rows a query may read; default
	// 100,000,000.
	MaxRowsToRead uint64
	// MaxResultRows is how many rows a query may return; default 1,000,000.
	MaxResultRows uint64
}

// Defaults of QueryLimits.
const (
	DefaultMaxExecutionTime = 10 * time.Second
	DefaultMaxRowsToRead    = 100_000_000
	DefaultMaxResultRows    = 1_000_000
)

// DefaultQueryLimits returns the default limits.
func DefaultQueryLimits() QueryLimits {
	return QueryLimits{MaxExecutionTime: DefaultMaxExecutionTime, MaxRowsToRead: DefaultMaxRowsToRead, MaxResultRows: DefaultMaxResultRows}
}

// withDefaults fills the zero fields.
func (l QueryLimits) withDefaults() QueryLimits {
	d := DefaultQueryLimits()
	if l.MaxExecutionTime <= 0 {
		l.MaxExecutionTime = d.MaxExecutionTime
	}
	if l.MaxRowsToRead == 0 {
		l.MaxRowsToRead = d.MaxRowsToRead
	}
	if l.MaxResultRows == 0 {
		l.MaxResultRows = d.MaxResultRows
	}
	return l
}

// seconds is MaxExecutionTime in whole seconds, rounded up: ClickHouse
// 18.16 takes the setting as an integer.
func (l QueryLimits) seconds() int {
	return int((l.MaxExecutionTime + time.Second - 1) / time.Second)
}

// Validate checks the values that Open would reject.
func (l QueryLimits) Validate() error {
	if l.MaxExecutionTime < 0 {
		return fmt.Errorf("max execution time %v: must not be negative", l.MaxExecutionTime)
	}
	return nil
}

// ErrQueryTooExpensive is wrapped by the errors of queries that ClickHouse
// refused for one of the QueryLimits: the query asked for too much, and a
// narrower one (prefix, peer, time window) may succeed.
var ErrQueryTooExpensive = errors.New("query too expensive")

// LimitError is a query refused for one of the QueryLimits. It wraps
// ErrQueryTooExpensive and the server's exception.
type LimitError struct {
	// Reason says which limit, in words for the user: "read more than
	// 100000000 rows".
	Reason string
	Err    error
}

func (e *LimitError) Error() string {
	return ErrQueryTooExpensive.Error() + ": " + e.Reason + ": " + e.Err.Error()
}

// Unwrap returns ErrQueryTooExpensive and the server's exception.
func (e *LimitError) Unwrap() []error { return []error{ErrQueryTooExpensive, e.Err} }

// ClickHouse exception codes of the limits.
const (
	codeTooManyRows       = 158 // max_rows_to_read
	codeTimeoutExceeded   = 159 // max_execution_time
	codeTooSlow           = 160 // max_execution_time, estimated
	codeTooManyBytes      = 307 // max_bytes_to_read
	codeTooManyRowsOrByte = 396 // max_result_rows (18.16), or rows/bytes elsewhere
)

// limited returns a *LimitError when err is ClickHouse refusing a query for
// a limit, else err.
func (db *DB) limited(err error) error {
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		return err
	}
	l := db.limits
	var reason string
	switch ex.Code {
	case codeTooManyRows:
		reason = "read more than " + strconv.FormatUint(l.MaxRowsToRead, 10) + " rows"
	case codeTimeoutExceeded:
		reason = "ran for longer than " + strconv.Itoa(l.seconds()) + " s"
	case codeTooSlow:
		reason = "would run for longer than " + strconv.Itoa(l.seconds()) + " s"
	case codeTooManyBytes:
		reason = "read too many bytes"
	case codeTooManyRowsOrByte:
		reason = "more than " + strconv.FormatUint(l.MaxResultRows, 10) + " result rows"
	default:
		return err
	}
	return &LimitError{Reason: reason, Err: err}
}

// bounded returns ctx with the query limits as ClickHouse settings.
// ClickHouse 18.16 (protocol revision before settings as strings) takes
// only integer values: read_overflow_mode and result_overflow_mode keep
// their default, throw.
func (db *DB) bounded(ctx context.Context) context.Context {
	l := db.limits
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"max_execution_time": l.seconds(),
		"max_rows_to_read":   int(min(l.MaxRowsToRead, 1<<62)),
		"max_result_rows":    int(min(l.MaxResultRows, 1<<62)),
	}))
}
