package schema

import (
	"strings"
	"testing"
)

func TestDDL(t *testing.T) {
	stmts := DDL()
	if len(stmts) < 2 {
		t.Fatalf("DDL() returned %d statements, want at least 2", len(stmts))
	}
	for _, s := range stmts {
		if strings.Contains(s.SQL, "--") || strings.HasSuffix(s.SQL, ";") {
			t.Errorf("%s: comment or semicolon left in statement:\n%s", s.Name, s.SQL)
		}
		if !strings.HasPrefix(s.SQL, "CREATE TABLE IF NOT EXISTS ") && !strings.HasPrefix(s.SQL, "CREATE MATERIALIZED VIEW IF NOT EXISTS ") {
			t.Errorf("%s: not an idempotent CREATE TABLE or CREATE MATERIALIZED VIEW:\n%s", s.Name, s.SQL)
		}
		// Constructs that ClickHouse 18.16 does not have.
		for _, bad := range []string{"TTL", "LowCardinality", "DateTime64", "Map(", "IPv4", "IPv6", "Nullable"} {
			if strings.Contains(s.SQL, bad) {
				t.Errorf("%s: uses %s, which ClickHouse 18.16 lacks", s.Name, bad)
			}
		}
	}
}

func TestSplitSQL(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"-- only a comment\n", nil},
		{"A;\nB\nC;\n", []string{"A", "B\nC"}},
		{"A\n-- c\n  B;\n-- tail", []string{"A\nB"}},
		{"no semicolon", []string{"no semicolon"}},
	}
	for _, tt := range tests {
		got := splitSQL(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("splitSQL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
