package config

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestExampleIsDefault keeps testdata/default.yaml, the documented file,
// equal to Default.
func TestExampleIsDefault(t *testing.T) {
	got, err := Load(filepath.Join("testdata", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("testdata/default.yaml:\n got %+v\nwant %+v", got, Default())
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want func(*Config)
	}{
		{"empty", "", func(*Config) {}},
		{"comment only", "# nothing\n", func(*Config) {}},
		{"null section keeps defaults", "clickhouse:\n", func(*Config) {}},
		{"partial section", "clickhouse: {dsn: 'clickhouse://db:9000', flush_interval: 250ms}\n", func(c *Config) {
			c.ClickHouse.DSN = "clickhouse://db:9000"
			c.ClickHouse.FlushInterval = 250 * time.Millisecond
		}},
		{"peers replace the default", "collector:\n  peers:\n    - address: 192.0.2.0/24\n      asn: 64500\n    - address: 2001:db8::1/128\n", func(c *Config) {
			c.Collector.Peers = []PeerConfig{
				{Address: netip.MustParsePrefix("192.0.2.0/24"), ASN: 64500},
				{Address: netip.MustParsePrefix("2001:db8::1/128")},
			}
		}},
		{"cluster", "clickhouse:\n  cluster: vantage\n  shards: ['clickhouse://u:p@ch1:9000', 'clickhouse://u:p@ch2:9000']\n", func(c *Config) {
			c.ClickHouse.Cluster = "vantage"
			c.ClickHouse.Shards = []string{"clickhouse://u:p@ch1:9000", "clickhouse://u:p@ch2:9000"}
		}},
		{"no shards", "clickhouse: {shards: []}", func(*Config) {}},
		{"anchors", "lg: &l {listen: '0.0.0.0:80'}\n", func(c *Config) { c.LG.Listen = "0.0.0.0:80" }},
		{"lg access", "lg: {rate_limit: 5, rate_burst: 9, max_concurrent: 2, tokens: [0123456789abcdef], cors_origins: ['*', 'https://noc.example.net'], trusted_proxies: [127.0.0.1/32]}", func(c *Config) {
			c.LG.RateLimit, c.LG.RateBurst, c.LG.MaxConcurrent = 5, 9, 2
			c.LG.Tokens = []string{"0123456789abcdef"}
			c.LG.CORSOrigins = []string{"*", "https://noc.example.net"}
			c.LG.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		}},
		{"lg limits", "lg: {query_timeout: 30s, max_rows_to_read: 5000}", func(c *Config) {
			c.LG.QueryTimeout = 30 * time.Second
			c.LG.MaxRowsToRead = 5000
		}},
		{"log", "log: {level: debug, format: json}", func(c *Config) { c.Log = Log{Level: "debug", Format: "json"} }},
		{"router id", "collector: {router_id: 10.0.0.1, asn: 4200000000}", func(c *Config) {
			c.Collector.RouterID = netip.MustParseAddr("10.0.0.1")
			c.Collector.ASN = 4200000000
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		yaml string
		want []string // substrings of the error
	}{
		{"clickhouse: {tcp_prot: 1}", []string{"clickhouse.tcp_prot: unknown key", "known keys here: dsn,", "line 1"}},
		{"bogus: 1", []string{"bogus: unknown key", "known keys here: collector, nats, clickhouse, lg, mrt, log"}},
		{"clickhouse:\n  tcp_port: abc\n", []string{`clickhouse.tcp_port: "abc" is not a whole number`, "line 2"}},
		{"clickhouse: {flush_interval: 10}", []string{`clickhouse.flush_interval: "10": want a duration`}},
		{"clickhouse: {flush_interval: 0s}", []string{"clickhouse.flush_interval: 0s: must be positive"}},
		{"clickhouse: {batch_size: 0}", []string{"clickhouse.batch_size: 0"}},
		{"clickhouse: {database: my-db}", []string{`clickhouse.database: "my-db"`}},
		{"clickhouse: {http_port: 19000}", []string{"clickhouse.http_port: 19000: same as clickhouse.tcp_port"}},
		{"clickhouse: {tcp_port: 70000}", []string{"clickhouse.tcp_port: 70000: want a port"}},
		{"clickhouse: {dsn: 'nohost'}", []string{"clickhouse.dsn"}},
		{"clickhouse: {cluster: vantage}", []string{"clickhouse.shards: empty"}},
		{"clickhouse: {cluster: my-cluster, shards: ['clickhouse://ch1:9000']}", []string{`clickhouse.cluster: "my-cluster"`}},
		{"clickhouse: {cluster: c, shards: ['clickhouse://ch1:9000', 'nohost']}", []string{`clickhouse.shards[1]: "nohost"`}},
		{"clickhouse: {shards: ['clickhouse://ch1:9000']}", []string{"clickhouse.shards: set without clickhouse.cluster"}},
		{"clickhouse: {shards: clickhouse://ch1:9000}", []string{"clickhouse.shards: want a list"}},
		{"collector: {asn: -1}", []string{`collector.asn: "-1" is not a whole number from 0 to 4294967295`}},
		{"collector: {asn: 0}", []string{"collector.asn: must not be 0"}},
		{"collector: {router_id: 2001:db8::1}", []string{"collector.router_id", "IPv4"}},
		{"collector: {router_id: banana}", []string{`collector.router_id: "banana"`}},
		{"collector: {peers: [{address: 192.0.2.1}]}", []string{`collector.peers[0].address: "192.0.2.1"`}},
		{"collector: {peers: [{address: 192.0.2.1/24}]}", []string{"collector.peers[0].address: 192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?"}},
		{"collector: {peers: [{asn: 1}]}", []string{"collector.peers[0].address: missing"}},
		{"collector: {peers: []}", []string{"collector.peers: empty"}},
		{"collector: {peers: [{address: 10.0.0.0/8, active: true}]}", []string{"collector.peers[0].active: the collector can connect to one address only"}},
		{"collector: {peers: [{address: 10.0.0.1/32, ttl_security: 255}]}", []string{"collector.peers[0].ttl_security: 255"}},
		{"collector: {peers: [{address: 10.0.0.1/32, hold_time: 2s}]}", []string{"collector.peers[0].hold_time: 2s"}},
		{"collector: {peers: [{address: 10.0.0.1/32, max_prefix: -1}]}", []string{"collector.peers[0].max_prefix: -1"}},
		{"collector: {peers: [{address: 10.0.0.1/32, max_sessions: x}]}", []string{`collector.peers[0].max_sessions: "x"`}},
		{"collector: {peers: [{address: 10.0.0.1/32, families: [ipv4/unicast, ipv4/bogus]}]}", []string{`collector.peers[0].families: "ipv4/bogus": not a family`}},
		{"collector: {peers: [{address: 10.0.0.1/32, add_path: both}]}", []string{`collector.peers[0].add_path: "both": want receive or off`}},
		{"collector: {peers: [{address: 10.0.0.1/32, port: 70000}]}", []string{"collector.peers[0].port: 70000"}},
		{"collector: {peers: [{address: 10.0.0.1/32, passwd: x}]}", []string{"collector.peers[0].passwd: unknown key"}},
		{"collector: {peers: [{address: 10.0.0.1/32, password: " + strings.Repeat("k", 81) + "}]}", []string{"collector.peers[0].password: 81 bytes"}},
		{"collector: {peers: {address: 10.0.0.0/8}}", []string{"collector.peers: want a list"}},
		{"collector: {name: 'a b'}", []string{`collector.name: "a b"`}},
		{"collector: {listen: ':bgp:'}", []string{`collector.listen: ":bgp:"`}},
		{"lg: {listen: 8080}", []string{`lg.listen: "8080": want host:port`}},
		{"lg: [1]", []string{"lg: want a mapping"}},
		{"lg: {query_timeout: 500ms}", []string{"lg.query_timeout: 500ms: want whole seconds, at least 1s"}},
		{"lg: {query_timeout: 1.5s}", []string{"lg.query_timeout: 1.5s: want whole seconds"}},
		{"mrt: {updates_interval: 7m}", []string{"mrt.updates_interval: 7m0s: want whole seconds that divide a day (5m, 8h)"}},
		{"mrt: {rib_interval: 0s}", []string{"mrt.rib_interval: 0s: want whole seconds that divide a day"}},
		{"lg: {max_rows_to_read: 0}", []string{"lg.max_rows_to_read: must be at least 1"}},
		{"lg: {rate_limit: -1}", []string{"lg.rate_limit: -1: must not be negative (0: no limit)"}},
		{"lg: {max_concurrent: -2}", []string{"lg.max_concurrent: -2: must not be negative"}},
		{"lg: {tokens: [short]}", []string{"lg.tokens[0]: want at least 16 characters without spaces"}},
		{"lg: {cors_origins: ['noc.example.net']}", []string{`lg.cors_origins[0]: "noc.example.net": want an origin such as https://noc.example.net, or *`}},
		{"lg: {trusted_proxies: [10.0.0.1/8]}", []string{"lg.trusted_proxies[0]: 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?"}},
		{"lg: {cors: ['*']}", []string{"lg.cors: unknown key; known keys here: listen, query_timeout, max_rows_to_read, rate_limit, rate_burst, max_concurrent, tokens, cors_origins, trusted_proxies, memory_rib"}},
		{"lg: {max_rows_to_read: -1}", []string{"lg.max_rows_to_read: \"-1\" is not a whole number"}},
		{"lg: {listen: [a]}", []string{"lg.listen: want a single value"}},
		{"log: {level: loud, format: xml}", []string{`log.level: "loud"`, `log.format: "xml"`}},
		{"lg: {listen: a:1}\nlg: {listen: b:1}", []string{"lg: key given twice"}},
		{"nats: {url: 'nats//x'}", []string{"nats.url"}},
		{"nats: {store_dir: ''}", []string{"nats.store_dir: must be set"}},
		{"clickhouse: {data_dir: ''}", []string{"clickhouse.data_dir: must be set"}},
		{"[1, 2]", []string{"(top level): want a mapping"}},
		{"a: [", []string{"yaml"}},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.yaml))
		if err == nil {
			t.Errorf("Parse(%q): no error", tt.yaml)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%q):\n%v\nwant it to contain %q", tt.yaml, err, w)
			}
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vantage.yaml")
	if err := os.WriteFile(path, []byte("lg: {listen: nope}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "lg.listen") {
		t.Errorf("Load: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("Load of a missing file: no error")
	}
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log := Log{Level: "warn", Format: "json"}.NewLogger(&buf)
	log.Info("hidden")
	log.Warn("shown", "peer", "192.0.2.1")
	if s := buf.String(); strings.Contains(s, "hidden") || !strings.Contains(s, `"msg":"shown"`) {
		t.Errorf("log output %q", s)
	}
}
