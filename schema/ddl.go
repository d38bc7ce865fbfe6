package schema

import (
	"embed"
	"fmt"
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

// Migration is one embedded NNN_name.sql file: the schema change from
// version NNN-1 to version NNN, as statements run in order. storage records
// each statement it has run in the schema_migrations table, so that every
// statement runs once per database, and a migration that was interrupted
// carries on where it stopped.
type Migration struct {
	Version    int
	Name       string // the file name
	Statements []Statement
}

// Migrations returns the embedded migrations in version order. Versions
// start at 1 and have no gaps.
func Migrations() []Migration {
	names, err := fs.Glob(ddlFiles, "*.sql")
	if err != nil {
		panic(err) // the pattern is constant
	}
	sort.Strings(names)
	var out []Migration
	for i, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			panic(fmt.Sprintf("schema: migration %s: want the name NNN_what.sql, NNN = %03d", name, i+1))
		}
		b, err := ddlFiles.ReadFile(name)
		if err != nil {
			panic(err) // embedded: cannot fail
		}
		m := Migration{Version: v, Name: name}
		for j, s := range splitSQL(string(b)) {
			m.Statements = append(m.Statements, Statement{Name: name + "#" + strconv.Itoa(j+1), SQL: s})
		}
		out = append(out, m)
	}
	return out
}

// Version is the schema version that the embedded migrations lead to.
func Version() int { return len(Migrations()) }

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
