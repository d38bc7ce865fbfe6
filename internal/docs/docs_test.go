// Package docs keeps README.md in step with the code: every command and
// flag it names exists, its YAML block is the whole configuration at its
// defaults, and its event field table lists exactly the fields of
// schema.Event. The router snippets are checked by internal/readme.
package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vantage-bgp/vantage/config"
	"github.com/vantage-bgp/vantage/schema"
)

const root = "../.."

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the text under a "## heading" up to the next "## ".
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", "## "+heading)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// build builds a command of ours and returns its path.
func build(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// help runs a command with arguments that make it print its usage, and
// returns what it printed (usage goes to stderr, with exit code 2).
func help(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, _ := exec.Command(bin, args...).CombinedOutput()
	return string(out)
}

// mention is one command line the README shows: "collector mrt dump [-m | -json] FILE...".
var mention = regexp.MustCompile("(?m)(?:`|^)(collector|lg) ([^`\n]*)")

var flagName = regexp.MustCompile(`(?:^|[\s\[|(])(-[a-z][a-z0-9-]*)`)

// TestReadmeCommandsExist checks every `collector ...` and `lg ...` command
// line in README.md against the programs' own usage texts: the command and
// subcommand exist and take every flag shown; and every command the
// collector has is in the README.
func TestReadmeCommandsExist(t *testing.T) {
	doc := readme(t)
	bins := map[string]string{"collector": build(t, "cmd/collector"), "lg": build(t, "cmd/lg")}
	usage := help(t, bins["collector"])
	commands := regexp.MustCompile(`(?m)^  ([a-z]+)\s`).FindAllStringSubmatch(usage, -1)
	if len(commands) == 0 {
		t.Fatalf("no commands in collector's usage:\n%s", usage)
	}
	checked := 0
	for _, m := range mention.FindAllStringSubmatch(doc, -1) {
		prog, rest := m[1], strings.Fields(m[2])
		var words []string // the command and subcommand
		if prog == "collector" {
			if len(rest) == 0 || !regexp.MustCompile(`^[a-z]+$`).MatchString(rest[0]) {
				continue // prose, e.g. "collector name"
			}
			words = rest[:1]
			if rest[0] == "mrt" && len(rest) > 1 {
				words = rest[:2]
			}
			if !strings.Contains(usage, "\n  "+words[0]+" ") {
				t.Errorf("README names `collector %s`, which collector's usage does not list:\n%s", words[0], usage)
				continue
			}
			if len(words) == 2 && !strings.Contains(help(t, bins[prog], "mrt"), "collector mrt "+words[1]+" ") {
				t.Errorf("README names `collector mrt %s`, which `collector mrt` does not list", words[1])
				continue
			}
		}
		flags := help(t, bins[prog], append(slices.Clone(words), "-h")...)
		for _, f := range flagName.FindAllStringSubmatch(strings.Join(rest[len(words):], " "), -1) {
			if !strings.Contains(flags, "\n  "+f[1]+"\n") && !strings.Contains(flags, "\n  "+f[1]+" ") && !strings.Contains(flags, "\n  "+f[1]+"\t") {
				t.Errorf("README shows `%s %s ... %s`, a flag that `%s %s -h` does not list:\n%s", prog, strings.Join(words, " "), f[1], prog, strings.Join(words, " "), flags)
			}
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d command lines found in README.md; the pattern no longer matches", checked)
	}
	for _, c := range commands {
		if !strings.Contains(doc, "collector "+c[1]) {
			t.Errorf("collector has a command %q that README.md does not describe", c[1])
		}
	}
}

// TestReadmeConfigIsTheDefault checks that the YAML block of the README's
// Configuration section parses (unknown keys are errors), holds exactly
// the defaults, and names every key the configuration has.
func TestReadmeConfigIsTheDefault(t *testing.T) {
	sec := section(t, readme(t), "Configuration")
	_, block, ok := strings.Cut(sec, "```yaml\n")
	if !ok {
		t.Fatal("the Configuration section has no ```yaml block")
	}
	block, _, _ = strings.Cut(block, "```")
	cfg, err := config.Parse([]byte(block))
	if err != nil {
		t.Fatalf("README's configuration block does not parse: %v", err)
	}
	if def := config.Default(); !reflect.DeepEqual(cfg, def) {
		t.Errorf("README's configuration block is not the defaults:\n got %+v\nwant %+v", cfg, def)
	}
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(block), &node); err != nil {
		t.Fatal(err)
	}
	inREADME := map[string]bool{}
	yamlKeys(&node, "", inREADME)
	for _, k := range structKeys(reflect.TypeFor[config.Config](), "") {
		if !inREADME[k] {
			t.Errorf("configuration key %s is not in README.md's configuration block", k)
		}
	}
}

func yamlKeys(n *yaml.Node, prefix string, keys map[string]bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			yamlKeys(c, prefix, keys)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := join(prefix, n.Content[i].Value)
			keys[k] = true
			yamlKeys(n.Content[i+1], k, keys)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			yamlKeys(c, prefix+"[]", keys)
		}
	}
}

// structKeys lists the YAML keys of a config struct type as dotted paths.
func structKeys(typ reflect.Type, prefix string) []string {
	var keys []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		k := join(prefix, name)
		keys = append(keys, k)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft, k = ft.Elem(), k+"[]"
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == typ.PkgPath() {
			keys = append(keys, structKeys(ft, k)...)
		}
	}
	return keys
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// TestReadmeEventFields checks the README's event field table against the
// JSON names of schema.Event, both ways.
func TestReadmeEventFields(t *testing.T) {
	sec := section(t, readme(t), "The event")
	inTable := map[string]bool{}
	for _, line := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(first, -1) {
			inTable[m[1]] = true
		}
	}
	fields := map[string]bool{}
	for f := range reflect.TypeFor[schema.Event]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = true
		}
	}
	for name := range fields {
		if !inTable[name] {
			t.Errorf("event field %q is not in README.md's field table", name)
		}
	}
	for name := range inTable {
		if !fields[name] {
			t.Errorf("README.md's field table lists %q, which schema.Event does not have", name)
		}
	}
}
