package wsclient

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/toasttray/toasttray/wsclient/clock"
)

// ErrClosed is returned by a second Run.
var ErrClosed = errors.New("wsclient: client stopped")

// Client keeps one WebSocket connection open. Create it with New; Run it
// once. All methods are safe for concurrent use.
type Client struct {
	cfg   Config
	creds Credentials
	opts  Options
	clk   clock.Clock
	log   *slog.Logger
	rand  func() float64

	reconnect chan reconnectReq // buffer 1: repeated requests collapse
	started   atomic.Bool

	mu     sync.Mutex
	status Status

	// gen counts the connections opened so far. A reconnect request
	// carries the count it saw, so one asked before the current
	// connection opened is recognised as stale; wall time cannot tell,
	// it may jump back (clock set, wake from sleep).
	gen atomic.Uint64

	stats stats
	trace *trace // nil outside tests
}

// traceEvent is an internal event that tests wait for instead of
// sleeping (set through export_test.go, as net/http/httptrace does).
type traceEvent int

const (
	tracePong        traceEvent = iota // a pong arrived (reader goroutine)
	tracePingWritten                   // the write of a ping returned (its deadline is not armed yet)
	tracePing                          // a ping went out and its deadline, if any, is armed
	tracePongChecked                   // a pong deadline passed and was checked (before any drop)
	traceOldGone                       // after a rotation, the old connection is closed
	traceSwitched                      // a rotation switched to the new connection
	traceFrame                         // the Run goroutine took a frame (delivered, held or dropped)
	numTraceEvents
)

// trace holds the tests' callbacks; a nil *trace ignores every event.
type trace [numTraceEvents]func()

func (t *trace) event(e traceEvent) {
	if t != nil && t[e] != nil {
		t[e]()
	}
}

type reconnectReq struct {
	reason string
	gen    uint64 // Client.gen when asked; requests older than a connection are stale
}

// New checks cfg and returns a client; nothing happens until Run.
func New(cfg Config, creds Credentials, opts Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:       cfg.WithDefaults(),
		creds:     creds,
		opts:      opts,
		clk:       opts.Clock,
		log:       opts.Logger,
		rand:      opts.Rand,
		reconnect: make(chan reconnectReq, 1),
	}
	if c.clk == nil {
		c.clk = clock.Real
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	c.status = Status{State: StateStopped, Since: c.clk.Now()}
	return c, nil
}

// Status returns the current status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Stats returns the counters so far.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// Reconnect asks Run to drop the connection and dial again now (after a
// wake or a network change). It never blocks; repeated calls collapse.
func (c *Client) Reconnect(reason string) {
	select {
	case c.reconnect <- reconnectReq{reason: reason, gen: c.gen.Load()}:
	default:
	}
}

// setStatus records and announces a change; OnStatus must not block.
func (c *Client) setStatus(st Status) {
	c.mu.Lock()
	old := c.status
	if st.State == old.State {
		st.Since = old.Since
	} else {
		st.Since = c.clk.Now()
	}
	if st == old {
		c.mu.Unlock()
		return
	}
	c.status = st
	c.mu.Unlock()
	if st.State != old.State || st.Err != old.Err {
		c.log.Debug("status", "state", st.State.String(), "attempt", st.Attempt, "err", st.Err)
	}
	if c.opts.OnStatus != nil {
		c.opts.OnStatus(st)
	}
}

func (c *Client) jitter() float64 {
	r := c.rand()
	if r < 0 || r >= 1 {
		return 0.5
	}
	return r
}

// Run connects and stays connected until ctx ends (then it returns nil) or
// a permanent error: ErrSignedOut, or a configuration error the site
// reported (ErrRejected). It may be called once.
func (c *Client) Run(ctx context.Context) (err error) {
	if !c.started.CompareAndSwap(false, true) {
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		c.finish(err)
	}()
	watchers := c.opts.Watchers
	if watchers == nil {
		watchers = defaultWatchers(c.log)
	}
	for _, w := range watchers {
		watch := w(ctx, c.Reconnect) // armed here, before the first connection
		wg.Add(1)
		go func() {
			defer wg.Done()
			watch()
		}()
	}
	sess, err := newSession(c.cfg, c.creds)
	if err != nil {
		return err
	}
	defer sess.dropIdle()
	r := &runner{c: c, cfg: c.cfg, sess: sess, frames: make(chan frame), cu: catchupState{last: cleanID(c.opts.CatchupSince)}}
	return r.loop(ctx)
}

// finish marks the client stopped.
func (c *Client) finish(err error) {
	st := c.Status()
	switch {
	case errors.Is(err, ErrSignedOut):
		c.setStatus(Status{State: StateSignedOut, Err: errText(err)})
	case err != nil:
		c.setStatus(Status{State: StateStopped, Err: errText(err)})
	default:
		c.setStatus(Status{State: StateStopped, Err: st.Err})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
