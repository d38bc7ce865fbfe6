// Package storage owns Vantage's ClickHouse side: the local clickhouse-server
// child process used when no DSN is configured (Server), the connection and
// DDL (DB), the batched writer of events (Writer), the query functions of
// the looking glass (DB.Peers, DB.Routes, DB.History) and LiveRIB, the
// looking glass's in-memory copy of the current routes and peers, loaded
// from the store and kept current by the log's events by the writer's
// rules, which answers the queries about now as DB.Routes and DB.Peers do.
//
// Lifecycle: Open connects (starting or reusing a local server first when
// Config.DSN is empty) and applies the embedded DDL of package schema; every
// Writer made by DB.NewWriter owns one goroutine that flushes batches on size
// or age and is stopped by Writer.Close, which flushes what is left. Close
// the writers before the DB.
//
// The local server is shared by every Vantage process on the machine that
// uses the same data directory (collector, lg, mrt import): the first one
// starts it detached, in its own session, the others reuse it, and it does
// not depend on the process that started it. Each of them supervises it: a
// goroutine owned by the Server, stopped by its Close, restarts the server
// when it exits or when it stops answering and no process holds its
// directory, logging "clickhouse-server exited; restarting";
// Server.Healthy and Server.Restarts report on it. The last user to close
// stops the server (DB.Close closes the Server); a process killed with -9
// stops nothing, and if it was the last user the server keeps running, like
// a system service, until the next Vantage process reuses it. It listens
// on 127.0.0.1 only, and its one user, default, needs the password that the
// first start generates into the data directory (PasswordFile;
// Server.Password, ServerPassword).
//
// With Config.Cluster the store is sharded over a ClickHouse cluster: Open
// applies the schema on every shard as NAME_local tables and puts a
// Distributed table of each on every server, and the queries run unchanged
// through them (cluster.go). StartLocalCluster runs such a cluster on one
// machine, for tests and demos.
//
// Tables (see schema/*.sql): route_events holds one row per (event, route),
// peer_events one row per peer state change, OPEN and NOTIFICATION. The
// writer makes ts_us strictly increasing per (host, peer) across both tables,
// which is what the queries order a peer's events by.
package storage
