package bgpwire

import (
	"errors"
	"fmt"
)

// Action is the RFC 7606 error-handling class of a malformed message, in
// increasing order of severity.
type Action uint8

// Error-handling actions (RFC 7606 section 2).
const (
	// ActionNone: the input is well formed.
	ActionNone Action = iota
	// ActionAttributeDiscard: the attribute is dropped, the rest is used.
	ActionAttributeDiscard
	// ActionTreatAsWithdraw: every route of the UPDATE is treated as
	// withdrawn.
	ActionTreatAsWithdraw
	// ActionAFISAFIDisable: the address family is disabled for the session
	// (the collector may instead reset the session).
	ActionAFISAFIDisable
	// ActionSessionReset: a NOTIFICATION is sent and the session closed.
	ActionSessionReset
)

func (a Action) String() string {
	switch a {
	case ActionNone:
		return "none"
	case ActionAttributeDiscard:
		return "attribute-discard"
	case ActionTreatAsWithdraw:
		return "treat-as-withdraw"
	case ActionAFISAFIDisable:
		return "afi-safi-disable"
	case ActionSessionReset:
		return "session-reset"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// NOTIFICATION error codes (RFC 4271 section 4.5, RFC 7313).
const (
	CodeMessageHeader     uint8 = 1
	CodeOpenMessage       uint8 = 2
	CodeUpdateMessage     uint8 = 3
	CodeHoldTimerExpired  uint8 = 4
	CodeFSM               uint8 = 5
	CodeCease             uint8 = 6
	CodeRouteRefreshError uint8 = 7
)

// Message header error subcodes.
const (
	SubcodeConnectionNotSynchronized uint8 = 1
	SubcodeBadMessageLength          uint8 = 2
	SubcodeBadMessageType            uint8 = 3
)

// OPEN message error subcodes.
const (
	SubcodeUnsupportedVersion    uint8 = 1
	SubcodeBadPeerAS             uint8 = 2
	SubcodeBadBGPIdentifier      uint8 = 3
	SubcodeUnsupportedOptParam   uint8 = 4
	SubcodeUnacceptableHoldTime  uint8 = 6
	SubcodeUnsupportedCapability uint8 = 7
	SubcodeRoleMismatch          uint8 = 11
)

// UPDATE message error subcodes.
const (
	SubcodeMalformedAttributeList uint8 = 1
	SubcodeUnrecognizedWellKnown  uint8 = 2
	SubcodeMissingWellKnown       uint8 = 3
	SubcodeAttributeFlags         uint8 = 4
	SubcodeAttributeLength        uint8 = 5
	SubcodeInvalidOrigin          uint8 = 6
	SubcodeInvalidNextHop         uint8 = 8
	SubcodeOptionalAttribute      uint8 = 9
	SubcodeInvalidNetworkField    uint8 = 10
	SubcodeMalformedASPath        uint8 = 11
)

// Cease subcodes (RFC 4486, RFC 9003).
const (
	SubcodeMaxPrefixes         uint8 = 1
	SubcodeAdminShutdown       uint8 = 2
	SubcodePeerDeconfigured    uint8 = 3
	SubcodeAdminReset          uint8 = 4
	SubcodeConnectionRejected  uint8 = 5
	SubcodeOtherConfigChange   uint8 = 6
	SubcodeCollisionResolution uint8 = 7
	SubcodeOutOfResources      uint8 = 8
	SubcodeHardReset           uint8 = 9
	SubcodeBFDDown             uint8 = 10
)

// ErrTruncated is wrapped by errors about input that ends too early.
var ErrTruncated = errors.New("truncated")

// Error is a decoding error: where it happened (Op, Offset into the
// message), the NOTIFICATION it calls for (Code, Subcode, Data) and the
// RFC 7606 Action. It unwraps to the underlying cause.
type Error struct {
	Op      string // what was being decoded, e.g. "update: attribute AS_PATH"
	Offset  int    // byte offset in the message (header included) where the problem is
	Code    uint8
	Subcode uint8
	Action  Action
	Data    []byte // NOTIFICATION data, owned by the Error
	Err     error
}

func (e *Error) Error() string {
	msg := "malformed"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("%s: %s at byte %d (%s, notification %d/%d)", e.Op, msg, e.Offset, e.Action, e.Code, e.Subcode)
}

func (e *Error) Unwrap() error { return e.Err }

func newError(op string, off int, code, sub uint8, act Action, err error) *Error {
	return &Error{Op: op, Offset: off, Code: code, Subcode: sub, Action: act, Err: err}
}

// errorf builds an Error whose cause is a formatted message.
func errorf(op string, off int, code, sub uint8, act Action, format string, args ...any) *Error {
	return newError(op, off, code, sub, act, fmt.Errorf(format, args...))
}
