package bgpwire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"

	"github.com/vantage-bgp/vantage/internal/shareddata"
	"github.com/vantage-bgp/vantage/internal/testenv"
)

// The twin tests prove each fast path (fastpath.go) equal to the general
// path it stands in for: every input is decoded with the fast paths on
// and again with fast paths forced off, one at a time and all together,
// and the decoded values, errors and warnings must be the same. The
// general path is the reference (it applies every check of RFC 7606 and
// RFC 6396).

// twinUpdateModes are the fast-path sets forced off for UPDATEs and
// attribute sections: each one alone, then all of them.
var twinUpdateModes = []fastPath{fastAttrs, fastNLRI, fastReset, fastMPNextHop, fastASPath, allFastPaths}

func (p fastPath) String() string {
	if p == allFastPaths {
		return "all"
	}
	names := []string{"attrs", "nlri", "record", "reset", "mpNextHop", "bgp4mp", "asPath"}
	var s []string
	for i, n := range names {
		if p&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return strings.Join(s, "+")
}

// withSlowPaths runs f with the fast paths of p forced off.
func withSlowPaths(p fastPath, f func()) {
	setSlowPaths(p)
	defer setSlowPaths(0)
	f()
}

// twinPlan says how twinDiff compares values of one type; plans are
// made once per type, so that comparing costs no look-ups.
type twinPlan struct {
	t      reflect.Type
	plain  bool // equal when the memory is (then compared with ==)
	fields []int
	sub    []*twinPlan // of fields, or of the element
}

var twinPlans = map[reflect.Type]*twinPlan{}

func twinPlanOf(t reflect.Type) *twinPlan {
	if p, ok := twinPlans[t]; ok {
		return p
	}
	p := &twinPlan{t: t}
	twinPlans[t] = p
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.plain = true
	case reflect.Array, reflect.Slice, reflect.Pointer:
		p.sub = []*twinPlan{twinPlanOf(t.Elem())}
		p.plain = t.Kind() == reflect.Array && p.sub[0].plain
	case reflect.Struct:
		// netip's zone handles are canonical: equal pointers, equal zones.
		p.plain = t.PkgPath() == "net/netip" || t.PkgPath() == "unique"
		if p.plain {
			break
		}
		p.plain = true
		for i := range t.NumField() {
			switch t.Field(i).Name {
			case "opts", "pathSegs", "asnBuf", "as4Buf", "mergeSegs", "mergeBuf", "rawKept", "nlri":
				p.plain = false
				continue // storage, or state of one call
			}
			p.fields = append(p.fields, i)
			p.sub = append(p.sub, twinPlanOf(t.Field(i).Type))
			p.plain = p.plain && p.sub[len(p.sub)-1].plain
		}
	}
	return p
}

// twinDiff describes the first difference between two decoded values, or
// returns "". Slices compare by content (nil and empty are equal), errors
// by their message and the sentinels they wrap; fields that are only
// storage are skipped. The description starts with the path to the field
// that differs, built only when something does. a and b are addressable
// (reached through pointers), so that plain values are compared as
// memory first, which keeps the test fast; values whose memory differs
// are compared again with ==, so padding cannot make a false difference.
func (p *twinPlan) diff(a, b reflect.Value) string {
	switch p.t.Kind() {
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf(": %v vs %v", a, b)
			}
			return ""
		}
		ea, okA := a.Interface().(error)
		eb, okB := b.Interface().(error)
		if !okA || !okB {
			panic("twinDiff: " + p.t.String())
		}
		if ea.Error() != eb.Error() {
			return fmt.Sprintf(": %q vs %q", ea.Error(), eb.Error())
		}
		for _, s := range []error{ErrTruncated, ErrMissingAttribute, ErrMRTDamaged, ErrMRTTruncated, ErrMRTUnsupported} {
			if errors.Is(ea, s) != errors.Is(eb, s) {
				return fmt.Sprintf(": wraps %v: %v vs %v", s, errors.Is(ea, s), errors.Is(eb, s))
			}
		}
		return ""
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf(": nil %v vs %v", a.IsNil(), b.IsNil())
			}
			return ""
		}
		return p.sub[0].diff(a.Elem(), b.Elem())
	case reflect.Slice:
		n := a.Len()
		if n != b.Len() {
			return fmt.Sprintf(": length %d vs %d", n, b.Len())
		}
		if n == 0 {
			return ""
		}
		if p.sub[0].plain {
			size := n * int(p.t.Elem().Size())
			if size == 0 || bytes.Equal(unsafe.Slice((*byte)(a.UnsafePointer()), size), unsafe.Slice((*byte)(b.UnsafePointer()), size)) {
				return ""
			}
		}
		for i := range n {
			if d := p.sub[0].diff(a.Index(i), b.Index(i)); d != "" {
				return fmt.Sprintf("[%d]%s", i, d)
			}
		}
		return ""
	}
	if p.plain {
		size := int(p.t.Size())
		if size == 0 || bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(a.UnsafeAddr())), size), unsafe.Slice((*byte)(unsafe.Pointer(b.UnsafeAddr())), size)) || a.Equal(b) {
			return ""
		}
		return fmt.Sprintf(": %v vs %v", a, b)
	}
	switch p.t.Kind() {
	case reflect.Struct:
		for k, i := range p.fields {
			if d := p.sub[k].diff(a.Field(i), b.Field(i)); d != "" {
				return "." + p.t.Field(i).Name + d
			}
		}
	case reflect.Array:
		for i := range a.Len() {
			if d := p.sub[0].diff(a.Index(i), b.Index(i)); d != "" {
				return fmt.Sprintf("[%d]%s", i, d)
			}
		}
	case reflect.String:
		if a.String() != b.String() {
			return fmt.Sprintf(": %q vs %q", a.String(), b.String())
		}
	default:
		panic("twinDiff: " + p.t.String())
	}
	return ""
}

