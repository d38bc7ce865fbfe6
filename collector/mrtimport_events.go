package collector

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// MRTConverter turns MRT records into normalized events: BGP messages of
// BGP4MP, BGP4MP_ET and type-5 BGP records as the events of those
// messages (UPDATE through FillUpdate), state changes as RIS_PEER_STATE,
// and each RIB entry (TABLE_DUMP, TABLE_DUMP_V2, BGP4MP_ENTRY) as an
// UPDATE event that announces the route, stamped with the dump time.
//
// Host is set on every event. IDs are "mrt:<source>:<record>[:<entry>]",
// unique and stable for a given file, which is what makes a re-import
// recognizable.
type MRTConverter struct {
	Host   string
	Source string // a name for the file, used in IDs

	upd      bgpwire.Update
	rib      bgpwire.RIB
	td       bgpwire.TableDump
	mp       bgpwire.BGP4MP
	peers    bgpwire.PeerIndexTable
	hasPeers bool
	one      [1]bgpwire.NLRI

	// sec and ord order the messages of one second (see stamp).
	sec uint32
	ord uint64
}

// stamp returns a record's time. MRT files without microseconds (BGP4MP,
// the type-5 BGP records) hold many messages per second; each gets the
// next microsecond after the second's previous message, in file order,
// so that a peer's events stay ordered when stored and the times are the
// same every time the file is imported. RIB records keep the dump time.
func (c *MRTConverter) stamp(h bgpwire.MRTHeader) float64 {
	us := uint64(h.Timestamp)*1_000_000 + uint64(h.Microseconds)
	if h.Microseconds == 0 && (h.Type == bgpwire.MRTBGP4MP || h.Type == bgpwire.MRTBGP) {
		if h.Timestamp == c.sec {
			c.ord = min(c.ord+1, 999_999)
		} else {
			c.sec, c.ord = h.Timestamp, 0
		}
		us += c.ord
	}
	return float64(us) / 1e6
}

// Convert calls emit for each event of a record. The event is valid only
// during the call. A PEER_INDEX_TABLE carries no event and emits nothing.
func (c *MRTConverter) Convert(rec bgpwire.MRTRecord, emit func(*schema.Event) error) error {
	h := rec.Header
	ts := c.stamp(h)
	switch h.Type {
	case bgpwire.MRTTableDump2:
		if h.Subtype == bgpwire.TD2PeerIndexTable {
			if err := c.peers.Decode(rec.Body); err != nil {
				return err
			}
			c.hasPeers = true
			return nil
		}
		if !bgpwire.IsRIBSubtype(h.Subtype) {
			return fmt.Errorf("%s subtype %d: %w", h.Type, h.Subtype, bgpwire.ErrMRTUnsupported)
		}
		if err := c.rib.Decode(h.Subtype, rec.Body); err != nil {
			return err
		}
		opts := c.rib.DecodeOptions()
		for i := range c.rib.Entries {
			e := &c.rib.Entries[i]
			var peer bgpwire.MRTPeer
			if c.hasPeers && int(e.PeerIndex) < len(c.peers.Peers) {
				peer = c.peers.Peers[e.PeerIndex]
			} else {
				return fmt.Errorf("RIB entry %d: peer index %d not in the PEER_INDEX_TABLE", i, e.PeerIndex)
			}
			n := c.rib.NLRI
			n.PathID = e.PathID
			ev := schema.Event{Timestamp: ts, Peer: peer.Addr, PeerASN: peer.ASN, Host: c.Host, ID: c.id(rec.Index, i)}
			if err := c.ribEvent(&ev, e.Attrs, opts, c.rib.Family, n); err != nil {
				return err
			}
			if err := emit(&ev); err != nil {
				return err
			}
		}
		return nil
	case bgpwire.MRTTableDump:
		if err := c.td.Decode(h.Subtype, rec.Body); err != nil && len(c.td.Entries) == 0 {
			return err
		}
		opts := c.td.DecodeOptions()
		for i := range c.td.Entries {
			e := &c.td.Entries[i]
			ev := schema.Event{Timestamp: ts, Peer: e.PeerAddr, PeerASN: e.PeerASN, Host: c.Host, ID: c.id(rec.Index, i)}
			f := bgpwire.IPv4Unicast
			if e.Prefix.Addr().Is6() {
				f = bgpwire.IPv6Unicast
			}
			if err := c.ribEvent(&ev, e.Attrs, opts, f, bgpwire.NLRI{Prefix: e.Prefix}); err != nil {
				return err
			}
			if err := emit(&ev); err != nil {
				return err
			}
		}
		return nil
	case bgpwire.MRTBGP4MP, bgpwire.MRTBGP4MPET, bgpwire.MRTBGP:
		m := &c.mp
		if err := m.Decode(h, rec.Body); err != nil {
			return err
		}
		ev := schema.Event{Timestamp: ts, Peer: m.PeerAddr, PeerASN: m.PeerASN, Host: c.Host, ID: c.id(rec.Index, -1)}
		switch {
		case m.IsStateChange:
			ev.Type = schema.TypePeerState
			ev.State = schema.StateDown
			if m.NewState == 6 { // Established
				ev.State = schema.StateConnected
			}
		case m.IsEntry:
			e := &m.Entry
			if err := c.ribEvent(&ev, e.Attrs, &bgpwire.DecodeOptions{ASN4: m.AS4, RIBFamily: e.Family}, e.Family, e.NLRI); err != nil {
				return err
			}
		case m.IsMessage:
			if m.Raw != nil {
				ev.Raw = hex.EncodeToString(m.Raw)
			}
			// The same builders as the live sessions' (FillUpdate,
			// FillOpen, ...): an archived message becomes the event a
			// live one would.
			switch m.MsgType {
			case bgpwire.MsgUpdate:
				if err := c.upd.Decode(m.MsgBody, m.DecodeOptions()); err != nil && len(c.upd.NLRI) == 0 && len(c.upd.Withdrawn) == 0 {
					return err
				}
				FillUpdate(&ev, &c.upd)
			case bgpwire.MsgKeepalive:
				ev.Type = schema.TypeKeepalive
			case bgpwire.MsgRouteRefresh:
				rr, err := bgpwire.DecodeRouteRefresh(m.MsgBody)
				if err != nil {
					return err
				}
				FillRouteRefresh(&ev, &rr)
			case bgpwire.MsgNotification:
				n, err := bgpwire.DecodeNotification(m.MsgBody)
				if err != nil {
					return err
				}
				FillNotification(&ev, &n, m.Local)
			case bgpwire.MsgOpen:
				o, err := bgpwire.DecodeOpen(m.MsgBody)
				if err != nil {
					return err
				}
				FillOpen(&ev, o, m.Local)
			default:
				return fmt.Errorf("BGP message type %d: %w", m.MsgType, bgpwire.ErrMRTUnsupported)
			}
		default:
			return nil
		}
		return emit(&ev)
	}
	return fmt.Errorf("%s: %w", h.Type, bgpwire.ErrMRTUnsupported)
}

