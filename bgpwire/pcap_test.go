package bgpwire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vantage-bgp/vantage/internal/shareddata"
)

// tcpSegment is one TCP payload of a capture.
type tcpSegment struct {
	seq  uint32
	data []byte
}

// readPcap returns the TCP payloads to or from port 179 of a pcap or
// pcapng file, per direction ("src>dst" key), in capture order.
func readPcap(b []byte) (map[string][]tcpSegment, error) {
	var frames [][]byte
	var links []uint32
	switch {
	case len(b) >= 24 && (binary.LittleEndian.Uint32(b) == 0xa1b2c3d4 || binary.LittleEndian.Uint32(b) == 0xa1b23c4d):
		link := binary.LittleEndian.Uint32(b[20:])
		for p := b[24:]; len(p) >= 16; {
			n := int(binary.LittleEndian.Uint32(p[8:]))
			if n > len(p)-16 {
				break
			}
			frames, links = append(frames, p[16:16+n]), append(links, link)
			p = p[16+n:]
		}
	case len(b) >= 24 && binary.BigEndian.Uint32(b) == 0xa1b2c3d4:
		link := binary.BigEndian.Uint32(b[20:])
		for p := b[24:]; len(p) >= 16; {
			n := int(binary.BigEndian.Uint32(p[8:]))
			if n > len(p)-16 {
				break
			}
			frames, links = append(frames, p[16:16+n]), append(links, link)
			p = p[16+n:]
		}
	case len(b) >= 12 && binary.LittleEndian.Uint32(b) == 0x0a0d0d0a:
		var ifLinks []uint32
		for p := b; len(p) >= 12; {
			typ, n := binary.LittleEndian.Uint32(p), int(binary.LittleEndian.Uint32(p[4:]))
			if n < 12 || n > len(p) {
				break
			}
			blk := p[8 : n-4]
			switch typ {
			case 1: // interface description
				ifLinks = append(ifLinks, uint32(binary.LittleEndian.Uint16(blk)))
			case 6: // enhanced packet
				if len(blk) >= 20 {
					id, capLen := binary.LittleEndian.Uint32(blk), int(binary.LittleEndian.Uint32(blk[12:]))
					if int(id) < len(ifLinks) && capLen <= len(blk)-20 {
						frames, links = append(frames, blk[20:20+capLen]), append(links, ifLinks[id])
					}
				}
			}
			p = p[n:]
		}
	default:
		return nil, errors.New("not a pcap or pcapng file")
	}
	out := map[string][]tcpSegment{}
	for i, f := range frames {
		var ip []byte
		switch links[i] {
		case 1: // Ethernet, with VLAN tags
			if len(f) < 14 {
				continue
			}
			et, p := binary.BigEndian.Uint16(f[12:]), f[14:]
			for et == 0x8100 && len(p) >= 4 {
				et, p = binary.BigEndian.Uint16(p[2:]), p[4:]
			}
			if et != 0x0800 && et != 0x86dd {
				continue
			}
			ip = p
		case 101, 12, 14: // raw IP
			ip = f
		case 113: // Linux cooked
			if len(f) < 16 {
				continue
			}
			ip = f[16:]
		case 0: // BSD loopback
			if len(f) < 4 {
				continue
			}
			ip = f[4:]
		default:
			continue
		}
		var tcp []byte
		var src, dst string
		switch {
		case len(ip) >= 20 && ip[0]>>4 == 4 && ip[9] == 6:
			hl, tl := int(ip[0]&15)*4, int(binary.BigEndian.Uint16(ip[2:]))
			if tl > len(ip) || hl > tl {
				tl = len(ip)
			}
			if hl > tl {
				continue
			}
			tcp, src, dst = ip[hl:tl], fmt.Sprintf("%x", ip[12:16]), fmt.Sprintf("%x", ip[16:20])
		case len(ip) >= 40 && ip[0]>>4 == 6 && ip[6] == 6:
			pl := int(binary.BigEndian.Uint16(ip[4:]))
			tcp, src, dst = ip[40:min(len(ip), 40+pl)], fmt.Sprintf("%x", ip[8:24]), fmt.Sprintf("%x", ip[24:40])
		default:
			continue
		}
		if len(tcp) < 20 {
			continue
		}
		sp, dp := binary.BigEndian.Uint16(tcp), binary.BigEndian.Uint16(tcp[2:])
		off := int(tcp[12]>>4) * 4
		if (sp != 179 && dp != 179) || off > len(tcp) || off == len(tcp) {
			continue
		}
		key := fmt.Sprintf("%s:%d>%s:%d", src, sp, dst, dp)
		out[key] = append(out[key], tcpSegment{seq: binary.BigEndian.Uint32(tcp[4:]), data: tcp[off:]})
	}
	return out, nil
}

