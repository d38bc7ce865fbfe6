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

// Message is any BGP message, decoded into the field of its type. Decode
// into the same value again and again: the UPDATE's storage is reused.
type Message struct {
	Header       Header
	Open         Open
	Update       Update
	Notification Notification
	RouteRefresh RouteRefresh
}

// Decode decodes one whole message, header included; msg must be exactly
// as long as the header says. For UPDATE messages, the RFC 7606 errors
// that do not reset the session are in m.Update.Errors, and the returned
// error is nil.
func (m *Message) Decode(msg []byte, opt *DecodeOptions) error {
	h, err := ParseHeader(msg, opt.MaxLen())
	m.Header = h
	if err != nil {
		return err
	}
	if len(msg) != h.Len {
		e := errorf("header", 16, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, "length field %d, but the message has %d bytes", h.Len, len(msg))
		e.Data = []byte{msg[16], msg[17]}
		return e
	}
	body := msg[HeaderLen:]
	switch h.Type {
	case MsgOpen:
		return m.Open.Decode(body)
	case MsgUpdate:
		return m.Update.Decode(body, opt)
	case MsgNotification:
		return m.Notification.decode(body)
	case MsgRouteRefresh:
		return m.RouteRefresh.decode(body)
	}
	return nil // KEEPALIVE: ParseHeader checked the length
}

// SplitMessage returns the first message of b (by its header's length)
// and the rest. It checks the header as ParseHeader does.
func SplitMessage(b []byte, maxLen int) (msg, rest []byte, err error) {
	h, err := ParseHeader(b, maxLen)
	if err != nil {
		return nil, b, err
	}
	if len(b) < h.Len {
		e := errorf("header", 16, CodeMessageHeader, SubcodeBadMessageLength, ActionSessionReset, "length field %d, but only %d bytes follow: %w", h.Len, len(b), ErrTruncated)
		return nil, b, e
	}
	return b[:h.Len], b[h.Len:], nil
}
