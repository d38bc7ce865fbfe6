package schema

import (
	"regexp"
	"strings"
	"testing"
)

// lacking1816 matches constructs that ClickHouse 18.16 does not have (the
// IPv4 and IPv6 column types; its IPv6NumToString and like functions it has).
var lacking1816 = regexp.MustCompile(`\b(TTL|LowCardinality|DateTime64|Map\(|IPv4\b|IPv6\b|Nullable|CODEC)`)

func TestMigrations(t *testing.T) {
	ms := Migrations()
	if len(ms) < 4 || Version() != len(ms) {
		t.Fatalf("Migrations() returned %d migrations, Version() %d", len(ms), Version())
	}
	for i, m := range ms {
		if m.Version != i+1 || len(m.Statements) == 0 {
			t.Errorf("%s: version %d with %d statements, want version %d and some", m.Name, m.Version, len(m.Statements), i+1)
		}
		for _, s := range m.Statements {
			if strings.Contains(s.SQL, "--") || strings.HasSuffix(s.SQL, ";") {
				t.Errorf("%s: comment or semicolon left in statement:\n%s", s.Name, s.SQL)
			}
			// Constructs that ClickHouse 18.16 does not have.
			if bad := lacking1816.FindString(s.SQL); bad != "" {
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
