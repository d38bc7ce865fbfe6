package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// This file owns Follow: the log read by one live reader (`collector
// events`, a detector), in stream order, from a chosen position, with the
// reader's position kept on the server under a durable name.

// StartKind says where a reader starts in the log.
type StartKind uint8

// Where a reader starts.
const (
	// StartDefault: a durable consumer that exists resumes after the last
	// event it acknowledged; otherwise the reader starts at the oldest
	// event the log keeps.
	StartDefault StartKind = iota
	StartNew               // only events published from now on
	StartSeq               // at the stream sequence Start.Seq
	StartTime              // at the first event stored at or after Start.Time
)

// Start is a position in the log.
type Start struct {
	Kind StartKind
	Seq  uint64
	Time time.Time
}

// FollowConfig configures a reader of the log.
type FollowConfig struct {
	// Filters are subjects (with * and > wildcards, see schema.SubjectFilter);
	// an event on any of them is delivered. None: every event.
	Filters []string
	// Durable names a consumer that keeps the reader's position on the
	// server: a reader that stops and starts again under the same name
	// goes on after the last event it acknowledged. One reader per name:
	// Follow refuses a name whose consumer has a reader waiting.
	// Empty: an ephemeral (ordered) consumer, gone when the reader stops.
	Durable string
	// Start is where the reader starts; with an existing durable, a Kind
	// other than StartDefault moves it there.
	Start Start
	// AckWait is how long the server waits for an acknowledgement before
	// delivering again (durable only; default 5 minutes). Follow drops
	// such repeats, so it costs only traffic.
	AckWait time.Duration

	// direct: Next takes from the iterator itself, without the reading
	// goroutine (Log.Follow: one caller that only ever waits, so one
	// goroutine hop less between NATS and it).
	direct bool
}

// followAckEvery is the most events, and followAckInterval the longest
// time, between two acknowledgements a durable reader sends.
const (
	followAckEvery    = 4096
	followAckInterval = 100 * time.Millisecond
	followPull        = 8192 // messages a pull asks for at once
)

// Msg is one event of the log: its stream sequence, subject and JSON.
type Msg struct {
	Seq     uint64
	Subject string
	Data    []byte
	m       jetstream.Msg
}

// Follower reads the log for one reader. Next hands the events over in
// stream order, each once (repeats the server sends after AckWait are
// dropped); Ack says the reader has handled an event and every one before
// it. Next and Ack are called from one goroutine.
type Follower struct {
	cfg FollowConfig
	log *slog.Logger
	it  jetstream.MessagesContext
	// match filters on the client side when the server cannot take
	// several filter subjects (nats-server before 2.10); nil: every
	// message delivered matches.
	match func(subject string) bool
	// last is where the reader starts: the stream sequence before the
	// first message to hand over.
	last uint64
	msgs chan fetched // from read to Next; nil with cfg.direct
	// directLast is the stream sequence of the last message Next handed
	// over, with cfg.direct.
	directLast uint64

	mu       sync.Mutex
	toAck    jetstream.Msg // durable: the last handled message not yet acknowledged
	unacked  int
	acked    uint64 // stream sequence of the last handled message
	ackErr   error
	stopAcks chan struct{}
	acksDone chan struct{}
}

// ErrFollowStopped is returned by Next after Stop.
var ErrFollowStopped = errors.New("reading the log stopped")

