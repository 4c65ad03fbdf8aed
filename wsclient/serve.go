package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gorilla/websocket"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// dedupGrace keeps the rotation dedup alive a little after the old
// connection closed, for copies the new one delivers late.
const dedupGrace = 10 * time.Second

// rotateOverlap keeps the old connection open for a while after the new
// one is up: what the server queued for it before the new one existed is
// still delivered (the gateway drops a closing connection's queue); the
// copies that arrive on both are dropped by dedup.
const rotateOverlap = 3 * time.Second

// rotateRetry is the wait before another rotation try after one failed;
// the old connection still has minutes before the gateway's 2-hour cap.
const rotateRetry = 30 * time.Second

// live is one connected stretch: the current connection, an old one being
// closed after a rotation, and their timers. The Run goroutine's alone.
type live struct {
	r        *runner
	cur, old *conn
	dd       *dedup
	ddGrace  clock.Timer
	ping     clock.Ticker
	pong     clock.Timer // armed after a ping when the peer answers pings
	keep     clock.Timer // application keepalive; nil when off
	rotate   clock.Timer
	oldClose clock.Timer  // overlap, then close handshake
	oldBye   bool         // the old connection has been sent its close frame
	rot      chan rotated // in-flight rotation dial, buffer 1
	rotStop  context.CancelFunc
	// During a rotation the new connection's messages are held until the
	// old one has caught up with them (delivered one of them) or ended:
	// what the server queued for the old one before the new one existed
	// comes first, so toasts stay in order across the switch.
	holding bool
	newSlot int
	held    []frame
	cu      liveCatchup // catchup.go
}

type rotated struct {
	cn  *conn
	err error
}

