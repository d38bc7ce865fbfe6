package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
)

// Config is a speaker's session.
type Config struct {
	// To is the listener's address, host:port.
	To string
	// ASN is the speaker's AS. Every announced AS path starts with it:
	// prepended unless the path already starts with it (a dump's peer AS
	// replayed as itself). For an iBGP session (the listener's AS the
	// same) paths are sent unchanged.
	ASN uint32
	// RouterID is the BGP identifier; unset: 198.18.X.Y from the ASN's
	// low 16 bits (the benchmarking range, RFC 2544), not an identifier
	// peers commonly use.
	RouterID netip.Addr
	// NextHop replaces the IPv4 routes' next hop; unset: the local address
	// of the session when it is IPv4 (next-hop-self), else unchanged.
	NextHop netip.Addr
	// LocalAddr, when set, is the session's source address (several
	// speakers on loopback: 127.0.0.X each).
	LocalAddr netip.Addr
	// HoldTime is the hold time offered (default 90 s).
	HoldTime time.Duration
	// Trickle, when set, announces one of the table's path groups again
	// every Trickle while the session is held (a trickle of updates, in
	// turn through the table).
	Trickle time.Duration
	// Exit ends the session after the End-of-RIB markers, with a Cease
	// (administrative shutdown); otherwise the session is held until ctx
	// ends.
	Exit bool
}

// Stats is what a session sent.
type Stats struct {
	Routes, Updates int
	Bytes           int64
	// Announced is how long the routes took, from the first UPDATE to the
	// End-of-RIB markers.
	Announced time.Duration
}

// maxMessage is the size of the UPDATEs (RFC 4271; no extended messages).
const maxMessage = 4096