func (c *MRTConverter) id(rec, entry int) string {
	b := make([]byte, 0, 32+len(c.Source))
	b = append(b, "mrt:"...)
	b = append(b, c.Source...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(rec), 10)
	if entry >= 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(entry), 10)
	}
	return string(b)
}

// ribEvent fills an UPDATE event announcing one RIB route.
func (c *MRTConverter) ribEvent(ev *schema.Event, attrs []byte, opts *bgpwire.DecodeOptions, f bgpwire.Family, n bgpwire.NLRI) error {
	ev.Type = schema.TypeUpdate
	u := &c.upd
	if err := u.DecodeAttributes(attrs, opts); err != nil {
		return err
	}
	a := &u.Attrs
	fillAttributes(ev, a)
	var nh, ll netip.Addr
	if a.Has(bgpwire.AttrMPReach) && a.MPReach.NextHop.IsValid() {
		nh, ll = a.MPReach.NextHop, a.MPReach.LinkLocal
	} else if a.Has(bgpwire.AttrNextHop) {
		nh = a.NextHop
	}
	c.one[0] = n
	ann := schema.Announcement{NextHop: nh, NextHopLinkLocal: ll}
	ann.NLRISet = nlriSet(family(f), c.one[:])
	ev.Announcements = append(ev.Announcements, ann)
	return nil
}

// MRTEvents writes the events of MRT records as JSON lines.
type MRTEvents struct {
	MRTConverter
	w *bufio.Writer
}

// NewMRTEvents returns a writer of JSON lines to w. Call Flush at the end.
func NewMRTEvents(w io.Writer) *MRTEvents {
	return &MRTEvents{w: bufio.NewWriterSize(w, 256<<10)}
}

// Record writes the events of one record.
func (j *MRTEvents) Record(rec bgpwire.MRTRecord) error {
	return j.Convert(rec, func(ev *schema.Event) error {
		// Written in the buffer's free space when it fits.
		b := append(ev.AppendJSON(j.w.AvailableBuffer()), '\n')
		_, err := j.w.Write(b)
		return err
	})
}

// Flush writes buffered output.
func (j *MRTEvents) Flush() error { return j.w.Flush() }
