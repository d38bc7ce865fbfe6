package web

// This file owns the description of every path the looking glass serves:
// /api/v1/openapi.json is built from it, and the API's requests are checked
// against its parameters (an unknown or oversized parameter is a 400 that
// names it). A test fails when a registered route is not described here or
// a described one is not registered.

// param is a query parameter of an endpoint.
type param struct {
	Name     string
	Desc     string
	Required bool
	// Type is the JSON schema type: string (default), integer or boolean.
	Type string
	Enum []string
	// Repeat: the parameter may be given more than once.
	Repeat bool
	// Example is a value that makes a valid request (tests send it).
	Example string
}

// endpoint is a GET path (HEAD is served for each as well).
type endpoint struct {
	Path    string
	Tag     string // api, mrt, ui, ops, stream
	Summary string
	Desc    string
	Params  []param
	// Produces is the media type of a 200 answer.
	Produces string
	// Open: the endpoint takes parameters beyond Params (clients of the
	// live stream send their own); no check for unknown ones.
	Open bool
}

// maxParamLen bounds every parameter value of the API (the aspath
// expression has its own, smaller bound).
const maxParamLen = 1024

const (
	timeDesc = "RFC 3339 (2024-05-14T12:00:00Z) or Unix seconds (1715688000)"
	jsonType = "application/json"
	htmlType = "text/html"
)

var (
	pPeer      = param{Name: "peer", Desc: "only the routes of this peer address"}
	pCollector = param{Name: "collector", Desc: "only the routes of this collector (host)"}
	pLimit     = param{Name: "limit", Type: "integer", Desc: "at most this many items (default 1,000; at most the server's maximum, 10,000 unless configured)"}
	pCursor    = param{Name: "cursor", Desc: "the next of a previous answer: the items after it, with the same query"}
	pAt        = param{Name: "at", Desc: "the state at this time (default now): " + timeDesc}
	pMatch     = param{Name: "match", Enum: []string{"exact", "longest", "more", "less"},
		Desc: "exact: the prefix only (default for a prefix); longest: the most specific stored prefix covering it (default for an address); more: it and its more-specifics; less: it and the prefixes covering it"}
	pFormat = param{Name: "format", Enum: []string{"gz", "bz2"}, Desc: "compression (default gz)"}
)

// searchParams are the filters of /api/v1/search.
var searchParams = []param{
	{Name: "origin", Desc: "routes originated by this AS (64496 or AS64496)", Example: "AS64496"},
	{Name: "aspath", Desc: "routes whose AS path (ASNs separated by spaces) matches this RE2 expression; _ matches a boundary: _64496$ is originated by 64496, ^64500_ learned from 64500 (at most 256 characters)"},
	{Name: "community", Desc: "routes carrying this standard (65000:100) or large (65000:1:2) community"},
}