// diffValues is twinPlan.diff for two pointers to values of one type, and
// the errors that decoding them returned.
func diffValues[T any](a, b *T, errA, errB error) string {
	if d := twinPlanOf(reflect.TypeFor[error]()).diff(reflect.ValueOf(&errA).Elem(), reflect.ValueOf(&errB).Elem()); d != "" {
		return "error" + d
	}
	if d := twinPlanOf(reflect.TypeFor[*T]()).diff(reflect.ValueOf(a), reflect.ValueOf(b)); d != "" {
		return reflect.TypeFor[T]().String() + d
	}
	return ""
}

// twinChecker decodes UPDATEs and attribute sections the fast way and
// with each set of twinUpdateModes forced off, each into an Update of
// its own that is reused from input to input (the AS_PATH fast path and
// the fast reset only run on a reused Update), and also all forced off
// into a fresh Update.
type twinChecker struct {
	t        *testing.T
	ref      Update
	slow     [8]Update
	rng      *rand.Rand
	buf      []byte
	inputs   int // decoded, variants included
	failures int
}

func newTwinChecker(t *testing.T) *twinChecker {
	return &twinChecker{t: t, rng: rand.New(rand.NewPCG(7606, 4271))}
}

// decode decodes b as an UPDATE body, or with attrs as an attribute
// section.
func twinDecode(u *Update, b []byte, opt *DecodeOptions, attrs bool) error {
	if attrs {
		return u.DecodeAttributes(b, opt)
	}
	return u.Decode(b, opt)
}

// check decodes b every way and reports differences.
func (tw *twinChecker) check(name string, b []byte, opt *DecodeOptions, attrs bool) {
	tw.inputs++
	want := twinDecode(&tw.ref, b, opt, attrs)
	for i, p := range twinUpdateModes {
		var got error
		withSlowPaths(p, func() { got = twinDecode(&tw.slow[i], b, opt, attrs) })
		if d := diffValues(&tw.ref, &tw.slow[i], want, got); d != "" {
			tw.fail(name, "forced off: "+p.String(), b, opt, attrs, d)
		}
	}
	var fresh Update
	var got error
	withSlowPaths(allFastPaths, func() { got = twinDecode(&fresh, b, opt, attrs) })
	if d := diffValues(&tw.ref, &fresh, want, got); d != "" {
		tw.fail(name, "forced off: all, into a fresh Update", b, opt, attrs, d)
	}
}

func (tw *twinChecker) fail(name, mode string, b []byte, opt *DecodeOptions, attrs bool, d string) {
	tw.t.Helper()
	tw.failures++
	what := "UPDATE body"
	if attrs {
		what = "attributes"
	}
	tw.t.Errorf("%s (%s, asn4 %v, add-path %v, rib family %v): fast and general paths differ, %s: %s\n%s %x",
		name, mode, opt.asn4(), opt != nil && len(opt.AddPath) > 0, opt.ribFamily(), what, d, what, b)
	if tw.failures >= 10 {
		tw.t.FailNow()
	}
}

