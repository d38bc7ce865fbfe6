// Package collector owns the passive BGP sessions of a Vantage collector:
// it listens for peers, runs the BGP finite state machine of each session
// (OPEN negotiation, keepalives, hold timer, NOTIFICATIONs), decodes every
// message with bgpwire, turns it into a schema.Event and hands the events
// to the sinks (the NATS bus, ClickHouse storage) through a fan-out.
// Each session keeps the routes its peer has announced (adjRIBIn) and
// puts the peer's route count per family on its UPDATE, KEEPALIVE and
// down events (schema.Event.Routes). Connection collisions are resolved
// as RFC 4271 6.8 says (collision.go); the collector is a graceful
// restart helper (gracefulrestart.go): a restarting peer's routes are
// kept, stale, in a restart the Server holds until the peer's new
// session takes them.
//
// Lifecycle: New builds a Server; Run listens and serves until its context
// is cancelled, then closes every session (sending a Cease NOTIFICATION),
// waits for the session goroutines, and flushes the fan-out, which owns
// the delivery of every event to every sink.
//
// collector decides what to do about malformed input (bgpwire only
// classifies it): a session-reset error sends the NOTIFICATION bgpwire
// names and closes that session; treat-as-withdraw turns the UPDATE's
// routes into withdrawals; attribute-discard drops the attribute. Other
// sessions and the sinks carry on.
package collector
