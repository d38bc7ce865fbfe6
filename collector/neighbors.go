package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"syscall"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// setKeys makes the listener's TCP MD5 keys those of rules: keys of old
// that rules lacks are removed, the others set. s.mu is held.
func (s *Server) setKeys(old, rules []PeerRule) error {
	if s.ln == nil {
		return nil
	}
	v6 := isV6(s.ln.Addr())
	keys := map[netip.Prefix]string{}
	for _, r := range rules {
		if r.Password != "" && !r.Disabled {
			if _, dup := keys[r.Prefix]; !dup {
				keys[r.Prefix] = r.Password
			}
		}
	}
	var errs []error
	for _, r := range old {
		if _, kept := keys[r.Prefix]; r.Password != "" && !kept {
			errs = append(errs, rawControl(s.ln, func(fd uintptr) error { return setMD5(fd, v6, r.Prefix, "") }))
		}
	}
	for p, key := range keys {
		errs = append(errs, rawControl(s.ln, func(fd uintptr) error { return setMD5(fd, v6, p, key) }))
	}
	if err := errors.Join(errs...); err != nil {
		return errors.Join(errors.New("collector.peers: TCP MD5 on the listening socket"), err)
	}
	return nil
}

// A dialer connects to an active neighbor whenever it has no session,
// retrying with exponential backoff (1s doubling to 2m; back to 1s after
// a session that was established).
type dialer struct {
	rule PeerRule
	stop context.CancelFunc
	done chan struct{}
}

const (
	dialBackoffMin = time.Second
	dialBackoffMax = 2 * time.Minute
)

// startDialers starts a dialer for each active, enabled single-address
// rule that has none. s.mu is held.
func (s *Server) startDialers(ctx context.Context, rules []PeerRule) {
	for _, r := range rules {
		if !r.Active || r.Disabled || !r.Prefix.IsSingleIP() {
			continue
		}
		peer := r.Prefix.Addr()
		if s.dialers[peer] != nil {
			continue
		}
		dctx, stop := context.WithCancel(ctx)
		d := &dialer{rule: r, stop: stop, done: make(chan struct{})}
		s.dialers[peer] = d
		s.wg.Go(func() {
			defer close(d.done)
			s.dial(dctx, peer, r)
		})
	}
}

func (s *Server) dial(ctx context.Context, peer netip.Addr, r PeerRule) {
	port := r.Port
	if port == 0 {
		port = 179
	}
	target := net.JoinHostPort(peer.String(), strconv.Itoa(port))
	log := s.log.With("peer", peer.String(), "description", r.Description)
	backoff := dialBackoffMin
	for ctx.Err() == nil {
		s.mu.Lock()
		busy := s.sessions[peer]
		s.mu.Unlock()
		if busy == nil {
			d := net.Dialer{Timeout: 10 * time.Second, ControlContext: func(_ context.Context, network, _ string, c syscall.RawConn) error {
				v6 := network == "tcp6"
				var err error
				c.Control(func(fd uintptr) {
					if r.Password != "" {
						err = setMD5(fd, v6, netip.PrefixFrom(peer, peer.BitLen()), r.Password)
					}
					if err == nil && r.TTLSecurity > 0 {
						if err = setTTL(fd, v6); err == nil {
							err = setMinTTL(fd, v6, r.TTLSecurity)
						}
					}
				})
				return err
			}}
			d.SetMultipathTCP(false) // MD5 needs plain TCP
			conn, err := d.DialContext(ctx, "tcp", target)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.stats.DialFailures.Add(1)
				log.Info("cannot connect to the neighbor; retrying", "addr", target, "err", err, "in", backoff)
			} else if sess := s.accept(ctx, conn, true); sess != nil {
				select {
				case <-sess.finished:
				case <-ctx.Done():
					return
				}
				if !sess.upSince.IsZero() {
					backoff = dialBackoffMin
				}
			}
		} else {
			select {
			case <-busy.finished:
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, dialBackoffMax)
	}
}

// sameNeighbor says whether a session under rule a may go on under b:
// they differ in nothing but the description.
func sameNeighbor(a, b PeerRule) bool {
	a.Description, b.Description = "", ""
	return reflect.DeepEqual(a, b)
}

