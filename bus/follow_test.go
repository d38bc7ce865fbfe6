package bus

import "testing"

// The client-side filter (nats-server before 2.10 takes one filter
// subject per consumer) matches as the server does.
func TestSubjectMatches(t *testing.T) {
	for _, c := range []struct {
		filter, subject string
		want            bool
	}{
		{"vantage.events.>", "vantage.events.rrc.UPDATE.65001.192_0_2_1", true},
		{"vantage.events.*.UPDATE.>", "vantage.events.rrc.UPDATE.65001.192_0_2_1", true},
		{"vantage.events.*.UPDATE.>", "vantage.events.rrc.OPEN.65001.192_0_2_1", false},
		{"vantage.events.*.*.*.192_0_2_1", "vantage.events.rrc.OPEN.65001.192_0_2_1", true},
		{"vantage.events.*.*.*.192_0_2_1", "vantage.events.rrc.OPEN.65001.192_0_2_10", false},
		{"vantage.events.*.*.65001", "vantage.events.rrc.OPEN.65001.192_0_2_1", false},
		{"vantage.events.*.*.65001.*.*", "vantage.events.rrc.OPEN.65001.192_0_2_1", false},
		{"vantage.events.rrc.>", "vantage.events.rrc", false},
		{"vantage.events.*.*.*.2001:db8::1", "vantage.events.rrc.UPDATE.65001.2001:db8::1", true},
	} {
		if got := matcher([]string{c.filter})(c.subject); got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.filter, c.subject, got, c.want)
		}
	}
	for _, bad := range []string{"foo.>", "vantage.events", "vantage.events.>.UPDATE", "vantage.events..UPDATE"} {
		if err := checkFilter(bad); err == nil {
			t.Errorf("filter %q accepted", bad)
		}
	}
}
