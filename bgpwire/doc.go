// Package bgpwire owns the BGP-4 and MRT wire formats: decoding messages
// into caller-owned values that are reused from message to message,
// encoding them back, and classifying malformed input by the RFC 7606
// error-handling action it calls for.
//
// bgpwire says what is on the wire and how bad an error is; it does not
// decide what to do about it (that is the collector's job), and it knows
// nothing of JSON, the CLI or the normalized event. It imports no other
// package of this module.
//
// Slices inside decoded values may point into the input buffer only while
// a message is being decoded; whatever a decoded value keeps after Decode
// returns has been copied into the value's own (reused) storage.
package bgpwire
