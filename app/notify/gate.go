package notify

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// Gate defaults. A burst shows DefaultBurst popups per DefaultWindow; the
// rest become one "N more notifications" popup as soon as the burst is
// over (DefaultSettle without another), at the latest when the window
// ends. Errors never count against the burst.
const (
	DefaultBurst  = 3
	DefaultWindow = 10 * time.Second
	DefaultSettle = time.Second
	DefaultQueue  = 16
)

// GateOptions configure a Gate; zero values take the defaults.
type GateOptions struct {
	Clock    clock.Clock
	Logger   *slog.Logger
	MinLevel wsclient.Level // below this rank nothing pops up; "" = everything
	Burst    int            // popups per window
	Window   time.Duration
	// Settle is how long the Gate waits after a coalesced popup for more
	// before it shows the summary (once per window; later ones wait for
	// the window's end).
	Settle time.Duration
	// Queue bounds the popups waiting for a slow Notifier; beyond it they
	// are counted into the next summary instead, errors too: the only way
	// an error is ever folded into a summary is a flood the desktop cannot
	// keep up with.
	Queue int
	// OnPause is called when the pause changes, including when it runs
	// out (with the zero time). It runs on Pause's caller or, when a pause
	// runs out, on the Gate's goroutine, and must not block.
	OnPause func(until time.Time)
}

// gateStats counts what the Gate did with each submission (its tests
// read them).
type gateStats struct {
	Submitted int // everything Submit was given
	Filtered  int // below the minimum level
	Paused    int // dropped during a pause (announcements included)
	Coalesced int // folded into a summary popup
	Shown     int // passed to the Notifier, summaries included; counted as the call starts
	Failed    int // the Notifier returned an error
}

// Gate sits between toasts and a Notifier and decides what pops up. Submit
// never blocks; popups are shown one at a time by the Gate's own goroutine,
// which Close ends. It only filters popups: record history before it.
//
// Its rules, so that a user can trust what does not pop up: an error is
// always shown on its own (never coalesced, never held back by the burst
// limit, and during a pause when the pause lets errors through); a single
// coalesced popup is shown in full, not summarised; a summary names the
// highest level among what it stands for and comes when the burst is over.
type Gate struct {
	n    Notifier
	opts GateOptions

	mu          sync.Mutex
	closed      bool
	minLevel    wsclient.Level
	pausedUntil time.Time
	pauseErrors bool // errors still pop up during the pause
	// Current burst window.
	windowEnd  time.Time
	shown      int
	summarised bool // a summary went out before the window's end
	// Coalesced in this window, for the summary: due at summaryAt; held is
	// the first one, shown in full when it stays the only one.
	summaryAt time.Time
	held      Notification
	more      int
	byLevel   map[wsclient.Level]int
	topLevel  wsclient.Level
	urgent    bool
	sound     bool
	// Popups waiting for the worker, oldest first; at most opts.Queue.
	queue []Notification
	stats gateStats

	wake chan struct{} // buffer of one: "look at the state again"
	done chan struct{}
	wg   sync.WaitGroup
}

