package wsclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Decoding errors. The reader counts and logs them; none is fatal.
var (
	ErrNotJSON   = errors.New("message is not valid JSON")
	ErrNotObject = errors.New("message is not a JSON object")
	ErrNotToast  = errors.New("message is not a toast")
)

// maxTypeLen bounds the type name we keep; real ones are short identifiers.
const maxTypeLen = 64

// Message is one frame from the server: its "type" (cleaned, "" when absent
// or not a string) and the whole frame as received.
type Message struct {
	Type string
	Raw  json.RawMessage
}

// DecodeMessage checks that data is one JSON object and reads its type.
// Raw is a copy, so data may be reused by the caller.
func DecodeMessage(data []byte) (Message, error) {
	m, err := decodeMessage(data)
	if err != nil {
		return m, err
	}
	m.Raw = bytes.Clone(data)
	return m, nil
}

// decodeMessage is DecodeMessage without the copy; the reader owns its
// buffers (gorilla allocates one per message), so it can skip it.
func decodeMessage(data []byte) (Message, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if json.Valid(data) {
			return Message{}, ErrNotObject
		}
		return Message{}, ErrNotJSON
	}
	var env struct {
		Type json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	return Message{Type: cleanLine(jsonString(env.Type), maxTypeLen), Raw: data}, nil
}

// jsonString returns a JSON string's value, a number's or bool's literal
// text, and "" for anything else: sites are loose about types.
func jsonString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	case '{', '[', 'n':
		return ""
	}
	return string(raw)
}
