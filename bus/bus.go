// Package bus owns the NATS side of Vantage: the durable log of events.
//
//   - Dial connects to NATS (an external cluster, or the embedded server
//     that StartEmbedded runs when no URL is configured) and makes sure the
//     JetStream stream VANTAGE_EVENTS exists, with the retention the
//     configuration gives.
//   - Publisher is the collector's sink: every event is published with an
//     acknowledgement, through a bounded memory queue and an on-disk spool
//     that holds events while NATS is unreachable.
//   - Consume is a durable JetStream consumer that hands batches of events
//     to a function (the ClickHouse writer) and acknowledges them only when
//     it returns without error.
//   - LastPeerStates reads, per peer of a collector, the last event the log
//     holds: where its sequence goes on after a restart, and whether its
//     session was last seen up.
//
// Subjects are schema's: vantage.events.HOST.TYPE.PEER_ASN.PEER (see
// schema.AppendSubject).
package bus

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/vantage-bgp/vantage/schema"
)

// SubjectPrefix starts every event subject.
const SubjectPrefix = schema.SubjectPrefix

// EmbeddedConfig configures the embedded server.
type EmbeddedConfig struct {
	Host     string // listen address, e.g. 127.0.0.1
	Port     int    // -1 picks a free port
	StoreDir string // JetStream storage
}

// StartEmbedded starts an in-process nats-server with JetStream. Stop it
// with Shutdown and WaitForShutdown.
func StartEmbedded(cfg EmbeddedConfig) (*server.Server, error) {
	opts := &server.Options{
		ServerName: "vantage",
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS on %s:%d did not start within 10s (is the port in use?)", cfg.Host, cfg.Port)
	}
	return ns, nil
}