func timerC(t clock.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

func stop(t clock.Timer) {
	if t != nil {
		t.Stop()
	}
}

// serve runs one connection (and its rotations) until it ends.
func (r *runner) serve(ctx context.Context, cn *conn) (d dropped) {
	c, cfg := r.c, r.cfg
	l := &live{r: r}
	l.ping = c.clk.NewTicker(cfg.PingInterval)
	l.rotate = c.clk.NewTimer(cfg.RotateAfter)
	if cfg.KeepaliveHandler != "" {
		l.keep = c.clk.NewTimer(cfg.KeepaliveInterval)
	}
	defer func() { l.cleanup(d.kind) }()
	if err := l.adopt(cn); err != nil {
		return l.drop(dropAbrupt, err)
	}
	for {
		var oldErr chan error
		if l.old != nil {
			oldErr = l.old.errc
		}
		select {
		case <-ctx.Done():
			l.cur.sayGoodbye(websocket.CloseNormalClosure)
			return dropped{kind: dropStopped}
		case f := <-r.frames:
			err := l.frame(f)
			c.trace.event(traceFrame)
			if err != nil {
				return l.drop(dropAbrupt, err)
			}
		case err := <-l.cur.errc:
			c.log.Debug("connection ended", "err", err)
			return l.drop(dropOf(err), fmt.Errorf("connection lost: %w", err))
		case <-oldErr:
			l.oldGone()
		case <-timerC(l.oldClose):
			l.oldTimer()
		case <-timerC(l.ddGrace):
			l.dd, l.ddGrace = nil, nil
		case <-l.ping.C():
			if err := l.sendPing(); err != nil {
				return l.drop(dropAbrupt, err)
			}
		case <-timerC(l.pong):
			l.pong = nil
			// Any frame or pong since the ping shows the peer alive.
			if l.cur.recv.Load() == l.cur.pingRecv {
				c.stats.pongTimeout.Add(1)
				c.trace.event(tracePongChecked)
				return l.drop(dropAbrupt, fmt.Errorf("no answer to a ping within %s", cfg.PongWait))
			}
			c.trace.event(tracePongChecked)
		case <-timerC(l.keep):
			if err := l.keepalive(); err != nil {
				return l.drop(dropAbrupt, err)
			}
		case req := <-c.reconnect:
			if req.gen < l.cur.gen {
				continue // asked before this connection opened: it is fresh
			}
			c.log.Info("replacing the connection", "reason", req.reason)
			l.cur.sayGoodbye(websocket.CloseNormalClosure)
			return l.drop(dropReconnect, errors.New(req.reason))
		case <-timerC(l.cu.wait):
			if err := l.catchupExpired(); err != nil {
				// Not a flap: the link works but the site does not push
				// here, so a fresh connection that is deaf too is a failed
				// attempt (backoff), not a lost network (fast retry).
				return l.drop(dropDeaf, err)
			}
		case <-timerC(l.cu.poll):
			if err := l.catchupRequest(); err != nil {
				return l.drop(dropAbrupt, err)
			}
		case <-timerC(l.rotate):
			l.startRotation(ctx)
		case res := <-l.rot:
			l.rot, l.rotStop = nil, nil
			if err := l.rotated(res); err != nil {
				return l.drop(dropAbrupt, err)
			}
		}
	}
}

// adopt makes cn the current connection: reset liveness timers, announce
// it, send the catch-up request and anything left over.
func (l *live) adopt(cn *conn) error {
	r, c := l.r, l.r.c
	l.cur = cn
	stop(l.pong)
	l.pong = nil
	l.ping.Reset(r.cfg.PingInterval)
	l.rotate.Reset(r.cfg.RotateAfter)
	c.setStatus(Status{State: StateConnected})
	// Ping at once: by its pong (or its absence) the client knows within
	// a round trip whether this peer answers pings, so a link that goes
	// silent early is held to the pong deadline from the next ping on.
	if err := l.sendPing(); err != nil {
		return err
	}
	return l.catchupRequest()
}

// sendPing pings the current connection. Only a peer that has answered a
// ping on this connection is held to a pong deadline: API Gateway may
// never answer, and such a peer must not be dropped for it. What has been
// read so far is noted before the ping goes out: its pong can be read
// before the write returns.
func (l *live) sendPing() error {
	c := l.r.c
	watch := l.cur.answered.Load() && l.pong == nil
	if watch {
		l.cur.pingRecv = l.cur.recv.Load()
	}
	if err := l.cur.ping(); err != nil {
		return err
	}
	c.trace.event(tracePingWritten)
	if watch {
		l.pong = c.clk.NewTimer(l.r.cfg.PongWait)
	}
	c.trace.event(tracePing)
	return nil
}

// write sends an application frame and restarts the keepalive timer: any
// client frame counts as activity for the gateway's idle timeout.
func (l *live) write(b []byte) error {
	if l.keep != nil {
		l.keep.Reset(l.r.cfg.KeepaliveInterval)
	}
	return l.cur.write(websocket.TextMessage, b)
}

func keepaliveMsg(cfg Config) []byte {
	b, _ := encodeOutgoing(cfg.RouteKey, cfg.KeepaliveHandler, nil) // strings only: cannot fail
	return b
}

// frame delivers one frame, dropping rotation duplicates and holding the
// new connection's messages while the old one lags (live.holding). An
// error is a failed write (a catch-up request for the next page).
func (l *live) frame(f frame) error {
	if f.c != l.cur && f.c != l.old && l.rot == nil {
		return nil // from a connection already given up
	}
	// An unknown connection while a rotation dials is the new one,
	// already receiving: it is held, then dedup decides.
	answer, err := l.catchupAnswer(f)
	if answer || f.typ != websocket.TextMessage || !l.holding {
		l.deliver(f, answer)
		return err
	}
	if f.c.slot == l.newSlot {
		l.held = append(l.held, f)
		return err
	}
	l.deliver(f, false)
	if slices.ContainsFunc(l.held, func(h frame) bool { return bytes.Equal(h.data, f.data) }) {
		l.release() // the old connection has caught up with the new one
	}
	return err
}

// deliver passes one frame on, unless dedup knows it as a copy; a
// catch-up answer bypasses dedup.
func (l *live) deliver(f frame, answer bool) {
	if !answer && l.dd != nil && f.typ == websocket.TextMessage && !l.dd.accept(f.c.slot, f.data) {
		l.r.c.stats.duplicates.Add(1)
		return
	}
	if m, ok := l.r.c.dispatch(f.typ, f.data); ok && l.r.cfg.CatchupHandler != "" {
		l.r.cu.note(m)
	}
}

// release delivers the new connection's held messages, in order, and
// stops holding: from here on both connections carry the same stream.
func (l *live) release() {
	held := l.held
	l.holding, l.held = false, nil
	if len(held) > 0 {
		l.r.c.log.Debug("rotation: delivering what the new connection held", "messages", len(held))
	}
	for _, f := range held {
		l.deliver(f, false)
	}
}

// startRotation dials a second connection with a fresh token while the
// current one keeps serving (make before break).
func (l *live) startRotation(ctx context.Context) {
	r, c := l.r, l.r.c
	if l.rot != nil || l.old != nil {
		return
	}
	now := c.clk.Now()
	if w := r.budget.wait(now); w > 0 {
		l.rotate.Reset(w)
		return
	}
	r.budget.spend(now)
	c.log.Info("rotating the connection before the gateway's time limit")
	// Record from now on what the current connection delivers: the new
	// one receives copies as soon as its handshake is through.
	l.dd = newDedup()
	stop(l.ddGrace)
	l.ddGrace = nil
	l.holding, l.newSlot, l.held = true, l.cur.slot^1, nil
	rctx, cancel := context.WithCancel(ctx)
	l.rot, l.rotStop = make(chan rotated, 1), cancel
	ch, slot := l.rot, l.cur.slot^1
	go func() {
		cn, err := r.dial(rctx, slot)
		ch <- rotated{cn, err}
	}()
}

// rotated switches to the new connection and starts closing the old.
func (l *live) rotated(res rotated) error {
	c := l.r.c
	if res.err != nil {
		c.log.Warn("rotation failed; keeping the current connection", "err", res.err)
		l.dd = nil
		l.holding = false // a failed dial delivered nothing
		l.rotate.Reset(rotateRetry + time.Duration(c.jitter()*float64(rotateRetry)))
		return nil
	}
	c.stats.rotations.Add(1)
	l.old = l.cur // adopt replaces l.cur
	l.oldBye = false
	l.oldClose = c.clk.NewTimer(rotateOverlap)
	if err := l.adopt(res.cn); err != nil {
		return err
	}
	c.trace.event(traceSwitched)
	return nil
}

// oldTimer first says goodbye to the old connection once the overlap is
// over, then, if the peer does not answer the close, cuts it off.
func (l *live) oldTimer() {
	if l.oldBye {
		l.oldGone()
		return
	}
	l.oldBye = true
	l.old.sayGoodbye(websocket.CloseNormalClosure)
	l.oldClose = l.r.c.clk.NewTimer(closeWait)
}

// oldGone finishes a rotation: the old connection is closed and its
// reader awaited; dedup stays on a little longer for late copies.
func (l *live) oldGone() {
	c := l.r.c
	l.old.abort()
	l.old = nil
	l.release()
	stop(l.oldClose)
	l.oldClose = nil
	l.ddGrace = c.clk.NewTimer(dedupGrace)
	c.trace.event(traceOldGone)
}

// drop says how serve ended: why, and how long the current connection
// lived and whether it read anything (for the backoff). serve's deferred
// cleanup then closes the connections and awaits their readers.
func (l *live) drop(kind dropKind, err error) dropped {
	return dropped{kind: kind, err: err, up: l.r.c.clk.Now().Sub(l.cur.opened), read: l.cur.recv.Load() > 0}
}

// cleanup closes everything serve opened and waits for every goroutine.
func (l *live) cleanup(kind dropKind) {
	if kind != dropStopped {
		l.release() // received before the drop: the app gets them
	}
	l.ping.Stop()
	l.catchupStop()
	for _, t := range []clock.Timer{l.pong, l.keep, l.rotate, l.oldClose, l.ddGrace} {
		stop(t)
	}
	if l.rot != nil {
		l.rotStop()
		res := <-l.rot
		if res.cn != nil {
			if kind == dropStopped {
				res.cn.abort()
			} else {
				l.r.adopt = res.cn
			}
		}
	}
	if l.old != nil {
		l.old.abort()
	}
	l.cur.abort()
}