// NewGate starts a Gate in front of n.
func NewGate(n Notifier, opts GateOptions) *Gate {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Burst <= 0 {
		opts.Burst = DefaultBurst
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Settle <= 0 {
		opts.Settle = DefaultSettle
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	g := &Gate{
		n: n, opts: opts, minLevel: opts.MinLevel,
		byLevel: map[wsclient.Level]int{},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	g.wg.Add(1)
	go g.run()
	return g
}

// Submit offers a notification. It decides at once (filter, pause, burst)
// and returns without waiting for the Notifier.
func (g *Gate) Submit(n Notification) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats.Submitted++
	if g.closed {
		return
	}
	if g.minLevel != "" && n.Level.Rank() < g.minLevel.Rank() {
		g.stats.Filtered++
		return
	}
	now := g.opts.Clock.Now()
	if g.pausedLocked(now, n) {
		return
	}
	if !now.Before(g.windowEnd) {
		g.closeWindowLocked(now)
	}
	if (n.Level == wsclient.LevelError || g.shown < g.opts.Burst) && len(g.queue) < g.opts.Queue {
		g.shown++
		g.queue = append(g.queue, n)
	} else {
		g.coalesceLocked(n, now)
	}
	g.signal()
}

// Announce shows a notification about the app itself (signed out,
// offline): never filtered by level, never coalesced, but silenced by a
// pause like a toast of its level.
func (g *Gate) Announce(n Notification) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.pausedLocked(g.opts.Clock.Now(), n) {
		return
	}
	g.queue = append(g.queue, n)
	g.signal()
}

// pausedLocked says whether a pause holds n back, and counts it.
func (g *Gate) pausedLocked(now time.Time, n Notification) bool {
	if !now.Before(g.pausedUntil) || (g.pauseErrors && n.Level == wsclient.LevelError) {
		return false
	}
	g.stats.Paused++
	return true
}

// coalesceLocked folds n into the window's summary, due Settle from now
// (the window's end once a summary has gone out in this window).
func (g *Gate) coalesceLocked(n Notification, now time.Time) {
	g.stats.Coalesced++
	if g.more == 0 {
		g.held = n
	}
	g.summaryAt = g.windowEnd
	if at := now.Add(g.opts.Settle); !g.summarised && at.Before(g.windowEnd) {
		g.summaryAt = at
	}
	g.more++
	g.byLevel[n.Level]++
	if g.topLevel == "" || n.Level.Rank() > g.topLevel.Rank() {
		g.topLevel = n.Level
	}
	g.urgent = g.urgent || n.Urgent
	g.sound = g.sound || n.Sound
}

// closeWindowLocked ends the current window at now: it queues the summary
// of what was coalesced, which counts as the first popup of the next
// window so a steady flood stays at Burst popups per Window.
func (g *Gate) closeWindowLocked(now time.Time) {
	g.windowEnd = now.Add(g.opts.Window)
	g.shown, g.summarised = 0, false
	if g.flushLocked() {
		g.shown = 1
	}
}

// flushLocked queues what was coalesced: the popup itself when there is
// one, else the summary. It reports whether it queued anything.
func (g *Gate) flushLocked() bool {
	if g.more == 0 {
		return false
	}
	if g.more == 1 {
		g.queue = append(g.queue, g.held)
	} else {
		g.queue = append(g.queue, summary(g.more, g.byLevel, g.topLevel, g.urgent, g.sound))
	}
	g.more, g.topLevel, g.urgent, g.sound = 0, "", false, false
	g.held, g.summaryAt = Notification{}, time.Time{}
	clear(g.byLevel)
	return true
}

// SetMinLevel changes the level filter; "" shows everything.
func (g *Gate) SetMinLevel(l wsclient.Level) {
	g.mu.Lock()
	g.minLevel = l
	g.mu.Unlock()
}

// Pause stops popups until the given time; a zero or past time resumes.
// What arrives meanwhile is dropped (history still records it), except
// errors when showErrors.
func (g *Gate) Pause(until time.Time, showErrors bool) {
	g.mu.Lock()
	if !until.After(g.opts.Clock.Now()) {
		until = time.Time{}
	}
	changed := !until.Equal(g.pausedUntil)
	g.pausedUntil, g.pauseErrors = until, showErrors
	g.mu.Unlock()
	if changed && g.opts.OnPause != nil {
		g.opts.OnPause(until)
	}
	g.signal()
}

// Resume ends a pause.
func (g *Gate) Resume() { g.Pause(time.Time{}, false) }

// Close stops the Gate and waits for its goroutine: for a Notify in
// progress to return. Queued popups are dropped. Close is idempotent.
func (g *Gate) Close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.done)
	}
	g.mu.Unlock()
	g.wg.Wait()
}

func (g *Gate) signal() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// run is the Gate's goroutine: it shows queued popups and keeps one timer,
// for the earliest of "the summary is due" and "the pause runs out". With nothing pending it holds no timer, so an idle Gate
// never wakes.
func (g *Gate) run() {
	defer g.wg.Done()
	var t clock.Timer
	var tAt time.Time
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return
		}
		var next Notification
		have := len(g.queue) > 0
		if have {
			next = g.queue[0]
			g.queue = g.queue[1:]
			if len(g.queue) == 0 {
				g.queue = nil // let the backing array go
			}
			// Counted before the call, so that whoever has seen the popup
			// (the Notifier's side) also sees it counted.
			g.stats.Shown++
		}
		deadline := g.deadlineLocked()
		now := g.opts.Clock.Now()
		g.mu.Unlock()

		if have {
			g.show(next)
			continue
		}
		if !deadline.Equal(tAt) {
			if t != nil {
				t.Stop()
				t = nil
			}
			tAt = deadline
			if !deadline.IsZero() {
				t = g.opts.Clock.NewTimer(deadline.Sub(now))
			}
		}
		var tc <-chan time.Time
		if t != nil {
			tc = t.C()
		}
		select {
		case <-g.done:
			return
		case <-g.wake:
		case <-tc:
			t, tAt = nil, time.Time{}
			g.tick()
		}
	}
}

