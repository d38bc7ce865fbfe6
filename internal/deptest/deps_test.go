// Package deptest pins the import direction of DESIGN.md's layout table:
// bgpwire and schema import no package of this module, collector does not
// import storage or web, storage imports only schema, and web does not
// import collector.
package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/vantage-bgp/vantage"

// allowed lists, per package tree, the packages of ours it may import
// (directly or not). Internal test helpers are always allowed.
var allowed = map[string][]string{
	"bgpwire":   {},
	"schema":    {},
	"collector": {"bgpwire", "schema"},
	"storage":   {"schema"},
	"bus":       {"schema"},
	"web":       {"schema", "storage", "bgpwire"},
}

func TestImportDirection(t *testing.T) {
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../"+pkg+"/...").CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			rel, ours := strings.CutPrefix(dep, module+"/")
			if !ours || strings.HasPrefix(rel, pkg) || strings.HasPrefix(rel, "internal/") {
				continue
			}
			top, _, _ := strings.Cut(rel, "/")
			if !contains(ok, top) {
				t.Errorf("%s imports %s; DESIGN.md allows only %v", pkg, dep, ok)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
