package wsclient

import (
	"encoding/json"
	"fmt"
)

// maxOutgoing is the site's limit on a client frame (PROTOCOL.md §4).
const maxOutgoing = 128 * 1024

// encodeOutgoing builds {"action": route, "handler": h, ...params}; action
// and handler win over params of the same name.
func encodeOutgoing(route, handler string, params map[string]any) ([]byte, error) {
	obj := make(map[string]any, len(params)+2)
	for k, v := range params {
		obj[k] = v
	}
	obj["action"] = route
	obj["handler"] = handler
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding the message: %w", err)
	}
	if len(b) > maxOutgoing {
		return nil, fmt.Errorf("message of %d bytes is over the site's %d-byte limit", len(b), maxOutgoing)
	}
	return b, nil
}
