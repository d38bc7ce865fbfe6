// Package config owns Vantage's configuration file: one YAML file shared by
// the collector and the looking glass, each reading the sections it needs.
//
//	collector:  {name, listen, asn, router_id, peers: [{address, asn, description, password, ttl_security,
//	            active, port, hold_time, max_prefix, max_prefix_restart, max_sessions, disabled,
//	            families, add_path}],
//	            store, metrics_listen, store_raw, open_timeout,
//	            graceful_restart, stale_time}
//	nats:       {url, listen, store_dir}
//	clickhouse: {dsn, cluster, shards, database, data_dir, tcp_port, http_port, flush_interval, batch_size, snapshot_interval}
//	lg:         {listen, query_timeout, max_rows_to_read, rate_limit, rate_burst, max_concurrent,
//	            tokens, cors_origins, trusted_proxies, memory_rib}
//	mrt:        {dir, updates_interval, rib_interval}
//	log:        {level, format}
//
// Default returns the built-in defaults; Load reads a file over them (keys
// that are absent keep their default) and validates the result. Unknown keys
// and bad values are errors that name the key, as in
// "clickhouse.tcp_port: "x" is not a whole number (line 7)".
//
// config imports no package of this module.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration file.
type Config struct {
	Collector  Collector  `yaml:"collector"`
	NATS       NATS       `yaml:"nats"`
	ClickHouse ClickHouse `yaml:"clickhouse"`
	LG         LG         `yaml:"lg"`
	MRT        MRT        `yaml:"mrt"`
	Log        Log        `yaml:"log"`
}

// Collector configures the BGP collector daemon.
type Collector struct {
	// Name is the collector's host name in events ("host").
	Name string `yaml:"name"`
	// Listen is the BGP listen address, host:port.
	Listen string `yaml:"listen"`
	ASN    uint32 `yaml:"asn"`
	// RouterID is the BGP identifier; unset, the collector derives one
	// from Listen (a specific IPv4 address) or from the machine's id,
	// never 127.0.0.1, which many speakers use too.
	RouterID netip.Addr `yaml:"router_id"`
	// Peers lists who may connect; a session is accepted from an address
	// inside one of the prefixes (and with its ASN, unless 0).
	Peers []PeerConfig `yaml:"peers"`
	// Store runs the ClickHouse writer (a consumer of the log) inside the
	// collector; false leaves it to `collector store` processes.
	Store bool `yaml:"store"`
	// MetricsListen is where the collector serves /metrics (Prometheus);
	// empty: nowhere.
	MetricsListen string `yaml:"metrics_listen"`
	// StoreRaw keeps every message's bytes in its event (the "raw" field)
	// and so in the store: what `collector mrt export -updates` writes
	// (default true). Without it, the MRT export of live sessions has their
	// state changes only, and RIS Live clients get no raw.
	StoreRaw bool `yaml:"store_raw"`
	// OpenTimeout is how long a new connection may go without sending
	// its OPEN: then it gets a NOTIFICATION 4/0 and is closed.
	OpenTimeout time.Duration `yaml:"open_timeout"`
	// GracefulRestart makes the collector a graceful restart helper
	// (RFC 4724, RFC 8538): a restarting peer's routes are kept, stale,
	// until its End-of-RIB or its restart time.
	GracefulRestart bool `yaml:"graceful_restart"`
	// StaleTime bounds how long stale routes wait for the End-of-RIB
	// once the restarting peer's new session is up.
	StaleTime time.Duration `yaml:"stale_time"`
}

