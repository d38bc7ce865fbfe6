package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/vantage-bgp/vantage/schema"
)

// PeerRule admits peers: any address in Prefix, with AS ASN (0: any AS).
type PeerRule struct {
	Prefix netip.Prefix
	ASN    uint32
}

// Config is the collector's configuration.
type Config struct {
	// Host is the collector's name, carried in every event.
	Host string
	// Listen is the TCP address for BGP sessions.
	Listen string
	// ASN and RouterID are the collector's own.
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
}

// DefaultConfig is the configuration of a collector tried out with no
// config file: loopback only, any peer in 127.0.0.0/8 with any AS.
func DefaultConfig() Config {
	return Config{
		Host:     "vantage",
		Listen:   "127.0.0.1:1179",
		ASN:      65000,
		RouterID: netip.MustParseAddr("127.0.0.1"),
		HoldTime: 90 * time.Second,
		Peers:    []PeerRule{{Prefix: netip.MustParsePrefix("127.0.0.0/8")}},
		AddPath:  true,
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
	case len(c.Peers) == 0:
		return errors.New("collector.peers: at least one rule is needed, or no peer can connect")
	}
	for i, p := range c.Peers {
		if !p.Prefix.IsValid() {
			return fmt.Errorf("collector.peers[%d].address: not a prefix", i)
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

	mu       sync.Mutex
	sessions map[netip.Addr]*session
	peers    map[netip.Addr]*peerCounters
	started  time.Time
	ln       net.Listener
	ready    chan struct{}
	wg       sync.WaitGroup
}

// peerCounters keep the per-peer sequence without gaps and a strictly
// increasing timestamp, across sessions.
type peerCounters struct {
	seq    uint64
	lastUS int64
}

// New builds a server that delivers events to sinks. log may be nil.
func New(cfg Config, log *slog.Logger, sinks ...NamedSink) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		out:      newFanout(log, sinks),
		in:       make(chan schema.Event, 4096),
		done:     make(chan struct{}),
		sessions: map[netip.Addr]*session{},
		peers:    map[netip.Addr]*peerCounters{},
		started:  time.Now(),
		ready:    make(chan struct{}),
	}
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
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen for BGP on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller made.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.ln = ln
	close(s.ready)
	s.log.Info("listening for BGP", "addr", ln.Addr().String(), "asn", s.cfg.ASN)
	go func() {
		runBatcher(s.in, s.out)
		close(s.done)
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.wg.Go(func() {
		<-ctx.Done()
		ln.Close()
	})
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
		s.accept(ctx, conn)
	}
	cancel()
	s.wg.Wait()
	close(s.in)
	<-s.done
	s.out.close()
	return acceptErr
}

// accept checks the peer against the rules and starts its session.
func (s *Server) accept(ctx context.Context, conn net.Conn) {
	ap, err := netip.ParseAddrPort(conn.RemoteAddr().String())
	if err != nil {
		conn.Close()
		return
	}
	peer := ap.Addr().Unmap()
	rule, ok := s.match(peer)
	if !ok {
		s.log.Warn("connection refused: no peer rule matches", "peer", peer.String())
		conn.Close()
		return
	}
	sess := newSession(s, conn, peer, rule)
	s.mu.Lock()
	old := s.sessions[peer]
	s.sessions[peer] = sess
	s.mu.Unlock()
	if old != nil {
		// The peer reconnected: the old connection is dead or stale.
		old.log.Info("peer reconnected; closing the previous session")
		old.stop()
	}
	s.wg.Go(func() {
		sess.run(ctx, old)
		s.mu.Lock()
		if s.sessions[peer] == sess {
			delete(s.sessions, peer)
		}
		s.mu.Unlock()
	})
}

func (s *Server) match(a netip.Addr) (PeerRule, bool) {
	for _, r := range s.cfg.Peers {
		if r.Prefix.Contains(a) {
			return r, true
		}
	}
	return PeerRule{}, false
}

// emit stamps an event with the peer's next sequence number, a strictly
// increasing timestamp and an ID, and queues it for the sinks. It blocks
// when the sinks are behind.
func (s *Server) emit(ev *schema.Event, at time.Time) {
	s.mu.Lock()
	pc := s.peers[ev.Peer]
	if pc == nil {
		pc = &peerCounters{}
		s.peers[ev.Peer] = pc
	}
	pc.seq++
	us := at.UnixMicro()
	if us <= pc.lastUS {
		us = pc.lastUS + 1
	}
	pc.lastUS = us
	ev.Seq = pc.seq
	s.mu.Unlock()
	ev.Timestamp = float64(us) / 1e6
	ev.Host = s.cfg.Host
	ev.ID = fmt.Sprintf("%s-%d-%s-%d", s.cfg.Host, s.started.Unix(), ev.Peer, ev.Seq)
	s.in <- *ev
}
