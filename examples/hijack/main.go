// Command hijack is a reference hijack detector on Vantage's event log:
// it reads the UPDATE events of the JetStream stream VANTAGE_EVENTS and
// reports, as JSON lines on stdout, what it finds about the prefixes it
// watches: an origin that is not allowed (and MOAS), a more specific
// announcement, an upstream AS that is not allowed, and a route leak that
// RFC 9234's Only-to-Customer attribute shows. Each report carries its
// evidence: collector, peer, path, time and event id.
//
// It uses only nats.go and Vantage's schema package; see README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vantage-bgp/vantage/schema"
)

// watchFile is the -watch file.
type watchFile struct {
	Prefixes []Watch `json:"prefixes"`
}

func main() {
	if err := run(); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hijack:", err)
		}
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("hijack", flag.ContinueOnError)
	url := fs.String("nats", "nats://127.0.0.1:4222", "NATS `URL` (a collector's embedded NATS, or the cluster)")
	watchPath := fs.String("watch", "", "JSON `file` of watched prefixes: {\"prefixes\": [{\"prefix\": P, \"origins\": [ASN], \"upstreams\": [ASN], \"max_length\": N}]}")
	start := fs.String("start", "new", "where to start: new (events from now on), all (the whole log), a stream sequence, or a time (RFC 3339)")
	host := fs.String("host", "", "only the events of this collector (`name`; subject vantage.events.NAME.>)")
	durable := fs.String("durable", "", "keep the position on the server under `NAME` and go on from it next time (-start applies when it is new)")
	catchup := fs.Bool("catchup", false, "exit once every event the log held at start has been read (a backtest)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *watchPath == "" {
		return errors.New("-watch FILE is required")
	}
	watches, err := readWatches(*watchPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	nc, err := nats.Connect(*url, nats.Name("vantage hijack detector"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", *url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	stream, err := js.Stream(ctx, "VANTAGE_EVENTS")
	if err != nil {
		return fmt.Errorf("stream VANTAGE_EVENTS on %s: %w", *url, err)
	}
	// One filter subject (servers before 2.10 take no more); the type is
	// picked from the subject below.
	filter := schema.SubjectPrefix + ".>"
	if *host != "" {
		filter = schema.SubjectPrefix + "." + *host + ".>"
	}
	cons, err := consumer(ctx, stream, filter, *start, *durable)
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	context.AfterFunc(ctx, it.Stop)

	det := NewDetector(watches)
	enc := json.NewEncoder(os.Stdout)
	var ev schema.Event
	for {
		wait := 5 * time.Second
		m, err := it.Next(jetstream.NextMaxWait(wait))
		if errors.Is(err, nats.ErrTimeout) {
			if *catchup {
				return nil // nothing (more) to read
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			fmt.Fprintln(os.Stderr, "hijack: reading the log:", err)
			continue
		}
		md, _ := m.Metadata()
		if t := subjectType(m.Subject()); t == "UPDATE" || t == "RIS_PEER_STATE" {
			if err := ev.DecodeJSON(m.Data()); err != nil {
				fmt.Fprintf(os.Stderr, "hijack: %s: %v\n", m.Subject(), err)
			} else {
				for _, r := range det.Event(&ev) {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
			}
		}
		if *durable != "" {
			m.Ack()
		}
		if *catchup && md != nil && md.NumPending == 0 {
			if *durable != "" {
				m.DoubleAck(ctx)
			}
			return nil
		}
	}
}

// subjectType returns the TYPE token of vantage.events.HOST.TYPE.ASN.PEER.
func subjectType(subject string) string {
	toks := strings.SplitN(subject, ".", 5)
	if len(toks) < 5 {
		return ""
	}
	return toks[3]
}

// consumer returns an ordered consumer, or the durable one.
func consumer(ctx context.Context, s jetstream.Stream, filter, start, durable string) (jetstream.Consumer, error) {
	policy, seq, t := jetstream.DeliverNewPolicy, uint64(0), (*time.Time)(nil)
	switch {
	case start == "new":
	case start == "all":
		policy = jetstream.DeliverAllPolicy
	default:
		if n, err := strconv.ParseUint(start, 10, 64); err == nil {
			policy, seq = jetstream.DeliverByStartSequencePolicy, n
		} else if tt, err := time.Parse(time.RFC3339, start); err == nil {
			policy, t = jetstream.DeliverByStartTimePolicy, &tt
		} else {
			return nil, fmt.Errorf("-start %q: want new, all, a stream sequence or an RFC 3339 time", start)
		}
	}
	if durable == "" {
		return s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}, DeliverPolicy: policy, OptStartSeq: seq, OptStartTime: t})
	}
	return s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: durable, FilterSubject: filter, AckPolicy: jetstream.AckExplicitPolicy,
		DeliverPolicy: policy, OptStartSeq: seq, OptStartTime: t,
	})
}

// readWatches reads and checks the -watch file.
func readWatches(path string) ([]Watch, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var wf watchFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&wf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(wf.Prefixes) == 0 {
		return nil, fmt.Errorf("%s: no prefixes to watch", path)
	}
	for i, w := range wf.Prefixes {
		if !w.Prefix.IsValid() {
			return nil, fmt.Errorf("%s: prefixes[%d]: no prefix", path, i)
		}
		if len(w.Origins) == 0 {
			return nil, fmt.Errorf("%s: prefixes[%d] (%s): no origins", path, i, w.Prefix)
		}
		if w.MaxLength != 0 && (w.MaxLength < w.Prefix.Bits() || w.MaxLength > w.Prefix.Addr().BitLen()) {
			return nil, fmt.Errorf("%s: prefixes[%d] (%s): max_length %d outside %d-%d", path, i, w.Prefix, w.MaxLength, w.Prefix.Bits(), w.Prefix.Addr().BitLen())
		}
	}
	return wf.Prefixes, nil
}
