package collector

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/schema"
)

// PeerRule admits peers: any address in Prefix, with AS ASN (0: any AS).
// The other fields are those of config.PeerConfig.
type PeerRule struct {
	Prefix      netip.Prefix
	ASN         uint32
	Description string
	// Password is the TCP MD5 key (RFC 2385); "" for none.
	Password string
	// TTLSecurity is the most hops away the peer may be (GTSM); 0: off.
	TTLSecurity int
	// Active: the collector also connects to the peer, at Port (0: 179).
	Active           bool
	Port             int
	HoldTime         time.Duration
	MaxPrefix        int
	MaxPrefixRestart time.Duration
	// MaxSessions bounds the sessions of a range at once; 0: no limit.
	MaxSessions int
	Disabled    bool
	// Families are the families offered to the neighbor (nil: every one
	// of Families); NoAddPath asks it for no ADD-PATH.
	Families  []bgpwire.Family
	NoAddPath bool
}

// Config is the collector's configuration.
type Config struct {
	// Host is the collector's name, carried in every event.
	Host string
	// Listen is the TCP address for BGP sessions.
	Listen string
	// ASN and RouterID are the collector's own. New sets a RouterID
	// left unset to DefaultRouterID(Listen).
	ASN      uint32
	RouterID netip.Addr
	// HoldTime is the hold time proposed in OPEN (the lower of both
	// speakers' values is used).
	HoldTime time.Duration
	// Peers lists who may connect. The first rule matching the address
	// applies.
	Peers []PeerRule
	// AddPath asks peers to send every path (ADD-PATH receive) for IPv4
	// and IPv6 unicast.
	AddPath bool
	// IncludeRaw puts each message's bytes, hex-encoded, in its event.
	IncludeRaw bool
	// ShutdownTimeout bounds how long Serve, once its context ends, waits
	// for the sinks to take the last events (default 5s).
	ShutdownTimeout time.Duration
	// OpenTimeout bounds how long a new connection may go without an
	// OPEN (RFC 4271's large OpenSent hold timer; default 4m): then it
	// gets a NOTIFICATION 4/0 (hold timer expired) and is closed.
	OpenTimeout time.Duration
	// GracefulRestart makes the collector a graceful restart helper
	// (RFC 4724, RFC 8538): see gracefulrestart.go.
	GracefulRestart bool
	// StaleTime bounds how long a restarting peer's stale routes wait
	// for its End-of-RIB once its new session is up (default 6m).
	StaleTime time.Duration
}

// DefaultStaleTime is Config.StaleTime's default (FRR's stalepath-time).
const DefaultStaleTime = 6 * time.Minute

// DefaultOpenTimeout is Config.OpenTimeout's default: the hold time
// RFC 4271 8.2.2 suggests for OpenSent.
const DefaultOpenTimeout = 4 * time.Minute

// DefaultConfig is the configuration of a collector tried out with no
// config file: loopback only, any peer in 127.0.0.0/8 with any AS.
func DefaultConfig() Config {
	return Config{
		Host:            "vantage",
		Listen:          "127.0.0.1:1179",
		ASN:             65000,
		RouterID:        DefaultRouterID("127.0.0.1:1179"),
		HoldTime:        90 * time.Second,
		ShutdownTimeout: 5 * time.Second,
		OpenTimeout:     DefaultOpenTimeout,
		GracefulRestart: true,
		StaleTime:       DefaultStaleTime,
		Peers:           []PeerRule{{Prefix: netip.MustParsePrefix("127.0.0.0/8")}},
		AddPath:         true,
	}
}

// Validate reports the first bad value, naming its field.
func (c *Config) Validate() error {
	switch {
	case c.Host == "":
		return errors.New("collector.name: must not be empty")
	case c.Listen == "":
		return errors.New("collector.listen: must not be empty")
	case c.ASN == 0:
		return errors.New("collector.asn: must not be 0")
	case !c.RouterID.Is4() || c.RouterID.IsUnspecified():
		return fmt.Errorf("collector.router_id %q: must be a non-zero IPv4 address", c.RouterID)
	case c.HoldTime != 0 && (c.HoldTime < 3*time.Second || c.HoldTime > 65535*time.Second):
		return fmt.Errorf("collector.hold_time %s: must be 0 or 3s-65535s", c.HoldTime)
	case c.ShutdownTimeout <= 0:
		return errors.New("collector: shutdown timeout must be positive")
	case c.OpenTimeout < 0:
		return fmt.Errorf("collector.open_timeout %s: must not be negative", c.OpenTimeout)
	case c.StaleTime < 0:
		return fmt.Errorf("collector.stale_time %s: must not be negative", c.StaleTime)
	case len(c.Peers) == 0:
		return errors.New("collector.peers: at least one rule is needed, or no peer can connect")
	}
	for i, p := range c.Peers {
		if !p.Prefix.IsValid() {
			return fmt.Errorf("collector.peers[%d].address: not a prefix", i)
		}
		for _, f := range p.Families {
			if !slices.Contains(Families, f) {
				return fmt.Errorf("collector.peers[%d].families: %s is not a family the collector decodes", i, f)
			}
		}
	}
	return nil
}