// PeerConfig admits BGP peers: one neighbor (a /32 or /128) or a range of
// them (dynamic neighbors).
type PeerConfig struct {
	Address netip.Prefix `yaml:"address"`
	// ASN is the peer's AS; 0 accepts any.
	ASN uint32 `yaml:"asn"`
	// Description is free text for logs.
	Description string `yaml:"description"`
	// Password turns on TCP MD5 (RFC 2385) with this key (at most 80
	// bytes), on Linux.
	Password string `yaml:"password"`
	// TTLSecurity turns on GTSM (RFC 5082) for peers at most this many
	// hops away (1: directly connected): segments that arrive with a TTL
	// below 256-hops are dropped. 0: off.
	TTLSecurity int `yaml:"ttl_security"`
	// Active makes the collector connect to the neighbor (at Port,
	// retrying with exponential backoff) as well as accept it; false:
	// passive, it waits for the neighbor. Only for a single address.
	Active bool `yaml:"active"`
	Port   int  `yaml:"port"`
	// HoldTime is the hold time proposed to this neighbor; 0: the
	// collector's.
	HoldTime time.Duration `yaml:"hold_time"`
	// MaxPrefix ends the session with a Cease 6/1 when the neighbor has
	// more routes than this (0: no limit); it may connect again after
	// MaxPrefixRestart (0: only when the configuration is reloaded).
	MaxPrefix        int           `yaml:"max_prefix"`
	MaxPrefixRestart time.Duration `yaml:"max_prefix_restart"`
	// MaxSessions bounds the sessions a range may have at once (0: no
	// limit).
	MaxSessions int `yaml:"max_sessions"`
	// Disabled refuses the neighbor (and closes its session on reload).
	Disabled bool `yaml:"disabled"`
	// Families are the address families offered to the neighbor, as
	// "ipv4/unicast"; empty: every family the collector decodes.
	Families []string `yaml:"families"`
	// AddPath is "receive" (or empty: the default) to ask the neighbor
	// for every path (ADD-PATH), "off" not to.
	AddPath string `yaml:"add_path"`
}

// FamilyNames are the families the collector decodes (collector.Families),
// by name: the values of collector.peers[].families.
var FamilyNames = []string{
	"ipv4/unicast", "ipv6/unicast", "ipv4/multicast", "ipv6/multicast",
	"ipv4/labeled", "ipv6/labeled", "ipv4/vpn", "ipv6/vpn",
	"ipv4/flowspec", "ipv6/flowspec", "l2vpn/evpn", "l2vpn/vpls", "ls/ls",
}

// NATS configures the event bus.
type NATS struct {
	// URL of an external NATS cluster; empty runs an embedded server.
	URL string `yaml:"url"`
	// Listen and StoreDir configure the embedded server (and JetStream).
	Listen   string `yaml:"listen"`
	StoreDir string `yaml:"store_dir"`
	// Authentication with an external NATS: at most one of user and
	// password, token, an NKey seed file or a credentials (JWT) file.
	User         string `yaml:"user"`
	Password     string `yaml:"password"`
	Token        string `yaml:"token"`
	NKeySeedFile string `yaml:"nkey_seed_file"`
	CredsFile    string `yaml:"creds_file"`
	// TLS: a CA to verify the server; a client certificate and key.
	TLSCAFile   string `yaml:"tls_ca_file"`
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// The stream's retention: by age and by size (0: no limit), the
	// window in which a retried publish is recognized, and the replicas
	// in a JetStream cluster.
	MaxAge     time.Duration `yaml:"max_age"`
	MaxBytes   int64         `yaml:"max_bytes"`
	Duplicates time.Duration `yaml:"duplicates"`
	Replicas   int           `yaml:"replicas"`
	// The collector's publish queue: memory, then a spool on disk while
	// NATS is unreachable or slow.
	QueueBytes    int    `yaml:"queue_bytes"`
	SpoolDir      string `yaml:"spool_dir"`
	SpoolMaxBytes int64  `yaml:"spool_max_bytes"`
	// Consumer is the durable consumer the ClickHouse writers share.
	Consumer string `yaml:"consumer"`
}