// variants checks flips bit-flipped copies of b (one to four flips each,
// half of them in the first 48 bytes, where the lengths are) and cuts
// truncated copies, all drawn from the checker's seeded generator.
func (tw *twinChecker) variants(name string, b []byte, opt *DecodeOptions, attrs bool, flips, cuts int) {
	if len(b) == 0 {
		return
	}
	for k := range flips {
		tw.buf = append(tw.buf[:0], b...)
		for range 1 + tw.rng.IntN(4) {
			n := len(b)
			if tw.rng.IntN(2) == 0 {
				n = min(n, 48)
			}
			bit := tw.rng.IntN(8 * n)
			tw.buf[bit/8] ^= 1 << (bit % 8)
		}
		tw.check(fmt.Sprintf("%s flipped #%d", name, k), tw.buf, opt, attrs)
	}
	for k := range cuts {
		tw.check(fmt.Sprintf("%s cut #%d", name, k), b[:tw.rng.IntN(len(b))], opt, attrs)
	}
}

// twinAttr builds a path attribute: flags, type, length (one octet, or
// two with FlagExtLength), value.
func twinAttr(flags uint8, c AttrCode, v ...byte) []byte {
	if flags&FlagExtLength != 0 {
		return append([]byte{flags, byte(c), byte(len(v) >> 8), byte(len(v))}, v...)
	}
	return append([]byte{flags, byte(c), byte(len(v))}, v...)
}

// twinUpdate builds an UPDATE body from its withdrawn routes field, its
// attributes and its NLRI field.
func twinUpdate(withdrawn []byte, attrs [][]byte, nlri []byte) []byte {
	b := appendU16(nil, uint16(len(withdrawn)))
	b = append(b, withdrawn...)
	a := bytes.Join(attrs, nil)
	b = appendU16(b, uint16(len(a)))
	b = append(b, a...)
	return append(b, nlri...)
}

