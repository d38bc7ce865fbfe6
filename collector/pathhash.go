package collector

import (
	"encoding/binary"
	"hash/maphash"
	"slices"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// noLLGR is the bit of a path hash that says the path carries NO_LLGR.
const noLLGR = 1 << 31

// communityNoLLGR is the NO_LLGR well-known community, 65535:7 (RFC 9494).
var communityNoLLGR = schema.Community{0xffff, 7}

// discarded returns the offsets of the attributes of u that RFC 7606
// attribute discard dropped (nil when none: nearly always), for
// pathHashes.
func discarded(u *bgpwire.Update) []int {
	if u.Action != bgpwire.ActionAttributeDiscard {
		return nil
	}
	var out []int
	for _, e := range u.Errors {
		if e.Action == bgpwire.ActionAttributeDiscard {
			out = append(out, e.Offset)
		}
	}
	return out
}

// pathHashes fills hashes with the path hash of each of ev's
// announcements, from the UPDATE body they came from: a hash of the
// path attributes as sent (but MP_REACH_NLRI and MP_UNREACH_NLRI, which
// hold routes) and of the announcement's next hops, in the low 31 bits,
// and in the top bit (noLLGR) whether the routes carry the NO_LLGR
// community (RFC 9494), which long-lived graceful restart needs. Two
// announcements of a route with the same hash are the same path, and so
// a duplicate (with a 31-bit hash, a changed path passes for a duplicate
// once in 2 billion; one that gains or loses NO_LLGR never does).
// Labels (labeled and VPN families) are not part of it.
// skip lists the offsets (in the message, header included) of attributes
// that RFC 7606 attribute discard dropped (discarded): they are not part
// of the path the event records, and so not of its hash.
func pathHashes(seed maphash.Seed, body []byte, ev *schema.Event, hashes []uint32, skip []int) []uint32 {
	hashes = hashes[:0]
	if len(ev.Announcements) == 0 {
		return hashes
	}
	attrs := attributeBytes(body)
	var off int // of attrs[0] in the message
	if len(skip) > 0 {
		off = bgpwire.HeaderLen + 4 + int(binary.BigEndian.Uint16(body))
	}
	var h maphash.Hash
	h.SetSeed(seed)
	for len(attrs) >= 3 {
		flags, code := attrs[0], attrs[1]
		n, hdr := int(attrs[2]), 3
		if flags&0x10 != 0 { // extended length
			if len(attrs) < 4 {
				break
			}
			n, hdr = int(binary.BigEndian.Uint16(attrs[2:])), 4
		}
		end := min(hdr+n, len(attrs))
		if code != 14 && code != 15 && (len(skip) == 0 || !slices.Contains(skip, off)) {
			h.Write(attrs[:end])
		}
		attrs = attrs[end:]
		off += end
	}
	sum := h.Sum64()
	var flag uint32
	if slices.Contains(ev.Community, communityNoLLGR) {
		flag = noLLGR
	}
	for i := range ev.Announcements {
		a := &ev.Announcements[i]
		var b [40]byte
		binary.BigEndian.PutUint64(b[:], sum)
		nh, ll := a.NextHop.As16(), a.NextHopLinkLocal.As16()
		copy(b[8:], nh[:])
		copy(b[24:], ll[:])
		x := maphash.Bytes(seed, b[:])
		hashes = append(hashes, uint32(x^x>>32)&^noLLGR|flag)
	}
	return hashes
}

// attributeBytes returns the path attributes field of an UPDATE body
// (empty when the lengths do not fit; bgpwire has checked them).
func attributeBytes(body []byte) []byte {
	if len(body) < 2 {
		return nil
	}
	w := int(binary.BigEndian.Uint16(body))
	if len(body) < 2+w+2 {
		return nil
	}
	n := int(binary.BigEndian.Uint16(body[2+w:]))
	rest := body[2+w+2:]
	return rest[:min(n, len(rest))]
}
