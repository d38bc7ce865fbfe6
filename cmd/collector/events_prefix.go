package main

import (
	"net/netip"

	"github.com/vantage-bgp/vantage/schema"
)

// prefixMatcher returns the client-side filter of `collector events
// -prefix`: an event passes when it announces or withdraws one of the
// prefixes (with more, also a prefix inside one; with less, also a prefix
// that covers one). Events that are not UPDATEs, or do not decode, do not
// pass. nil when no prefix is given.
func prefixMatcher(prefixes []netip.Prefix, more, less bool) func(data []byte) bool {
	if len(prefixes) == 0 {
		return nil
	}
	var ev schema.Event // reused: the filter runs on one goroutine
	hit := func(q netip.Prefix) bool {
		for _, p := range prefixes {
			switch {
			case p == q:
				return true
			case more && q.Bits() > p.Bits() && p.Contains(q.Addr()):
				return true
			case less && q.Bits() < p.Bits() && q.Contains(p.Addr()):
				return true
			}
		}
		return false
	}
	return func(data []byte) bool {
		if ev.DecodeJSON(data) != nil || ev.Type != schema.TypeUpdate {
			return false
		}
		for _, a := range ev.Announcements {
			for _, q := range a.Prefixes {
				if hit(q) {
					return true
				}
			}
		}
		for _, q := range ev.Withdrawals {
			if hit(q) {
				return true
			}
		}
		return false
	}
}