// Server accepts BGP sessions and turns their messages into events.
type Server struct {
	cfg  Config
	log  *slog.Logger
	out  *fanout
	in   chan schema.Event
	done chan struct{} // closed when the batcher has drained in

	mu      sync.Mutex
	rules   []PeerRule // cfg.Peers, then what Reload gave
	dialers map[netip.Addr]*dialer
	// prefixHold: peers refused after exceeding max_prefix, until the
	// time (zero: until a reload).
	prefixHold map[netip.Addr]time.Time
	// conns counts each address's connections (opening or established),
	// live all of them: both bound what accept takes.
	conns    map[netip.Addr]int
	live     int
	sessions map[netip.Addr]*session
	// restarts holds the stale routes of peers restarting gracefully
	// that no session has taken.
	restarts map[netip.Addr]*restart
	peers    map[netip.Addr]*peerCounters
	resumed  []PeerResume
	started  time.Time
	ln       net.Listener
	serveCtx context.Context // Serve's, for sessions Reload starts
	ready    chan struct{}
	wg       sync.WaitGroup

	stats Stats
	// pathSeed seeds the path hashes of the sessions' Adj-RIB-Ins.
	pathSeed maphash.Seed
}

// PeerResume is what the log last holds of a peer, from an earlier run of
// this collector.
type PeerResume struct {
	Peer    netip.Addr
	PeerASN uint32
	// Seq and TimestampMicros are those of the peer's last event: the
	// peer's events go on from there, so (host, peer, seq) stays unique
	// and timestamps keep increasing.
	Seq             uint64
	TimestampMicros int64
	// Up is true when the earlier run stopped with the session up: Serve
	// then records it as down (reason "collector restart") first.
	Up bool
}

// Resume carries on the peers of an earlier run: their sequence numbers
// go on, and those whose session was up are recorded as down when Serve
// starts, before any session is accepted. Call it before Serve.
func (s *Server) Resume(peers []PeerResume) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range peers {
		s.peers[p.Peer] = &peerCounters{seq: p.Seq, lastUS: p.TimestampMicros}
	}
	s.resumed = append(s.resumed, peers...)
}

// ReasonCollectorRestart is the reason of the down events Serve records
// for sessions that were up when an earlier run ended.
const ReasonCollectorRestart = "collector restart"

// peerCounters keep the per-peer sequence without gaps and a strictly
// increasing timestamp, across sessions; mu guards them and orders the
// peer's events into the queue.
type peerCounters struct {
	mu     sync.Mutex
	seq    uint64
	lastUS int64
}

// New builds a server that delivers events to sinks. log may be nil.
func New(cfg Config, log *slog.Logger, sinks ...NamedSink) (*Server, error) {
	if !cfg.RouterID.IsValid() {
		cfg.RouterID = DefaultRouterID(cfg.Listen)
	}
	if cfg.OpenTimeout == 0 {
		cfg.OpenTimeout = DefaultOpenTimeout
	}
	if cfg.StaleTime == 0 {
		cfg.StaleTime = DefaultStaleTime
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:        cfg,
		log:        log,
		out:        nil,
		in:         make(chan schema.Event, 4096),
		done:       make(chan struct{}),
		rules:      cfg.Peers,
		dialers:    map[netip.Addr]*dialer{},
		prefixHold: map[netip.Addr]time.Time{},
		conns:      map[netip.Addr]int{},
		sessions:   map[netip.Addr]*session{},
		restarts:   map[netip.Addr]*restart{},
		peers:      map[netip.Addr]*peerCounters{},
		started:    time.Now(),
		ready:      make(chan struct{}),
		pathSeed:   maphash.MakeSeed(),
	}
	s.out = newFanout(log, &s.stats, sinks)
	return s, nil
}

// Addr returns the listening address once Run has started listening.
func (s *Server) Addr() net.Addr {
	<-s.ready
	return s.ln.Addr()
}

