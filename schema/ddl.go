package schema

import (
	"embed"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.sql
var ddlFiles embed.FS

// Statement is one SQL statement of the ClickHouse DDL.
type Statement struct {
	// Name says where the statement comes from: "001_events.sql#2".
	Name string
	// SQL is the statement without comments or the final semicolon. Table
	// names are unqualified: run it with the target database as the
	// connection's default database.
	SQL string
}

// DDL returns the statements of the embedded *.sql files, files in name
// order (the number prefix is the version), statements in file order. Every
// statement is idempotent (CREATE ... IF NOT EXISTS), so applying the whole
// list at every start is safe.
func DDL() []Statement {
	names, err := fs.Glob(ddlFiles, "*.sql")
	if err != nil {
		panic(err) // the pattern is constant
	}
	sort.Strings(names)
	var out []Statement
	for _, name := range names {
		b, err := ddlFiles.ReadFile(name)
		if err != nil {
			panic(err) // embedded: cannot fail
		}
		for i, s := range splitSQL(string(b)) {
			out = append(out, Statement{Name: name + "#" + strconv.Itoa(i+1), SQL: s})
		}
	}
	return out
}

// splitSQL drops comment lines (those starting with "--") and splits on
// semicolons that end a line. The DDL files put comments on lines of their
// own and never end a line inside a string literal with a semicolon.
func splitSQL(src string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if q := strings.TrimSpace(cur.String()); q != "" {
			out = append(out, q)
		}
		cur.Reset()
	}
	for line := range strings.Lines(src) {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		if s, ok := strings.CutSuffix(t, ";"); ok {
			cur.WriteString(s)
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return out
}
