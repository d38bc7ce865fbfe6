package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The detector is an example of a consumer written apart from Vantage:
// of this module it imports only schema.
func TestImportsOnlySchema(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for pkg := range strings.FieldsSeq(string(out)) {
		if strings.HasPrefix(pkg, "github.com/vantage-bgp/vantage/") && pkg != "github.com/vantage-bgp/vantage/schema" && pkg != "github.com/vantage-bgp/vantage/examples/hijack" {
			t.Errorf("the detector imports %s", pkg)
		}
	}
}