// Run connects to cfg.To, establishes a session, announces t, sends
// End-of-RIB for IPv4 and IPv6 unicast and then holds the session (or
// ends it, cfg.Exit). It returns when ctx ends (nil error), the session
// ends, or after the announcement with cfg.Exit.
func Run(ctx context.Context, cfg Config, t *Table, log *slog.Logger) (Stats, error) {
	var st Stats
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.HoldTime == 0 {
		cfg.HoldTime = 90 * time.Second
	}
	if cfg.ASN == 0 {
		return st, errors.New("replay: ASN not set")
	}
	if !cfg.RouterID.IsValid() {
		cfg.RouterID = netip.AddrFrom4([4]byte{198, 18, byte(cfg.ASN >> 8), byte(cfg.ASN)})
	}
	var d net.Dialer
	if cfg.LocalAddr.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: cfg.LocalAddr.AsSlice()}
	}
	conn, err := d.DialContext(ctx, "tcp", cfg.To)
	if err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	local := conn.LocalAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	nextHop := cfg.NextHop
	if !nextHop.IsValid() && local.Is4() {
		nextHop = local
	}

	// OPEN, both ways, then KEEPALIVEs: Established.
	myAS := uint16(cfg.ASN)
	if cfg.ASN > 0xffff {
		myAS = bgpwire.ASTrans
	}
	open := &bgpwire.Open{Version: 4, MyAS: myAS, HoldTime: uint16(cfg.HoldTime / time.Second), RouterID: cfg.RouterID,
		Capabilities: []bgpwire.Capability{
			bgpwire.MultiprotocolCapability(bgpwire.IPv4Unicast),
			bgpwire.MultiprotocolCapability(bgpwire.IPv6Unicast),
			{Code: bgpwire.CapRouteRefresh},
			bgpwire.FourOctetASCapability(cfg.ASN),
		}}
	if _, err := conn.Write(open.AppendWire(nil)); err != nil {
		return st, fmt.Errorf("replay: send OPEN: %w", err)
	}
	buf := make([]byte, 65535)
	conn.SetReadDeadline(time.Now().Add(cfg.HoldTime))
	h, body, _, err := bgpwire.ReadMessage(conn, buf, maxMessage)
	if err != nil {
		return st, fmt.Errorf("replay: waiting for the OPEN of %s: %w", cfg.To, err)
	}
	if h.Type == bgpwire.MsgNotification {
		n, _ := bgpwire.DecodeNotification(body)
		return st, fmt.Errorf("replay: %s refused the session: NOTIFICATION %d/%d", cfg.To, n.Code, n.Subcode)
	}
	if h.Type != bgpwire.MsgOpen {
		return st, fmt.Errorf("replay: %s sent %v before its OPEN", cfg.To, h.Type)
	}
	theirs, err := bgpwire.DecodeOpen(body)
	if err != nil {
		return st, fmt.Errorf("replay: OPEN of %s: %w", cfg.To, err)
	}
	if _, ok := theirs.Capability(bgpwire.CapFourOctetAS); !ok {
		return st, fmt.Errorf("replay: %s does not speak 4-octet AS numbers (RFC 6793), which the replay needs", cfg.To)
	}
	ibgp := theirs.ASN() == cfg.ASN
	hold := min(cfg.HoldTime, time.Duration(theirs.HoldTime)*time.Second)
	if _, err := conn.Write(bgpwire.AppendKeepalive(nil)); err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	log.Info("session open", "to", cfg.To, "asn", theirs.ASN(), "hold", hold)

	// From here on the peer's messages are read (and dropped) by a
	// goroutine, so that neither side blocks on a full socket; its end
	// is the session's end.
	readErr := make(chan error, 1)
	go func() {
		for {
			if hold > 0 {
				conn.SetReadDeadline(time.Now().Add(hold))
			} else {
				conn.SetReadDeadline(time.Time{})
			}
			h, body, _, err := bgpwire.ReadMessage(conn, buf, maxMessage)
			if err != nil {
				readErr <- err
				return
			}
			if h.Type == bgpwire.MsgNotification {
				n, _ := bgpwire.DecodeNotification(body)
				readErr <- fmt.Errorf("NOTIFICATION %d/%d from %s", n.Code, n.Subcode, cfg.To)
				return
			}
		}
	}()

	// The routes, then End-of-RIB per family (RFC 4724).
	start := time.Now()
	w := &updateWriter{conn: conn, st: &st}
	for _, g := range t.Groups {
		if err := w.group(g, cfg.ASN, ibgp, nextHop); err != nil {
			return st, err
		}
	}
	var eor bgpwire.Update
	if err := w.send(eor.AppendWire(nil, asn4)); err != nil {
		return st, err
	}
	eor.Attrs.MPUnreach.Family = bgpwire.IPv6Unicast
	eor.Attrs.Set(bgpwire.AttrMPUnreach)
	if err := w.send(eor.AppendWire(nil, asn4)); err != nil {
		return st, err
	}
	if err := w.flush(); err != nil {
		return st, err
	}
	st.Announced = time.Since(start)
	log.Info("routes announced", "routes", st.Routes, "updates", st.Updates, "bytes", st.Bytes, "took", st.Announced.Round(time.Millisecond))
	if cfg.Exit {
		n := bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeAdminShutdown}
		_, err := conn.Write(n.AppendWire(nil))
		return st, err
	}

	// Held: a KEEPALIVE every third of the hold time.
	every := hold / 3
	if every <= 0 {
		every = 30 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var trickle <-chan time.Time
	if cfg.Trickle > 0 && len(t.Groups) > 0 {
		tt := time.NewTicker(cfg.Trickle)
		defer tt.Stop()
		trickle = tt.C
	}
	next := 0 // the group the trickle sends next
	for {
		select {
		case <-trickle:
			if err := w.group(t.Groups[next], cfg.ASN, ibgp, nextHop); err != nil {
				return st, err
			}
			if err := w.flush(); err != nil {
				return st, err
			}
			next = (next + 1) % len(t.Groups)
		case <-ctx.Done():
			n := bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeAdminShutdown}
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			conn.Write(n.AppendWire(nil))
			return st, nil
		case err := <-readErr:
			if ctx.Err() != nil {
				return st, nil
			}
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("%s closed the session", cfg.To)
			}
			return st, fmt.Errorf("replay: %w", err)
		case <-tick.C:
			if _, err := conn.Write(bgpwire.AppendKeepalive(nil)); err != nil {
				return st, fmt.Errorf("replay: %w", err)
			}
		}
	}
}

