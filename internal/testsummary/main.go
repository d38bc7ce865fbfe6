// Command testsummary reads `go test -json` from standard input, prints what
// a plain `go test` prints (one line a package, and the output of the tests
// that failed), and ends with one summary line: packages, tests passed,
// failed and skipped, with the reasons for the skips grouped, so that a run
// that skipped part of its tests never looks like one that ran them all.
//
// `make test` pipes every test run through it:
//
//	go test -json ./... | go run ./internal/testsummary
//
// The exit code is 1 when a test or a package failed (or the input held no
// test results at all), else 0.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	s := newSummary(os.Stdout)
	if err := s.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if !s.finish() {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json's TestEvent).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type testKey struct{ pkg, test string }

// skip is one skipped test and why.
type skip struct {
	test   testKey
	reason string
}

type summary struct {
	out io.Writer
	// output buffers what a test (or, under the empty test name, the
	// package itself) printed until its result is known.
	output   map[testKey][]string
	packages map[string]bool
	// failedPackages are packages that failed, with or without a test
	// failing (a build error, a panic, a failing TestMain).
	failedPackages []string
	passed, failed int
	skips          []skip
	subtestsPassed int
	subtestsFailed int
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, output: map[testKey][]string{}, packages: map[string]bool{}}
}

func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event: go's own messages (a build error printed
			// before the JSON starts, for example). Pass it on.
			fmt.Fprintf(s.out, "%s\n", line)
			continue
		}
		s.handle(e)
	}
	return sc.Err()
}

func (s *summary) handle(e event) {
	k := testKey{e.Package, e.Test}
	if e.Package != "" {
		s.packages[e.Package] = true
	}
	switch e.Action {
	case "build-output":
		// The compiler's messages: shown as they come.
		io.WriteString(s.out, e.Output)
		return
	case "output":
		s.output[k] = append(s.output[k], e.Output)
		return
	case "pass", "fail", "skip":
	default:
		return
	}
	if e.Test == "" {
		s.packageDone(e)
		return
	}
	top := !strings.Contains(e.Test, "/")
	switch e.Action {
	case "pass":
		if top {
			s.passed++
		} else {
			s.subtestsPassed++
		}
	case "fail":
		if top {
			s.failed++
		} else {
			s.subtestsFailed++
		}
		s.print(s.output[k])
	case "skip":
		s.skips = append(s.skips, skip{k, skipReason(s.output[k])})
	}
	delete(s.output, k)
}

// packageDone prints the package's line, and everything it printed outside
// its tests when it failed.
func (s *summary) packageDone(e event) {
	k := testKey{e.Package, ""}
	lines := s.output[k]
	delete(s.output, k)
	if e.Action == "fail" {
		s.failedPackages = append(s.failedPackages, e.Package)
		// Tests that never reported a result (a panic, a timeout)
		// printed something: show it.
		for tk, out := range s.output {
			if tk.pkg == e.Package {
				s.print(out)
				delete(s.output, tk)
			}
		}
		s.print(lines)
		return
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "?") || strings.HasPrefix(l, "ok\t") {
			s.print([]string{l})
		}
	}
}

func (s *summary) print(lines []string) {
	for _, l := range lines {
		io.WriteString(s.out, l)
	}
}

// fileLine is the "file_test.go:12: " that t.Skip puts before its message.
var fileLine = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// skipReason is the message a test gave when it skipped: the last line it
// printed that is not one of go test's own "=== RUN" or "--- SKIP" lines.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- ") {
			continue
		}
		return strings.TrimSpace(fileLine.ReplaceAllString(lines[i], ""))
	}
	return "no reason given"
}

// group is the part of a skip reason that skips for the same cause share:
// the text before the first colon or parenthesis ("shared test file
// missing: open X: ...", "bgpdump not installed (apt-get install ...)").
func group(reason string) string {
	g, _, _ := strings.Cut(reason, ": ")
	g, _, _ = strings.Cut(g, " (")
	return g
}

// finish prints the skip groups and the summary line, and reports whether
// the run passed.
func (s *summary) finish() bool {
	type skipGroup struct {
		reason string
		tests  []string
	}
	var groups []*skipGroup
	byReason := map[string]*skipGroup{}
	topSkipped, subSkipped := 0, 0
	for _, sk := range s.skips {
		if strings.Contains(sk.test.test, "/") {
			subSkipped++
		} else {
			topSkipped++
		}
		g := byReason[group(sk.reason)]
		if g == nil {
			g = &skipGroup{reason: sk.reason}
			byReason[group(sk.reason)] = g
			groups = append(groups, g)
		}
		name := sk.test.test
		if i := strings.LastIndex(sk.test.pkg, "/"); i >= 0 {
			name = sk.test.pkg[i+1:] + "." + name
		}
		g.tests = append(g.tests, name)
	}
	slices.SortStableFunc(groups, func(a, b *skipGroup) int { return len(b.tests) - len(a.tests) })
	if len(groups) > 0 {
		fmt.Fprintln(s.out)
	}
	var counts []string
	for _, g := range groups {
		fmt.Fprintf(s.out, "SKIP %d: %s\n     %s\n", len(g.tests), g.reason, abbreviate(g.tests, 8))
		counts = append(counts, fmt.Sprintf("%d %s", len(g.tests), group(g.reason)))
	}
	line := fmt.Sprintf("%s, %d tests passed, %d failed, %d skipped", plural(len(s.packages), "package"), s.passed, s.failed, topSkipped)
	if subSkipped > 0 || s.subtestsFailed > 0 {
		line += fmt.Sprintf(" (subtests: %d passed, %d failed, %d skipped)", s.subtestsPassed, s.subtestsFailed, subSkipped)
	}
	if len(counts) > 0 {
		line += "; skipped: " + strings.Join(counts, "; ")
	}
	ok := s.failed == 0 && s.subtestsFailed == 0 && len(s.failedPackages) == 0 && len(s.packages) > 0
	if len(s.failedPackages) > 0 {
		line += "; failed packages: " + strings.Join(s.failedPackages, " ")
	}
	verdict := "PASS"
	if !ok {
		verdict = "FAIL"
	}
	fmt.Fprintf(s.out, "\n%s: %s\n", verdict, line)
	return ok
}

// abbreviate lists at most n names, then how many more there are.
func abbreviate(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
