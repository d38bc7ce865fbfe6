package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/schema"
)

// Log reads the event log by position, for live consumers (lg's RIS Live
// stream): its messages in order from a stream sequence on, and the
// sequence where a time or an event id is. It holds no state beyond the
// connection; every Follow owns its own ordered consumer.
type Log struct{ c *Conn }

// NewLog returns a reader of the log of c.
func NewLog(c *Conn) *Log { return &Log{c: c} }

// ErrNotInLog is returned for a time or an event id that the log does not
// hold (before its retention, or never published).
var ErrNotInLog = errors.New("not in the event log")

// allEvents matches every event subject.
const allEvents = SubjectPrefix + ".>"

// Last returns the stream sequence of the last message in the log (0 when
// it is empty).
func (l *Log) Last(ctx context.Context) (uint64, error) {
	info, err := l.c.Stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the event log's state: %w", err)
	}
	return info.State.LastSeq, nil
}

// Follow calls fn with every message of the log from stream sequence start
// on (at least 1), in order, with its sequence, until ctx ends (it returns
// nil then) or fn returns an error (returned). It waits for new messages at
// the end of the log. It reads through a Follower (an ordered consumer,
// which a lost connection does not make skip or repeat), taking from its
// iterator in the caller's goroutine: no goroutine between NATS and fn
// waits for its turn to run.
func (l *Log) Follow(ctx context.Context, start uint64, fn func(seq uint64, data []byte) error) error {
	f, err := Follow(ctx, l.c, FollowConfig{Start: Start{Kind: StartSeq, Seq: max(start, 1)}, direct: true}, nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("follow the event log from %d: %w", start, err)
	}
	defer f.Stop()
	stop := context.AfterFunc(ctx, func() { f.Stop() })
	defer stop()
	for {
		m, err := f.Next(0)
		if ctx.Err() != nil || errors.Is(err, ErrFollowStopped) {
			return nil
		}
		if err != nil {
			// The ordered consumer recreates itself; wait a little rather
			// than spin while NATS is away.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if m.Seq == 0 { // stopped concurrently
			return nil
		}
		if err := fn(m.Seq, m.Data); err != nil {
			return err
		}
	}
}

// next returns the first message at or after seq on subject (nil when
// there is none).
func (l *Log) next(ctx context.Context, seq uint64, subject string) (*jetstream.RawStreamMsg, error) {
	m, err := l.c.Stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	return m, err
}

// search returns the smallest stream sequence s in the log such that the
// first message at or after s on subject satisfies ok (ok must be false,
// then true, along the log), with that message; nil when none does.
func (l *Log) search(ctx context.Context, subject string, ok func(*jetstream.RawStreamMsg) (bool, error)) (*jetstream.RawStreamMsg, error) {
	info, err := l.c.Stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the event log's state: %w", err)
	}
	if info.State.LastSeq == 0 {
		return nil, nil
	}
	lo, hi := max(info.State.FirstSeq, 1), info.State.LastSeq+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		m, err := l.next(ctx, mid, subject)
		if err != nil {
			return nil, err
		}
		yes := m == nil // past the subject's last message: "after" anything
		if m != nil {
			if yes, err = ok(m); err != nil {
				return nil, err
			}
		}
		if yes {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	m, err := l.next(ctx, lo, subject)
	if err != nil || m == nil {
		return nil, err
	}
	if yes, err := ok(m); err != nil || !yes {
		return nil, err
	}
	return m, nil
}

// SeqAt returns the stream sequence of the first message the log stored at
// or after t; when there is none yet, the sequence the next one will get.
func (l *Log) SeqAt(ctx context.Context, t time.Time) (uint64, error) {
	m, err := l.search(ctx, allEvents, func(m *jetstream.RawStreamMsg) (bool, error) {
		return !m.Time.Before(t), nil
	})
	if err != nil {
		return 0, fmt.Errorf("find %s in the event log: %w", t.Format(time.RFC3339Nano), err)
	}
	if m != nil {
		return m.Sequence, nil
	}
	last, err := l.Last(ctx)
	return last + 1, err
}

// SeqOf returns the stream sequence of the event with the given id, an id
// the collector gave (HOST-START-PEER-SEQ: its name, the Unix time it
// started, the peer's address and the peer's sequence number). It finds it
// by a binary search over the peer's subjects, whose sequence numbers
// grow along the log. ErrNotInLog when the log does not hold it.
func (l *Log) SeqOf(ctx context.Context, id string) (uint64, error) {
	host, peer, seq, err := splitEventID(id)
	if err != nil {
		return 0, err
	}
	subject := schema.SubjectFilter(host, "", "", peer)
	var ev struct {
		ID  string `json:"id"`
		Seq uint64 `json:"seq"`
	}
	m, err := l.search(ctx, subject, func(m *jetstream.RawStreamMsg) (bool, error) {
		ev.Seq = 0
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			return false, fmt.Errorf("event log message %d: %w", m.Sequence, err)
		}
		return ev.Seq >= seq, nil
	})
	if err != nil {
		return 0, fmt.Errorf("find event %q in the event log: %w", id, err)
	}
	if m == nil {
		return 0, fmt.Errorf("event %q: %w", id, ErrNotInLog)
	}
	if err := json.Unmarshal(m.Data, &ev); err != nil || ev.ID != id {
		return 0, fmt.Errorf("event %q: %w", id, ErrNotInLog)
	}
	return m.Sequence, nil
}

// splitEventID reads HOST-START-PEER-SEQ from the right (a host name may
// hold '-', an address never does).
func splitEventID(id string) (host string, peer netip.Addr, seq uint64, err error) {
	bad := func(why string) error {
		return fmt.Errorf("event id %q: %s (want HOST-START-PEER-SEQ, as in an event's \"id\")", id, why)
	}
	rest, seqText, ok := cutLast(id)
	if !ok {
		return "", peer, 0, bad("no '-'")
	}
	if seq, err = strconv.ParseUint(seqText, 10, 64); err != nil {
		return "", peer, 0, bad("its sequence " + strconv.Quote(seqText) + " is not a number")
	}
	rest, peerText, ok := cutLast(rest)
	if !ok {
		return "", peer, 0, bad("too few parts")
	}
	if peer, err = netip.ParseAddr(peerText); err != nil {
		return "", peer, 0, bad("its peer " + strconv.Quote(peerText) + " is not an address")
	}
	host, startText, ok := cutLast(rest)
	if !ok || host == "" {
		return "", peer, 0, bad("too few parts")
	}
	if _, err := strconv.ParseInt(startText, 10, 64); err != nil {
		return "", peer, 0, bad("its start time " + strconv.Quote(startText) + " is not a number")
	}
	return host, peer, seq, nil
}

func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
