package wsclient

import (
	"context"
	"errors"
)

// Client keeps one WebSocket connection open. Create it with New.
type Client struct {
	cfg   Config
	creds Credentials
	opts  Options
}

// New checks cfg and returns a client; nothing happens until Run.
func New(cfg Config, creds Credentials, opts Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Client{cfg: cfg.WithDefaults(), creds: creds, opts: opts}, nil
}

// Run connects and stays connected until ctx ends or a permanent error.
func (c *Client) Run(ctx context.Context) error { return errors.New("wsclient: not implemented yet") }

// Send queues a message for the server.
func (c *Client) Send(ctx context.Context, handler string, params map[string]any) error {
	return errors.New("wsclient: not implemented yet")
}

// Status returns the current status.
func (c *Client) Status() Status { return Status{} }

// Reconnect drops the connection and dials now; it does not block.
func (c *Client) Reconnect(reason string) {}
