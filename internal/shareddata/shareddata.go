// Package shareddata locates the shared test data (real MRT files,
// ExaBGP's decoding suite, BGP packet captures) that lives beside the
// project checkout in ../shared/data, and skips tests clearly when it is
// absent. The data is never copied into the project.
package shareddata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/vantage-bgp/vantage/internal/testenv"
)

// Dir returns the shared data directory: $VANTAGE_SHARED_DATA if set,
// else ../shared/data beside the module root. It skips the test when the
// directory does not exist.
func Dir(t testing.TB) string {
	t.Helper()
	d, ok := Find()
	if !ok {
		testenv.Skipf(t, "shared test data not found at %s (set VANTAGE_SHARED_DATA, or check out ../shared beside the project)", d)
	}
	return d
}

// Path returns a path under the shared data directory, skipping the test
// when the directory or the file is absent.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Dir(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		testenv.Skipf(t, "shared test file missing: %v", err)
	}
	return p
}

// Find returns the shared data directory and whether it exists.
func Find() (string, bool) {
	if d := os.Getenv("VANTAGE_SHARED_DATA"); d != "" {
		_, err := os.Stat(d)
		return d, err == nil
	}
	_, file, _, _ := runtime.Caller(0)
	// file is ROOT/internal/shareddata/shareddata.go
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	d := filepath.Join(filepath.Dir(root), "shared", "data")
	_, err := os.Stat(d)
	return d, err == nil
}