// Run listens and serves sessions until ctx is cancelled. It returns
// after every session has ended and every event reached the sinks.
func (s *Server) Run(ctx context.Context) error {
	ln, err := Listen(s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen for BGP on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Listen makes the listener for BGP sessions: plain TCP, not the
// Multipath TCP Go's net.Listen uses by default since Go 1.24, on whose
// sockets Linux has no TCP MD5 (setsockopt TCP_MD5SIG: "protocol not
// available").
func Listen(addr string) (net.Listener, error) {
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	return lc.Listen(context.Background(), "tcp", addr)
}

// Serve is Run on a listener the caller made (with Listen, if neighbors
// have MD5 passwords).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.ln = ln
	close(s.ready)
	s.log.Info("listening for BGP", "addr", ln.Addr().String(), "asn", s.cfg.ASN)
	go func() {
		runBatcher(s.in, s.out)
		close(s.done)
	}()
	for _, p := range s.resumed {
		if p.Up {
			s.log.Info("session was up when the collector last stopped; recording it as down", "peer", p.Peer.String(), "peer_asn", p.PeerASN)
			// No route counts: the lost session's families are not
			// known here, and a down peer has no current routes anyway.
			ev := schema.Event{Type: schema.TypePeerState, Peer: p.Peer, PeerASN: p.PeerASN, State: schema.StateDown, Reason: ReasonCollectorRestart}
			s.emit(&ev, time.Now())
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.wg.Go(func() {
		<-ctx.Done()
		ln.Close()
	})
	s.wg.Go(func() { s.watchMD5(ctx) })
	s.mu.Lock()
	s.serveCtx = ctx
	err := s.setKeys(nil, s.rules)
	s.startDialers(ctx, s.rules)
	s.mu.Unlock()
	if err != nil {
		cancel() // Accept fails at once; Serve ends as at shutdown
	}
	var acceptErr error
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, net.ErrClosed) {
				acceptErr = fmt.Errorf("accept: %w", err)
				break
			}
			// Out of file descriptors and the like: the sessions that are
			// up carry on, and accepting resumes after a pause (as
			// net/http does).
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			continue
		}
		backoff = 0
		s.accept(ctx, conn, false)
	}
	cancel()
	s.wg.Wait()
	close(s.in)
	<-s.done
	ctx, cancelClose := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancelClose()
	s.out.close(ctx)
	return errors.Join(err, acceptErr)
}

// accept checks the peer against the rules and starts its session, which
// it returns (nil if the connection is refused). active says the
// collector opened the connection (to an active neighbor). The session
// becomes the peer's only once the peer's OPEN arrives (claim): until
// then, a connection from the address of a peer whose session is up does
// not touch that session.
func (s *Server) accept(ctx context.Context, conn net.Conn, active bool) *session {
	ap, err := netip.ParseAddrPort(conn.RemoteAddr().String())
	if err != nil {
		conn.Close()
		return nil
	}
	peer := ap.Addr().Unmap()
	rule, ok := s.match(peer)
	if !ok {
		s.log.Warn("connection refused: no peer rule matches", "peer", peer.String())
		s.emitRejected(peer, "no peer rule matches its address")
		conn.Close()
		return nil
	}
	if reason := s.refuse(peer, rule); reason != "" {
		s.stats.Refused.Add(1)
		s.log.Warn("connection refused: "+reason, "peer", peer.String(), "rule", rule.Prefix.String(), "description", rule.Description)
		conn.Close()
		if !strings.HasPrefix(reason, overLimit) {
			// A configured neighbor refused by its configuration is an
			// event; connections over the global bounds are only counted
			// and logged, so that a flood of them cannot flood the log.
			s.emitRejected(peer, reason)
		}
		return nil
	}
	if rule.TTLSecurity > 0 {
		v6 := isV6(conn.LocalAddr())
		err := rawControl(conn, func(fd uintptr) error {
			if err := setMinTTL(fd, v6, rule.TTLSecurity); err != nil {
				return err
			}
			return setTTL(fd, v6)
		})
		if err != nil {
			s.log.Error("connection refused: cannot set TTL security", "peer", peer.String(), "err", err)
			conn.Close()
			s.release(peer)
			return nil
		}
	}
	sess := newSession(s, conn, peer, rule, active)
	s.wg.Go(func() {
		sess.run(ctx)
		s.mu.Lock()
		if s.sessions[peer] == sess {
			delete(s.sessions, peer)
		}
		s.mu.Unlock()
		s.release(peer)
	})
	return sess
}

// MaxPending bounds the connections that have not completed the OPEN
// exchange, in total, and MaxConnsPerAddr the connections of one address
// (opening or established: a collision needs two): past either, new
// connections are closed at once.
const (
	MaxPending      = 256
	MaxConnsPerAddr = 4
)

// overLimit begins the reasons of refusals for the global bounds.
const overLimit = "over the connection limit"

