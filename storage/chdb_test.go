package storage

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vantage-bgp/vantage/internal/testenv"
)

// TestSQLOnCurrentClickHouse runs every statement of schema/*.sql and the
// shapes of this package's queries on a current ClickHouse (chDB, 26.x,
// in-process), beside the Debian 18.16 server the other tests use: the SQL
// must run unchanged on both (scripts/chdb/check.js).
func TestSQLOnCurrentClickHouse(t *testing.T) {
	root, err := filepath.Abs("..")
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
	cmd := exec.Command(node, filepath.Join(root, "scripts", "chdb", "check.js"), filepath.Join(root, "schema"), t.TempDir())
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("Vantage's SQL on a current ClickHouse (chDB): %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
