package wsclient_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// TestQuickPongKeepsConnection: a pong read before the write of its ping
// has returned (a fast network) answers that ping; the connection is
// kept. The ping-written hook makes this order certain: it holds the Run
// goroutine right after the write until the pong has been read, and lets
// time move on meanwhile.
func TestQuickPongKeepsConnection(t *testing.T) {
	noLeak(t)
	h := newHarness(t, setup{})
	pong, pongs := signal()
	wsclient.SetPongHook(h.client, pong)
	ping, pings := signal()
	wsclient.SetPingHook(h.client, ping)
	checked, checks := signal()
	wsclient.SetPongCheckedHook(h.client, checked)
	var hold atomic.Bool
	wsclient.SetPingWrittenHook(h.client, func() {
		if !hold.Load() {
			return
		}
		select {
		case <-pongs:
		case <-time.After(failsafe):
			t.Error("no pong to a ping")
		}
		h.clk.Advance(time.Millisecond)
	})
	h.start()
	h.waitState(wsclient.StateConnected)
	// The ping on connect teaches the client that the peer answers
	// pings; from the second on, each has a pong deadline.
	waitSignal(t, pings, "ping on connect")
	waitSignal(t, pongs, "first pong")
	hold.Store(true)
	for i := 1; i <= 3; i++ {
		h.advanceTo(epoch.Add(time.Duration(i) * wsclient.DefaultPingInterval))
		waitSignal(t, pings, "ping")
		h.clk.Advance(wsclient.DefaultPongWait)
		waitSignal(t, checks, "pong deadline")
		if n := h.client.Stats().PongTimeout; n != 0 {
			t.Fatalf("ping %d: a healthy connection was dropped for a missed pong (%d)", i+1, n)
		}
	}
	if c := h.srv.Counters(); c.Connects != 1 || h.client.Status().State != wsclient.StateConnected {
		t.Fatalf("connection replaced: %+v, status %+v", c, h.client.Status())
	}
	h.srv.Push("default", toast(1))
	if n := msgN(t, h.waitMsg()); n != 1 {
		t.Fatalf("message %d", n)
	}
}

// jumpClock is a fake clock whose wall time can jump without moving its
// timers, as the real clock's does when it is set or after a sleep.
type jumpClock struct {
	*clock.Fake
	off *atomic.Int64
}

func (j jumpClock) Now() time.Time { return j.Fake.Now().Add(time.Duration(j.off.Load())) }

// TestReconnectAfterBackwardClockJump: a reconnect request (network
// change, or the wake watcher noticing the jump) made after the wall clock
// went back still replaces the connection: it is not mistaken for a
// request older than the connection.
func TestReconnectAfterBackwardClockJump(t *testing.T) {
	for _, via := range []string{"network-change", "wake-watcher"} {
		t.Run(via, func(t *testing.T) {
			noLeak(t)
			off := new(atomic.Int64)
			clientClk := jumpClock{clock.NewFake(epoch), off}
			watchClk := jumpClock{clock.NewFake(epoch), off} // its own timers: only the watcher's ticker
			h := newHarness(t, setup{opts: func(o *wsclient.Options) {
				o.Clock = clientClk
				if via == "wake-watcher" {
					o.Watchers = []wsclient.Watcher{wsclient.WakeWatcher(watchClk, 10*time.Second, 20*time.Second)}
				}
			}})
			h.start()
			h.waitState(wsclient.StateConnected)
			off.Store(int64(-time.Hour))
			if via == "wake-watcher" {
				watchClk.BlockUntil(1, nil)
				watchClk.Advance(10 * time.Second) // the watcher sees 10 s - 1 h pass
			} else {
				h.client.Reconnect("the network changed")
			}
			h.waitState(wsclient.StateConnecting)
			h.waitState(wsclient.StateConnected)
			if c := h.srv.Counters(); c.Connects != 2 || c.TokensIssued != 2 {
				t.Fatalf("counters %+v", c)
			}
		})
	}
}

// lateWatchClock is the wake watcher's clock in
// TestClockJumpRightAfterConnect: its ticker is made only once the client
// is connected, and the wall clock then jumps, as when the machine sleeps
// right after connecting while the watcher's goroutine has not run yet.
type lateWatchClock struct {
	jumpClock
	connected <-chan struct{}
}

func (l lateWatchClock) NewTimer(d time.Duration) clock.Timer {
	<-l.connected
	l.off.Store(int64(time.Hour))
	return l.jumpClock.NewTimer(d)
}

// TestClockJumpRightAfterConnect: the wake watcher takes its first wall
// time before the client connects, so a jump after the connection opened
// is seen however late the watcher's goroutine runs (S15 once missed one:
// a loaded CI machine ran the goroutine 2 ms late, after the jump).
func TestClockJumpRightAfterConnect(t *testing.T) {
	noLeak(t)
	off := new(atomic.Int64)
	connected := make(chan struct{})
	var once sync.Once
	watchClk := lateWatchClock{jumpClock{clock.NewFake(epoch), off}, connected}
	h := newHarness(t, setup{opts: func(o *wsclient.Options) {
		o.Clock = jumpClock{clock.NewFake(epoch), off}
		o.Watchers = []wsclient.Watcher{wsclient.WakeWatcher(watchClk, 10*time.Second, 20*time.Second)}
		next := o.OnStatus
		o.OnStatus = func(st wsclient.Status) {
			if st.State == wsclient.StateConnected {
				once.Do(func() { close(connected) })
			}
			next(st)
		}
	}})
	h.start()
	h.waitState(wsclient.StateConnected)
	watchClk.BlockUntil(1, nil) // the watcher's timer
	watchClk.Advance(10 * time.Second)
	h.waitState(wsclient.StateConnecting)
	h.waitState(wsclient.StateConnected)
	if c := h.srv.Counters(); c.Connects != 2 || c.TokensIssued != 2 {
		t.Fatalf("counters %+v", c)
	}
}
