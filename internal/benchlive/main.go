// Command benchlive measures the live stream's fan-out (issue 13): an
// embedded nats-server with JetStream, events put into the log by
// bus.Publisher at a steady rate (UPDATEs from 20 peers, each announcing
// one of -clients /24 prefixes), lg's live stream (web.Live) over it, and
// -clients WebSocket clients each subscribed to one of those prefixes, as
// BGPalerter subscribes. Each client measures every message's delivery
// delay: its arrival time minus the event's timestamp, which the
// benchmark sets when it hands the event to the publisher, so the delay
// covers the publisher, JetStream, the hub and the socket. -slow clients
// subscribe to everything and never read: they must be dropped, and the
// others' delays must not grow.
//
// Everything runs in this one process (clients too), so the figures
// include the clients' own work on the same cores.
//
// -v prints each stage's progress and the heap every second; -stages
// times every event at each stage (stages.go) and prints where the delay
// is spent, and the p99 of each second of sending.
//
//	go run ./internal/benchlive -clients 1000 -rate 20000 -seconds 10 -slow 10
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/vantage-bgp/vantage/bus"
	"github.com/vantage-bgp/vantage/schema"
	"github.com/vantage-bgp/vantage/web"
)

func main() {
	clients := flag.Int("clients", 1000, "WebSocket clients, one prefix each")
	rate := flag.Int("rate", 20000, "events per second put into the log")
	seconds := flag.Int("seconds", 10, "measured seconds (after 2 s of warm-up)")
	slow := flag.Int("slow", 10, "clients subscribed to everything that never read")
	deflate := flag.Bool("deflate", true, "clients offer permessage-deflate (BGPalerter does)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the measured window to `file`")
	mem := flag.String("memprofile", "", "write an allocation profile to `file` at the end")
	flag.StringVar(&traceFile, "trace", "", "write a runtime trace of the first 3 measured seconds to `file`")
	flag.BoolVar(&progress, "v", false, "print each stage's progress every second")
	flag.BoolVar(&stages, "stages", false, "time each event's stages (stored by JetStream, read and queued by the hub, read by its client) and print their delays, and the p99 of each second")
	flag.Parse()
	cpuProfile, memProfile = *profile, *mem
	if err := run(*clients, *rate, *seconds, *slow, *deflate); err != nil {
		fmt.Fprintln(os.Stderr, "benchlive:", err)
		os.Exit(1)
	}
}

var (
	cpuProfile, memProfile string
	traceFile              string
	progress, stages       bool
)

// metric returns the value of a metric line of Prometheus' text format.
func metric(text, name string) string {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return "?"
}

func prefixOf(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
}

// recorder keeps the delays measured in the measured window.
type recorder struct {
	measuring atomic.Bool
	mu        sync.Mutex
	delays    []time.Duration
	got       atomic.Int64
}

func (r *recorder) add(d time.Duration) {
	r.got.Add(1)
	if !r.measuring.Load() {
		return
	}
	r.mu.Lock()
	r.delays = append(r.delays, d)
	r.mu.Unlock()
}

