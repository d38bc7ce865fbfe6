package storage

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/internal/testenv"
)

// TestSQLOnCurrentClickHouse runs every statement of schema/*.sql and the
// shapes of this package's queries on a current ClickHouse (chDB, 26.x,
// in-process), beside the Debian 18.16 server the other tests use: the SQL
// must run unchanged on both (scripts/chdb/check.js).
func TestSQLOnCurrentClickHouse(t *testing.T) {
	runChDB(t, "check.js", filepath.Join("..", "schema"))
}

// TestClusterSQLOnCurrentClickHouse runs the DDL of a store on a cluster
// (the migrations with local tables, the Distributed tables) and the query
// shapes that differ on Distributed tables on a current ClickHouse
// (scripts/chdb/check-cluster.js).
func TestClusterSQLOnCurrentClickHouse(t *testing.T) {
	var ddl []string
	for _, m := range localMigrations() {
		for _, st := range m.Statements {
			ddl = append(ddl, st.SQL)
		}
	}
	for _, tb := range distributedTables {
		ddl = append(ddl, tb.ddl("vantage", "vt"))
	}
	file := filepath.Join(t.TempDir(), "cluster.sql")
	if err := os.WriteFile(file, []byte(strings.Join(ddl, "\n;\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runChDB(t, "check-cluster.js", file)
}

// runChDB runs scripts/chdb/SCRIPT ARG SCRATCH with node and chDB.
func runChDB(t *testing.T, script, arg string) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	arg, err = filepath.Abs(arg)
	if err != nil {
		t.Fatal(err)
	}
	modules := filepath.Join(root, ".cache", "chdb", "node_modules")
	if d := os.Getenv("VANTAGE_CHDB"); d != "" {
		modules = d
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Skip(t, "node not installed (needed to run chDB, a current ClickHouse)")
	}
	if _, err := os.Stat(filepath.Join(modules, "chdb", "package.json")); err != nil {
		testenv.Skipf(t, "chDB not installed at %s (make deps-test installs it with npm)", modules)
	}
	cmd := exec.Command(node, filepath.Join(root, "scripts", "chdb", script), arg, t.TempDir())
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("Vantage's SQL on a current ClickHouse (chDB, %s): %v\n%s", script, err, out)
	}
	t.Logf("%s", out)
}
