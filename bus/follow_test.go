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

// The stream sequence is read from both forms of the reply subject.
func TestStreamSeq(t *testing.T) {
	for _, c := range []struct {
		reply string
		seq   uint64
		ok    bool
	}{
		{"$JS.ACK.VANTAGE_EVENTS.reader.1.4711.12.1796105139301848000.99", 4711, true},
		{"$JS.ACK.hub.ACCHASH.VANTAGE_EVENTS.reader.1.4712.12.1796105139301848000.99.rand", 4712, true},
		{"$JS.ACK.hub.ACCHASH.VANTAGE_EVENTS.reader.1.4713.12.1796105139301848000.99", 0, false},
		{"_INBOX.abc", 0, false},
		{"$JS.ACK.S.c.1.x.12.1.0", 0, false},
	} {
		seq, ok := streamSeq(c.reply)
		if seq != c.seq || ok != c.ok {
			t.Errorf("%s: %d %v, want %d %v", c.reply, seq, ok, c.seq, c.ok)
		}
	}
}
