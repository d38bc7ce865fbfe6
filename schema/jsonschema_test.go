package schema

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// jsonNames returns the JSON field names of a struct type, embedded
// structs flattened.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, jsonNames(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The JSON Schema file and the Go type describe the same fields.
func TestJSONSchemaMatchesEvent(t *testing.T) {
	b, err := os.ReadFile("event.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Defs       struct {
			NLRISet struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"nlri_set"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("event.schema.json: %v", err)
	}
	if got, want := keys(doc.Properties), jsonNames(reflect.TypeFor[Event]()); !reflect.DeepEqual(got, want) {
		t.Errorf("event.schema.json properties\n %v\nEvent JSON fields\n %v", got, want)
	}
	if got, want := keys(doc.Defs.NLRISet.Properties), jsonNames(reflect.TypeFor[NLRISet]()); !reflect.DeepEqual(got, want) {
		t.Errorf("nlri_set properties %v, NLRISet fields %v", got, want)
	}
}