// deadlineLocked is when the worker must next look at the state.
func (g *Gate) deadlineLocked() time.Time {
	var d time.Time
	if g.more > 0 {
		d = g.summaryAt
	}
	if !g.pausedUntil.IsZero() && (d.IsZero() || g.pausedUntil.Before(d)) {
		d = g.pausedUntil
	}
	return d
}

// tick handles a timer: a summary due (the burst is over, or its window
// ends), a pause running out.
func (g *Gate) tick() {
	g.mu.Lock()
	now := g.opts.Clock.Now()
	switch {
	case g.more == 0 || now.Before(g.summaryAt):
	case !now.Before(g.windowEnd):
		g.closeWindowLocked(now)
	default:
		g.flushLocked()
		g.summarised = true
	}
	ended := !g.pausedUntil.IsZero() && !now.Before(g.pausedUntil)
	if ended {
		g.pausedUntil = time.Time{}
	}
	g.mu.Unlock()
	if ended && g.opts.OnPause != nil {
		g.opts.OnPause(time.Time{})
	}
}

func (g *Gate) show(n Notification) {
	err := g.n.Notify(n)
	if err != nil {
		g.mu.Lock()
		g.stats.Failed++
		g.mu.Unlock()
		// Level only: the text is the site's business, not the log's.
		g.opts.Logger.Warn("showing notification", "toast_level", string(n.Level), "err", err)
		return
	}
	g.opts.Logger.Debug("notification shown", "toast_level", string(n.Level))
}

// MissedSummaryOver: a catch-up backlog (toasts the site kept while the
// desktop was away) of more than this many pops up as one summary; a few
// are shown one by one, like live toasts. Errors in it pop up on their
// own either way (the first MissedErrors of them).
const MissedSummaryOver = 3

// MissedErrors bounds the errors of one backlog that pop up on their own;
// more are counted into the summary.
const MissedErrors = 10

// Missed collects a catch-up backlog for SubmitMissed, oldest first. Its
// zero value is empty; however long the backlog, it keeps only a few
// notifications and counts the rest.
type Missed struct {
	first []Notification // the first MissedSummaryOver
	errs  []Notification // the first MissedErrors errors
	n     int
	// The rest: everything not in errs, for the summary. last is its
	// newest, shown in full when it is the only one.
	rest    int
	last    Notification
	byLevel map[wsclient.Level]int
	top     wsclient.Level
	urgent  bool
	sound   bool
}

// Add records one notification of the backlog.
func (m *Missed) Add(n Notification) {
	m.n++
	if len(m.first) < MissedSummaryOver {
		m.first = append(m.first, n)
	}
	if n.Level == wsclient.LevelError && len(m.errs) < MissedErrors {
		m.errs = append(m.errs, n)
		return
	}
	if m.byLevel == nil {
		m.byLevel = map[wsclient.Level]int{}
	}
	m.rest++
	m.last = n
	m.byLevel[n.Level]++
	if m.top == "" || n.Level.Rank() > m.top.Rank() {
		m.top = n.Level
	}
	m.urgent = m.urgent || n.Urgent
	m.sound = m.sound || n.Sound
}

// Len is how many notifications were added.
func (m *Missed) Len() int { return m.n }

// SubmitMissed offers a backlog and empties m: up to MissedSummaryOver
// go through Submit one by one; of more, the errors go through Submit one
// by one and the rest become one "N notifications while you were away"
// popup at the highest level among them (a single one is shown in full),
// which the level filter, pause and burst limit treat as one notification.
func (g *Gate) SubmitMissed(m *Missed) {
	defer func() { *m = Missed{} }()
	if m.n <= MissedSummaryOver {
		for _, n := range m.first {
			g.Submit(n)
		}
		return
	}
	for _, n := range m.errs {
		g.Submit(n)
	}
	switch {
	case m.rest == 1:
		g.Submit(m.last)
	case m.rest > 1:
		s := summary(m.rest, m.byLevel, m.top, m.urgent, m.sound)
		s.Title = fmt.Sprintf("%d notifications while you were away", m.rest)
		if len(m.errs) > 0 {
			s.Title = fmt.Sprintf("%d more notifications while you were away", m.rest)
		}
		s.Title += " — highest: " + m.top.Name()
		g.Submit(s)
	}
}
