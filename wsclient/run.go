package wsclient

import (
	"context"
	"errors"
	"time"

	"github.com/gorilla/websocket"
)

// runner is the state of one Run: the Run goroutine's alone.
type runner struct {
	c       *Client
	cfg     Config
	sess    *session
	frames  chan frame // from every reader to the Run goroutine
	attempt int        // consecutive failed attempts (Status.Attempt)
	exp     int        // backoff exponent for the next delay
	flaps   int        // established connections dropped abruptly since the last healthy one
	netFail bool       // the last failure was at the network level: probe before spending a token
	gwDown  bool       // the gateway answered a handshake with 5xx: probe it without a token first
	budget  budget
	lastErr string
	adopt   *conn // a rotation's connection that outlived the one it was meant to replace
	cu      catchupState
}

// dropKind is why a connection ended.
type dropKind int

const (
	dropAbrupt      dropKind = iota // read/write error, no close frame, missed pong
	dropGoingAway                   // close 1001
	dropServerClose                 // another close code from the server
	dropReconnect                   // Reconnect: wake or network change
	dropDeaf                        // no answer to catch-up: the site no longer pushes here
	dropStopped                     // ctx ended
)

func (k dropKind) String() string {
	return [...]string{"abrupt", "going-away", "server-close", "reconnect", "deaf", "stopped"}[k]
}

type dropped struct {
	kind dropKind
	err  error
	up   time.Duration
	read bool // the connection read a frame or a pong: the peer was there
}

func (r *runner) loop(ctx context.Context) error {
	c := r.c
	var delay time.Duration
	state := StateWaiting
	for {
		if delay > 0 && !r.wait(ctx, delay, state) {
			return nil
		}
		delay, state = 0, StateWaiting
		cn := r.adopt
		r.adopt = nil
		if cn == nil {
			if w := r.budget.wait(c.clk.Now()); w > 0 {
				r.lastErr = "waiting for the token budget (too many reconnects in a minute)"
				delay = w
				continue
			}
			c.setStatus(Status{State: StateConnecting, Attempt: r.attempt, Err: r.lastErr})
			var err error
			cn, err = r.connect(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				if permanent(err) {
					c.log.Warn("giving up", "err", err)
					return err
				}
				delay, state = r.failed(err)
				continue
			}
		}
		d := r.serve(ctx, cn)
		if d.kind == dropStopped || ctx.Err() != nil {
			return nil
		}
		delay = r.afterDrop(d)
	}
}

// permanent errors stop Run: the user has to act.
func permanent(err error) bool {
	return errors.Is(err, ErrSignedOut) || errors.Is(err, ErrRejected)
}

// failed picks the wait after a failed attempt.
func (r *runner) failed(err error) (time.Duration, State) {
	c := r.c
	r.attempt++
	r.lastErr = errText(err)
	var te *TokenError
	var de *dialError
	r.netFail = (errors.As(err, &te) && te.Network) || (errors.As(err, &de) && de.Network)
	r.gwDown = errors.As(err, &de) && de.Status >= 500
	if errors.Is(err, ErrRateLimited) {
		d := rateLimitWait + time.Duration(c.jitter()*float64(rateLimitJitter))
		c.log.Warn("rate limited by the site", "wait", d)
		return d, StateRateLimited
	}
	d := r.backoff()
	c.log.Info("connection attempt failed", "attempt", r.attempt, "retry_in", d, "err", err)
	return d, StateWaiting
}

func (r *runner) backoff() time.Duration {
	d := backoffDelay(r.exp, r.cfg.BackoffBase, r.cfg.BackoffCap, r.c.jitter())
	if r.exp < 62 {
		r.exp++
	}
	return d
}

// afterDrop picks the wait after an open connection ended
// (retryAfterDrop) and keeps the counters it needs.
func (r *runner) afterDrop(d dropped) time.Duration {
	healthy := d.up >= r.cfg.StableAfter
	if healthy {
		r.attempt, r.exp, r.flaps, r.lastErr = 0, 0, 0, ""
	}
	established := d.read || d.up >= aliveAfter
	if d.err != nil {
		r.lastErr = errText(d.err)
	}
	r.c.log.Info("connection ended", "kind", d.kind.String(), "up", d.up.Round(time.Millisecond), "err", d.err)
	next := retryAfterDrop(d.kind, healthy, established, r.flaps, r.exp, r.cfg.BackoffBase, r.cfg.BackoffCap, r.c.jitter())
	r.exp = min(next.exp, 62)
	switch {
	case d.kind == dropAbrupt && established:
		r.flaps++
	case !healthy:
		r.attempt++
	}
	// After a wake, a network change or a lost link, probe the site
	// before spending a token.
	r.netFail = d.kind == dropAbrupt || d.kind == dropReconnect
	return next.wait
}

// wait sleeps d on the client's clock, showing state. A Reconnect request
// (the network is back, the machine woke) cuts a backoff short, never a
// rate-limit wait. It returns false when ctx ended.
func (r *runner) wait(ctx context.Context, d time.Duration, state State) bool {
	c := r.c
	t := c.clk.NewTimer(d)
	defer t.Stop()
	c.setStatus(Status{State: state, Until: c.clk.Now().Add(d), Attempt: r.attempt, Err: r.lastErr})
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C():
			return true
		case req := <-c.reconnect:
			if state != StateRateLimited {
				c.log.Info("retrying now", "reason", req.reason)
				r.netFail = true
				return true
			}
		}
	}
}

// connect does one attempt: probe (after a network failure), a fresh
// token, the handshake.
func (r *runner) connect(ctx context.Context) (*conn, error) {
	if r.netFail {
		if err := probe(ctx, r.cfg, r.sess); err != nil {
			return nil, err
		}
	}
	if r.gwDown {
		if err := probeHandshake(ctx, r.cfg, r.sess); err != nil {
			return nil, err
		}
		r.gwDown = false
	}
	r.budget.spend(r.c.clk.Now())
	return r.dial(ctx, 0)
}

// dial fetches a token and opens a connection with its reader running.
// Rotation calls it from a helper goroutine that Run awaits; it touches
// nothing of the runner but the session, which Run leaves alone meanwhile.
func (r *runner) dial(ctx context.Context, slot int) (*conn, error) {
	c := r.c
	tok, err := r.sess.token(ctx)
	if err != nil {
		return nil, err
	}
	c.stats.tokens.Add(1)
	ws, err := dialWS(ctx, r.cfg, r.sess, tok)
	if err != nil {
		return nil, err
	}
	c.stats.connects.Add(1)
	r.sess.dropIdle()
	cn := &conn{ws: ws, slot: slot, gen: c.gen.Add(1), opened: c.clk.Now(), errc: make(chan error, 1), done: make(chan struct{}), exited: make(chan struct{})}
	c.startReader(cn, r.frames)
	return cn, nil
}

// dropOf classifies a reader's final error.
func dropOf(err error) dropKind {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case websocket.CloseGoingAway:
			return dropGoingAway
		case websocket.CloseAbnormalClosure, websocket.CloseMessageTooBig:
			return dropAbrupt
		}
		return dropServerClose
	}
	return dropAbrupt
}
