package bgpwire

import (
	"fmt"
	"io"
)

// MessageType is the type octet of a BGP message header.
type MessageType uint8

// BGP message types (RFC 4271, RFC 2918).
const (
	MsgOpen         MessageType = 1
	MsgUpdate       MessageType = 2
	MsgNotification MessageType = 3
	MsgKeepalive    MessageType = 4
	MsgRouteRefresh MessageType = 5
)

func (t MessageType) String() string {
	switch t {
	case MsgOpen:
		return "OPEN"
	case MsgUpdate:
		return "UPDATE"
	case MsgNotification:
		return "NOTIFICATION"
	case MsgKeepalive:
		return "KEEPALIVE"
	case MsgRouteRefresh:
		return "ROUTE-REFRESH"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Message sizes (RFC 4271, RFC 8654).
const (
	HeaderLen        = 19
	MaxMessageLen    = 4096
	MaxExtMessageLen = 65535
	markerLen        = 16
)

// Header is the fixed 19-byte message header.
type Header struct {
	Len  int // whole message length, header included
	Type MessageType
}

// ParseHeader checks and decodes a message header. maxLen is the largest
// message the session accepts (MaxMessageLen, or MaxExtMessageLen when
// RFC 8654 extended messages were negotiated). The errors carry the
// NOTIFICATION code 1 (message header error) subcodes of RFC 4271.
func ParseHeader(b []byte, maxLen int) (Header, error) {
	const op = "header"
	if len(b) < HeaderLen {
		return Header{}, newError(op, len(b), CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	for i := range markerLen {
		if b[i] != 0xff {
			return Header{}, errorf(op, i, CodeMessageHeader, SubcodeConnectionNotSynchronized, ActionSessionReset, "marker is not all ones")
		}
	}
	h := Header{Len: int(be16(b[16:18])), Type: MessageType(b[18])}
	if h.Len < HeaderLen || h.Len > maxLen {
		e := errorf(op, 16, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, "length %d outside %d-%d", h.Len, HeaderLen, maxLen)
		e.Data = []byte{b[16], b[17]}
		return h, e
	}
	min, max := HeaderLen, maxLen
	switch h.Type {
	case MsgOpen:
		min = HeaderLen + 10
	case MsgUpdate:
		min = HeaderLen + 4
	case MsgNotification:
		min = HeaderLen + 2
	case MsgKeepalive:
		max = HeaderLen
	case MsgRouteRefresh:
		min = HeaderLen + 4
	default:
		e := errorf(op, 18, CodeMessageHeader, SubcodeBadMessageType, ActionSessionReset, "unknown message type %d", b[18])
		e.Data = []byte{b[18]}
		return h, e
	}
	if h.Len < min || h.Len > max {
		e := errorf(op, 16, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, "length %d is wrong for %s", h.Len, h.Type)
		e.Data = []byte{b[16], b[17]}
		return h, e
	}
	return h, nil
}

// ReadMessage reads one whole message from r into buf (grown if needed)
// and returns its header and body. The body aliases buf.
func ReadMessage(r io.Reader, buf []byte, maxLen int) (Header, []byte, []byte, error) {
	if cap(buf) < HeaderLen {
		buf = make([]byte, MaxMessageLen)
	}
	buf = buf[:HeaderLen]
	if _, err := io.ReadFull(r, buf); err != nil {
		return Header{}, nil, buf, err
	}
	h, err := ParseHeader(buf, maxLen)
	if err != nil {
		return h, nil, buf, err
	}
	if cap(buf) < h.Len {
		nb := make([]byte, h.Len, maxLen)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:h.Len]
	if _, err := io.ReadFull(r, buf[HeaderLen:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, buf, err
	}
	return h, buf[HeaderLen:], buf, nil
}

// AppendHeader appends a message header for a body of bodyLen bytes.
func AppendHeader(dst []byte, t MessageType, bodyLen int) []byte {
	for range markerLen {
		dst = append(dst, 0xff)
	}
	dst = appendU16(dst, uint16(HeaderLen+bodyLen))
	return append(dst, byte(t))
}

// AppendKeepalive appends a KEEPALIVE message.
func AppendKeepalive(dst []byte) []byte { return AppendHeader(dst, MsgKeepalive, 0) }

// Notification is a NOTIFICATION message.
type Notification struct {
	Code    uint8
	Subcode uint8
	Data    []byte
}

// DecodeNotification decodes a NOTIFICATION body. Data is copied.
func DecodeNotification(body []byte) (Notification, error) {
	if len(body) < 2 {
		return Notification{}, newError("notification", HeaderLen+len(body), CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, ErrTruncated)
	}
	n := Notification{Code: body[0], Subcode: body[1]}
	if len(body) > 2 {
		n.Data = append([]byte(nil), body[2:]...)
	}
	return n, nil
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
	return s
}

// NotificationReason names a NOTIFICATION code and subcode.
func NotificationReason(code, sub uint8) string {
	names := map[uint8]string{
		CodeMessageHeader: "message header error", CodeOpenMessage: "OPEN message error",
		CodeUpdateMessage: "UPDATE message error", CodeHoldTimerExpired: "hold timer expired",
		CodeFSM: "finite state machine error", CodeCease: "cease", CodeRouteRefreshError: "ROUTE-REFRESH message error",
	}
	subs := map[[2]uint8]string{
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
	}
	name, ok := names[code]
	if !ok {
		name = fmt.Sprintf("error code %d", code)
	}
	if s, ok := subs[[2]uint8{code, sub}]; ok {
		return name + ": " + s
	}
	return name
}
