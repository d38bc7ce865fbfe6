package collector

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// session is one BGP session with a peer, from TCP accept to close.
type session struct {
	srv  *Server
	conn net.Conn
	peer netip.Addr
	rule PeerRule
	log  *slog.Logger
	// active: the collector opened the connection.
	active bool
	// established is set once the OPEN exchange is complete.
	established atomic.Bool
	// peerGR is the peer's graceful restart capability (nil: none, or
	// the collector's is off); grNotify: both sent the N bit (RFC 8538).
	peerGR   *bgpwire.GracefulRestart
	grNotify atomic.Bool
	// peerLLGR are the long-lived stale times of the negotiated families
	// the peer listed in its long-lived graceful restart capability (RFC
	// 9494), llgrForwarding those with the F bit.
	peerLLGR       map[schema.Family]time.Duration
	llgrForwarding map[schema.Family]bool
	// restarted: the peer opened a new session with graceful restart
	// while this one was up.
	restarted atomic.Bool
	// stale holds the routes of the peer's previous session, kept by
	// graceful restart, until the End-of-RIB or staleUntil.
	stale      *restart
	staleUntil time.Time
	// enhancedRR: both sides sent the enhanced route refresh capability.
	enhancedRR bool
	// hashes holds the path hashes of an UPDATE's announcements.
	hashes []uint32

	wmu      sync.Mutex // serializes writes to conn; guards sentNote
	stopped  chan struct{}
	finished chan struct{} // closed when run returns
	once     sync.Once

	peerASN  uint32
	hold     time.Duration
	families []bgpwire.Family // negotiated: offered by both sides
	// theirFamilies are the families the peer offered, for the log.
	theirFamilies []bgpwire.Family
	opts          bgpwire.DecodeOptions
	maxLen        int
	upSince       time.Time
	sentNote      *bgpwire.Notification // NOTIFICATION we sent, for the down event
	sentAt        time.Time             // when sentNote was sent
	recvNote      *bgpwire.Notification // NOTIFICATION the peer sent
	reader        *bufio.Reader
	// rib holds the routes the peer has announced; only run's goroutine
	// uses it. Its counts go on the session's UPDATE, KEEPALIVE and down
	// events.
	rib adjRIBIn
}

func newSession(s *Server, conn net.Conn, peer netip.Addr, rule PeerRule, active bool) *session {
	return &session{
		srv:      s,
		conn:     conn,
		peer:     peer,
		rule:     rule,
		active:   active,
		log:      s.log.With("peer", peer.String()),
		stopped:  make(chan struct{}),
		finished: make(chan struct{}),
		maxLen:   bgpwire.MaxMessageLen,
	}
}

// stop closes the connection; run notices and ends. Idempotent.
func (ss *session) stop() {
	ss.once.Do(func() {
		close(ss.stopped)
		ss.conn.SetReadDeadline(time.Now())
	})
}

// isFinished says whether run has returned.
func (ss *session) isFinished() bool {
	select {
	case <-ss.finished:
		return true
	default:
		return false
	}
}

// isStopped says whether stop was called.
func (ss *session) isStopped() bool {
	select {
	case <-ss.stopped:
		return true
	default:
		return false
	}
}

// errClosedByPeer ends a session whose peer sent a NOTIFICATION or closed
// the connection.
var errClosedByPeer = errors.New("closed by peer")

// errSessionStopped ends a session the collector stopped (shutdown, or the
// peer connected again).
var errSessionStopped = errors.New("session stopped")