// Follow starts reading the log. log may be nil.
func Follow(ctx context.Context, c *Conn, cfg FollowConfig, log *slog.Logger) (*Follower, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 5 * time.Minute
	}
	for _, f := range cfg.Filters {
		if err := checkFilter(f); err != nil {
			return nil, err
		}
	}
	f := &Follower{cfg: cfg, log: log}
	var (
		cons jetstream.Consumer
		err  error
	)
	if cfg.Durable == "" {
		cons, err = f.ordered(ctx, c, cfg.Filters)
		if errors.Is(err, jetstream.ErrConsumerMultipleFilterSubjectsNotSupported) {
			f.match = matcher(cfg.Filters)
			cons, err = f.ordered(ctx, c, nil)
		}
	} else {
		cons, err = f.durable(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	if f.it, err = cons.Messages(jetstream.PullMaxMessages(followPull)); err != nil {
		return nil, fmt.Errorf("read the log: %w", err)
	}
	if cfg.Durable != "" {
		f.stopAcks, f.acksDone = make(chan struct{}), make(chan struct{})
		go f.ackLoop() // owned: Stop waits for acksDone
	}
	if cfg.direct {
		f.directLast = f.last
		return f, nil
	}
	f.msgs = make(chan fetched, followPull)
	go f.read() // owned: Stop stops the iterator, which ends read
	return f, nil
}

// ordered makes an ephemeral consumer that the client recreates after a
// reconnection, where it left off.
func (f *Follower) ordered(ctx context.Context, c *Conn, filters []string) (jetstream.Consumer, error) {
	oc := jetstream.OrderedConsumerConfig{FilterSubjects: filters}
	switch s := f.cfg.Start; s.Kind {
	case StartNew:
		oc.DeliverPolicy = jetstream.DeliverNewPolicy
	case StartSeq:
		oc.DeliverPolicy, oc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, max(s.Seq, 1)
	case StartTime:
		t := s.Time
		oc.DeliverPolicy, oc.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	cons, err := c.Stream.OrderedConsumer(ctx, oc)
	if err != nil {
		return nil, fmt.Errorf("read the log: %w", err)
	}
	return cons, nil
}

// durable creates the named consumer, or takes up an existing one where
// it was last acknowledged. An existing one with events delivered but not
// acknowledged (its reader died) or with other filters is made again at
// that point, so that those events come first and in order rather than
// after AckWait.
func (f *Follower) durable(ctx context.Context, c *Conn) (jetstream.Consumer, error) {
	name := f.cfg.Durable
	cc := jetstream.ConsumerConfig{
		Durable:        name,
		Description:    "Vantage: a reader of the event log (collector events)",
		AckPolicy:      jetstream.AckAllPolicy,
		AckWait:        f.cfg.AckWait,
		MaxAckPending:  4 * followPull,
		FilterSubjects: f.cfg.Filters,
	}
	start := f.cfg.Start
	existing, err := c.Stream.Consumer(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		existing = nil
	case err != nil:
		return nil, fmt.Errorf("durable consumer %s: %w", name, err)
	}
	if existing != nil {
		info := existing.CachedInfo()
		if info.Config.AckPolicy != jetstream.AckAllPolicy {
			return nil, fmt.Errorf("durable consumer %s exists and is not a reader's (ack policy %s): choose another -durable name", name, info.Config.AckPolicy)
		}
		if info.NumWaiting > 0 {
			return nil, fmt.Errorf("durable consumer %s is being read by another process (%d pull requests waiting); one reader per name", name, info.NumWaiting)
		}
		same := start.Kind == StartDefault && info.NumAckPending == 0 && slicesEqual(consumerFilters(info.Config), cc.FilterSubjects)
		if same {
			f.acked = info.AckFloor.Stream
			f.last = info.AckFloor.Stream
			f.log.Info("resuming", "durable", name, "after_seq", info.AckFloor.Stream)
			return existing, nil
		}
		if start.Kind == StartDefault {
			start = Start{Kind: StartSeq, Seq: info.AckFloor.Stream + 1}
			f.log.Info("resuming", "durable", name, "after_seq", info.AckFloor.Stream, "redelivering", info.NumAckPending)
		}
		if err := c.Stream.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("durable consumer %s: %w", name, err)
		}
	}
	switch start.Kind {
	case StartNew:
		cc.DeliverPolicy = jetstream.DeliverNewPolicy
	case StartSeq:
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, max(start.Seq, 1)
		f.last = max(start.Seq, 1) - 1
	case StartTime:
		t := start.Time
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	default:
		cc.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	f.acked = f.last
	cons, err := c.Stream.CreateConsumer(ctx, cc)
	if errors.Is(err, jetstream.ErrConsumerMultipleFilterSubjectsNotSupported) {
		f.match = matcher(cc.FilterSubjects)
		cc.FilterSubjects = nil
		cons, err = c.Stream.CreateConsumer(ctx, cc)
	}
	if err != nil {
		return nil, fmt.Errorf("durable consumer %s: %w", name, err)
	}
	return cons, nil
}

// consumerFilters returns a consumer's filter subjects, one or several.
func consumerFilters(cc jetstream.ConsumerConfig) []string {
	if cc.FilterSubject != "" {
		return []string{cc.FilterSubject}
	}
	return cc.FilterSubjects
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Next returns the next event of the log, waiting at most wait for it
// (0: until there is one). It returns nats.ErrTimeout when wait passed,
// and ErrFollowStopped after Stop. A durable reader's events that the
// filters do not take are acknowledged with the next one Ack is given.
func (f *Follower) Next(wait time.Duration) (Msg, error) {
	if f.msgs == nil { // direct: wait as long as it takes
		r, _ := f.take(&f.directLast)
		return r.m, r.err
	}
	var r fetched
	select {
	case r = <-f.msgs: // the common case under load: no timer
	default:
		if wait <= 0 {
			r = <-f.msgs
		} else {
			t := time.NewTimer(wait)
			select {
			case r = <-f.msgs:
				t.Stop()
			case <-t.C:
				return Msg{}, nats.ErrTimeout
			}
		}
	}
	return r.m, r.err
}

// fetched is what the reading goroutine hands to Next.
type fetched struct {
	m   Msg
	err error
}

// read takes the messages from the iterator, in order, and hands them to
// Next. It ends when the iterator is stopped, closing f.msgs.
func (f *Follower) read() {
	defer close(f.msgs)
	var last uint64 = f.last // stream sequence of the last message handed over
	for {
		r, stopped := f.take(&last)
		f.msgs <- r
		if stopped {
			return
		}
	}
}

// take returns the next message of the iterator to hand over, dropping
// repeats (a sequence not after *last, which it advances) and what the
// client-side filter refuses; stopped when the iterator was stopped
// (r.err is ErrFollowStopped then).
func (f *Follower) take(last *uint64) (r fetched, stopped bool) {
	for {
		m, err := f.it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return fetched{err: ErrFollowStopped}, true
			}
			return fetched{err: err}, false
		}
		seq, ok := streamSeq(m.Reply())
		if !ok {
			md, err := m.Metadata()
			if err != nil {
				f.log.Warn("a message without JetStream metadata; skipped", "subject", m.Subject(), "err", err)
				continue
			}
			seq = md.Sequence.Stream
		}
		if seq <= *last { // delivered again after AckWait: handed over before
			continue
		}
		*last = seq
		if f.match != nil && !f.match(m.Subject()) {
			continue
		}
		return fetched{m: Msg{Seq: seq, Subject: m.Subject(), Data: m.Data(), m: m}}, false
	}
}

// streamSeq reads the stream sequence from a JetStream message's reply
// subject without allocating: $JS.ACK.<stream>.<consumer>.<delivered>.
// <stream seq>.<consumer seq>.<time>.<pending> (9 tokens), or with
// <domain>.<account hash> after ACK (12 tokens or more).
func streamSeq(reply string) (uint64, bool) {
	var starts [13]int
	n := 1 // tokens seen; starts[i] is where token i begins
	for i := 0; i < len(reply) && n < len(starts); i++ {
		if reply[i] == '.' {
			starts[n] = i + 1
			n++
		}
	}
	if !strings.HasPrefix(reply, "$JS.ACK.") {
		return 0, false
	}
	tok := 0
	switch {
	case n == 9:
		tok = 5
	case n >= 12:
		tok = 7
	default:
		return 0, false
	}
	end := len(reply)
	if tok+1 < n {
		end = starts[tok+1] - 1
	}
	v, err := strconv.ParseUint(reply[starts[tok]:end], 10, 64)
	return v, err == nil
}

// Ack records that the reader has handled m and every event before it.
// A durable reader's acknowledgements go to the server in batches (at
// least every 100 ms); Stop sends the last and waits for the server.
func (f *Follower) Ack(m Msg) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m.Seq <= f.acked {
		return
	}
	f.acked = m.Seq
	if f.stopAcks == nil {
		return
	}
	f.toAck = m.m
	f.unacked++
	if f.unacked >= followAckEvery {
		f.sendAckLocked(false)
	}
}