// readAll appends what r has to buf.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// eventTime reads the "timestamp" of a ris_message frame.
func eventTime(frame []byte) (time.Time, bool) {
	i := bytes.Index(frame, []byte(`"timestamp":`))
	if i < 0 {
		return time.Time{}, false
	}
	rest := frame[i+len(`"timestamp":`):]
	j := bytes.IndexAny(rest, ",}")
	if j < 0 {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(string(rest[:j]), 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(f*1e6 + 0.5)), true
}

func run(nClients, rate, seconds, nSlow int, deflate bool) error {
	dir, err := os.MkdirTemp("", "benchlive")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{Host: "127.0.0.1", Port: -1, StoreDir: dir})
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, err := bus.Dial(ctx, bus.Options{URL: ns.ClientURL(), Name: "benchlive", MaxAge: time.Hour}, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	pub, err := bus.NewPublisher(conn, bus.PublisherConfig{}, nil)
	if err != nil {
		return err
	}
	defer pub.Close(context.Background())

	// lg reads the log on a connection of its own, as it does as a
	// process of its own: the publisher's acknowledgements do not share
	// its socket and reading goroutine.
	lgConn, err := bus.Dial(ctx, bus.Options{URL: ns.ClientURL(), Name: "benchlive-lg", Existing: true}, nil)
	if err != nil {
		return err
	}
	defer lgConn.Close()
	var st *stageTimes
	var eventLog web.EventLog = bus.NewLog(lgConn)
	if stages {
		st = newStageTimes(rate*(seconds+3) + 1000)
		eventLog = timedLog{eventLog, st}
	}
	live := web.NewLive(web.LiveOptions{})
	liveDone := make(chan struct{})
	go func() { defer close(liveDone); live.Run(ctx, eventLog) }()
	srv := httptest.NewServer(web.New(nil, web.Options{Live: live}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/ws/?client=benchlive"
	mode := websocket.CompressionDisabled
	if deflate {
		mode = websocket.CompressionContextTakeover
	}

	rec := &recorder{}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	dial := func(sub string) (*websocket.Conn, error) {
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: mode})
		if err != nil {
			return nil, err
		}
		c.SetReadLimit(1 << 20)
		msg := `{"type":"ris_subscribe","data":{` + sub + `"type":"UPDATE","socketOptions":{"acknowledge":true}}}`
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			return nil, err
		}
		if _, b, err := c.Read(ctx); err != nil || !bytes.Contains(b, []byte("ris_subscribe_ok")) {
			return nil, fmt.Errorf("subscribe: %s %v", b, err)
		}
		return c, nil
	}
	start := time.Now()
	var readers []*websocket.Conn
	defer func() {
		for _, c := range readers {
			c.CloseNow()
		}
	}()
	for i := 0; i < nClients; i++ {
		c, err := dial(`"prefix":"` + prefixOf(i).String() + `",`)
		if err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
		readers = append(readers, c)
		wg.Go(func() {
			var buf []byte
			for {
				// No deadline: a context that can end costs the library a
				// timer per read; the connection is closed at the end.
				// Each message is read into the client's own buffer.
				_, r, err := c.Reader(context.Background())
				if err != nil {
					return
				}
				b, err := readAll(r, buf[:0])
				if err != nil {
					return
				}
				buf = b
				if t, ok := eventTime(b); ok {
					rec.add(time.Since(t))
				}
				if st != nil {
					if seq, ok := seqOfFrame(b); ok {
						st.mark(stClient, seq, time.Now())
					}
				}
			}
		})
	}
	var slowConns []*websocket.Conn
	for i := 0; i < nSlow; i++ {
		c, err := dial("")
		if err != nil {
			return fmt.Errorf("slow client %d: %w", i, err)
		}
		slowConns = append(slowConns, c)
	}
	defer func() {
		for _, c := range slowConns {
			c.CloseNow()
		}
	}()
	fmt.Printf("%d clients (one /24 each) and %d that never read connected in %v\n", nClients, nSlow, time.Since(start).Round(time.Millisecond))

	// The events: every 10 ms, as many UPDATEs as keep the rate since the
	// start (a late tick sends more), round robin over the prefixes and 20
	// peers, timestamped when handed to the publisher.
	var peers []netip.Addr
	for i := 0; i < 20; i++ {
		peers = append(peers, netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}))
	}
	seq := map[netip.Addr]uint64{}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var cpuStart syscall.Rusage
	warmup, window := 2*time.Second, time.Duration(seconds)*time.Second
	sendStart := time.Now()
	// Once a second: how far each stage is (sent, in the log, dispatched
	// by the hub, received by the clients), to see where a backlog forms.
	if progress {
		log := bus.NewLog(conn)
		wg.Go(func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				last, _ := log.Last(ctx)
				var m strings.Builder
				live.WriteMetricsTo(&m)
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				fmt.Printf("  %4.0fs: in the log %d, dispatched %s, received %d, %d dropped; heap %d MB, %d GCs, %v paused\n", time.Since(sendStart).Seconds(), last, metric(m.String(), "vantage_lg_live_log_sequence"), rec.got.Load(), live.Dropped.Load(),
					ms.HeapAlloc>>20, ms.NumGC, time.Duration(ms.PauseTotalNs).Round(time.Microsecond))
			}
		})
	}
	var measureStart time.Time
	sent, sentMeasured := 0, 0
	var evs []schema.Event
	for {
		now := <-tick.C
		since := now.Sub(sendStart)
		if since >= warmup+window {
			break
		}
		if measureStart.IsZero() && since >= warmup {
			rec.measuring.Store(true)
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			if traceFile != "" {
				f, err := os.Create(traceFile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := trace.Start(f); err != nil {
					return err
				}
				time.AfterFunc(3*time.Second, trace.Stop)
			}
			syscall.Getrusage(syscall.RUSAGE_SELF, &cpuStart)
			measureStart = time.Now()
		}
		due := int(since.Seconds()*float64(rate)) - sent
		if due <= 0 {
			continue
		}
		tsNow := time.Now()
		ts := float64(tsNow.UnixMicro()) / 1e6
		evs = evs[:0]
		for range due {
			st.mark(stSent, uint64(sent+1), tsNow)
			p := peers[sent%len(peers)]
			seq[p]++
			evs = append(evs, schema.Event{
				Timestamp: ts, Peer: p, PeerASN: 64500 + uint32(sent%len(peers)), Host: "bench", Type: schema.TypeUpdate,
				Seq: seq[p], ID: fmt.Sprintf("bench-1-%s-%d", p, seq[p]),
				Path:          schema.ASPath{{Type: schema.SegmentSequence, ASNs: []uint32{64500, 3333, 1299, uint32(65000 + sent%1000)}}},
				Origin:        schema.OriginIGP,
				Community:     []schema.Community{{64500, 100}, {3333, 200}},
				Announcements: []schema.Announcement{{NextHop: p, NLRISet: schema.NLRISet{Family: schema.IPv4Unicast, Prefixes: []netip.Prefix{prefixOf(sent % max(nClients, 1))}}}},
			})
			sent++
		}
		if err := pub.Write(ctx, evs); err != nil {
			return err
		}
		if !measureStart.IsZero() {
			sentMeasured += due
		}
	}
	measureEnd := time.Now()
	elapsed := measureEnd.Sub(measureStart)
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
	var cpuEnd syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &cpuEnd)
	// Let the last events arrive.
	deadline := time.Now().Add(30 * time.Second)
	for rec.got.Load() < int64(sent) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	rec.measuring.Store(false)

	rec.mu.Lock()
	d := slices.Clone(rec.delays)
	rec.mu.Unlock()
	slices.Sort(d)
	pct := func(p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(float64(len(d))*p))].Round(100 * time.Microsecond)
	}
	cpu := func(r syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	fmt.Printf("%d events/s wanted; %d events in %v (%.0f/s) measured, %d of them delivered (each to the one client of its prefix), %d of %d clients that never read dropped\n",
		rate, sentMeasured, elapsed.Round(time.Millisecond), float64(sentMeasured)/elapsed.Seconds(), len(d), live.Dropped.Load(), nSlow)
	fmt.Printf("delivery delay: p50 %v, p99 %v, p99.9 %v, max %v; CPU of the whole process (NATS, publisher, hub, clients): %.2f cores\n",
		pct(0.50), pct(0.99), pct(0.999), pct(1), (cpu(cpuEnd)-cpu(cpuStart)).Seconds()/elapsed.Seconds())
	if st != nil {
		st.report(measureStart, measureEnd)
	}
	cancel()
	live.Close()
	<-liveDone
	return nil
}
