package bgpwire

import "fmt"

// Notification is a NOTIFICATION message.
type Notification struct {
	Code    uint8
	Subcode uint8
	Data    []byte
}

// DecodeNotification decodes a NOTIFICATION body. Data is copied.
func DecodeNotification(body []byte) (Notification, error) {
	var n Notification
	err := n.decode(body)
	return n, err
}

func (n *Notification) decode(body []byte) error {
	if len(body) < 2 {
		*n = Notification{}
		return newError("notification", HeaderLen+len(body), CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	n.Code, n.Subcode = body[0], body[1]
	n.Data = append(n.Data[:0], body[2:]...)
	if len(body) == 2 {
		n.Data = nil
	}
	return nil
}

// HardResetCause returns the code and subcode of the NOTIFICATION that a
// Cease / Hard Reset (RFC 8538) carries in its data.
func (n Notification) HardResetCause() (code, subcode uint8, ok bool) {
	if n.Code != CodeCease || n.Subcode != SubcodeHardReset || len(n.Data) < 2 {
		return 0, 0, false
	}
	return n.Data[0], n.Data[1], true
}

// AppendWire appends the whole NOTIFICATION message.
func (n Notification) AppendWire(dst []byte) []byte {
	dst = AppendHeader(dst, MsgNotification, 2+len(n.Data))
	dst = append(dst, n.Code, n.Subcode)
	return append(dst, n.Data...)
}

// ShutdownMessage returns the RFC 9003 shutdown communication carried by
// a Cease / administrative shutdown or reset NOTIFICATION, if any.
func (n Notification) ShutdownMessage() (string, bool) {
	if n.Code != CodeCease || (n.Subcode != SubcodeAdminShutdown && n.Subcode != SubcodeAdminReset) || len(n.Data) < 1 {
		return "", false
	}
	l := int(n.Data[0])
	if l > len(n.Data)-1 || l > 255 {
		return "", false
	}
	return string(n.Data[1 : 1+l]), true
}

// String describes the notification by code and subcode names.
func (n Notification) String() string {
	s := fmt.Sprintf("%s (%d/%d)", NotificationReason(n.Code, n.Subcode), n.Code, n.Subcode)
	if m, ok := n.ShutdownMessage(); ok {
		s += fmt.Sprintf(": %q", m)
	}
	if c, sc, ok := n.HardResetCause(); ok {
		s += fmt.Sprintf(": %s (%d/%d)", NotificationReason(c, sc), c, sc)
	}
	return s
}

// NotificationReason names a NOTIFICATION code and subcode.
func NotificationReason(code, sub uint8) string {
	return notificationReason(code, sub)
}

var (
	notificationNames = map[uint8]string{
		CodeMessageHeader: "message header error", CodeOpenMessage: "OPEN message error",
		CodeUpdateMessage: "UPDATE message error", CodeHoldTimerExpired: "hold timer expired",
		CodeFSM: "finite state machine error", CodeCease: "cease", CodeRouteRefreshError: "ROUTE-REFRESH message error",
	}
	notificationSubcodes = map[[2]uint8]string{
		{1, 1}: "connection not synchronized", {1, 2}: "bad message length", {1, 3}: "bad message type",
		{2, 1}: "unsupported version number", {2, 2}: "bad peer AS", {2, 3}: "bad BGP identifier",
		{2, 4}: "unsupported optional parameter", {2, 6}: "unacceptable hold time", {2, 7}: "unsupported capability",
		{2, 11}: "role mismatch",
		{3, 1}:  "malformed attribute list", {3, 2}: "unrecognized well-known attribute", {3, 3}: "missing well-known attribute",
		{3, 4}: "attribute flags error", {3, 5}: "attribute length error", {3, 6}: "invalid ORIGIN attribute",
		{3, 8}: "invalid NEXT_HOP attribute", {3, 9}: "optional attribute error", {3, 10}: "invalid network field",
		{3, 11}: "malformed AS_PATH",
		{6, 1}:  "maximum number of prefixes reached", {6, 2}: "administrative shutdown", {6, 3}: "peer de-configured",
		{6, 4}: "administrative reset", {6, 5}: "connection rejected", {6, 6}: "other configuration change",
		{6, 7}: "connection collision resolution", {6, 8}: "out of resources", {6, 9}: "hard reset", {6, 10}: "BFD down",
		{7, 1}: "invalid message length",
		{1, 0}: "unspecific", {2, 0}: "unspecific", {3, 0}: "unspecific", {5, 1}: "unexpected message in OpenSent",
		{5, 2}: "unexpected message in OpenConfirm", {5, 3}: "unexpected message in Established",
	}
)

func notificationReason(code, sub uint8) string {
	name, ok := notificationNames[code]
	if !ok {
		name = fmt.Sprintf("error code %d", code)
	}
	if s, ok := notificationSubcodes[[2]uint8{code, sub}]; ok {
		return name + ": " + s
	}
	return name
}
