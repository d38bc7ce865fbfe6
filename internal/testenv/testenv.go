// Package testenv decides what a test does when something it needs from
// the machine is missing: a BGP daemon, clickhouse-server, bgpdump, the
// shared test data beside the checkout.
//
// By default such a test is skipped with a message that names what is
// missing and how to get it. With VANTAGE_NO_SKIP=1 (set by CI) every such
// skip is a failure instead, so a run can never go green by skipping.
// Tests call Skip or Skipf instead of t.Skip; internal/deptest checks that
// no test file calls t.Skip directly.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// NoSkipVar is the environment variable that turns every skip into a failure.
const NoSkipVar = "VANTAGE_NO_SKIP"

// NoSkip reports whether skips are failures in this run.
func NoSkip() bool { return os.Getenv(NoSkipVar) == "1" }

// Skip skips the test, saying why, or fails it under VANTAGE_NO_SKIP=1.
// The reason should start with what is missing, the same words for every
// test that misses it, so that the run's summary can group the skips.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if NoSkip() {
		t.Fatalf("%s (%s=1: a missing prerequisite is a failure)", reason, NoSkipVar)
	}
	t.Skip(reason)
}

// Skipf is Skip with a format.
func Skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	Skip(t, fmt.Sprintf(format, args...))
}