// reassemble orders a direction's segments by sequence number (relative
// to the first, so wrap-around is handled), drops retransmitted bytes and
// concatenates; a gap (lost segment) is left as a gap.
func reassemble(segs []tcpSegment) []byte {
	base := segs[0].seq
	slices.SortStableFunc(segs, func(a, b tcpSegment) int { return int(int32(a.seq-base)) - int(int32(b.seq-base)) })
	var out []byte
	next := int64(0)
	for _, s := range segs {
		rel := int64(int32(s.seq - base))
		end := rel + int64(len(s.data))
		if end <= next {
			continue
		}
		if rel < next {
			s.data = s.data[next-rel:]
		}
		out = append(out, s.data...)
		next = end
	}
	return out
}

// TestPcapMessages decodes every BGP message of the shared packet
// captures (tcpdump's BGP tests and bgp-rs's session captures): each
// decodes or gets a classified *Error; nothing panics.
func TestPcapMessages(t *testing.T) {
	dir := shareddata.Path(t, "bgp-pcap")
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (filepath.Ext(p) == ".pcap" || filepath.Ext(p) == ".pcapng" || filepath.Ext(p) == ".cap") {
			files = append(files, p)
		}
		return nil
	})
	var decoded, classified, resync int
	for _, f := range files {
		name, _ := filepath.Rel(dir, f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dirs, err := readPcap(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// Session context from the OPENs seen in either direction.
		streams := map[string][]byte{}
		opens := map[string]*Open{}
		for key, segs := range dirs {
			streams[key] = reassemble(segs)
			for s := streams[key]; ; {
				i := bytes.Index(s, marker16)
				if i < 0 || len(s) < i+HeaderLen {
					break
				}
				msg, rest, err := SplitMessage(s[i:], MaxExtMessageLen)
				if err != nil {
					s = s[i+1:]
					continue
				}
				if msg[18] == byte(MsgOpen) {
					var o Open
					if o.Decode(msg[HeaderLen:]) == nil {
						opens[key] = &o
					}
				}
				s = rest
			}
		}
		for key, s := range streams {
			opt := &DecodeOptions{ASN4: true, ExtendedMessage: true}
			if o, ok := opens[key]; ok {
				_, a4 := o.Capability(CapFourOctetAS)
				opt.ASN4 = a4
				if c, ok := o.Capability(CapAddPath); ok {
					for _, ap := range c.AddPath {
						if ap.Mode&AddPathSend != 0 {
							opt.AddPath = append(opt.AddPath, ap.Family)
						}
					}
				}
			}
			var m Message
			for len(s) > 0 {
				i := bytes.Index(s, marker16)
				if i < 0 {
					break
				}
				if i > 0 {
					resync++
				}
				s = s[i:]
				msg, rest, err := SplitMessage(s, opt.MaxLen())
				if err != nil {
					var e *Error
					if !errors.As(err, &e) {
						t.Errorf("%s %s: unclassified error %v", name, key, err)
					}
					classified++
					s = s[1:]
					continue
				}
				s = rest
				err = func() (err error) {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("%s %s: panic on %x: %v", name, key, msg, r)
						}
					}()
					return m.Decode(msg, opt)
				}()
				if err != nil {
					var e *Error
					if !errors.As(err, &e) {
						t.Errorf("%s %s: unclassified error %v", name, key, err)
					}
					classified++
					t.Logf("%s %s: %s: %v", name, key, m.Header.Type, err)
					continue
				}
				if m.Header.Type == MsgUpdate && m.Update.Action != ActionNone {
					// Without an OPEN in the capture the ASN width is a
					// guess: try the other one.
					alt := *opt
					alt.ASN4 = !opt.ASN4
					var m2 Message
					if _, seen := opens[key]; !seen && m2.Decode(msg, &alt) == nil && m2.Update.Action == ActionNone {
						decoded++
						continue
					}
					classified++
					t.Logf("%s %s: UPDATE: %v", name, key, m.Update.Errors)
					continue
				}
				decoded++
			}
		}
	}
	t.Logf("%d files: %d messages decoded, %d classified as malformed, %d resyncs on the marker", len(files), decoded, classified, resync)
	if decoded == 0 {
		t.Fatal("no BGP message found in the captures")
	}
}