// Acked returns the stream sequence of the last event Ack was given (or
// where the reader started, before it).
func (f *Follower) Acked() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acked
}

func (f *Follower) sendAckLocked(wait bool) {
	if f.toAck == nil {
		return
	}
	var err error
	if wait {
		err = f.toAck.DoubleAck(context.Background())
	} else {
		err = f.toAck.Ack()
	}
	if err != nil && f.ackErr == nil {
		f.ackErr = err
		f.log.Warn("acknowledging to the log", "durable", f.cfg.Durable, "err", err)
	}
	if err == nil || !wait {
		f.toAck, f.unacked = nil, 0
	}
}

func (f *Follower) ackLoop() {
	defer close(f.acksDone)
	t := time.NewTicker(followAckInterval)
	defer t.Stop()
	for {
		select {
		case <-f.stopAcks:
			return
		case <-t.C:
			f.mu.Lock()
			f.sendAckLocked(false)
			f.mu.Unlock()
		}
	}
}

// Stop ends reading: a durable reader's last acknowledgement is sent and
// confirmed by the server (retried for up to 10 s while NATS is away).
// What was delivered and not acknowledged is delivered again to the next
// reader of the durable. It returns the stream sequence of the last
// acknowledged event. Idempotent.
func (f *Follower) Stop() (uint64, error) {
	f.it.Stop()
	if f.msgs != nil {
		for range f.msgs { // until read has returned
		}
	}
	if f.stopAcks == nil {
		return f.Acked(), nil
	}
	select {
	case <-f.acksDone:
	default:
		close(f.stopAcks)
		<-f.acksDone
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); f.toAck != nil; {
		f.ackErr = nil
		f.sendAckLocked(true)
		if f.toAck == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if f.toAck != nil {
		return f.acked, fmt.Errorf("durable consumer %s: the last acknowledgement (stream sequence %d) was not confirmed: %w", f.cfg.Durable, f.acked, f.ackErr)
	}
	return f.acked, nil
}

// checkFilter refuses a filter that is not an event subject.
func checkFilter(f string) error {
	toks := strings.Split(f, ".")
	if len(toks) < 3 || toks[0] != "vantage" || toks[1] != "events" {
		return fmt.Errorf("filter %q: not an event subject (vantage.events.HOST.TYPE.PEER_ASN.PEER, with * and > as wildcards)", f)
	}
	for i, t := range toks {
		if t == "" {
			return fmt.Errorf("filter %q: empty token", f)
		}
		if t == ">" && i != len(toks)-1 {
			return fmt.Errorf("filter %q: > must be the last token", f)
		}
	}
	return nil
}

// matcher returns a function that reports whether a subject is on any of
// the filters, as the server matches them.
func matcher(filters []string) func(string) bool {
	if len(filters) == 0 {
		return nil
	}
	split := make([][]string, len(filters))
	for i, f := range filters {
		split[i] = strings.Split(f, ".")
	}
	return func(subject string) bool {
		for _, f := range split {
			if subjectMatches(f, subject) {
				return true
			}
		}
		return false
	}
}

// subjectMatches matches a subject against a filter's tokens.
func subjectMatches(filter []string, subject string) bool {
	for i, tok := range filter {
		if tok == ">" {
			return subject != ""
		}
		cur, rest, more := strings.Cut(subject, ".")
		if tok != "*" && tok != cur {
			return false
		}
		if !more {
			return i == len(filter)-1
		}
		subject = rest
	}
	return false // more tokens than the filter
}
