package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type historyResponse struct {
	Events []struct {
		Type      string  `json:"type"`
		Prefix    string  `json:"prefix"`
		Peer      string  `json:"peer"`
		Timestamp float64 `json:"timestamp"`
		Path      []any   `json:"path"`
	} `json:"events"`
	Count     int    `json:"count"`
	Truncated bool   `json:"truncated"`
	Next      string `json:"next"`
}

// TestHistoryAPI: /api/v1/history lists a prefix's announcements in a
// window, oldest first, pages with limit and cursor, and names the bad
// parameter.
func TestHistoryAPI(t *testing.T) {
	srv, _ := fixture(t)
	base := fmt.Sprintf("%s/api/v1/history?prefix=10.1.0.0/16&from=%d&to=%d", srv.URL, t0.Unix(), t0.Unix()+60)
	read := func(u string) historyResponse {
		t.Helper()
		code, _, body := get(t, u)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, code, body)
		}
		var r historyResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	all := read(base)
	var got []string
	for _, e := range all.Events {
		got = append(got, fmt.Sprintf("%s %s %.0f %s", e.Type, e.Prefix, e.Timestamp-float64(t0.Unix()), e.Peer))
	}
	want := []string{"announce 10.1.0.0/16 10 192.0.2.1", "announce 10.1.0.0/16 10 2001:db8::2", "announce 10.1.0.0/16 20 192.0.2.1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if more := read(base + "&match=more"); more.Count != 4 {
		t.Errorf("with more-specifics: %d events, want 4", more.Count)
	}
	// Pages of 2: 2 (with next), then 1.
	first := read(base + "&limit=2")
	if first.Count != 2 || !first.Truncated || first.Next == "" {
		t.Fatalf("first page: %+v", first)
	}
	second := read(base + "&limit=2&cursor=" + url.QueryEscape(first.Next))
	if second.Count != 1 || second.Truncated || second.Events[0].Timestamp != all.Events[2].Timestamp {
		t.Errorf("second page: %+v", second)
	}
	for param, u := range map[string]string{
		"prefix": srv.URL + "/api/v1/history?prefix=10.1.0.0/99",
		"match":  base + "&match=longest",
		"from":   srv.URL + "/api/v1/history?prefix=10.1.0.0/16&from=yesterday",
		"to":     fmt.Sprintf("%s/api/v1/history?prefix=10.1.0.0/16&from=%d&to=%d", srv.URL, t0.Unix()+60, t0.Unix()),
		"limit":  base + "&limit=0",
		"cursor": base + "&cursor=xyz",
	} {
		code, _, body := get(t, u)
		if code != http.StatusBadRequest || !strings.Contains(string(body), param) {
			t.Errorf("%s: %d %s; want 400 naming %s", u, code, body, param)
		}
	}
}