// Reload applies a changed list of neighbors without touching the
// sessions whose neighbor is unchanged: a session whose neighbor is gone
// or disabled ends with a Cease NOTIFICATION 6/3 (peer de-configured),
// one whose neighbor changed (in more than its description) with 6/6
// (other configuration change) and may connect again under the new
// settings; a gone or disabled neighbor that is restarting gracefully is
// down at once; MD5 keys and active neighbors follow. It returns what it could not apply (MD5 keys), the rest applied.
func (s *Server) Reload(rules []PeerRule) error {
	c := s.cfg
	c.Peers = rules
	if err := c.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	old := s.rules
	s.rules = rules
	clear(s.prefixHold) // a reload lets every neighbor try again
	err := s.setKeys(old, rules)
	type reset struct {
		ss   *session
		note bgpwire.Notification
		why  string
	}
	var resets []reset
	for peer, ss := range s.sessions {
		r, ok := matchRule(rules, peer)
		switch {
		case !ok || r.Disabled:
			resets = append(resets, reset{ss, bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodePeerDeconfigured}, "neighbor removed or disabled"})
		case !sameNeighbor(r, ss.rule):
			resets = append(resets, reset{ss, bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeOtherConfigChange}, "neighbor changed"})
		}
	}
	// A restarting peer whose neighbor is gone or disabled will not be
	// let back: its stale routes go now.
	var gone []*restart
	for peer, r := range s.restarts {
		if rule, ok := matchRule(rules, peer); !ok || rule.Disabled {
			gone = append(gone, r)
		}
	}
	for peer, d := range s.dialers {
		if r, ok := matchRule(rules, peer); !ok || !sameNeighbor(r, d.rule) {
			d.stop()
			delete(s.dialers, peer)
		}
	}
	if s.serveCtx != nil {
		s.startDialers(s.serveCtx, rules)
	}
	s.mu.Unlock()
	for _, r := range resets {
		r.ss.log.Info("configuration reloaded: closing the session", "why", r.why)
		r.ss.notify(r.note)
		r.ss.stop()
	}
	for _, r := range gone {
		s.endRestart(r, "graceful restart: the neighbor was removed or disabled", false)
	}
	s.log.Info("neighbors reloaded", "rules", len(rules), "sessions_closed", len(resets), "restarts_ended", len(gone))
	return err
}

// checkMaxPrefix ends the session when the peer has more routes than its
// neighbor's max_prefix after the UPDATE of ev: a Cease 6/1 with the
// family and the limit (RFC 4486), and the peer is refused for
// max_prefix_restart (PrefixLimitHit).
func (ss *session) checkMaxPrefix(ev *schema.Event) error {
	limit := ss.rule.MaxPrefix
	if limit <= 0 || len(ev.Announcements) == 0 {
		return nil
	}
	total := 0
	for i := range ss.rib.fams {
		total += ss.rib.fams[i].n
	}
	if total <= limit {
		return nil
	}
	f := ev.Announcements[0].Family
	data := []byte{byte(f.AFI >> 8), byte(f.AFI), f.SAFI, byte(limit >> 24), byte(limit >> 16), byte(limit >> 8), byte(limit)}
	ss.notify(bgpwire.Notification{Code: bgpwire.CodeCease, Subcode: bgpwire.SubcodeMaxPrefixes, Data: data})
	ss.srv.PrefixLimitHit(ss.peer, ss.rule)
	return fmt.Errorf("max_prefix: %d routes, more than the neighbor's limit of %d", total, limit)
}

// PrefixLimitHit records that peer's session ended for exceeding its
// neighbor's max_prefix (the session sends the Cease 6/1): the peer's
// connections are then refused for MaxPrefixRestart, or until a reload
// when that is 0.
func (s *Server) PrefixLimitHit(peer netip.Addr, rule PeerRule) {
	until := time.Time{} // zero: until a reload
	if rule.MaxPrefixRestart > 0 {
		until = time.Now().Add(rule.MaxPrefixRestart)
	}
	s.mu.Lock()
	s.prefixHold[peer] = until
	s.mu.Unlock()
	s.log.Warn("neighbor over its max_prefix: refused until", "peer", peer.String(), "max_prefix", rule.MaxPrefix,
		"until", until, "restart", rule.MaxPrefixRestart)
}

// prefixHeld says whether peer is refused for its max_prefix. s.mu is
// held.
func (s *Server) prefixHeld(peer netip.Addr) bool {
	until, ok := s.prefixHold[peer]
	if !ok {
		return false
	}
	if !until.IsZero() && time.Now().After(until) {
		delete(s.prefixHold, peer)
		return false
	}
	return true
}