// run drives the session.
func (ss *session) run(ctx context.Context) {
	defer close(ss.finished)
	defer ss.conn.Close()
	stopOnCancel := context.AfterFunc(ctx, func() {
		ss.notify(bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeAdminShutdown})
		ss.stop()
	})
	defer stopOnCancel()

	ss.srv.stats.Connections.Add(1)
	err := ss.establish()
	ss.srv.stats.Connections.Add(-1)
	if err != nil {
		ss.log.Warn("session not established", "err", err)
		if ss.stale != nil {
			ss.srv.holdRestart(ss.stale) // for the next try, until the same time
			ss.stale = nil
		}
		// A connection the collector refused (wrong AS, bad OPEN, no
		// OPEN in time): its NOTIFICATION and a down state with the
		// reason, so that the refusal shows in the stream and in the
		// peers; no down state when the peer has another session (a
		// collision), which this one says nothing of.
		if n, at := ss.sentNotification(); n != nil {
			ss.emitNotification(*n, true, at)
			if !ss.srv.hasOther(ss) {
				ss.emitState(schema.StateDown, notificationOf(n, true), "rejected: "+err.Error())
			}
		}
		return
	}
	ss.srv.stats.Established.Add(1)
	defer ss.srv.stats.Established.Add(-1)
	ss.log = ss.log.With("peer_asn", ss.peerASN)
	ss.log.Info("session established", "hold_time", ss.hold, "asn4", ss.opts.ASN4,
		"extended_message", ss.opts.ExtendedMessage, "add_path", fmt.Sprint(ss.opts.AddPath),
		"families", familyList(ss.families))
	reason := ""
	if len(ss.families) == 0 {
		reason = "no common address family"
		ss.log.Warn("session up with no address family in common: the peer can send no routes",
			"peer_families", familyList(ss.theirFamilies))
	}
	ss.emitState(schema.StateConnected, nil, reason)
	// RFC 4724: End-of-RIB for every negotiated family; the collector
	// announces nothing, so its initial update is complete at once.
	var eor []byte
	for _, f := range ss.families {
		eor = appendEndOfRIB(eor, f)
	}
	if len(eor) > 0 {
		if err := ss.write(eor); err != nil {
			ss.log.Warn("sending End-of-RIB failed", "err", err)
		}
	}
	ss.startStale()

	var wg sync.WaitGroup
	kaDone := make(chan struct{})
	wg.Go(func() { ss.keepalives(kaDone) })
	err = ss.receive()
	close(kaDone)
	wg.Wait()

	var note *schema.Notification
	if n, at := ss.sentNotification(); n != nil {
		ss.emitNotification(*n, true, at)
		note = notificationOf(n, true)
	}
	if ss.recvNote != nil {
		note = notificationOf(ss.recvNote, false)
	}
	ss.log.Info("session down", "err", err, "up", time.Since(ss.upSince).Round(time.Second))
	if kept := ss.keptFamilies(err); len(kept) > 0 {
		ss.restartGracefully(err, note, kept)
		return
	}
	if ss.stale != nil {
		ss.rib.merge(&ss.stale.stale) // down: the stale routes go too
		ss.stale = nil
	}
	ss.emitState(schema.StateDown, note, downReason(err))
}

