// Package storage owns Vantage's ClickHouse side: the local clickhouse-server
// child process used when no DSN is configured (Server), the connection and
// DDL (DB), the batched writer of events (Writer) and the query functions of
// the looking glass (DB.Peers, DB.Routes).
//
// Lifecycle: Open connects (starting or reusing a local server first when
// Config.DSN is empty) and applies the embedded DDL of package schema; every
// Writer made by DB.NewWriter owns one goroutine that flushes batches on size
// or age and is stopped by Writer.Close, which flushes what is left. Close
// the writers before the DB; DB.Close stops the local server if this process
// started it.
//
// Tables (see schema/*.sql): route_events holds one row per (event, route),
// peer_events one row per peer state change, OPEN and NOTIFICATION. The
// writer makes ts_us strictly increasing per (host, peer) across both tables,
// which is what the queries order a peer's events by.
package storage
