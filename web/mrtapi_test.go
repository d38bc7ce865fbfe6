package web

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/internal/testpeer"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/storage"
)

// rawUpdate is an UPDATE announcing prefixes with path, as a 4-octet
// session sends it.
func rawUpdate(t *testing.T, path []uint32, prefixes ...string) string {
	t.Helper()
	var u bgpwire.Update
	u.Attrs.Set(bgpwire.AttrOrigin)
	u.Attrs.Set(bgpwire.AttrASPath)
	u.Attrs.ASPath = bgpwire.ASPath{{Type: bgpwire.SegSequence, ASNs: path}}
	u.Attrs.Set(bgpwire.AttrNextHop)
	u.Attrs.NextHop = netip.MustParseAddr("192.0.2.254")
	for _, p := range prefixes {
		u.NLRI = append(u.NLRI, bgpwire.NLRI{Prefix: netip.MustParsePrefix(p)})
	}
	return hex.EncodeToString(u.AppendWire(nil, &bgpwire.DecodeOptions{ASN4: true}))
}

// bgpdumpOf writes an MRT file and returns bgpdump -m's lines of it.
func bgpdumpOf(t *testing.T, bin string, mrt []byte) []string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "export.mrt")
	if err := os.WriteFile(f, mrt, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-m", f).Output()
	if err != nil {
		t.Fatalf("bgpdump: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func getMRT(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestMRTEndpoints: /api/v1/mrt/rib and /api/v1/mrt/updates answer gzip
// (bz2 on request) MRT files named as RIS names them, which bgpdump reads
// as the store's state and messages.
func TestMRTEndpoints(t *testing.T) {
	bin := testpeer.Need(t, "bgpdump", "bgpdump")
	srv, db := fixture(t)
	// Messages with their raw bytes, as sessions store them.
	w := db.NewWriter(storage.WriterConfig{}, nil)
	ev := announce(40, peerA, 64500, []uint32{64500, 64499}, "10.9.0.0/16")
	ev.Raw = rawUpdate(t, []uint32{64500, 64499}, "10.9.0.0/16")
	if err := w.Write(t.Context(), []schema.Event{ev, state(50, peerA, 64500, schema.StateDown)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	resp, body := getMRT(t, srv.URL+"/api/v1/mrt/rib?at=2024-05-14T12:00:30Z")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/gzip" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="bview.20240514.1200.gz"` {
		t.Fatalf("rib: %d %q %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body)
	}
	z, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	mrt, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"TABLE_DUMP2|1715688030|B|192.0.2.1|64500|10.0.0.0/8|64500 64496|IGP|192.0.2.254|100|5|64500:100|NAG||",
		"TABLE_DUMP2|1715688030|B|192.0.2.1|64500|10.1.0.0/16|64500 64497|IGP|192.0.2.254|100|5|64500:100|NAG||",
		"TABLE_DUMP2|1715688030|B|2001:db8::2|64501|10.1.0.0/16|64501 64496|IGP|192.0.2.254|100|5|64501:100|NAG||",
		"TABLE_DUMP2|1715688030|B|192.0.2.1|64500|10.1.2.0/24|64500 64496|IGP|192.0.2.254|100|5|64500:100|NAG||",
		"TABLE_DUMP2|1715688030|B|2001:db8::2|64501|2001:db8::/32|64501 64496|IGP|192.0.2.254|100|5|64501:100|NAG||",
	}
	if got := bgpdumpOf(t, bin, mrt); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("bgpdump -m of the RIB:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if _, err := exec.LookPath("bzip2"); err == nil {
		resp, body = getMRT(t, srv.URL+"/api/v1/mrt/updates?from=1715688035&to=2024-05-14T12:01:00Z&format=bz2&peer=192.0.2.1")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-bzip2" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="updates.20240514.1200.bz2"` {
			t.Fatalf("updates: %d %q %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body)
		}
		if resp.Header.Get("X-Vantage-Incomplete") != "" {
			t.Errorf("a window of 2024 is said to be still being written")
		}
		mrt, err := io.ReadAll(bzip2.NewReader(bytes.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"BGP4MP_ET|1715688040.000000|A|192.0.2.1|64500|10.9.0.0/16|64500 64499|IGP|192.0.2.254|0|0||NAG||",
			"BGP4MP_ET|1715688050.000000|STATE|192.0.2.1|64500|6|1",
		}
		if got := bgpdumpOf(t, bin, mrt); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("bgpdump -m of the updates:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	for _, tt := range []struct{ path, want string }{
		{"rib", "at: missing"},
		{"rib?at=yesterday", `at "yesterday": want RFC 3339`},
		{"rib?at=1715688030&peer=router1", `peer "router1": want an IP address`},
		{"rib?at=1715688030&format=zip", `format "zip": want gz or bz2`},
		{"updates?to=1715688030", "from: missing"},
		{"updates?from=1715688030", "to: missing"},
		{"updates?from=1715688030&to=1715688030", `to "1715688030": must be later than from`},
		{"updates?from=1715688030&to=1715688090&format=xz", `format "xz": want gz or bz2`},
	} {
		resp, body := getMRT(t, srv.URL+"/api/v1/mrt/"+tt.path)
		var e struct{ Error string }
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || !strings.HasPrefix(e.Error, tt.want) {
			t.Errorf("%s: %d %s, want 400 with an error starting %q", tt.path, resp.StatusCode, body, tt.want)
		}
		if d := resp.Header.Get("Content-Disposition"); d != "" {
			t.Errorf("%s: an error with Content-Disposition %q", tt.path, d)
		}
	}
}