// establish exchanges OPEN and KEEPALIVE messages. A peer that sends no
// OPEN within the OpenTimeout, or no KEEPALIVE after it within the hold
// time, gets a NOTIFICATION 4/0 (hold timer expired).
func (ss *session) establish() error {
	wait := ss.srv.cfg.OpenTimeout
	ss.conn.SetDeadline(time.Now().Add(wait))
	defer ss.conn.SetDeadline(time.Time{})

	mine := ss.openMessage()
	mineRaw := mine.AppendWire(nil)
	if err := ss.write(mineRaw); err != nil {
		return fmt.Errorf("send OPEN: %w", err)
	}
	r := bufio.NewReader(ss.conn)
	h, body, theirsRaw, err := bgpwire.ReadMessage(r, nil, bgpwire.MaxMessageLen)
	if err != nil {
		if ss.timedOut(err) {
			return fmt.Errorf("no OPEN within %s (open timer)", wait)
		}
		return ss.fail("read OPEN", err)
	}
	switch h.Type {
	case bgpwire.MsgOpen:
	case bgpwire.MsgNotification:
		n, _ := bgpwire.DecodeNotification(body)
		ss.emitNotification(n, false, time.Now())
		return fmt.Errorf("peer sent NOTIFICATION %s instead of OPEN: %w", n, errClosedByPeer)
	default:
		return ss.fail("OPEN", fmt.Errorf("expected OPEN, got %s", h.Type))
	}
	theirs, err := bgpwire.DecodeOpen(body)
	if err != nil {
		return ss.fail("OPEN", err)
	}
	now := time.Now()
	ss.peerASN = theirs.ASN()
	// In the order of the wire: the collector sent its OPEN first. Both
	// are events even when the collector refuses the peer's.
	ss.emitOpen(mine, mineRaw, true, now)
	ss.emitOpen(theirs, theirsRaw, false, now)
	if ss.rule.ASN != 0 && ss.peerASN != ss.rule.ASN {
		n := bgpwire.Notification{Code: bgpwire.CodeOpenMessage, Subcode: bgpwire.SubcodeBadPeerAS}
		ss.notify(n)
		return fmt.Errorf("peer AS %d, configured %d", ss.peerASN, ss.rule.ASN)
	}
	if !theirs.RouterID.IsValid() || theirs.RouterID.IsUnspecified() {
		n := bgpwire.Notification{Code: bgpwire.CodeOpenMessage, Subcode: bgpwire.SubcodeBadBGPIdentifier}
		ss.notify(n)
		return fmt.Errorf("bad BGP identifier %s", theirs.RouterID)
	}
	ss.negotiate(mine, theirs)
	prev, err := ss.srv.claim(ss, theirs)
	if err != nil {
		ss.notify(bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeCollisionResolution})
		return err
	}
	if prev != nil {
		<-prev.finished
	}
	ss.stale = ss.srv.takeRestart(ss.peer)

	if err := ss.write(bgpwire.AppendKeepalive(nil)); err != nil {
		return fmt.Errorf("send KEEPALIVE: %w", err)
	}
	if ss.hold > 0 {
		wait = ss.hold
		ss.conn.SetDeadline(time.Now().Add(wait))
	}
	h, body, _, err = bgpwire.ReadMessage(r, nil, ss.maxLen)
	if err != nil {
		if ss.timedOut(err) {
			return fmt.Errorf("no KEEPALIVE within %s after the OPEN", wait)
		}
		return ss.fail("read KEEPALIVE", err)
	}
	switch h.Type {
	case bgpwire.MsgKeepalive:
	case bgpwire.MsgNotification:
		n, _ := bgpwire.DecodeNotification(body)
		ss.emitNotification(n, false, time.Now())
		return fmt.Errorf("peer sent NOTIFICATION %s instead of KEEPALIVE: %w", n, errClosedByPeer)
	default:
		ss.notify(bgpwire.Notification{Code: bgpwire.CodeFSM})
		return fmt.Errorf("expected KEEPALIVE, got %s", h.Type)
	}
	ss.reader = r
	ss.upSince = time.Now()
	ss.established.Store(true)
	return nil
}

// timedOut says whether err is the OPEN exchange's timer running out (and
// not stop's deadline); if so it sends the NOTIFICATION 4/0.
func (ss *session) timedOut(err error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) || ss.isStopped() {
		return false
	}
	ss.notify(bgpwire.Notification{Code: bgpwire.CodeHoldTimerExpired})
	return true
}

