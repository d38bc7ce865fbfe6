package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/vantage-bgp/vantage/bgpwire"
	"github.com/vantage-bgp/vantage/collector"
	"github.com/vantage-bgp/vantage/schema"
)

func init() {
	register("decode", "decode BGP messages given as hex and print them as JSON events", runDecode)
}

func runDecode(args []string) error {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	asn4 := fs.Bool("asn4", false, "the session negotiated 4-octet ASNs (AS_PATH and AGGREGATOR carry 4-octet ASNs)")
	addPath := fs.String("addpath", "", "comma-separated `families` with ADD-PATH path identifiers, e.g. ipv4/unicast,ipv6/unicast")
	extNH := fs.Bool("extended-nexthop", false, "the session negotiated RFC 8950 extended next hops")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: collector decode [-asn4] [-addpath FAMILY,...] [-extended-nexthop] HEX...")
		fmt.Fprintln(fs.Output(), "\nEach HEX is one or more BGP messages, with or without the 16-byte marker;")
		fmt.Fprintln(fs.Output(), "ExaBGP's MARKER:LEN:TYPE:BODY form and spaces are accepted. With no HEX,")
		fmt.Fprintln(fs.Output(), "messages are read from standard input, one per line.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	opt := &bgpwire.DecodeOptions{ASN4: *asn4, ExtendedNextHop: *extNH, ExtendedMessage: true}
	if *addPath != "" {
		for _, name := range strings.Split(*addPath, ",") {
			f, err := schema.ParseFamily(strings.TrimSpace(name))
			if err != nil {
				return fmt.Errorf("-addpath: %w", err)
			}
			opt.AddPath = append(opt.AddPath, bgpwire.Family{AFI: bgpwire.AFI(f.AFI), SAFI: bgpwire.SAFI(f.SAFI)})
		}
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				inputs = append(inputs, line)
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
	}
	if len(inputs) == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	var errs []error
	for i, in := range inputs {
		if err := decodeArg(out, in, opt); err != nil {
			errs = append(errs, fmt.Errorf("message %d: %w", i+1, err))
			out.Flush()
			fmt.Fprintf(os.Stderr, "collector decode: message %d: %v\n", i+1, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d messages could not be decoded", len(errs), len(inputs))
	}
	return nil
}

// parseHex reads one argument: hex digits, optionally separated by
// colons (ExaBGP's MARKER:LEN:TYPE:BODY), spaces or a 0x prefix.
func parseHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	s = strings.NewReplacer(":", "", " ", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	return b, nil
}

var marker = bytes.Repeat([]byte{0xff}, 16)

func decodeArg(out *bufio.Writer, in string, opt *bgpwire.DecodeOptions) error {
	b, err := parseHex(in)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(b, marker) {
		// Without the marker: LEN TYPE BODY.
		if len(b) < 3 || int(b[0])<<8|int(b[1]) != len(b)+16 {
			return fmt.Errorf("%d bytes: neither a message with its 16-byte marker nor LEN:TYPE:BODY whose length field matches (want length %d)", len(b), len(b)+16)
		}
		b = append(append([]byte(nil), marker...), b...)
	}
	var m bgpwire.Message
	for len(b) > 0 {
		msg, rest, err := bgpwire.SplitMessage(b, opt.MaxLen())
		if err != nil {
			return err
		}
		b = rest
		if err := m.Decode(msg, opt); err != nil {
			return err
		}
		ev := schema.Event{Raw: hex.EncodeToString(msg)}
		collector.FillMessage(&ev, &m)
		line, err := json.Marshal(&ev)
		if err != nil {
			return fmt.Errorf("writing the event: %w", err)
		}
		out.Write(line)
		out.WriteByte('\n')
		if m.Header.Type == bgpwire.MsgUpdate {
			for _, e := range m.Update.Errors {
				var be *bgpwire.Error
				if errors.As(e, &be) {
					fmt.Fprintf(os.Stderr, "collector decode: warning: %v\n", be)
				}
			}
		}
	}
	return nil
}
