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
	w.at = f.now.Add(d)
	f.addLocked(w)
	f.mu.Unlock()
	f.fireDue()
	return w
}

// NewTicker returns a ticker firing every d of fake time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive ticker period")
	}
	w := &fakeWaiter{clock: f, period: d, ch: make(chan time.Time, 1)}
	f.mu.Lock()
	w.at = f.now.Add(d)
	f.addLocked(w)
	f.mu.Unlock()
	return fakeTicker{w}
}

// Advance moves the fake time forward by d, firing every timer and ticker
// whose deadline is reached, in deadline order.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	target := f.now.Add(d)
	f.mu.Unlock()
	f.advanceTo(target)
}

// Set moves the fake time to t (forward only), firing due timers.
func (f *Fake) Set(t time.Time) { f.advanceTo(t) }

func (f *Fake) advanceTo(target time.Time) {
	for {
		f.mu.Lock()
		var next *fakeWaiter
		for _, w := range f.waiters {
			if w.active && !w.at.After(target) && (next == nil || w.at.Before(next.at)) {
				next = w
			}
		}
		if next == nil {
			if target.After(f.now) {
				f.now = target
			}
			f.mu.Unlock()
			return
		}
		if next.at.After(f.now) {
			f.now = next.at
		}
		f.fireLocked(next)
		f.mu.Unlock()
	}
}

// fireDue fires timers already due (a timer created with d <= 0).
func (f *Fake) fireDue() {
	f.mu.Lock()
	now := f.now
	f.mu.Unlock()
	f.advanceTo(now)
}

func (f *Fake) fireLocked(w *fakeWaiter) {
	select {
	case w.ch <- w.at:
	default: // like the real ones: a slow reader misses ticks
	}
	if w.period > 0 {
		w.at = w.at.Add(w.period)
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
	was := f.removeLocked(w)
	// Drain a stale tick, as Go 1.23+ timers do on Reset.
	select {
	case <-w.ch:
	default:
	}
	if w.period > 0 {
		w.period = d
	}
	w.at = f.now.Add(d)
	f.addLocked(w)
	f.mu.Unlock()
	if w.period == 0 {
		f.fireDue()
	}
	return was
}

// fakeTicker adapts the waiter to the Ticker interface.
type fakeTicker struct{ w *fakeWaiter }

func (t fakeTicker) C() <-chan time.Time   { return t.w.ch }
func (t fakeTicker) Stop()                 { t.w.Stop() }
func (t fakeTicker) Reset(d time.Duration) { t.w.Reset(d) }