// asn4 are the options of the session: 4-octet ASNs, no ADD-PATH.
var asn4 = &bgpwire.DecodeOptions{ASN4: true}

// updateWriter packs routes into UPDATEs and writes them in large chunks.
type updateWriter struct {
	conn  net.Conn
	st    *Stats
	out   []byte
	u     bgpwire.Update
	attrs []byte
}

func (w *updateWriter) send(msg []byte) error {
	w.out = append(w.out, msg...)
	w.st.Bytes += int64(len(msg))
	if len(w.out) >= 64<<10 {
		return w.flush()
	}
	return nil
}

func (w *updateWriter) flush() error {
	if len(w.out) == 0 {
		return nil
	}
	_, err := w.conn.Write(w.out)
	w.out = w.out[:0]
	if err != nil {
		return fmt.Errorf("replay: send: %w", err)
	}
	return nil
}

// group sends the UPDATEs of one path group: its attributes made ready for
// the session (AS prepended, next hop), then as many prefixes per message
// as fit in 4,096 bytes.
func (w *updateWriter) group(g *Group, asn uint32, ibgp bool, nextHop netip.Addr) error {
	opt := &bgpwire.DecodeOptions{ASN4: true, RIBFamily: g.Family}
	if err := w.u.DecodeAttributes(g.Attrs, opt); err != nil {
		return fmt.Errorf("replay: attributes of %s: %w", g.Prefixes[0], err)
	}
	a := &w.u.Attrs
	if !ibgp {
		if p := a.ASPath; len(p) == 0 || p[0].Type != bgpwire.SegSequence || len(p[0].ASNs) == 0 || p[0].ASNs[0] != asn {
			path := slices.Clone(p)
			if len(path) > 0 && path[0].Type == bgpwire.SegSequence && len(path[0].ASNs) < 255 {
				path[0].ASNs = append([]uint32{asn}, path[0].ASNs...)
			} else {
				path = append(bgpwire.ASPath{{Type: bgpwire.SegSequence, ASNs: []uint32{asn}}}, path...)
			}
			a.ASPath = path
			a.Set(bgpwire.AttrASPath)
		}
		// LOCAL_PREF is not sent to external peers (RFC 4271 5.1.5).
		a.Clear(bgpwire.AttrLocalPref)
	} else if !a.Has(bgpwire.AttrLocalPref) {
		a.LocalPref = 100
		a.Set(bgpwire.AttrLocalPref)
	}
	if g.Family == bgpwire.IPv4Unicast {
		if nextHop.IsValid() {
			a.NextHop = nextHop
		}
		a.Set(bgpwire.AttrNextHop)
		a.Clear(bgpwire.AttrMPReach)
	} else {
		a.MPReach.Family = g.Family
		a.Clear(bgpwire.AttrNextHop)
	}
	// The attributes alone, to know how many prefixes fit.
	w.u.NLRI, a.MPReach.NLRI = nil, nil
	base := len(w.u.AppendWire(w.attrs[:0], asn4))
	room := maxMessage - base - 1 // an MP_REACH_NLRI may need a 2-byte length
	var batch []bgpwire.NLRI
	used := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if g.Family == bgpwire.IPv4Unicast {
			w.u.NLRI = batch
		} else {
			a.MPReach.NLRI = batch
		}
		w.attrs = w.u.AppendWire(w.attrs[:0], asn4)
		w.st.Updates++
		w.st.Routes += len(batch)
		batch, used = batch[:0], 0
		return w.send(w.attrs)
	}
	for _, p := range g.Prefixes {
		size := 1 + (p.Bits()+7)/8
		if used+size > room {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, bgpwire.NLRI{Prefix: p})
		used += size
	}
	return flush()
}