// openMessage is the OPEN the collector sends.
func (ss *session) openMessage() *bgpwire.Open {
	cfg := &ss.srv.cfg
	myAS := uint16(cfg.ASN)
	if cfg.ASN > 0xffff {
		myAS = bgpwire.ASTrans
	}
	o := &bgpwire.Open{
		Version:  4,
		MyAS:     myAS,
		HoldTime: uint16(ss.holdTime() / time.Second),
		RouterID: cfg.RouterID,
		Capabilities: []bgpwire.Capability{
			{Code: bgpwire.CapRouteRefresh},
			// RFC 7313: the peer may mark a re-advertisement of a family
			// with BoRR and EoRR.
			bgpwire.EmptyCapability(bgpwire.CapEnhancedRouteRefresh),
			bgpwire.FourOctetASCapability(cfg.ASN),
			// RFC 8654: UPDATEs up to 65,535 bytes.
			bgpwire.EmptyCapability(bgpwire.CapExtendedMessage),
			// RFC 8950: IPv4 routes with IPv6 next hops.
			bgpwire.ExtendedNextHopCapability(bgpwire.NextHopFamily{AFI: bgpwire.AFIIPv4, SAFI: uint16(bgpwire.SAFIUnicast), NextHopAFI: bgpwire.AFIIPv6}),
		},
	}
	var addPath []bgpwire.AddPathFamily
	fams := ss.offered()
	for _, f := range fams {
		o.Capabilities = append(o.Capabilities, bgpwire.MultiprotocolCapability(f))
		if cfg.AddPath && !ss.rule.NoAddPath && bgpwire.IsPrefixFamily(f) {
			addPath = append(addPath, bgpwire.AddPathFamily{Family: f, Mode: bgpwire.AddPathReceive})
		}
	}
	if len(addPath) > 0 {
		o.Capabilities = append(o.Capabilities, bgpwire.AddPathCapability(addPath...))
	}
	if cfg.GracefulRestart {
		o.Capabilities = append(o.Capabilities, grCapability(fams))
		if c, ok := llgrCapability(fams); ok {
			o.Capabilities = append(o.Capabilities, c)
		}
	}
	return o
}

// offered are the families the collector offers the peer: its
// neighbor's, or every one it decodes.
func (ss *session) offered() []bgpwire.Family {
	if len(ss.rule.Families) > 0 {
		return ss.rule.Families
	}
	return Families
}

// holdTime is the hold time the collector proposes: the neighbor's, or
// the collector's.
func (ss *session) holdTime() time.Duration {
	if ss.rule.HoldTime > 0 {
		return ss.rule.HoldTime
	}
	return ss.srv.cfg.HoldTime
}

// negotiate derives the session parameters from both OPENs.
func (ss *session) negotiate(mine, theirs *bgpwire.Open) {
	ss.hold = time.Duration(min(mine.HoldTime, theirs.HoldTime)) * time.Second
	_, mine4 := mine.Capability(bgpwire.CapFourOctetAS)
	_, their4 := theirs.Capability(bgpwire.CapFourOctetAS)
	ss.opts.ASN4 = mine4 && their4
	_, myExt := mine.Capability(bgpwire.CapExtendedMessage)
	_, theirExt := theirs.Capability(bgpwire.CapExtendedMessage)
	ss.opts.ExtendedMessage = myExt && theirExt
	ss.maxLen = ss.opts.MaxLen()
	ss.opts.External = theirs.ASN() != ss.srv.cfg.ASN
	ss.families = commonFamilies(mine, theirs)
	_, myERR := mine.Capability(bgpwire.CapEnhancedRouteRefresh)
	_, theirERR := theirs.Capability(bgpwire.CapEnhancedRouteRefresh)
	ss.enhancedRR = myERR && theirERR
	if _, ok := mine.Capability(bgpwire.CapGracefulRestart); ok {
		if c, ok := theirs.Capability(bgpwire.CapGracefulRestart); ok {
			gr := c.GracefulRestart
			ss.peerGR = &gr
			ss.grNotify.Store(gr.Flags&grFlagNotification != 0)
			ss.negotiateLLGR(mine, theirs)
		}
	}
	ss.theirFamilies = theirs.Families()
	// ADD-PATH for a family when we receive and they send (RFC 7911).
	var receive []bgpwire.Family
	if c, ok := mine.Capability(bgpwire.CapAddPath); ok {
		for _, f := range c.AddPath {
			if f.Mode&bgpwire.AddPathReceive != 0 {
				receive = append(receive, f.Family)
			}
		}
	}
	if c, ok := theirs.Capability(bgpwire.CapAddPath); ok {
		for _, f := range c.AddPath {
			if f.Mode&bgpwire.AddPathSend != 0 && slices.Contains(receive, f.Family) && slices.Contains(ss.families, f.Family) {
				ss.opts.AddPath = append(ss.opts.AddPath, f.Family)
			}
		}
	}
}

