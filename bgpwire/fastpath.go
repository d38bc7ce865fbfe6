package bgpwire

// fastPath names one of the decoder's fast paths: code that handles the
// common case of something the general code (the reference, which
// applies every check of RFC 7606 or RFC 6396) also handles.
type fastPath uint8

const (
	// fastAttrs is the attribute loop's fast path in decodeAttributes
	// (the general path: decodeAttributeAt for every attribute).
	fastAttrs fastPath = 1 << iota
	// fastNLRI is decodePrefixes for plain IPv4 and IPv6 prefixes in the
	// UPDATE fields, MP attributes and RIB records (the general path:
	// decodeNLRIsGeneral).
	fastNLRI
	// fastRecord is MRTReader.Next's path for a record whose header the
	// previous call's look-ahead checked (the general path: next).
	fastRecord
	// fastReset is Update.reset clearing only the common attributes'
	// fields when only those were on the wire (the general path:
	// Attributes.reset).
	fastReset
	// fastMPNextHop is decodeMPReach's inline next hop length check and
	// IPv6 next hop decode for plain families (the general path:
	// nextHopLenOK and decodeNextHop).
	fastMPNextHop
	// fastBGP4MP is BGP4MP.decodeMessage for message records (the
	// general path: the rest of BGP4MP.Decode).
	fastBGP4MP
	// fastASPath is decodeASPath's case of one AS_SEQUENCE (the general
	// path: its segment loop).
	fastASPath

	allFastPaths = fastAttrs | fastNLRI | fastRecord | fastReset | fastMPNextHop | fastBGP4MP | fastASPath
)

// slowPaths forces the general path in place of each fast path whose bit
// is set (set it with setSlowPaths). It is zero outside tests: only
// twin_test.go and fuzz_test.go set it, to prove that every fast path
// decodes what the general path decodes (same values, same errors). The
// fast paths taken once per message or record read it next to a check
// they make anyway; the attribute loop reads fastAttrFlags instead.
var slowPaths fastPath

// fastAttrFlags is the attribute loop's switch: the flags an attribute
// must have to take the fast path, wantFlagsTable normally. The loop
// looks it up in place of wantFlagsTable, so the switch costs nothing;
// with fastAttrs forced off every entry is one that no attribute's
// optional and transitive bits can equal.
var fastAttrFlags = wantFlagsTable

// setSlowPaths forces the general path in place of the fast paths of p
// (and lets the others run). Tests only; it is not safe to call while
// anything decodes.
func setSlowPaths(p fastPath) {
	slowPaths = p
	fastAttrFlags = wantFlagsTable
	if p&fastAttrs != 0 {
		for c := range fastAttrFlags {
			fastAttrFlags[c] = flagUnchecked
		}
	}
}