// endpoints describes every path. Keep it in the order of the README.
var endpoints = []endpoint{
	{Path: "/api/v1/peers", Tag: "api", Summary: "Peers of every collector",
		Desc:     "Each peer's collector, address, ASN, state (connected, down, stale, unknown), since when, uptime, last down time and reason, and current route counts per family.",
		Produces: jsonType},
	{Path: "/api/v1/routes", Tag: "api", Summary: "Routes per peer for a prefix or an address",
		Desc: "The routes current at a time (default now), ordered by prefix, collector, peer and path ID; truncated answers carry next, a cursor for the following page.",
		Params: []param{{Name: "prefix", Required: true, Desc: "a prefix (192.0.2.0/24) or an address (192.0.2.1: longest match)", Example: "10.1.0.0/16"},
			pMatch, pAt, pPeer, pCollector, pLimit, pCursor},
		Produces: jsonType},
	{Path: "/api/v1/history", Tag: "api", Summary: "Every announcement and withdrawal of a prefix in a window",
		Desc: "Oldest first; truncated answers carry next, a cursor for the following page.",
		Params: []param{{Name: "prefix", Required: true, Desc: "the prefix", Example: "10.1.0.0/16"},
			{Name: "match", Enum: []string{"exact", "more"}, Desc: "exact (default) or more: with its more-specifics"},
			{Name: "from", Desc: "start of the window (default a day before to): " + timeDesc},
			{Name: "to", Desc: "end of the window (default now): " + timeDesc},
			pPeer, pCollector, pLimit, pCursor},
		Produces: jsonType},
	{Path: "/api/v1/search", Tag: "api", Summary: "Routes by origin AS, AS-path expression or community",
		Desc: "The routes current at a time whose announcement matches every filter given (at least one of origin, aspath, community); optionally within a prefix.",
		Params: append(append([]param{}, searchParams...),
			param{Name: "prefix", Desc: "only routes of this prefix (with match)"}, pMatch, pAt, pPeer, pCollector, pLimit, pCursor),
		Produces: jsonType},
	{Path: "/api/v1/mrt/updates", Tag: "mrt", Summary: "Stored messages and session changes of a window as MRT BGP4MP_ET",
		Params: []param{{Name: "from", Required: true, Desc: "start: " + timeDesc, Example: "1715688000"},
			{Name: "to", Required: true, Desc: "end: " + timeDesc, Example: "1715688060"},
			{Name: "peer", Repeat: true, Desc: "only this peer (repeatable)"}, pCollector, pFormat},
		Produces: "application/gzip"},
	{Path: "/api/v1/mrt/rib", Tag: "mrt", Summary: "The routes current at a time as MRT TABLE_DUMP_V2",
		Params: []param{{Name: "at", Required: true, Desc: "the time: " + timeDesc, Example: "1715688060"},
			{Name: "peer", Repeat: true, Desc: "only this peer (repeatable)"}, pCollector, pFormat},
		Produces: "application/gzip"},
	{Path: "/api/v1/openapi.json", Tag: "api", Summary: "This description (OpenAPI 3.0)", Produces: jsonType},
	{Path: "/healthz", Tag: "ops", Summary: "200 when ClickHouse answers, else 503", Produces: jsonType},
	{Path: "/metrics", Tag: "ops", Summary: "Prometheus metrics of the looking glass", Produces: "text/plain"},

	{Path: "/v1/ws/", Tag: "stream", Summary: "RIS Live compatible WebSocket stream of the event log",
		Desc: "Send ris_subscribe (host, type, require, peer, path, prefix, moreSpecific, lessSpecific, socketOptions.includeRaw/acknowledge; Vantage's community, family, since, afterId), ris_unsubscribe, ping, request_rrc_list; receive ris_message, ris_subscribe_ok, pong, ris_rrc_list and ris_error frames. 503 when lg has no event log.",
		Params: []param{{Name: "since", Desc: "resume from this time: " + timeDesc}, {Name: "afterId", Desc: "resume after this event id"},
			{Name: "client", Desc: "the client's name (RIS Live's; ignored)"}},
		Produces: "application/json", Open: true},
	{Path: "/v1/ws", Tag: "stream", Summary: "The same as /v1/ws/", Produces: "application/json", Open: true},
	{Path: "/v1/stream/", Tag: "stream", Summary: "The live stream as line-delimited JSON, the subscription in the X-RIS-Subscribe header",
		Params:   []param{{Name: "format", Enum: []string{"json"}}, {Name: "since", Desc: "resume from this time: " + timeDesc}, {Name: "afterId", Desc: "resume after this event id"}},
		Produces: "application/x-ndjson", Open: true},
	{Path: "/v1/stream", Tag: "stream", Summary: "The same as /v1/stream/", Produces: "application/x-ndjson", Open: true},

	{Path: "/", Tag: "ui", Summary: "Web UI: the search box and the peers", Produces: htmlType},
	{Path: "/search", Tag: "ui", Summary: "Web UI: a search (prefix, address, ASN, AS-path expression or community) and its routes",
		Params: []param{{Name: "q", Desc: "what to look for", Example: "10.1.0.0/16"}, pAt, pMatch, pPeer, pCollector}, Produces: htmlType, Open: true},
	{Path: "/peers", Tag: "ui", Summary: "Web UI: peers with state, uptime, counts and last error", Produces: htmlType},
	{Path: "/peer", Tag: "ui", Summary: "Web UI: the routes of one peer, both families",
		Params: []param{{Name: "peer", Required: true, Example: "192.0.2.1"}, pCollector, pAt}, Produces: htmlType, Open: true},
	{Path: "/history", Tag: "ui", Summary: "Web UI: a prefix's timeline of announcements, withdrawals and path changes",
		Params: []param{{Name: "prefix", Required: true, Example: "10.1.0.0/16"}, {Name: "from"}, {Name: "to"}, pPeer, pCollector}, Produces: htmlType, Open: true},
	{Path: "/live", Tag: "ui", Summary: "Web UI: the live stream of updates with a filter (prefix, AS path, peer, collector, community)",
		Params:   []param{{Name: "prefix"}, {Name: "more", Desc: "1: and the prefix's more-specifics"}, {Name: "path"}, pPeer, pCollector, {Name: "community"}},
		Produces: htmlType, Open: true},
	{Path: "/static/*", Tag: "ui", Summary: "Web UI: style sheet and script", Produces: "text/css"},
}

// endpointOf returns the description of a registered route path.
func endpointOf(path string) *endpoint {
	for i := range endpoints {
		if endpoints[i].Path == path {
			return &endpoints[i]
		}
	}
	return nil
}