// keepalives sends a KEEPALIVE every third of the hold time.
func (ss *session) keepalives(done <-chan struct{}) {
	if ss.hold == 0 {
		return
	}
	t := time.NewTicker(ss.hold / 3)
	defer t.Stop()
	msg := bgpwire.AppendKeepalive(nil)
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if err := ss.write(msg); err != nil {
				ss.stop()
				return
			}
		}
	}
}

// receive reads messages until the session ends.
func (ss *session) receive() error {
	var upd bgpwire.Update
	buf := make([]byte, bgpwire.MaxMessageLen)
	for {
		if ss.hold > 0 {
			ss.conn.SetReadDeadline(time.Now().Add(ss.hold))
		}
		h, body, nb, err := bgpwire.ReadMessage(ss.reader, buf, ss.maxLen)
		buf = nb
		if err != nil {
			select {
			case <-ss.stopped:
				return errSessionStopped
			default:
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				ss.notify(bgpwire.Notification{Code: bgpwire.CodeHoldTimerExpired})
				return fmt.Errorf("hold timer expired after %s", ss.hold)
			}
			if errors.Is(err, io.EOF) {
				return errClosedByPeer
			}
			return ss.fail("read", err)
		}
		now := time.Now()
		ss.srv.stats.Messages.Add(1)
		msg := nb[:h.Len]
		switch h.Type {
		case bgpwire.MsgUpdate:
			if err := ss.handleUpdate(&upd, body, msg, now); err != nil {
				return err
			}
		case bgpwire.MsgKeepalive:
			// Every family's count: a periodic refresh for consumers
			// that joined late or missed an UPDATE.
			ev := ss.event(schema.TypeKeepalive, msg)
			ev.Routes = ss.withStale(ss.rib.counts())
			ss.srv.emit(&ev, now)
		case bgpwire.MsgNotification:
			n, _ := bgpwire.DecodeNotification(body)
			ss.emitNotification(n, false, now)
			return fmt.Errorf("peer sent NOTIFICATION %s: %w", n, errClosedByPeer)
		case bgpwire.MsgRouteRefresh:
			// A passive collector has nothing to send again; the request
			// is only recorded.
			rr, err := bgpwire.DecodeRouteRefresh(body)
			if err != nil {
				return ss.fail("ROUTE-REFRESH", err)
			}
			ev := ss.event(schema.TypeRouteRefresh, msg)
			FillRouteRefresh(&ev, &rr)
			ss.srv.emit(&ev, now)
			ss.enhancedRefresh(&rr)
		case bgpwire.MsgOpen:
			ss.notify(bgpwire.Notification{Code: bgpwire.CodeFSM})
			return errors.New("OPEN received on an established session")
		}
		ss.staleTimeout(now)
	}
}

// handleUpdate decodes one UPDATE and emits its event, applying the
// RFC 7606 action bgpwire classified.
func (ss *session) handleUpdate(u *bgpwire.Update, body, msg []byte, now time.Time) error {
	if err := u.Decode(body, &ss.opts); err != nil {
		return ss.fail("UPDATE", err)
	}
	switch u.Action {
	case bgpwire.ActionAFISAFIDisable:
		// RFC 7606 allows a session reset in place of disabling the
		// family; the collector does not disable single families.
		for _, e := range u.Errors {
			if e.Action == bgpwire.ActionAFISAFIDisable {
				return ss.fail("UPDATE", e)
			}
		}
	case bgpwire.ActionTreatAsWithdraw, bgpwire.ActionAttributeDiscard:
		for _, e := range u.Errors {
			ss.log.Warn("malformed UPDATE", "action", e.Action.String(), "err", e)
		}
	}
	ev := ss.event(schema.TypeUpdate, msg)
	FillUpdate(&ev, u)
	ss.hashes = pathHashes(ss.srv.pathSeed, body, &ev, ss.hashes, discarded(u))
	ss.rib.apply(&ev, ss.hashes)
	ss.staleUpdate(&ev)
	ss.srv.emit(&ev, now)
	if !ev.EndOfRIB.IsZero() {
		ss.staleEndOfRIB(ev.EndOfRIB)
	}
	return ss.checkMaxPrefix(&ev)
}

