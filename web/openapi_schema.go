package web

// This file derives the OpenAPI schemas of the API's answers from the Go
// types the handlers encode, so that the description cannot drift from
// what is sent.

import (
	"encoding"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"

	"github.com/vantage-bgp/vantage/schema"
)

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
)

// special are the types whose JSON form a reflection of their Go form
// would get wrong.
var special = map[reflect.Type]map[string]any{
	reflect.TypeFor[netip.Addr]():   {"type": "string", "description": "an IP address"},
	reflect.TypeFor[netip.Prefix](): {"type": "string", "description": "an IP prefix"},
	reflect.TypeFor[schema.ASPath](): {"type": "array", "description": "RIS Live's form: ASNs, an AS_SET as an array of ASNs, confederation segments as objects",
		"items": map[string]any{}},
	reflect.TypeFor[schema.RouteCounts](): {"type": "object", "description": "current routes per family, such as {\"ipv4/unicast\": 912345}",
		"additionalProperties": map[string]any{"type": "integer"}},
}

// jsonSchema is the schema of t's encoding/json form.
func jsonSchema(t reflect.Type) map[string]any {
	if s, ok := special[t]; ok {
		return s
	}
	if t.Kind() == reflect.Pointer {
		return jsonSchema(t.Elem())
	}
	if t.Implements(jsonMarshaler) {
		return map[string]any{}
	}
	if t.Implements(textMarshaler) {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": jsonSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": jsonSchema(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		addFields(t, props)
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

// addFields adds the JSON fields of struct t, embedded structs' flattened.
func addFields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			addFields(f.Type, props)
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := jsonSchema(f.Type)
		if strings.Contains(opts, "string") { // peer_asn: a number as a string, as RIS Live
			s = map[string]any{"type": "string", "description": "a number written as a string"}
		}
		props[name] = s
	}
}

// page is the schema of a paged answer holding items under key.
func pageSchema(key string, item reflect.Type) map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{
		"query":     map[string]any{"type": "object", "description": "the query as understood, defaults filled in"},
		key:         map[string]any{"type": "array", "items": jsonSchema(item)},
		"count":     map[string]any{"type": "integer"},
		"truncated": map[string]any{"type": "boolean", "description": "more follow: ask again with cursor=next"},
		"next":      map[string]any{"type": "string", "description": "the cursor of the following page, when truncated"},
	}}
}

// answerSchemas are the 200 answers of the JSON endpoints.
func answerSchemas() map[string]map[string]any {
	routes := pageSchema("routes", reflect.TypeFor[routeJSON]())
	return map[string]map[string]any{
		"/api/v1/peers": {"type": "object", "properties": map[string]any{
			"peers": map[string]any{"type": "array", "items": jsonSchema(reflect.TypeFor[peerJSON]())}}},
		"/api/v1/routes":  routes,
		"/api/v1/search":  routes,
		"/api/v1/history": pageSchema("events", reflect.TypeFor[historyEventJSON]()),
		"/healthz":        {"type": "object", "properties": map[string]any{"status": map[string]any{"type": "string"}}},
	}
}
