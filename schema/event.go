// Package schema owns the normalized Event that every input (live BGP sessions,
// MRT archives) is turned into, its JSON form, the ClickHouse DDL (embedded
// from *.sql) and the JSON Schema of the event.
//
// The JSON field names follow RIS Live's ris_message.data wherever RIS Live
// has the field, so that consumers written for RIS Live read Vantage events
// unchanged; every further attribute is carried under its own name.
//
// schema imports no other package of this module.
package schema

import (
	"net/netip"
)

// Type is the kind of an event.
type Type uint8

// Event types. The JSON names are RIS Live's.
const (
	TypeUnknown Type = iota
	TypeUpdate
	TypeOpen
	TypeNotification
	TypeKeepalive
	TypeRouteRefresh
	TypePeerState
)

var typeNames = [...]string{
	TypeUnknown:      "UNKNOWN",
	TypeUpdate:       "UPDATE",
	TypeOpen:         "OPEN",
	TypeNotification: "NOTIFICATION",
	TypeKeepalive:    "KEEPALIVE",
	TypeRouteRefresh: "ROUTE_REFRESH",
	TypePeerState:    "RIS_PEER_STATE",
}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "UNKNOWN"
}

// MarshalText writes the RIS Live name of the type.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads a RIS Live type name.
func (t *Type) UnmarshalText(b []byte) error {
	for i, n := range typeNames {
		if n == string(b) {
			*t = Type(i)
			return nil
		}
	}
	return &FieldError{Field: "type", Value: string(b), Reason: "unknown event type"}
}

// Event is one BGP message (or one peer state change) as seen by a
// collector, normalized. Pointer and omitzero fields are absent from the
// wire message when the attribute was absent.
type Event struct {
	// Timestamp is Unix time in seconds with microsecond precision.
	Timestamp float64    `json:"timestamp"`
	Peer      netip.Addr `json:"peer"`
	// PeerASN is written as a string, as RIS Live does.
	PeerASN uint32 `json:"peer_asn,string"`
	// ID is unique per collector and sortable within a session.
	ID string `json:"id"`
	// Host is the name of the collector that saw the message.
	Host string `json:"host"`
	Type Type   `json:"type"`
	// Seq numbers the events of one peer without gaps, across sessions.
	Seq uint64 `json:"seq"`

	// Path attributes (UPDATE only).
	Path            ASPath           `json:"path,omitempty"`
	Community       []Community      `json:"community,omitempty"`
	Origin          Origin           `json:"origin,omitzero"`
	MED             *uint32          `json:"med,omitempty"`
	LocalPref       *uint32          `json:"local_pref,omitempty"`
	Aggregator      *Aggregator      `json:"aggregator,omitempty"`
	AtomicAggregate bool             `json:"atomic_aggregate,omitempty"`
	LargeCommunity  []LargeCommunity `json:"large_community,omitempty"`
	ExtCommunity    []ExtCommunity   `json:"ext_community,omitempty"`
	OriginatorID    netip.Addr       `json:"originator_id,omitzero"`
	ClusterList     []netip.Addr     `json:"cluster_list,omitempty"`
	OTC             *uint32          `json:"otc,omitempty"`
	AIGP            *uint64          `json:"aigp,omitempty"`
	// OtherAttrs holds attributes that have no field of their own, raw.
	OtherAttrs []RawAttribute `json:"other_attributes,omitempty"`

	Announcements []Announcement `json:"announcements,omitempty"`
	// Withdrawals lists every withdrawn IP prefix, as RIS Live does.
	Withdrawals []netip.Prefix `json:"withdrawals,omitempty"`
	// Withdrawn carries the same withdrawals with their family and
	// ADD-PATH identifiers, and withdrawals that are not IP prefixes.
	Withdrawn []NLRISet `json:"withdrawn,omitempty"`
	// EndOfRIB names the family whose End-of-RIB marker this UPDATE is.
	EndOfRIB Family `json:"end_of_rib,omitzero"`
	// Routes holds, on the events of a live session, the number of routes
	// the peer has in each family after this event: on an UPDATE, those
	// of the families it announced or withdrew in (or whose End-of-RIB
	// marker it is); on a KEEPALIVE, every family of the session; on a
	// RIS_PEER_STATE "down", every family of the session with 0. Absent
	// on other events, on "down" events recorded for a session lost in a
	// crash ("collector restart"), and on imported events.
	Routes RouteCounts `json:"routes,omitempty"`
	// Duplicates and ImplicitWithdrawals count, on the UPDATEs of a live
	// session, the announced routes the peer had announced already: with
	// the same path attributes and next hop (a duplicate), or with others
	// (the new path implicitly withdraws the old one, RFC 4271 3.1). The
	// UPDATE's other announced routes are new. Absent when 0.
	Duplicates          uint32 `json:"duplicates,omitempty"`
	ImplicitWithdrawals uint32 `json:"implicit_withdrawals,omitempty"`

	// State is set on RIS_PEER_STATE events: "connected", "down" or
	// "restarting" (graceful restart: the routes are kept, stale).
	State PeerState `json:"state,omitzero"`
	// Reason says why a session went down ("hold timer expired",
	// "collector restart", the NOTIFICATION's text, ...), on
	// RIS_PEER_STATE "down" and "restarting" events; on the UPDATEs the
	// collector makes up to withdraw a restarting peer's stale routes
	// (graceful restart), why they were withdrawn; on the UPDATE of a
	// malformed message that RFC 7606 let through (treat-as-withdraw:
	// its routes are the withdrawals; attribute discard: the attribute
	// is absent), "RFC 7606 <action>: " and the errors, each naming the
	// attribute, the byte offset and the NOTIFICATION code it would have
	// had. Stored on peer events only (the routes tables have no column
	// for it).
	Reason string `json:"reason,omitempty"`
	// Notification is set on NOTIFICATION events (and on RIS_PEER_STATE
	// "down" events caused by one).
	Notification *Notification `json:"notification,omitempty"`
	// Open is set on OPEN events.
	Open *Open `json:"open,omitempty"`
	// LocalAddress is the collector's address of the session's TCP
	// connection, on a live session's OPEN and RIS_PEER_STATE events
	// (absent on others and on imported events).
	LocalAddress netip.Addr `json:"local_address,omitzero"`
	// RouteRefresh is set on ROUTE_REFRESH events.
	RouteRefresh *RouteRefresh `json:"route_refresh,omitempty"`

	// Raw is the whole BGP message, hex-encoded, when raw output is on.
	Raw string `json:"raw,omitempty"`
	// Imported marks an event read from an MRT archive (`collector mrt
	// import -publish`), so that live consumers can tell history from now.
	Imported bool `json:"imported,omitempty"`
}

