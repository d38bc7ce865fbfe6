package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads the YAML file at path over Default and validates the result.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse reads a YAML document over Default and validates the result.
//
// It walks the parsed yaml.Node tree itself rather than calling
// Decoder.Decode with KnownFields(true): the walk rejects unknown keys the
// same way and, unlike yaml's decoder, names the key of every bad value,
// including values that a TextUnmarshaler (netip) refuses.
func Parse(data []byte) (Config, error) {
	cfg := Default()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, err
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		d := &decoder{}
		d.decode(doc.Content[0], reflect.ValueOf(&cfg).Elem(), "")
		if err := errors.Join(d.errs...); err != nil {
			return Config{}, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

type decoder struct {
	errs []error
}

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	if key == "" {
		key = "(top level)"
	}
	d.errs = append(d.errs, fmt.Errorf("%s: %s (line %d)", key, fmt.Sprintf(format, args...), n.Line))
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decode stores node n into v; key is the dotted path of n for errors.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, key string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "key:" with no value keeps the default
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			d.fail(n, key, "want a single value, not a %s", kindName(n))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.fail(n, key, "%q: %v", n.Value, err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(n, key, "want a mapping of keys, not a %s", kindName(n))
			return
		}
		fields := map[string]int{}
		var names []string
		for i := range v.NumField() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			fields[name] = i
			names = append(names, name)
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			sub := join(key, k.Value)
			f, ok := fields[k.Value]
			switch {
			case !ok:
				d.fail(k, sub, "unknown key; known keys here: %s", strings.Join(names, ", "))
			case seen[k.Value]:
				d.fail(k, sub, "key given twice")
			default:
				seen[k.Value] = true
				d.decode(val, v.Field(f), sub)
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, key, "want a list, not a %s", kindName(n))
			return
		}
		if len(n.Content) == 0 {
			v.Set(reflect.Zero(v.Type())) // "[]" is no list, as when absent
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), key+"["+strconv.Itoa(i)+"]")
		}
		v.Set(s)
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, key, "want a single value, not a %s", kindName(n))
			return
		}
		d.scalar(n, v, key)
	}
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, key string) {
	s := n.Value
	switch {
	case v.Type() == durationType:
		t, err := time.ParseDuration(s)
		if err != nil {
			d.fail(n, key, "%q: want a duration such as 1s, 500ms or 2m", s)
			return
		}
		v.SetInt(int64(t))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			d.fail(n, key, "%q: want true or false", s)
			return
		}
		v.SetBool(b)
	case v.CanInt():
		i, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			d.fail(n, key, "%q is not a whole number that fits in %d bits", s, v.Type().Bits())
			return
		}
		v.SetInt(i)
	case v.CanUint():
		u, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			d.fail(n, key, "%q is not a whole number from 0 to %d", s, uint64(1)<<v.Type().Bits()-1)
			return
		}
		v.SetUint(u)
	default:
		d.fail(n, key, "cannot hold a %s", v.Type()) // a field type this decoder lacks
	}
}

func join(key, sub string) string {
	if key == "" {
		return sub
	}
	return key + "." + sub
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "single value"
}
