package bgpwire

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vantage-bgp/vantage/internal/shareddata"
)

// fuzzSeeds adds messages from the shared files (when present): ExaBGP's
// messages and a sample of real UPDATEs.
func fuzzSeeds(f *testing.F, add func(msg []byte)) {
	dir, ok := shareddata.Find()
	if !ok {
		return
	}
	files, _ := filepath.Glob(filepath.Join(dir, "exabgp", "qa", "encoding", "*.ci"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(b), "\n") {
			if _, h, ok := strings.Cut(line, ":raw:"); ok {
				add(exaHexF(h))
			}
		}
	}
	for _, m := range realUpdates(f, filepath.Join(dir, "mrt", "mrtparse", "samples", "quagga_bgp")) {
		add(m.msg)
	}
	ups := realUpdates(f, filepath.Join(append([]string{dir}, benchFile...)...))
	for i := 0; i < len(ups); i += 500 {
		add(ups[i].msg)
	}
}

func exaHexF(s string) []byte {
	s = strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s))
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | byte(c-'0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | byte(c-'a'+10)
			case c >= 'A' && c <= 'F':
				v = v<<4 | byte(c-'A'+10)
			}
		}
		b[i] = v
	}
	return b
}

// FuzzMessage decodes whole messages with every option combination that
// matters. Properties: no panic; errors are *Error; the fast paths decode
// what the general path decodes (twin_test.go); a decoded UPDATE
// re-encodes to a message that decodes to the same encoding.
func FuzzMessage(f *testing.F) {
	f.Add(append(bytes.Repeat([]byte{0xff}, 16), 0, 19, 4), uint8(0))
	f.Add(append(append(bytes.Repeat([]byte{0xff}, 16), 0, byte(HeaderLen+len(updateBasic)), 2), updateBasic...), uint8(1))
	fuzzSeeds(f, func(msg []byte) { f.Add(msg, uint8(1)) })
	f.Fuzz(func(t *testing.T, msg []byte, flags uint8) {
		opt := &DecodeOptions{ASN4: flags&1 != 0, ExtendedMessage: true}
		if flags&2 != 0 {
			opt.AddPath = []Family{IPv4Unicast, IPv6Unicast, IPv4VPN, L2VPNEVPN, IPv4FlowSpec, LinkState}
		}
		var m Message
		err := m.Decode(msg, opt)
		fuzzTwin(t, msg, opt)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			_ = e.Error()
		}
		if m.Header.Type != MsgUpdate || err != nil || m.Update.Action != ActionNone {
			return
		}
		for _, fam := range []Family{m.Update.Attrs.MPReach.Family, m.Update.Attrs.MPUnreach.Family} {
			for _, n := range append(m.Update.Attrs.MPReach.NLRI, m.Update.Attrs.MPUnreach.NLRI...) {
				_ = n.Text(fam)
			}
		}
		enc := m.Update.AppendWire(nil, opt)
		var m2 Message
		if err := m2.Decode(enc, opt); err != nil {
			t.Fatalf("re-encoded UPDATE does not decode: %v\nin  %x\nout %x", err, msg, enc)
		}
		if enc2 := m2.Update.AppendWire(nil, opt); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%x\n%x", enc, enc2)
		}
	})
}

// FuzzAttributes decodes bare attribute sections (MRT RIB entries).
func FuzzAttributes(f *testing.F) {
	f.Add(updateBasic[6:len(updateBasic)-4], false, uint8(0))
	fuzzSeeds(f, func(msg []byte) {
		if len(msg) > HeaderLen+4 && msg[18] == 2 {
			body := msg[HeaderLen:]
			wl := int(be16(body))
			if 2+wl+2 <= len(body) {
				al := int(be16(body[2+wl:]))
				if 4+wl+al <= len(body) {
					f.Add(body[4+wl:4+wl+al], true, uint8(0))
				}
			}
		}
	})
	f.Fuzz(func(t *testing.T, b []byte, asn4 bool, rib uint8) {
		opt := &DecodeOptions{ASN4: asn4}
		if rib&1 != 0 {
			opt.RIBFamily = IPv6Unicast
		}
		var u Update
		if err := u.DecodeAttributes(b, opt); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		u.Attrs.AppendWire(nil, opt)
	})
}

// FuzzNLRI decodes NLRI fields of every family and runs the typed
// decoders and the text form on each NLRI.
func FuzzNLRI(f *testing.F) {
	fams := []Family{IPv4Unicast, IPv6Unicast, IPv4Labeled, IPv6Labeled, IPv4VPN, IPv6VPN, IPv4FlowSpec,
		IPv6FlowSpec, IPv4FlowSpecVPN, L2VPNEVPN, L2VPNVPLS, LinkState, {AFIIPv4, SAFISRPolicy}, {AFIIPv4, SAFIMVPN}}
	f.Add([]byte{0x18, 198, 51, 100}, uint8(0), false)
	f.Add([]byte{0x05, 0x09, 0x01, 0x04, 0x81, 0x09}, uint8(6), false)
	fuzzSeeds(f, func(msg []byte) {
		// Seed with the NLRI of MP attributes.
		var u Update
		if len(msg) > HeaderLen && msg[18] == 2 && u.Decode(msg[HeaderLen:], &DecodeOptions{ASN4: true}) == nil {
			for i, fam := range fams {
				if fam == u.Attrs.MPReach.Family {
					var b []byte
					b = appendNLRIs(b, u.Attrs.MPReach.NLRI, fam, false)
					f.Add(b, uint8(i), false)
				}
			}
		}
	})
	f.Fuzz(func(t *testing.T, b []byte, fi uint8, addPath bool) {
		fam := fams[int(fi)%len(fams)]
		nl, e := decodeNLRIs(nil, newReader(b, 0), fam, addPath, "nlri")
		if e != nil {
			_ = e.Error()
		}
		for i := range nl {
			_ = nl[i].Text(fam)
			if fs, err := DecodeFlowSpec(nl[i].Raw, fam); err == nil && fam.SAFI == SAFIFlowSpec {
				enc := fs.AppendWire(nil, fam)
				fs2, err := DecodeFlowSpec(enc, fam)
				if err != nil || fs2.String() != fs.String() {
					t.Fatalf("flowspec %q re-encodes to %x: %v %q", fs.String(), enc, err, fs2.String())
				}
			}
		}
		if e == nil {
			enc := appendNLRIs(nil, nl, fam, addPath)
			nl2, e2 := decodeNLRIs(nil, newReader(enc, 0), fam, addPath, "nlri")
			if e2 != nil || len(nl2) != len(nl) {
				t.Fatalf("re-encoded NLRI %x do not decode: %v", enc, e2)
			}
		}
	})
}

// fuzzTwin decodes msg with the fast paths on and with each set of
// twinUpdateModes forced off, each time into a Message that decoded msg
// once already (the AS_PATH fast path and the fast reset run only on a
// reused value), and fails unless all give the same value and error.
func fuzzTwin(t *testing.T, msg []byte, opt *DecodeOptions) {
	var ref Message
	ref.Decode(msg, opt)
	want := ref.Decode(msg, opt)
	for _, p := range twinUpdateModes {
		var m Message
		var got error
		withSlowPaths(p, func() {
			m.Decode(msg, opt)
			got = m.Decode(msg, opt)
		})
		if d := diffValues(&ref.Update, &m.Update, want, got); d != "" {
			t.Fatalf("fast paths and general path (forced off: %v) differ: %s\nmessage %x", p, d, msg)
		}
	}
}