// RouteCount is the number of routes the event announces and withdraws:
// the rows it makes in the store's route table (0 for events that are not
// UPDATEs, and for UPDATEs such as an End-of-RIB that carry no route).
func (e *Event) RouteCount() int {
	if e.Type != TypeUpdate {
		return 0
	}
	n := 0
	for _, a := range e.Announcements {
		n += len(a.Prefixes) + len(a.NLRI)
	}
	if len(e.Withdrawn) == 0 {
		return n + len(e.Withdrawals)
	}
	for _, w := range e.Withdrawn {
		n += len(w.Prefixes) + len(w.NLRI)
	}
	return n
}

// Announcement is a set of reachable routes that share a next hop and a
// family.
type Announcement struct {
	// NextHop is absent for families without one (FlowSpec).
	NextHop netip.Addr `json:"next_hop,omitzero"`
	// NextHopLinkLocal is the IPv6 link-local next hop, when sent.
	NextHopLinkLocal netip.Addr `json:"next_hop_link_local,omitzero"`
	NLRISet
}

// NLRISet is a group of routes of one family. Prefixes holds IP prefixes;
// PathIDs, Labels and RDs, when present, are index-aligned with Prefixes.
// NLRI holds routes of families that are not IP prefixes (FlowSpec, EVPN,
// VPLS, BGP-LS) in their canonical text form.
type NLRISet struct {
	Family   Family         `json:"family"`
	Prefixes []netip.Prefix `json:"prefixes"`
	PathIDs  []uint32       `json:"path_ids,omitempty"`
	Labels   [][]uint32     `json:"labels,omitempty"`
	RDs      []string       `json:"rds,omitempty"`
	NLRI     []string       `json:"nlri,omitempty"`
}

// Aggregator is the AGGREGATOR attribute (AS4_AGGREGATOR merged in).
type Aggregator struct {
	ASN     uint32     `json:"asn"`
	Address netip.Addr `json:"address"`
}

// Notification is a BGP NOTIFICATION message.
type Notification struct {
	Code    uint8  `json:"code"`
	Subcode uint8  `json:"subcode"`
	Reason  string `json:"reason,omitempty"`
	// Data is the data field, hex-encoded.
	Data string `json:"data,omitempty"`
	// Sent is true when the collector sent it, false when the peer did.
	Sent bool `json:"sent"`
}

// Open is the content of an OPEN message.
type Open struct {
	Version      uint8      `json:"version"`
	ASN          uint32     `json:"asn"`
	HoldTime     uint16     `json:"hold_time"`
	RouterID     netip.Addr `json:"router_id"`
	Capabilities []string   `json:"capabilities,omitempty"`
	// Sent is true when the collector sent it, false when the peer did.
	Sent bool `json:"sent"`
}

// RouteRefresh is a ROUTE-REFRESH message (RFC 2918, RFC 7313).
type RouteRefresh struct {
	Family Family `json:"family"`
	// Subtype is "refresh", "borr" (beginning of route refresh) or "eorr"
	// (end of route refresh).
	Subtype string `json:"subtype"`
}

// RawAttribute is a path attribute kept as it was on the wire.
type RawAttribute struct {
	Flags uint8  `json:"flags"`
	Code  uint8  `json:"code"`
	Value string `json:"value"` // hex
}

// PeerState is the state reported in a RIS_PEER_STATE event.
type PeerState uint8

// Peer states, with RIS Live's names.
const (
	StateUnknown PeerState = iota
	StateConnected
	StateDown
	// StateRestarting: the peer's session ended and the peer restarts
	// gracefully (RFC 4724): its routes are kept, stale, until it
	// announces them again, its End-of-RIB flushes the rest, or its
	// restart time runs out ("down" then). Vantage's own state; RIS Live
	// has none.
	StateRestarting
)

func (s PeerState) String() string {
	switch s {
	case StateConnected:
		return "connected"
	case StateDown:
		return "down"
	case StateRestarting:
		return "restarting"
	}
	return ""
}

// IsZero reports whether no state is set (for omitzero).
func (s PeerState) IsZero() bool { return s == StateUnknown }

// MarshalText writes the RIS Live name of the state.
func (s PeerState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a RIS Live state name.
func (s *PeerState) UnmarshalText(b []byte) error {
	switch string(b) {
	case "connected":
		*s = StateConnected
	case "down":
		*s = StateDown
	case "restarting":
		*s = StateRestarting
	case "":
		*s = StateUnknown
	default:
		return &FieldError{Field: "state", Value: string(b), Reason: "unknown peer state"}
	}
	return nil
}
