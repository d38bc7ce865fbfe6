package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// run runs the sample package under `go test -json` and summarizes it.
func run(t *testing.T, fail bool) (string, bool) {
	t.Helper()
	cmd := exec.Command("go", "test", "-count=1", "-json", "./testdata/sample")
	cmd.Env = append(os.Environ(), "SAMPLE_FAIL=0")
	if fail {
		cmd.Env = append(cmd.Env, "SAMPLE_FAIL=1")
	}
	js, _ := cmd.Output() // a failing package exits 1; the JSON says so
	var out bytes.Buffer
	s := newSummary(&out)
	if err := s.read(bytes.NewReader(js)); err != nil {
		t.Fatal(err)
	}
	ok := s.finish()
	return out.String(), ok
}

func TestSummaryCountsAndGroupsSkips(t *testing.T) {
	out, ok := run(t, false)
	if !ok {
		t.Errorf("a run without failures was reported failed:\n%s", out)
	}
	last := lastLine(out)
	want := "PASS: 1 package, 3 tests passed, 0 failed, 2 skipped (subtests: 1 passed, 0 failed, 1 skipped); skipped: 2 shared test data not found at /nowhere; 1 bird not installed"
	if last != want {
		t.Errorf("summary line\n got %q\nwant %q\nwhole output:\n%s", last, want, out)
	}
	for _, w := range []string{
		"SKIP 2: shared test data not found at /nowhere (set X)\n     sample.TestSkipsNoData, sample.TestSkipsNoDataEither\n",
		"SKIP 1: bird not installed (apt-get install bird2)\n     sample.TestSubtests/skips\n",
		"ok  \tgithub.com/vantage-bgp/vantage/internal/testsummary/testdata/sample",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "looking") || strings.Contains(out, "=== RUN") {
		t.Errorf("output of tests that did not fail is shown:\n%s", out)
	}
}

func TestSummaryShowsFailures(t *testing.T) {
	out, ok := run(t, true)
	if ok {
		t.Errorf("a run with a failing test was reported passed:\n%s", out)
	}
	if !strings.Contains(out, "the failure message") || !strings.Contains(out, "--- FAIL: TestFails") {
		t.Errorf("the failing test's output is not shown:\n%s", out)
	}
	if !strings.HasPrefix(lastLine(out), "FAIL: 1 package, 2 tests passed, 1 failed, 2 skipped") {
		t.Errorf("summary line: %q", lastLine(out))
	}
}

func TestSummaryFailsOnBuildErrorAndEmptyInput(t *testing.T) {
	var out bytes.Buffer
	s := newSummary(&out)
	if s.finish() {
		t.Error("no test results at all was reported as a pass")
	}
	js := `{"ImportPath":"p [p.test]","Action":"build-output","Output":"p/x_test.go:3:1: syntax error\n"}
{"ImportPath":"p [p.test]","Action":"build-fail"}
{"Action":"start","Package":"p"}
{"Action":"output","Package":"p","Output":"FAIL\tp [build failed]\n"}
{"Action":"fail","Package":"p","FailedBuild":"p [p.test]"}
`
	out.Reset()
	s = newSummary(&out)
	if err := s.read(strings.NewReader(js)); err != nil {
		t.Fatal(err)
	}
	if s.finish() {
		t.Errorf("a build failure was reported as a pass:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "syntax error") || !strings.Contains(out.String(), "FAIL\tp [build failed]") || !strings.Contains(lastLine(out.String()), "failed packages: p") {
		t.Errorf("the build failure is not shown:\n%s", out.String())
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}