// ClickHouse configures the store.
type ClickHouse struct {
	// DSN of an existing server (clickhouse://user:pass@host:9000); empty
	// starts or reuses a local clickhouse-server with DataDir and the ports.
	DSN string `yaml:"dsn"`
	// Cluster names a ClickHouse cluster (the remote_servers section of
	// its servers' configuration) whose shards are Shards, the native DSN
	// of one server of each, in any order: the store's tables are sharded
	// over them behind Distributed tables. Queries and inserts go to DSN,
	// or to the first shard when DSN is empty; no local server is started.
	// Empty: one server.
	Cluster  string   `yaml:"cluster"`
	Shards   []string `yaml:"shards"`
	Database string   `yaml:"database"`
	DataDir  string   `yaml:"data_dir"`
	TCPPort  int      `yaml:"tcp_port"`
	HTTPPort int      `yaml:"http_port"`
	// FlushInterval and BatchSize bound how long and how many rows the
	// writer holds before sending a batch.
	FlushInterval time.Duration `yaml:"flush_interval"`
	BatchSize     int           `yaml:"batch_size"`
	// SnapshotInterval is the time between RIB snapshots, as RIS's bviews
	// (made by the writers at multiples of it); 0 makes none.
	SnapshotInterval time.Duration `yaml:"snapshot_interval"`
}

// LG configures the looking glass.
type LG struct {
	// Listen is the HTTP listen address, host:port.
	Listen string `yaml:"listen"`
	// QueryTimeout and MaxRowsToRead bound each ClickHouse query of the
	// API (whole seconds; rows read): a query over either is refused with
	// a 422 that says so.
	QueryTimeout  time.Duration `yaml:"query_timeout"`
	MaxRowsToRead uint64        `yaml:"max_rows_to_read"`
	// RateLimit is the requests per second one client (an address, or an
	// API token) may make on average, RateBurst how many at once beyond
	// that (0: twice RateLimit); MaxConcurrent the requests it may have
	// in progress. 0: no limit. Over a limit: 429 with Retry-After.
	RateLimit     int `yaml:"rate_limit"`
	RateBurst     int `yaml:"rate_burst"`
	MaxConcurrent int `yaml:"max_concurrent"`
	// Tokens, when set, are the API tokens: /api/ requests must send one
	// as "Authorization: Bearer TOKEN" (401 without). The web UI stays
	// open.
	Tokens []string `yaml:"tokens"`
	// CORSOrigins are the origins whose pages may call the API from a
	// browser, such as https://noc.example.net, or "*" for any.
	CORSOrigins []string `yaml:"cors_origins"`
	// TrustedProxies are the reverse proxies (prefixes) whose
	// X-Forwarded-For names the client the limits count.
	TrustedProxies []netip.Prefix `yaml:"trusted_proxies"`
	// MemoryRIB keeps the current routes in lg's memory (loaded from
	// ClickHouse at start, then kept current by the event log), so that
	// queries about now of a prefix, its longest match and its
	// less-specifics, the search by origin ASN, and the peers with their
	// counts need no ClickHouse query: about 115 bytes per route (1.1 GB
	// for 10M routes).
	// Off: every query goes to ClickHouse.
	MemoryRIB bool `yaml:"memory_rib"`
}

