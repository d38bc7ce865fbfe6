package web

// This file builds /api/v1/openapi.json from endpoints, and checks the
// API's query parameters against them.

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// openAPI returns the OpenAPI 3.0 document of the endpoints.
func openAPI() ([]byte, error) {
	errorSchema := map[string]any{"$ref": "#/components/schemas/Error"}
	paths := map[string]any{}
	answers := answerSchemas()
	for _, ep := range endpoints {
		var params []any
		for _, p := range ep.Params {
			typ := p.Type
			if typ == "" {
				typ = "string"
			}
			schema := map[string]any{"type": typ}
			if p.Enum != nil {
				schema["enum"] = p.Enum
			}
			if p.Repeat {
				schema = map[string]any{"type": "array", "items": schema}
			}
			q := map[string]any{"name": p.Name, "in": "query", "required": p.Required, "schema": schema}
			if p.Desc != "" {
				q["description"] = p.Desc
			}
			params = append(params, q)
		}
		media := map[string]any{}
		if a, found := answers[ep.Path]; found {
			media["schema"] = a
		}
		ok := map[string]any{"description": "OK", "content": map[string]any{ep.Produces: media}}
		responses := map[string]any{"200": ok}
		if ep.Tag == "api" || ep.Tag == "mrt" {
			errResp := func(d string) any {
				return map[string]any{"description": d, "content": map[string]any{jsonType: map[string]any{"schema": errorSchema}}}
			}
			responses["400"] = errResp("a parameter is missing, unknown, too long or bad; the error names it")
			responses["401"] = errResp("API tokens are configured and the request has none, or an unknown one")
			responses["422"] = errResp("the query would read too much; the error says which limit")
			responses["429"] = errResp("the client's rate or concurrency limit; Retry-After says when to retry")
			responses["503"] = errResp("the store did not answer in time")
		}
		op := func(head bool) map[string]any {
			o := map[string]any{"summary": ep.Summary, "tags": []string{ep.Tag}, "responses": responses}
			if head {
				o = map[string]any{"summary": ep.Summary + " (headers only)", "tags": []string{ep.Tag}, "responses": map[string]any{"200": map[string]any{"description": "OK"}}}
			}
			if ep.Desc != "" && !head {
				o["description"] = ep.Desc
			}
			if params != nil {
				o["parameters"] = params
			}
			return o
		}
		path := ep.Path
		if strings.HasSuffix(path, "*") {
			path = strings.TrimSuffix(path, "*") + "{file}"
		}
		item := map[string]any{"get": op(false), "head": op(true)}
		if strings.Contains(path, "{file}") {
			p := []any{map[string]any{"name": "file", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}}
			item["parameters"] = p
		}
		paths[path] = item
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Vantage looking glass",
			"version":     "1",
			"description": "Routes, history and search over what the collectors' BGP peers announced; MRT export. Errors are JSON {\"error\": \"...\"} naming what was wrong. TIME parameters take " + timeDesc + ".",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": map[string]any{"Error": map[string]any{"type": "object", "required": []string{"error"},
				"properties": map[string]any{"error": map[string]any{"type": "string"}}}},
			"securitySchemes": map[string]any{"token": map[string]any{"type": "http", "scheme": "bearer",
				"description": "only when the looking glass has lg.tokens configured"}},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func (s *server) openapi(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, s.openapiDoc)
}

// checkParams refuses, on a described /api/ route, a query parameter the
// endpoint does not take, one given twice that is not repeatable, and one
// longer than maxParamLen; each answer names the parameter.
func checkParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ep := endpointOf(c.Path())
		if ep == nil || ep.Open || ep.Tag != "api" && ep.Tag != "mrt" {
			return next(c)
		}
		query := c.QueryParams()
		names := make([]string, 0, len(query))
		for name := range query {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			i := slices.IndexFunc(ep.Params, func(p param) bool { return p.Name == name })
			if i < 0 {
				return echo.NewHTTPError(http.StatusBadRequest, "parameter "+quote(shorten(name))+": unknown here; "+ep.Path+" takes "+paramList(ep))
			}
			if len(query[name]) > 1 && !ep.Params[i].Repeat {
				return echo.NewHTTPError(http.StatusBadRequest, name+": given "+strconv.Itoa(len(query[name]))+" times; give it once")
			}
			for _, v := range query[name] {
				if len(v) > maxParamLen {
					return echo.NewHTTPError(http.StatusBadRequest, name+": "+strconv.Itoa(len(v))+" characters, more than the "+strconv.Itoa(maxParamLen)+" allowed")
				}
			}
		}
		return next(c)
	}
}

func paramList(ep *endpoint) string {
	if len(ep.Params) == 0 {
		return "no parameters"
	}
	names := make([]string, len(ep.Params))
	for i, p := range ep.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// shorten cuts a long value for an error message.
func shorten(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
