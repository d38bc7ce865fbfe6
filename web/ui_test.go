package web

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

func TestClassify(t *testing.T) {
	for q, want := range map[string]searchKind{
		"10.0.0.0/8": kindPrefix, "2001:db8::/32": kindPrefix, "10.1.2.3": kindAddress, "2001:db8::1": kindAddress,
		"64496": kindASN, "AS64496": kindASN, "as3333": kindASN,
		"65000:100": kindCommunity, "65000:1:2": kindCommunity, "NO_EXPORT": kindCommunity, "blackhole": kindCommunity,
		"_64496$": kindASPath, "^174 3356": kindASPath, "65536:1": kindASPath,
	} {
		if got := classify(q); got != want {
			t.Errorf("classify(%q) = %s, want %s", q, got, want)
		}
	}
}

// rowsOf returns the text of each route table row's prefix and peer cells.
var rowRE = regexp.MustCompile(`(?s)<tr>\s*<td class="mono nowrap"><a href="[^"]*">([^<]+)</a>.*?<a class="mono" href="[^"]*">([^<]+)</a>`)

func rowsOf(page string) []string {
	var out []string
	for _, m := range rowRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1]+" "+m[2])
	}
	return out
}

// TestUISearch: the search box's kinds each show their routes; the AS
// path is one line of links, well-known communities are named.
func TestUISearch(t *testing.T) {
	srv, db := fixture(t)
	w := db.NewWriter(storage.WriterConfig{}, nil)
	defer w.Close()
	e := announce(40, peerA, 64500, []uint32{64500, 64499}, "10.9.0.0/16")
	e.Community = append(e.Community, schema.Community{0xffff, 0xff01}, schema.Community{0xffff, 666})
	for i := range 6 {
		e.Community = append(e.Community, schema.Community{64500, uint16(200 + i)})
	}
	if err := w.Write(t.Context(), []schema.Event{e}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q       string
		explain string
		rows    []string
	}{
		{"q=10.1.0.0/16", "Routes for 10.1.0.0/16 (exact match)", []string{"10.1.0.0/16 192.0.2.1", "10.1.0.0/16 2001:db8::2"}},
		{"q=10.1.2.3", "Routes covering 10.1.2.3 (longest match across all peers)", []string{"10.1.2.0/24 192.0.2.1"}},
		{"q=10.1.0.0/16&match=more", "Routes for 10.1.0.0/16 (more match)", []string{"10.1.0.0/16 192.0.2.1", "10.1.0.0/16 2001:db8::2", "10.1.2.0/24 192.0.2.1"}},
		{"q=10.1.0.0/16&at=2024-05-14T12:00:05", "Routes for 10.1.0.0/16 (exact match) at 2024-05-14 12:00:05 UTC", nil},
		{"q=AS64496", "Routes originated by AS64496", []string{"10.0.0.0/8 192.0.2.1", "10.1.0.0/16 2001:db8::2", "10.1.2.0/24 192.0.2.1", "2001:db8::/32 2001:db8::2"}},
		{"q=_64497$", "Routes whose AS path matches _64497$", []string{"10.1.0.0/16 192.0.2.1"}},
		{"q=64501:100", "Routes carrying the community 64501:100", []string{"10.1.0.0/16 2001:db8::2", "2001:db8::/32 2001:db8::2"}},
		{"q=no_export", "Routes carrying the community no_export", []string{"10.9.0.0/16 192.0.2.1"}},
	}
	for _, tt := range tests {
		code, ctype, body := get(t, srv.URL+"/search?"+tt.q)
		page := string(body)
		if code != 200 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(page, "<h1>"+tt.explain+"</h1>") {
			t.Errorf("%s: %d %s, want the heading %q:\n%s", tt.q, code, ctype, tt.explain, page)
			continue
		}
		if got := rowsOf(page); strings.Join(got, "|") != strings.Join(tt.rows, "|") {
			t.Errorf("%s: rows %q, want %q", tt.q, got, tt.rows)
		}
	}

	_, _, body := get(t, srv.URL+"/search?q=10.9.0.0/16")
	page := string(body)
	for _, want := range []string{
		`<td class="mono path" title="64500 64499"><a href="/search?q=AS64500">64500</a> <a href="/search?q=AS64499">64499</a></td>`,
		`<a class="comm named" href="/search?q=NO_EXPORT" title="65535:65281">NO_EXPORT</a>`,
		`<a class="comm named" href="/search?q=BLACKHOLE" title="65535:666">BLACKHOLE</a>`,
		`<summary>+6 more</summary>`,
		`<td class="mono nh">192.0.2.254</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("route row lacks %s:\n%s", want, page)
		}
	}
	// An ASN search lists the peers with that AS too.
	if _, _, body := get(t, srv.URL+"/search?q=AS64501"); !strings.Contains(string(body), "<h2>Peers with this AS</h2>") || !strings.Contains(string(body), ">2001:db8::2</a>") {
		t.Errorf("AS64501: no peer table:\n%s", body)
	}
}

// TestUIPages: a peer's page has both families; the history has a
// timeline; bad input is a page naming it.
func TestUIPages(t *testing.T) {
	srv, _ := fixture(t)
	_, _, body := get(t, srv.URL+"/peer?peer=2001:db8::2&collector=rrc-test")
	page := string(body)
	if !strings.Contains(page, "<h2>IPv4 routes: 1</h2>") || !strings.Contains(page, "<h2>IPv6 routes: 1</h2>") ||
		strings.Join(rowsOf(page), "|") != "10.1.0.0/16 2001:db8::2|2001:db8::/32 2001:db8::2" {
		t.Errorf("peer page: rows %q:\n%s", rowsOf(page), page)
	}
	// The peer's time control: before its announcements, none.
	_, _, body = get(t, srv.URL+"/peer?peer=2001:db8::2&collector=rrc-test&at=2024-05-14T12:00:05")
	if page := string(body); !strings.Contains(page, "<h2>IPv4 routes at 2024-05-14 12:00:05 UTC: 0</h2>") || len(rowsOf(page)) != 0 {
		t.Errorf("peer page at a time before its routes: rows %q:\n%s", rowsOf(page), page)
	}
	_, _, body = get(t, srv.URL+"/history?prefix=10.1.0.0/16&from=2024-05-14T11:00:00Z&to=2024-05-14T13:00:00Z")
	page = string(body)
	if want := `<a href="/history?from=2024-05-14T09%3A00%3A00Z&amp;prefix=10.1.0.0%2F16&amp;to=2024-05-14T11%3A00%3A00Z">← earlier</a>`; !strings.Contains(page, want) {
		t.Errorf("history: no link %s", want)
	}
	if n := strings.Count(page, `<circle class="mark announce"`); n != 2 || strings.Count(page, `<circle class="mark change"`) != 1 {
		t.Errorf("history: %d announce marks, want 2 and 1 path change:\n%s", n, page)
	}
	for _, tt := range []struct{ path, want string }{
		{"/search?q=10.0.0.0/8&at=tomorrow", `at &#34;tomorrow&#34;: want RFC 3339`},
		{"/search?q=(", `aspath &#34;(&#34;: not a regular expression`},
		{"/peer", "peer: missing"},
		{"/history?prefix=x", `prefix &#34;x&#34;: want a prefix`},
	} {
		code, _, body := get(t, srv.URL+tt.path)
		if code != http.StatusBadRequest || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %d, want 400 with %q:\n%s", tt.path, code, tt.want, body)
		}
	}
}

