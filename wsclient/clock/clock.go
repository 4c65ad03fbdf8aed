// Package clock lets the client and the backend emulator take time as a
// parameter, so tests can drive timers, TTLs and rate-limit windows without
// sleeping.
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock is the part of package time that ToastTray's timing code uses.
type Clock interface {
	Now() time.Time
	// NewTimer is time.NewTimer behind an interface.
	NewTimer(d time.Duration) Timer
	// NewTicker is time.NewTicker behind an interface.
	NewTicker(d time.Duration) Ticker
}

// Timer is the part of *time.Timer that callers use.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// Ticker is the part of *time.Ticker that callers use.
type Ticker interface {
	C() <-chan time.Time
	Stop()
	Reset(d time.Duration)
}

// Real is the system clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                   { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer   { return realTimer{time.NewTimer(d)} }
func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time   { return r.t.C }
func (r realTicker) Stop()                 { r.t.Stop() }
func (r realTicker) Reset(d time.Duration) { r.t.Reset(d) }

// Fake is a manually advanced clock for tests. Timers fire only when Advance
// moves the time past their deadline; their channels have a buffer of one, as
// the real ones do, so a fired timer never blocks Advance.
//
// A jump is atomic: Advance moves the time to its target at once and fires
// the timers that were pending when it started, in deadline order, each with
// its own deadline as the value. A goroutine woken by one of them reads the
// target from Now, and a timer it arms counts from there: one jump never
// passes a deadline armed within it (a reply deadline armed when a rotation
// fires inside a two-hour jump waits for the next Advance, as the reply would
// have arrived in real time). Stepping through the deadlines instead would
// need to know when the woken goroutines are done, which a test with real
// sockets cannot.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
	changed chan struct{} // closed and replaced whenever waiters change
}

type fakeWaiter struct {
	clock  *Fake
	at     time.Time
	period time.Duration // >0 for tickers
	ch     chan time.Time
	active bool
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when the fake time reaches now+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	w := &fakeWaiter{clock: f, ch: make(chan time.Time, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armLocked(w, d)
	return w
}

// NewTicker returns a ticker firing every d of fake time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive ticker period")
	}
	w := &fakeWaiter{clock: f, period: d, ch: make(chan time.Time, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armLocked(w, d)
	return fakeTicker{w}
}

// Advance moves the fake time forward by d in one jump (see Fake).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jumpLocked(f.now.Add(d))
}

// Set moves the fake time to t (forward only) in one jump (see Fake).
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jumpLocked(t)
}

// jumpLocked moves the time to target and fires the waiters it passes, in
// deadline order. Everything happens under f.mu, so nothing armed by a woken
// goroutine can join the jump.
func (f *Fake) jumpLocked(target time.Time) {
	if !target.After(f.now) {
		return
	}
	f.now = target
	var due []*fakeWaiter
	for _, w := range f.waiters {
		if !w.at.After(target) {
			due = append(due, w)
		}
	}
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, w := range due {
		f.fireLocked(w)
	}
}

// armLocked sets w to fire d after now; a timer with d <= 0 fires at once.
func (f *Fake) armLocked(w *fakeWaiter, d time.Duration) {
	w.at = f.now.Add(d)
	f.addLocked(w)
	if d <= 0 {
		f.fireLocked(w)
	}
}

// fireLocked sends w's deadline on its channel. A ticker that missed
// periods sends once and moves to its first deadline after now, as a
// real one does after a long stall.
func (f *Fake) fireLocked(w *fakeWaiter) {
	select {
	case w.ch <- w.at:
	default: // like the real ones: a slow reader misses ticks
	}
	if w.period > 0 {
		missed := f.now.Sub(w.at) / w.period
		w.at = w.at.Add((missed + 1) * w.period)
	} else {
		f.removeLocked(w)
	}
}

func (f *Fake) addLocked(w *fakeWaiter) {
	w.active = true
	f.waiters = append(f.waiters, w)
	f.notifyLocked()
}

func (f *Fake) removeLocked(w *fakeWaiter) bool {
	if !w.active {
		return false
	}
	w.active = false
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			break
		}
	}
	f.notifyLocked()
	return true
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Waiters returns how many timers and tickers are pending.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// Deadlines returns the pending deadlines as offsets from now, sorted. Tests
// use it to read a backoff delay without waiting for it.
func (f *Fake) Deadlines() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]time.Duration, 0, len(f.waiters))
	for _, w := range f.waiters {
		out = append(out, w.at.Sub(f.now))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// BlockUntil waits until at least n timers or tickers are pending, or done is
// closed. It returns false if done closed first. Tests use it to know that the
// code under test has started waiting before they advance the clock.
func (f *Fake) BlockUntil(n int, done <-chan struct{}) bool {
	for {
		f.mu.Lock()
		if len(f.waiters) >= n {
			f.mu.Unlock()
			return true
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			return false
		}
	}
}

func (w *fakeWaiter) C() <-chan time.Time { return w.ch }

func (w *fakeWaiter) Stop() bool {
	w.clock.mu.Lock()
	defer w.clock.mu.Unlock()
	return w.clock.removeLocked(w)
}

func (w *fakeWaiter) Reset(d time.Duration) bool {
	f := w.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	was := f.removeLocked(w)
	// Drain a stale tick, as Go 1.23+ timers do on Reset.
	select {
	case <-w.ch:
	default:
	}
	if w.period > 0 {
		if d <= 0 {
			panic("clock: non-positive ticker period")
		}
		w.period = d
	}
	f.armLocked(w, d)
	return was
}

// fakeTicker adapts the waiter to the Ticker interface.
type fakeTicker struct{ w *fakeWaiter }

func (t fakeTicker) C() <-chan time.Time   { return t.w.ch }
func (t fakeTicker) Stop()                 { t.w.Stop() }
func (t fakeTicker) Reset(d time.Duration) { t.w.Reset(d) }