var (
	twinOrigin    = twinAttr(0x40, AttrOrigin, 0)                                                           // ORIGIN IGP
	twinPath4     = twinAttr(0x40, AttrASPath, 2, 2, 0, 0, 0xfd, 0xe9, 0, 1, 0, 0)                          // AS_SEQUENCE 65001 65536 (4-octet)
	twinPath2     = twinAttr(0x40, AttrASPath, 2, 2, 0xfd, 0xe9, 0x5b, 0xa0)                                // AS_SEQUENCE 65001 23456 (2-octet)
	twinPathSets  = twinAttr(0x40, AttrASPath, 2, 1, 0, 0, 0xfd, 0xe9, 1, 2, 0, 0, 0, 1, 0, 0, 0, 2)        // SEQUENCE 65001, SET {1 2}
	twinNextHop   = twinAttr(0x40, AttrNextHop, 192, 0, 2, 1)                                               // NEXT_HOP 192.0.2.1
	twinMED       = twinAttr(0x80, AttrMED, 0, 0, 0, 50)                                                    // MED 50
	twinLocalPref = twinAttr(0x40, AttrLocalPref, 0, 0, 0, 100)                                             // LOCAL_PREF 100
	twinAtomic    = twinAttr(0x40, AttrAtomicAggregate)                                                     // ATOMIC_AGGREGATE
	twinAgg4      = twinAttr(0xc0, AttrAggregator, 0, 0, 0xfd, 0xe9, 192, 0, 2, 9)                          // AGGREGATOR 65001 192.0.2.9 (4-octet)
	twinAgg2      = twinAttr(0xc0, AttrAggregator, 0x5b, 0xa0, 192, 0, 2, 9)                                // AGGREGATOR AS_TRANS 192.0.2.9 (2-octet)
	twinComms     = twinAttr(0xc0|FlagExtLength, AttrCommunities, 0xfd, 0xe9, 0, 1, 0xff, 0xff, 0xff, 0x01) // 65001:1 NO_EXPORT, extended length
	twinAS4Path   = twinAttr(0xc0, AttrAS4Path, 2, 2, 0, 0, 0xfd, 0xe9, 0, 1, 0, 0)                         // AS4_PATH 65001 65536
	twinAS4Agg    = twinAttr(0xc0, AttrAS4Aggregator, 0, 1, 0, 0, 192, 0, 2, 9)                             // AS4_AGGREGATOR 65536 192.0.2.9
	twinOrigID    = twinAttr(0x80, AttrOriginatorID, 192, 0, 2, 7)                                          // ORIGINATOR_ID
	twinCluster   = twinAttr(0x80, AttrClusterList, 192, 0, 2, 7, 192, 0, 2, 8)                             // CLUSTER_LIST
	twinExtComm   = twinAttr(0xc0, AttrExtCommunities, 0, 2, 0xfd, 0xe9, 0, 0, 0, 1)                        // route target 65001:1
	twinUnknown   = twinAttr(0xe0, 99, 1, 2, 3)                                                             // unknown optional transitive, partial
	// MP_REACH_NLRI IPv6 unicast: next hop 2001:db8::1 and fe80::1, two prefixes.
	twinMPReach6 = twinAttr(0x80, AttrMPReach, append(append([]byte{0, 2, 1, 32},
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 0,
		32, 0x20, 0x01, 0x0d, 0xb8, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1)...)
	// MP_REACH_NLRI IPv6 unicast with an IPv4-mapped 16-byte next hop and a /0.
	twinMPReach6m = twinAttr(0x80, AttrMPReach, 0, 2, 1, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1, 0, 0)
	// MP_REACH_NLRI IPv4 VPN: next hop RD 0:0 192.0.2.1, label 16, RD 65001:1, 10.1.0.0/16.
	twinMPReachVPN = twinAttr(0x80, AttrMPReach, 0, 1, 128, 12, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1, 0,
		88+16, 0, 1, 1, 0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 10, 1)
	// MP_UNREACH_NLRI IPv6 unicast: 2001:db8::/32.
	twinMPUnreach6 = twinAttr(0x80, AttrMPUnreach, 0, 2, 1, 32, 0x20, 0x01, 0x0d, 0xb8)
	// The RFC 6396 abbreviated MP_REACH_NLRI of a RIB entry: next hop length and next hop.
	twinMPReachRIB = twinAttr(0x80, AttrMPReach, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)
)

// twinCorpus is the built-in corpus: hand-built UPDATE bodies (and
// attribute sections), each decoded with every option set that changes
// how it decodes.
func twinCorpus() (updates, attrSections [][]byte) {
	v4 := []byte{24, 198, 51, 100, 32, 192, 0, 2, 1, 0, 8, 10} // 198.51.100.0/24, 192.0.2.1/32, 0.0.0.0/0, 10.0.0.0/8
	withdrawn := []byte{16, 172, 16, 25, 10, 1, 2, 0x80}       // 172.16.0.0/16, 10.1.2.0/25
	addPath := []byte{0, 0, 0, 1, 24, 198, 51, 100, 0, 0, 0, 2, 16, 10, 1}
	common4 := [][]byte{twinOrigin, twinPath4, twinNextHop, twinMED, twinLocalPref, twinAtomic, twinAgg4, twinComms}
	updates = [][]byte{
		updateBasic,
		twinUpdate(nil, nil, nil), // End-of-RIB
		twinUpdate(withdrawn, nil, nil),
		twinUpdate(nil, common4, v4),
		twinUpdate(withdrawn, common4, v4),
		twinUpdate(nil, [][]byte{twinOrigin, twinPath2, twinNextHop, twinAgg2, twinAS4Path, twinAS4Agg}, v4),
		twinUpdate(nil, [][]byte{twinOrigin, twinPathSets, twinNextHop, twinOrigID, twinCluster, twinExtComm, twinUnknown}, v4),
		twinUpdate(nil, [][]byte{twinOrigin, twinPath4, twinMPReach6, twinMED}, nil),
		twinUpdate(nil, [][]byte{twinMPReach6m, twinOrigin, twinPath4}, nil),
		twinUpdate(nil, [][]byte{twinOrigin, twinPath4, twinMPReachVPN, twinExtComm}, nil),
		twinUpdate(nil, [][]byte{twinMPUnreach6}, nil),
		twinUpdate(withdrawn, [][]byte{twinMPUnreach6, twinOrigin, twinPath4, twinMPReach6}, v4),
		twinUpdate(nil, [][]byte{twinOrigin, twinPath4, twinNextHop}, addPath),
		// Malformed: repeated ORIGIN, NEXT_HOP of 5 bytes, MED with
		// transitive flags, missing AS_PATH.
		twinUpdate(nil, [][]byte{twinOrigin, twinOrigin, twinNextHop}, v4),
		twinUpdate(nil, [][]byte{twinOrigin, twinPath4, twinAttr(0x40, AttrNextHop, 1, 2, 3, 4, 5)}, v4),
		twinUpdate(nil, [][]byte{twinOrigin, twinPath4, twinNextHop, twinAttr(0xc0, AttrMED, 0, 0, 0, 1)}, v4),
		twinUpdate(nil, [][]byte{twinOrigin, twinNextHop}, v4),
		// ORIGIN 3, AS_PATH with an empty segment, COMMUNITIES of 3 bytes.
		twinUpdate(nil, [][]byte{twinAttr(0x40, AttrOrigin, 3), twinAttr(0x40, AttrASPath, 2, 0), twinNextHop, twinAttr(0xc0, AttrCommunities, 1, 2, 3)}, v4),
		// MP_REACH with a next hop of 5 bytes, then one repeated.
		twinUpdate(nil, [][]byte{twinOrigin, twinPath4, twinAttr(0x80, AttrMPReach, 0, 2, 1, 5, 1, 2, 3, 4, 5, 0)}, nil),
		twinUpdate(nil, [][]byte{twinMPReach6, twinMPReach6}, nil),
	}
	attrSections = [][]byte{
		bytes.Join([][]byte{twinOrigin, twinPath4, twinMPReachRIB, twinMED}, nil),
		bytes.Join([][]byte{twinOrigin, twinPath4, twinMPReach6}, nil),
		bytes.Join(common4, nil),
		bytes.Join([][]byte{twinOrigin, twinPath2, twinNextHop, twinAgg2, twinAS4Path, twinAS4Agg}, nil),
	}
	return updates, attrSections
}

// twinOptions are the option sets the built-in and ExaBGP corpora are
// decoded with.
var twinOptions = []*DecodeOptions{
	{ASN4: true},
	{},
	{ASN4: true, AddPath: []Family{IPv4Unicast, IPv6Unicast, IPv4VPN}},
	{ASN4: true, RIBFamily: IPv6Unicast},
}

// TestTwinBuiltin checks the fast paths on the built-in corpus and on
// many damaged copies of it: it needs no shared data.
func TestTwinBuiltin(t *testing.T) {
	tw := newTwinChecker(t)
	updates, attrSections := twinCorpus()
	for i, b := range updates {
		for j, opt := range twinOptions {
			name := fmt.Sprintf("built-in UPDATE %d, options %d", i, j)
			tw.check(name, b, opt, false)
			tw.variants(name, b, opt, false, 200, 40)
		}
	}
	for i, b := range attrSections {
		for j, opt := range twinOptions {
			name := fmt.Sprintf("built-in attributes %d, options %d", i, j)
			tw.check(name, b, opt, true)
			tw.variants(name, b, opt, true, 200, 40)
		}
	}
	t.Logf("%d inputs", tw.inputs)
}

// TestTwinExaBGP checks the fast paths on the messages of ExaBGP's
// encoding and decoding suites and on damaged copies of them.
func TestTwinExaBGP(t *testing.T) {
	dir := shareddata.Path(t, "exabgp", "qa")
	var msgs [][]byte
	files, _ := filepath.Glob(filepath.Join(dir, "encoding", "*.ci"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if _, h, ok := strings.Cut(line, ":raw:"); ok {
				msgs = append(msgs, exaHexF(h))
			}
		}
	}
	files, _ = filepath.Glob(filepath.Join(dir, "decoding", "*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.SplitN(string(b), "\n", 3); len(lines) == 3 && strings.HasPrefix(lines[0], "update") {
			m := exaHexF(lines[1])
			if !bytes.HasPrefix(m, marker16) { // a body without its header
				m = append(AppendHeader(nil, MsgUpdate, len(m)), m...)
			}
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		testenv.Skip(t, "shared test file missing: no ExaBGP messages")
	}
	tw := newTwinChecker(t)
	for i, m := range msgs {
		if len(m) < HeaderLen || MessageType(m[18]) != MsgUpdate {
			continue
		}
		for j, opt := range twinOptions[:3] {
			name := fmt.Sprintf("ExaBGP message %d, options %d", i, j)
			tw.check(name, m[HeaderLen:], opt, false)
			tw.variants(name, m[HeaderLen:], opt, false, 20, 5)
		}
	}
	t.Logf("%d inputs", tw.inputs)
}

// mrtFiles returns the shared MRT files (every file under mrt/ that
// opens as a stream of MRT records), decompressed.
func twinMRTFiles(t *testing.T) map[string][]byte {
	root := filepath.Join(shareddata.Dir(t), "mrt")
	files := map[string][]byte{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, ok := readMRTFile(t, p, 64<<20)
		if ok && len(data) >= mrtHeaderLen && validHeader(parseMRTHeader(data)) {
			name, _ := filepath.Rel(root, p)
			files[name] = data
		}
		return nil
	})
	if len(files) == 0 {
		testenv.Skip(t, "shared test file missing: no shared MRT files")
	}
	return files
}

// twinRecords reads data with the record fast path on and forced off,
// from memory and as a stream arriving in pieces, and checks that both
// ways give the same records and warnings. It calls each with every
// record read the fast way from memory.
func twinRecords(t *testing.T, name string, data []byte, each func(*MRTRecord)) (records int) {
	t.Helper()
	type side struct {
		r     *MRTReader
		warns []string
	}
	newSide := func(r *MRTReader) *side {
		s := &side{r: r}
		r.Warn = func(w *MRTWarning) { s.warns = append(s.warns, fmt.Sprintf("%d %d %v", w.Offset, w.Record, w.Err)) }
		return s
	}
	pairs := [][2]*side{
		{newSide(NewMRTReaderBytes(data)), newSide(NewMRTReaderBytes(data))},
		{newSide(NewMRTReader(iotest.HalfReader(bytes.NewReader(data)))), newSide(NewMRTReader(iotest.HalfReader(bytes.NewReader(data))))},
	}
	for {
		done := true
		for k, pair := range pairs {
			var fast, slow *MRTRecord
			var errFast, errSlow error
			fast, errFast = pair[0].r.Next()
			withSlowPaths(fastRecord, func() { slow, errSlow = pair[1].r.Next() })
			if d := diffValues(fast, slow, errFast, errSlow); d != "" {
				t.Fatalf("%s, reader %d, record %d: fast and general record paths differ: %s", name, k, pair[0].r.Records(), d)
			}
			if d := diffValues(&pair[0].warns, &pair[1].warns, nil, nil); d != "" {
				t.Fatalf("%s, reader %d, record %d: fast and general record paths warn differently: %s\nfast %q\ngeneral %q", name, k, pair[0].r.Records(), d, pair[0].warns, pair[1].warns)
			}
			if errFast == nil {
				done = false
				if k == 0 {
					records++
					each(fast)
				}
			} else if errFast != io.EOF {
				t.Fatalf("%s: %v", name, errFast)
			}
		}
		if done {
			return records
		}
	}
}

// twinRecordDecoder decodes MRT records with their fast paths on and
// forced off, and the UPDATEs and RIB attributes they carry through a
// twinChecker.
type twinRecordDecoder struct {
	t                   *testing.T
	tw                  *twinChecker
	name                string
	m, mSlow            BGP4MP
	rib, ribSlow        RIB
	td                  TableDump
	updates, ribAttrs   int
	varyEvery, varyLeft int // UPDATEs get damaged copies every varyEvery
}

func (d *twinRecordDecoder) record(rec *MRTRecord) {
	h := rec.Header
	switch h.Type {
	case MRTBGP4MP, MRTBGP4MPET, MRTBGP:
		err := d.m.Decode(h, rec.Body)
		var errSlow error
		withSlowPaths(fastBGP4MP|fastNLRI, func() { errSlow = d.mSlow.Decode(h, rec.Body) })
		if diff := diffValues(&d.m, &d.mSlow, err, errSlow); diff != "" {
			d.t.Fatalf("%s, record %d: fast and general BGP4MP paths differ: %s\nbody %x", d.name, rec.Index, diff, rec.Body)
		}
		if err == nil && d.m.IsMessage && d.m.MsgType == MsgUpdate {
			d.updates++
			name := fmt.Sprintf("%s, record %d", d.name, rec.Index)
			d.tw.check(name, d.m.MsgBody, d.m.DecodeOptions(), false)
			if d.varyEvery > 0 && d.updates%d.varyEvery == 0 {
				d.tw.variants(name, d.m.MsgBody, d.m.DecodeOptions(), false, 2, 1)
			}
		}
	case MRTTableDump2:
		if !IsRIBSubtype(h.Subtype) {
			return
		}
		err := d.rib.Decode(h.Subtype, rec.Body)
		var errSlow error
		withSlowPaths(fastNLRI, func() { errSlow = d.ribSlow.Decode(h.Subtype, rec.Body) })
		if diff := diffValues(&d.rib, &d.ribSlow, err, errSlow); diff != "" {
			d.t.Fatalf("%s, record %d: fast and general RIB paths differ: %s\nbody %x", d.name, rec.Index, diff, rec.Body)
		}
		if err != nil {
			return
		}
		opt := *d.rib.DecodeOptions()
		for i, e := range d.rib.Entries {
			d.ribAttrs++
			d.tw.check(fmt.Sprintf("%s, record %d, entry %d", d.name, rec.Index, i), e.Attrs, &opt, true)
		}
	case MRTTableDump:
		if d.td.Decode(h.Subtype, rec.Body) != nil {
			return
		}
		for i, e := range d.td.Entries {
			d.ribAttrs++
			d.tw.check(fmt.Sprintf("%s, record %d, entry %d", d.name, rec.Index, i), e.Attrs, d.td.DecodeOptions(), true)
		}
	}
}

// TestTwinMRT reads every shared MRT file with the record fast path on
// and forced off, and decodes every BGP4MP record, every UPDATE and every
// RIB entry's attributes both ways (a sample of the UPDATEs also as
// damaged copies); then it does the same for damaged copies of the
// files' first 128 KiB.
func TestTwinMRT(t *testing.T) {
	files := twinMRTFiles(t)
	tw := newTwinChecker(t)
	var records, updates, ribAttrs int
	rng := rand.New(rand.NewPCG(6396, 8050))
	for name, data := range files {
		d := &twinRecordDecoder{t: t, tw: tw, name: name, varyEvery: 16}
		records += twinRecords(t, name, data, d.record)
		updates += d.updates
		ribAttrs += d.ribAttrs
		// Damaged copies: cut, and with bytes overwritten or bits
		// flipped, at places drawn from the seeded generator.
		head := data[:min(len(data), 128<<10)]
		for k := range 6 {
			var bad []byte
			switch k % 3 {
			case 0:
				bad = head[:rng.IntN(len(head))]
			case 1:
				bad = append([]byte(nil), head...)
				at := rng.IntN(len(bad))
				for i := at; i < at+16 && i < len(bad); i++ {
					bad[i] ^= byte(0x5a + i)
				}
			case 2:
				bad = append([]byte(nil), head...)
				for range 8 {
					bit := rng.IntN(8 * len(bad))
					bad[bit/8] ^= 1 << (bit % 8)
				}
			}
			dn := fmt.Sprintf("%s damaged #%d", name, k)
			twinRecords(t, dn, bad, (&twinRecordDecoder{t: t, tw: tw, name: dn}).record)
		}
	}
	t.Logf("%d files, %d records, %d UPDATEs, %d RIB entries; %d decodes compared", len(files), records, updates, ribAttrs, tw.inputs)
}

// TestResetMPReachZeroFamily is the discrepancy the twin test found:
// Attributes.reset (the general reset) cleared MP_REACH_NLRI only when
// its family was set, but a decode of an MP_REACH_NLRI with AFI 0 and
// SAFI 0 leaves the family zero and the next hop field and reserved
// octet set, which the next message then showed.
func TestResetMPReachZeroFamily(t *testing.T) {
	// MP_REACH_NLRI: AFI 0, SAFI 0, next hop of 5 bytes, reserved 7.
	body := twinUpdate(nil, [][]byte{twinOrigin, twinPath4, twinAttr(0x80, AttrMPReach, 0, 0, 0, 5, 1, 2, 3, 4, 5, 7)}, nil)
	var u Update
	u.Decode(body, &DecodeOptions{ASN4: true})
	if len(u.Attrs.MPReach.NextHopRaw) != 5 || u.Attrs.MPReach.Reserved != 7 {
		t.Fatalf("decoded MP_REACH_NLRI %+v, want the 5-byte next hop and reserved 7 kept", u.Attrs.MPReach)
	}
	u.Attrs.Reset()
	if m := u.Attrs.MPReach; len(m.NextHopRaw) != 0 || m.Reserved != 0 || m.NextHop.IsValid() {
		t.Fatalf("after Reset MP_REACH_NLRI holds %+v", m)
	}
}