// fail handles a decoding error: when it calls for a NOTIFICATION, send
// it. It returns the error to end the session with.
func (ss *session) fail(what string, err error) error {
	var e *bgpwire.Error
	if errors.As(err, &e) && e.Code != 0 {
		ss.notify(bgpwire.Notification{Code: e.Code, Subcode: e.Subcode, Data: e.Data})
		ss.log.Warn("malformed message from peer; NOTIFICATION sent", "msg", what, "code", e.Code, "subcode", e.Subcode, "err", err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w", what, errClosedByPeer)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// notify sends a NOTIFICATION (best effort) and remembers it.
func (ss *session) notify(n bgpwire.Notification) {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	if ss.sentNote != nil {
		return
	}
	n = ss.hardReset(n)
	ss.sentNote = &n
	ss.sentAt = time.Now()
	ss.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	ss.conn.Write(n.AppendWire(nil))
}

// sentNotification returns the NOTIFICATION the collector sent, if any,
// and when. Its event is emitted by run's goroutine, when the session
// ends: notify may run on another (the shutdown's).
func (ss *session) sentNotification() (*bgpwire.Notification, time.Time) {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	return ss.sentNote, ss.sentAt
}

func (ss *session) write(b []byte) error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	_, err := ss.conn.Write(b)
	return err
}

// event starts an event of this session.
func (ss *session) event(t schema.Type, msg []byte) schema.Event {
	ev := schema.Event{Type: t, Peer: ss.peer, PeerASN: ss.peerASN}
	if ss.srv.cfg.IncludeRaw && msg != nil {
		ev.Raw = hex.EncodeToString(msg)
	}
	return ev
}

// emitState emits a RIS_PEER_STATE event. A down event carries a count
// of 0 for every family the session had, and empties its Adj-RIB-In:
// the routes of a session that is down are not current.
func (ss *session) emitState(st schema.PeerState, n *schema.Notification, reason string) {
	ev := ss.event(schema.TypePeerState, nil)
	ev.LocalAddress = ss.localAddress()
	ev.State = st
	ev.Notification = n
	ev.Reason = reason
	if st == schema.StateDown {
		ev.Routes = ss.rib.down()
	}
	ss.srv.emit(&ev, time.Now())
}

func (ss *session) emitNotification(n bgpwire.Notification, sent bool, at time.Time) {
	if !sent {
		ss.recvNote = &n
	}
	ev := ss.event(schema.TypeNotification, nil)
	FillNotification(&ev, &n, sent)
	ss.srv.emit(&ev, at)
}

// emitOpen emits an OPEN event; msg is the whole message as sent or
// received (its raw bytes when IncludeRaw is set: what an MRT export of the
// session needs to know of it).
func (ss *session) emitOpen(o *bgpwire.Open, msg []byte, sent bool, at time.Time) {
	ev := ss.event(schema.TypeOpen, msg)
	FillOpen(&ev, o, sent)
	ev.LocalAddress = ss.localAddress()
	ss.srv.emit(&ev, at)
}

// localAddress is the collector's address of the session's connection
// (invalid when it has none).
func (ss *session) localAddress() netip.Addr {
	if ss.conn == nil {
		return netip.Addr{}
	}
	if a, ok := ss.conn.LocalAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap().WithZone("")
	}
	return netip.Addr{}
}

// downReason is the reason of a down event: what ended the session.
func downReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errSessionStopped):
		return "collector stopped"
	}
	return err.Error()
}
