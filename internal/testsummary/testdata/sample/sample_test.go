// Package sample is run by testsummary's test with `go test -json`: one
// test of every outcome. It lives in testdata, so `go test ./...` skips it.
package sample

import (
	"os"
	"testing"
)

func TestPasses(t *testing.T) {}

func TestSkipsNoData(t *testing.T) {
	t.Log("looking")
	t.Skip("shared test data not found at /nowhere (set X)")
}

func TestSkipsNoDataEither(t *testing.T) { t.Skip("shared test data not found at /nowhere (set X)") }

func TestFails(t *testing.T) {
	if os.Getenv("SAMPLE_FAIL") == "1" {
		t.Error("the failure message")
	}
}

func TestSubtests(t *testing.T) {
	t.Run("skips", func(t *testing.T) { t.Skip("bird not installed (apt-get install bird2)") })
	t.Run("passes", func(t *testing.T) {})
}
