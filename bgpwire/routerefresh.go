package bgpwire

import "fmt"

// RouteRefreshSubtype is the message subtype of a ROUTE-REFRESH message
// (RFC 7313; the reserved octet of RFC 2918).
type RouteRefreshSubtype uint8

// ROUTE-REFRESH subtypes.
const (
	RouteRefreshNormal RouteRefreshSubtype = 0
	RouteRefreshBoRR   RouteRefreshSubtype = 1 // beginning of route refresh
	RouteRefreshEoRR   RouteRefreshSubtype = 2 // end of route refresh
)

func (s RouteRefreshSubtype) String() string {
	switch s {
	case RouteRefreshNormal:
		return "refresh"
	case RouteRefreshBoRR:
		return "BoRR"
	case RouteRefreshEoRR:
		return "EoRR"
	}
	return fmt.Sprintf("subtype-%d", uint8(s))
}

// RouteRefresh is a ROUTE-REFRESH message (RFC 2918, RFC 7313). ORF
// entries (RFC 5291) of a normal refresh are kept raw in ORF.
type RouteRefresh struct {
	Family  Family
	Subtype RouteRefreshSubtype
	ORF     []byte
}

// DecodeRouteRefresh decodes a ROUTE-REFRESH body. ORF is copied.
func DecodeRouteRefresh(body []byte) (RouteRefresh, error) {
	var rr RouteRefresh
	err := rr.decode(body)
	return rr, err
}

func (rr *RouteRefresh) decode(body []byte) error {
	const op = "route-refresh"
	if len(body) < 4 {
		return newError(op, HeaderLen+len(body), CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	rr.Family = Family{AFI(be16(body)), SAFI(body[3])}
	rr.Subtype = RouteRefreshSubtype(body[2])
	rr.ORF = append(rr.ORF[:0], body[4:]...)
	if len(body) == 4 {
		rr.ORF = nil
	}
	if (rr.Subtype == RouteRefreshBoRR || rr.Subtype == RouteRefreshEoRR) && len(body) != 4 {
		// RFC 7313 section 5.
		e := errorf(op+" "+rr.Subtype.String(), HeaderLen+4, CodeRouteRefreshError, 1, ActionSessionReset, "length %d, want 4", len(body))
		e.Data = append([]byte(nil), body...)
		return e
	}
	return nil
}

// AppendWire appends the whole ROUTE-REFRESH message.
func (rr RouteRefresh) AppendWire(dst []byte) []byte {
	dst = AppendHeader(dst, MsgRouteRefresh, 4+len(rr.ORF))
	dst = appendU16(dst, uint16(rr.Family.AFI))
	dst = append(dst, byte(rr.Subtype), byte(rr.Family.SAFI))
	return append(dst, rr.ORF...)
}