// MRT configures the rolling MRT files `collector run` writes, as RIS
// does: updates files every UpdatesInterval and a RIB (bview) every
// RIBInterval, under Dir/COLLECTOR/YYYY.MM/. An empty Dir writes none.
type MRT struct {
	Dir             string        `yaml:"dir"`
	UpdatesInterval time.Duration `yaml:"updates_interval"`
	RIBInterval     time.Duration `yaml:"rib_interval"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error; Format is text or json.
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Default returns the built-in configuration: everything on loopback, data
// under vantage-data/ in the working directory.
func Default() Config {
	return Config{
		Collector: Collector{
			Name:   "rrc-local",
			Listen: "127.0.0.1:1179",
			ASN:    65000,
			// RouterID unset: derived from Listen (collector.DefaultRouterID).
			Peers:         []PeerConfig{{Address: netip.MustParsePrefix("127.0.0.0/8")}},
			Store:         true,
			MetricsListen: "127.0.0.1:9179",
			StoreRaw:      true,
			OpenTimeout:   4 * time.Minute,
			// Graceful restart helper, waiting 6m for End-of-RIBs.
			GracefulRestart: true,
			StaleTime:       6 * time.Minute,
		},
		NATS: NATS{
			Listen:        "127.0.0.1:4222",
			StoreDir:      "vantage-data/nats",
			MaxAge:        7 * 24 * time.Hour,
			Duplicates:    20 * time.Second,
			Replicas:      1,
			QueueBytes:    64 << 20,
			SpoolDir:      "vantage-data/spool",
			SpoolMaxBytes: 1 << 30,
			Consumer:      "vantage-store",
		},
		ClickHouse: ClickHouse{
			Database:         "vantage",
			DataDir:          "vantage-data/clickhouse",
			TCPPort:          19000,
			HTTPPort:         18123,
			FlushInterval:    time.Second,
			BatchSize:        50_000,
			SnapshotInterval: 8 * time.Hour,
		},
		LG: LG{Listen: "127.0.0.1:8080", QueryTimeout: 10 * time.Second, MaxRowsToRead: 100_000_000,
			RateLimit: 100, MaxConcurrent: 16, MemoryRIB: true},
		MRT: MRT{UpdatesInterval: 5 * time.Minute, RIBInterval: 8 * time.Hour},
		Log: Log{Level: "info", Format: "text"},
	}
}

var (
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	databaseRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks every value; the error lists every problem, each naming
// its key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	hostPort := func(key, v string) {
		if err := checkHostPort(v); err != nil {
			bad(key, "%q: %v", v, err)
		}
	}

	col := c.Collector
	if !nameRE.MatchString(col.Name) {
		bad("collector.name", "%q: want letters, digits, '.', '_' or '-'", col.Name)
	}
	hostPort("collector.listen", col.Listen)
	if col.ASN == 0 {
		bad("collector.asn", "must not be 0")
	}
	if col.RouterID.IsValid() && !col.RouterID.Is4() {
		bad("collector.router_id", "%q: want an IPv4 address (the BGP identifier)", addrString(col.RouterID))
	}
	if len(col.Peers) == 0 {
		bad("collector.peers", "empty: no peer could connect; list at least one address prefix")
	}
	for i, p := range col.Peers {
		if !p.Address.IsValid() {
			bad(fmt.Sprintf("collector.peers[%d].address", i), "missing: want a prefix such as 192.0.2.1/32")
		} else if p.Address != p.Address.Masked() {
			bad(fmt.Sprintf("collector.peers[%d].address", i), "%s has host bits set; did you mean %s?", p.Address, p.Address.Masked())
		}
		key := func(k string) string { return fmt.Sprintf("collector.peers[%d].%s", i, k) }
		if len(p.Password) > 80 {
			bad(key("password"), "%d bytes: TCP MD5 keys are at most 80", len(p.Password))
		}
		if p.TTLSecurity < 0 || p.TTLSecurity > 254 {
			bad(key("ttl_security"), "%d: want 0 (off) or the most hops the neighbor is away, 1-254", p.TTLSecurity)
		}
		if p.Active && p.Address.IsValid() && !p.Address.IsSingleIP() {
			bad(key("active"), "the collector can connect to one address only, not to the range %s", p.Address)
		}
		if p.Port < 0 || p.Port > 65535 {
			bad(key("port"), "%d: want a port 1-65535 (0: 179)", p.Port)
		}
		if p.HoldTime != 0 && (p.HoldTime < 3*time.Second || p.HoldTime > 65535*time.Second || p.HoldTime%time.Second != 0) {
			bad(key("hold_time"), "%v: want 0 (the collector's) or whole seconds 3s-65535s", p.HoldTime)
		}
		if p.MaxPrefix < 0 {
			bad(key("max_prefix"), "%d: must not be negative (0: no limit)", p.MaxPrefix)
		}
		if p.MaxPrefixRestart < 0 {
			bad(key("max_prefix_restart"), "%v: must not be negative (0: not until a reload)", p.MaxPrefixRestart)
		}
		if p.MaxSessions < 0 {
			bad(key("max_sessions"), "%d: must not be negative (0: no limit)", p.MaxSessions)
		}
		for _, f := range p.Families {
			if !slices.Contains(FamilyNames, f) {
				bad(key("families"), "%q: not a family the collector decodes; want some of %s", f, strings.Join(FamilyNames, ", "))
			}
		}
		if p.AddPath != "" && p.AddPath != "receive" && p.AddPath != "off" {
			bad(key("add_path"), "%q: want receive or off", p.AddPath)
		}
	}

	if col.MetricsListen != "" {
		hostPort("collector.metrics_listen", col.MetricsListen)
	}
	if col.OpenTimeout < time.Second {
		bad("collector.open_timeout", "%v: want at least 1s (default 4m)", col.OpenTimeout)
	}
	if col.StaleTime < time.Second {
		bad("collector.stale_time", "%v: want at least 1s (default 6m)", col.StaleTime)
	}

	n := c.NATS
	if n.URL != "" {
		for _, one := range strings.Split(n.URL, ",") {
			u, err := url.Parse(strings.TrimSpace(one))
			if err != nil || u.Host == "" {
				bad("nats.url", "%q: want a URL such as nats://host:4222, or several separated by commas", one)
			}
		}
	} else {
		hostPort("nats.listen", c.NATS.Listen)
		if c.NATS.StoreDir == "" {
			bad("nats.store_dir", "must be set when nats.url is empty")
		}
	}

	auth := 0
	for _, set := range []bool{n.User != "" || n.Password != "", n.Token != "", n.NKeySeedFile != "", n.CredsFile != ""} {
		if set {
			auth++
		}
	}
	if auth > 1 {
		bad("nats", "give one of user/password, token, nkey_seed_file or creds_file")
	}
	if (n.TLSCertFile == "") != (n.TLSKeyFile == "") {
		bad("nats.tls_cert_file", "a client certificate needs both tls_cert_file and tls_key_file")
	}
	if n.MaxAge < 0 {
		bad("nats.max_age", "%v: must not be negative (0: keep events until max_bytes)", n.MaxAge)
	}
	if n.MaxBytes < 0 {
		bad("nats.max_bytes", "%d: must not be negative (0: no limit)", n.MaxBytes)
	}
	if n.Duplicates <= 0 {
		bad("nats.duplicates", "%v: must be positive, such as 20s", n.Duplicates)
	}
	if n.Replicas < 1 || n.Replicas > 5 {
		bad("nats.replicas", "%d: want 1-5", n.Replicas)
	}
	if n.QueueBytes < 1<<20 {
		bad("nats.queue_bytes", "%d: want at least 1048576 (1 MiB)", n.QueueBytes)
	}
	if n.SpoolDir != "" && n.SpoolMaxBytes < 1<<20 {
		bad("nats.spool_max_bytes", "%d: want at least 1048576 (1 MiB)", n.SpoolMaxBytes)
	}
	if !nameRE.MatchString(n.Consumer) {
		bad("nats.consumer", "%q: want letters, digits, '.', '_' or '-'", n.Consumer)
	}

	ch := c.ClickHouse
	if ch.DSN != "" {
		u, err := url.Parse(ch.DSN)
		if err != nil || u.Host == "" {
			bad("clickhouse.dsn", "%q: want a DSN such as clickhouse://user:password@host:9000", ch.DSN)
		}
	}
	if ch.Cluster != "" {
		if !databaseRE.MatchString(ch.Cluster) {
			bad("clickhouse.cluster", "%q: want the name of a cluster in remote_servers: letters, digits and '_', not starting with a digit", ch.Cluster)
		}
		if len(ch.Shards) == 0 {
			bad("clickhouse.shards", "empty: a cluster needs the DSN of a server of every shard, such as [clickhouse://user:password@ch1:9000, ...]")
		}
	} else if len(ch.Shards) > 0 {
		bad("clickhouse.shards", "set without clickhouse.cluster, the name of the cluster they form")
	}
	for i, dsn := range ch.Shards {
		if u, err := url.Parse(dsn); err != nil || u.Host == "" {
			bad(fmt.Sprintf("clickhouse.shards[%d]", i), "%q: want a DSN such as clickhouse://user:password@host:9000", dsn)
		}
	}
	if ch.DSN == "" && ch.Cluster == "" {
		if ch.DataDir == "" {
			bad("clickhouse.data_dir", "must be set when clickhouse.dsn is empty")
		}
		if ch.TCPPort < 1 || ch.TCPPort > 65535 {
			bad("clickhouse.tcp_port", "%d: want a port 1-65535", ch.TCPPort)
		}
		if ch.HTTPPort < 1 || ch.HTTPPort > 65535 {
			bad("clickhouse.http_port", "%d: want a port 1-65535", ch.HTTPPort)
		} else if ch.HTTPPort == ch.TCPPort {
			bad("clickhouse.http_port", "%d: same as clickhouse.tcp_port", ch.HTTPPort)
		}
	}
	if !databaseRE.MatchString(ch.Database) {
		bad("clickhouse.database", "%q: want letters, digits and '_', not starting with a digit", ch.Database)
	}
	if ch.FlushInterval <= 0 {
		bad("clickhouse.flush_interval", "%v: must be positive, such as 1s", ch.FlushInterval)
	}
	if ch.SnapshotInterval < 0 || ch.SnapshotInterval > 0 && ch.SnapshotInterval < time.Minute {
		bad("clickhouse.snapshot_interval", "%v: want 0 (none) or at least 1m, such as 8h", ch.SnapshotInterval)
	}
	if ch.BatchSize < 1 || ch.BatchSize > 10_000_000 {
		bad("clickhouse.batch_size", "%d: want 1-10000000", ch.BatchSize)
	}

	hostPort("lg.listen", c.LG.Listen)
	if c.LG.QueryTimeout < time.Second || c.LG.QueryTimeout%time.Second != 0 {
		bad("lg.query_timeout", "%v: want whole seconds, at least 1s", c.LG.QueryTimeout)
	}
	for key, d := range map[string]time.Duration{"mrt.updates_interval": c.MRT.UpdatesInterval, "mrt.rib_interval": c.MRT.RIBInterval} {
		// Periods aligned on days: RIS's files start at 00:00 UTC.
		if d < time.Second || d%time.Second != 0 || (24*time.Hour)%d != 0 {
			bad(key, "%v: want whole seconds that divide a day (5m, 8h)", d)
		}
	}
	if c.LG.MaxRowsToRead < 1 {
		bad("lg.max_rows_to_read", "must be at least 1")
	}
	for key, n := range map[string]int{"lg.rate_limit": c.LG.RateLimit, "lg.rate_burst": c.LG.RateBurst, "lg.max_concurrent": c.LG.MaxConcurrent} {
		if n < 0 {
			bad(key, "%d: must not be negative (0: no limit)", n)
		}
	}
	for i, t := range c.LG.Tokens {
		if len(t) < 16 || strings.ContainsAny(t, " \t\r\n") {
			bad(fmt.Sprintf("lg.tokens[%d]", i), "want at least 16 characters without spaces (openssl rand -hex 16 makes one)")
		}
	}
	for i, o := range c.LG.CORSOrigins {
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || u.Path != "") {
			bad(fmt.Sprintf("lg.cors_origins[%d]", i), "%q: want an origin such as https://noc.example.net, or *", o)
		}
	}
	for i, p := range c.LG.TrustedProxies {
		if p != p.Masked() {
			bad(fmt.Sprintf("lg.trusted_proxies[%d]", i), "%s has host bits set; did you mean %s?", p, p.Masked())
		}
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q: want text or json", c.Log.Format)
	}
	return errors.Join(errs...)
}

func checkHostPort(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New("want host:port, such as 127.0.0.1:8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q: want 0-65535", port)
	}
	return nil
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
