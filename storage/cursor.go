package storage

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"

	"github.com/vantage-bgp/vantage/schema"
)

// RouteKey is where a route sorts in the answer of Routes: its prefix,
// host, peer, family, RD, NLRI and path ID. A paged query passes the key
// of the last route it got as RoutesQuery.After to continue after it.
type RouteKey struct {
	Prefix netip.Prefix
	Host   string
	Peer   netip.Addr
	Family schema.Family
	RD     string
	NLRI   string
	PathID uint32
}

// Key returns the sort key of r.
func (r Route) Key() RouteKey {
	return RouteKey{Prefix: r.Prefix, Host: r.Host, Peer: r.Peer, Family: r.Family, RD: r.RD, NLRI: r.NLRI, PathID: r.PathID}
}

// cursorJSON is the encoded form of a RouteKey.
type cursorJSON struct {
	Prefix netip.Prefix  `json:"p"`
	Host   string        `json:"h"`
	Peer   netip.Addr    `json:"a"`
	Family schema.Family `json:"f"`
	RD     string        `json:"rd"`
	NLRI   string        `json:"n"`
	PathID uint32        `json:"i"`
}

// Cursor encodes k as an opaque string safe in a URL query; ParseCursor
// reads it back.
func (k RouteKey) Cursor() string {
	b, _ := json.Marshal(cursorJSON(k)) // no value of these types fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor is returned by ParseCursor for a string that Cursor did not
// make.
var ErrBadCursor = errors.New("not a cursor from a previous answer")

// ParseCursor reads a RouteKey encoded by Cursor.
func ParseCursor(s string) (RouteKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return RouteKey{}, ErrBadCursor
	}
	var c cursorJSON
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil || d.More() || !c.Prefix.IsValid() || c.Prefix != c.Prefix.Masked() {
		return RouteKey{}, ErrBadCursor
	}
	return RouteKey(c), nil
}

// afterCondition is the SQL condition, with its bound arguments, that keeps
// the groups sorting after k in Routes' ORDER BY.
func afterCondition(k RouteKey) (string, []any) {
	p := schema.AddrTo16(k.Prefix.Addr())
	peer := schema.AddrTo16(k.Peer)
	return "(prefix, prefix_len, host, peer, afi, safi, rd, nlri, path_id) > " +
			"(toFixedString(unhex(?), 16), toUInt8(?), ?, toFixedString(unhex(?), 16), toUInt16(?), toUInt8(?), ?, ?, toUInt32(?))",
		[]any{hex.EncodeToString(p[:]), k.Prefix.Bits(), k.Host, hex.EncodeToString(peer[:]), uint16(k.Family.AFI), uint8(k.Family.SAFI), k.RD, k.NLRI, k.PathID}
}
