package deptest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// directSkip matches a test skipping itself without internal/testenv.
var directSkip = regexp.MustCompile(`\b(t|b|tb|f)\.(Skip|Skipf|SkipNow)\(`)

// TestSkipsGoThroughTestenv fails when a test calls t.Skip directly: every
// skip must go through testenv.Skip, so that VANTAGE_NO_SKIP=1 (CI) turns
// it into a failure and the summary groups its reason.
func TestSkipsGoThroughTestenv(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "testenv" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if directSkip.MatchString(line) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d calls Skip directly; use testenv.Skip so that VANTAGE_NO_SKIP=1 can fail it: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