// TestPathElems: prepends are one ASN with a count; sets and
// confederation segments keep their brackets; pathString writes every ASN.
func TestPathElems(t *testing.T) {
	p := schema.ASPath{
		{Type: schema.SegmentConfedSequence, ASNs: []uint32{65001, 65001}},
		{Type: schema.SegmentSequence, ASNs: []uint32{64500, 64500, 64500, 64496, 64500}},
		{Type: schema.SegmentSet, ASNs: []uint32{1, 1}},
	}
	var got []string
	for _, e := range pathElems(p) {
		s := e.Text
		if e.Times > 1 {
			s += "x" + strconv.Itoa(e.Times)
		}
		got = append(got, s)
	}
	if want := "( 65001x2 )   64500x3   64496   64500   { 1 , 1 }"; strings.Join(got, " ") != want {
		t.Errorf("elements %q, want %q", strings.Join(got, " "), want)
	}
	if got, want := pathString(p), "(65001 65001) 64500 64500 64500 64496 64500 {1,1}"; got != want {
		t.Errorf("pathString = %q, want %q", got, want)
	}
}

// TestUIIndex: the index counts the peers by state.
func TestUIIndex(t *testing.T) {
	srv, _ := fixture(t)
	_, _, body := get(t, srv.URL+"/")
	if want := `<a href="/peers">2 peers</a>: <span class="state connected">2 connected</span>.`; !strings.Contains(string(body), want) {
		t.Errorf("index lacks %s:\n%s", want, body)
	}
}

// TestUIPaging: a search's next-page links walk every route once.
func TestUIPaging(t *testing.T) {
	_, db := limitedStore(t, storage.QueryLimits{})
	srv := httptest.NewServer(New(db, Options{MaxRoutes: 10}))
	defer srv.Close()
	nextRE := regexp.MustCompile(`<a class="next" href="([^"]+)">`)
	var rows []string
	var pages []int
	u := srv.URL + "/search?q=10.0.0.0/16&match=more"
	for range 5 {
		_, _, body := get(t, u)
		page := string(body)
		rows = append(rows, rowsOf(page)...)
		pages = append(pages, len(rowsOf(page)))
		m := nextRE.FindStringSubmatch(page)
		if m == nil {
			break
		}
		u = srv.URL + html.UnescapeString(m[1])
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r] = true
	}
	if fmt.Sprint(pages) != "[10 10 5]" || len(seen) != 25 {
		t.Errorf("pages of %v rows, %d distinct of 25", pages, len(seen))
	}
}
