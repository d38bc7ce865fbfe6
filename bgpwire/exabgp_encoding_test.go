package bgpwire

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
)

// exaSessionOptions derives the decoding options of an ExaBGP encoding
// test from its neighbor config: 4-octet ASNs unless "asn4 disable", and
// ADD-PATH for the families of an add-path block (or, with the add-path
// capability alone, for the configured families).
func exaSessionOptions(t *testing.T, conf string) *DecodeOptions {
	opt := &DecodeOptions{ASN4: true, ExtendedMessage: true}
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Logf("config %s: %v (using defaults)", conf, err)
		return opt
	}
	s := string(b)
	if strings.Contains(s, "asn4 disable") {
		opt.ASN4 = false
	}
	if !regexp.MustCompile(`add-path\s+(send|receive|send/receive)\s*;`).MatchString(s) {
		return opt
	}
	block := func(name string) []Family {
		m := regexp.MustCompile(`(?s)\b` + name + `\s*\{([^}]*)\}`).FindStringSubmatch(s)
		if m == nil {
			return nil
		}
		var fs []Family
		for _, line := range strings.Split(m[1], ";") {
			if f, ok := exaFamilies[strings.Join(strings.Fields(line), " ")]; ok {
				fs = append(fs, f)
			}
		}
		return fs
	}
	opt.AddPath = block("add-path")
	if opt.AddPath == nil {
		opt.AddPath = block("family")
	}
	if opt.AddPath == nil {
		opt.AddPath = []Family{IPv4Unicast}
	}
	return opt
}

// TestExaBGPEncoding decodes every raw message of ExaBGP's encoding tests
// and checks that encoding the decoded value gives the same bytes.
func TestExaBGPEncoding(t *testing.T) {
	dir := shareddata.Path(t, "exabgp", "qa", "encoding")
	files, _ := filepath.Glob(filepath.Join(dir, "*.ci"))
	if len(files) == 0 {
		testenv.Skip(t, "shared test file missing: no ExaBGP encoding files")
	}
	total := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			opt := &DecodeOptions{ASN4: true, ExtendedMessage: true}
			sc := bufio.NewScanner(fh)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if conf, ok := strings.CutPrefix(line, "option:file:"); ok {
					opt = exaSessionOptions(t, filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(f))), "etc", "exabgp", conf))
					continue
				}
				parts := strings.SplitN(line, ":raw:", 2)
				if len(parts) != 2 {
					continue
				}
				total++
				msg := exaHex(t, parts[1])
				var m Message
				if err := m.Decode(msg, opt); err != nil {
					var e *Error
					if !errors.As(err, &e) || e.Subcode != SubcodeUnrecognizedWellKnown || m.Header.Type != MsgUpdate {
						t.Errorf("%s: %v", parts[1], err)
						continue
					}
					// Decoded whole, and classified as RFC 4271 says.
					t.Logf("%s: %v", parts[1], err)
				}
				var got []byte
				switch m.Header.Type {
				case MsgUpdate:
					if m.Update.Action != ActionNone && m.Update.Action != ActionSessionReset {
						t.Errorf("%s: %v", parts[1], m.Update.Errors)
					}
					got = m.Update.AppendWire(nil, opt)
				case MsgOpen:
					got = m.Open.AppendWire(nil)
				case MsgNotification:
					got = m.Notification.AppendWire(nil)
				case MsgKeepalive:
					got = AppendKeepalive(nil)
				case MsgRouteRefresh:
					got = m.RouteRefresh.AppendWire(nil)
				}
				if !bytes.Equal(got, msg) {
					t.Errorf("re-encoded %s differs:\n got %X\nwant %X", m.Header.Type, got, msg)
				}
			}
		})
	}
	t.Logf("%d messages decoded and re-encoded", total)
}
