package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The local server logs every query (system.query_log) when its default
// profile says log_queries: usersFile is merged over the users.xml that
// storage copies into the data directory. The log stands in for EXPLAIN,
// which ClickHouse 18.16 lacks: it says how many rows and bytes each
// statement of a storage function read.
func writeUsersFile(dataDir string) error {
	root := "yandex"
	if b, err := os.ReadFile("/etc/clickhouse-server/users.xml"); err == nil && strings.Contains(string(b), "<clickhouse>") {
		root = "clickhouse"
	}
	dir := filepath.Join(dataDir, "users.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	text := "<" + root + "><profiles><default><log_queries>1</log_queries></default></profiles></" + root + ">\n"
	return os.WriteFile(filepath.Join(dir, "benchlg.xml"), []byte(text), 0o644)
}

// statementStats is one statement shape of a kind's queries.
type statementStats struct {
	shape        string
	count        int
	p50ms, p99ms float64
	readRows     float64 // mean per statement
	maxReadRows  uint64
	readBytes    float64
	resultRows   float64
	memory       float64 // mean peak bytes
	exceptions   int
	durationsMs  []float64
	sumRows      uint64
	sumBytes     uint64
	sumResult    uint64
	sumMemory    uint64
}

// Literals that differ between queries of one shape.
var (
	reHex      = regexp.MustCompile(`unhex\('[0-9A-Fa-f]*'\)`)
	reLastDown = regexp.MustCompile(`arrayElement\(\[.*?\], indexOf\(\[.*?\], concat\(host, '\|', hex\(peer\)\)\)\)`)
	reNum      = regexp.MustCompile(`[0-9]+`)
	reTuples   = regexp.MustCompile(`\(\(toFixedString\(unhex\('H'\), N\), N\)(, \(toFixedString\(unhex\('H'\), N\), N\))*\)`)
)

func normalize(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	q = reLastDown.ReplaceAllString(q, "last_down(host, peer)")
	q = reHex.ReplaceAllString(q, "unhex('H')")
	q = reNum.ReplaceAllString(q, "N")
	q = reTuples.ReplaceAllString(q, "(covering prefixes)")
	if i := strings.Index(q, " FROM "); i > 0 && strings.HasPrefix(q, "SELECT ") && i > 60 {
		q = q[:40] + " ..." + q[i:]
	}
	return q
}

// phaseStatements reads what the storage calls of a kind ran from the
// query log: the statements that ended in the kind's window (see
// measure), but for the ingest's INSERTs, grouped by shape.
func phaseStatements(ctx context.Context, a *admin, from, to time.Time) ([]statementStats, error) {
	rows, err := a.conn.Query(ctx, `SELECT query, query_duration_ms, read_rows, read_bytes, result_rows, memory_usage, CAST(type AS Int8)
FROM system.query_log
WHERE event_date >= toDate(toDateTime(?)) AND event_time >= toDateTime(?) AND event_time <= toDateTime(?) AND type != 1
  AND query NOT LIKE 'INSERT%' AND query NOT LIKE '%system.processes%'`,
		uint32(from.Unix()), uint32(from.Unix()), uint32(to.Unix()))
	if err != nil {
		return nil, fmt.Errorf("query log: %w", err)
	}
	defer rows.Close()
	byShape := map[string]*statementStats{}
	for rows.Next() {
		var q string
		var dur, readRows, readBytes, result, mem uint64
		var typ int8
		if err := rows.Scan(&q, &dur, &readRows, &readBytes, &result, &mem, &typ); err != nil {
			return nil, err
		}
		k := normalize(q)
		s := byShape[k]
		if s == nil {
			s = &statementStats{shape: k}
			byShape[k] = s
		}
		s.count++
		if typ != 2 {
			s.exceptions++
		}
		s.durationsMs = append(s.durationsMs, float64(dur))
		s.sumRows += readRows
		s.sumBytes += readBytes
		s.sumResult += result
		s.sumMemory += mem
		s.maxReadRows = max(s.maxReadRows, readRows)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []statementStats
	for _, s := range byShape {
		n := float64(s.count)
		s.readRows, s.readBytes, s.resultRows, s.memory = float64(s.sumRows)/n, float64(s.sumBytes)/n, float64(s.sumResult)/n, float64(s.sumMemory)/n
		slices.Sort(s.durationsMs)
		s.p50ms = s.durationsMs[min(len(s.durationsMs)-1, max(0, int(0.5*n+0.5)-1))]
		s.p99ms = s.durationsMs[min(len(s.durationsMs)-1, max(0, int(0.99*n+0.5)-1))]
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b statementStats) int {
		if a.count != b.count {
			return b.count - a.count
		}
		return strings.Compare(a.shape, b.shape)
	})
	return out, nil
}

// shortShape is a statement shape cut to n characters.
func shortShape(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
