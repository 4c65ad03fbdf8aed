package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrQueueFull: SendQueueSize messages are already waiting for a
// connection. The message was not queued.
var ErrQueueFull = errors.New("wsclient: send queue full")

// maxOutgoing is the site's limit on a client frame (PROTOCOL.md §4).
const maxOutgoing = 128 * 1024

// outMsg is one queued frame; done gets the write's result.
type outMsg struct {
	data      []byte
	done      chan error // buffer 1
	abandoned atomic.Bool
}

func (m *outMsg) finish(err error) {
	select {
	case m.done <- err:
	default:
	}
}

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

// Send writes {"action": RouteKey, "handler": handler, ...params} to the
// server. While disconnected it waits in a queue of SendQueueSize and goes
// out after the next connect. It returns once the frame is written, or
// with an error: full queue, ctx ended (the message is then dropped from
// the queue), or the client stopped.
func (c *Client) Send(ctx context.Context, handler string, params map[string]any) error {
	if handler == "" {
		return errors.New("wsclient: send: empty handler name")
	}
	data, err := encodeOutgoing(c.cfg.RouteKey, handler, params)
	if err != nil {
		return fmt.Errorf("wsclient: send %s: %w", handler, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wsclient: send %s: %w", handler, err)
	}
	select {
	case <-c.stopped:
		return ErrClosed
	default:
	}
	m := &outMsg{data: data, done: make(chan error, 1)}
	select {
	case c.sendq <- m:
	default:
		return fmt.Errorf("wsclient: send %s: %w", handler, ErrQueueFull)
	}
	select {
	case err := <-m.done:
		if err != nil {
			return fmt.Errorf("wsclient: send %s: %w", handler, err)
		}
		return nil
	case <-ctx.Done():
		m.abandoned.Store(true)
		return fmt.Errorf("wsclient: send %s: %w", handler, ctx.Err())
	case <-c.stopped:
		return ErrClosed
	}
}