// refuse says why a connection from peer, matching rule, is not taken, or
// "" to take it; then the connection is counted until release.
func (s *Server) refuse(peer netip.Addr, rule PeerRule) (reason string) {
	if rule.Disabled {
		return "the neighbor is disabled"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if reason == "" {
			s.conns[peer]++
			s.live++
		}
	}()
	if s.live-int(s.stats.Established.Load()) >= MaxPending {
		return fmt.Sprintf("%s: %d connections are already opening (MaxPending)", overLimit, MaxPending)
	}
	if s.conns[peer] >= MaxConnsPerAddr {
		return fmt.Sprintf("%s: the address has %d connections already (MaxConnsPerAddr)", overLimit, MaxConnsPerAddr)
	}
	if s.prefixHeld(peer) {
		return "it exceeded its max_prefix; refused until max_prefix_restart has passed or a reload"
	}
	if rule.MaxSessions == 0 {
		return ""
	}
	// Addresses of the range with a connection, opening or established.
	n := 0
	for a := range s.conns {
		if a != peer && rule.Prefix.Contains(a) {
			if r, _ := matchRule(s.rules, a); r.Prefix == rule.Prefix {
				n++
			}
		}
	}
	if n >= rule.MaxSessions {
		return fmt.Sprintf("the range has its %d sessions (max_sessions)", rule.MaxSessions)
	}
	return ""
}

// release uncounts a connection refuse took.
func (s *Server) release(peer netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live--
	if s.conns[peer]--; s.conns[peer] <= 0 {
		delete(s.conns, peer)
	}
}

func (s *Server) match(a netip.Addr) (PeerRule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return matchRule(s.rules, a)
}

func matchRule(rules []PeerRule, a netip.Addr) (PeerRule, bool) {
	for _, r := range rules {
		if r.Prefix.Contains(a) {
			return r, true
		}
	}
	return PeerRule{}, false
}

// emit stamps an event with the peer's next sequence number, a strictly
// increasing timestamp and an ID, and queues it for the sinks. It blocks
// when the sinks are behind. The events of one peer are queued in the
// order of their sequence numbers, even from two connections of the peer
// at once (a collision).
func (s *Server) emit(ev *schema.Event, at time.Time) {
	pc := s.counters(ev.Peer)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	s.stampLocked(pc, ev, at)
	s.stats.Events.Add(1)
	s.in <- *ev
}

// stamp sets the envelope of an event: host, the peer's next sequence
// number, a strictly increasing timestamp and the id.
func (s *Server) stamp(ev *schema.Event, at time.Time) {
	pc := s.counters(ev.Peer)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	s.stampLocked(pc, ev, at)
}

// counters returns the peer's counters, made when new.
func (s *Server) counters(peer netip.Addr) *peerCounters {
	s.mu.Lock()
	defer s.mu.Unlock()
	pc := s.peers[peer]
	if pc == nil {
		pc = &peerCounters{}
		s.peers[peer] = pc
	}
	return pc
}

// stampLocked is stamp with pc, the peer's counters, locked.
func (s *Server) stampLocked(pc *peerCounters, ev *schema.Event, at time.Time) {
	pc.seq++
	us := at.UnixMicro()
	if us <= pc.lastUS {
		us = pc.lastUS + 1
	}
	pc.lastUS = us
	ev.Seq = pc.seq
	ev.Timestamp = float64(us) / 1e6
	ev.Host = s.cfg.Host
	ev.ID = eventID(s.cfg.Host, s.started.Unix(), ev.Peer, ev.Seq)
}

// eventID is HOST-START-PEER-SEQ: the collector's name, the Unix time its
// run started, the peer and the peer's sequence number. The sequence goes
// on across runs, so the id is unique per collector; START makes that so
// even for a peer the log had forgotten.
func eventID(host string, start int64, peer netip.Addr, seq uint64) string {
	b := make([]byte, 0, len(host)+64)
	b = append(b, host...)
	b = append(b, '-')
	b = strconv.AppendInt(b, start, 10)
	b = append(b, '-')
	b = peer.AppendTo(b)
	b = append(b, '-')
	b = strconv.AppendUint(b, seq, 10)
	return string(b)
}

// Stats are the collector's counters, for /metrics.
type Stats struct {
	Messages    atomic.Int64 // BGP messages received on established sessions
	Events      atomic.Int64 // events emitted
	Established atomic.Int64 // sessions established now
	Connections atomic.Int64 // TCP connections not (yet) established
	Refused     atomic.Int64 // connections refused: disabled neighbor, max_sessions, too many opening
	// DialFailures counts failed connections to active neighbors.
	DialFailures atomic.Int64
	// SinkRetries counts failed sink writes that were retried;
	// Undelivered the events a sink had not taken when shutdown's
	// deadline passed (logged; 0 unless a sink hung at shutdown).
	SinkRetries atomic.Int64
	Undelivered atomic.Int64
}

// Stats returns the collector's counters.
func (s *Server) Stats() *Stats { return &s.stats }
