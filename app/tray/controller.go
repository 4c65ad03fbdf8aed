package tray

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// Window names a window process the tray opens.
type Window string

// The windows.
const (
	WindowSettings Window = "settings"
	WindowHistory  Window = "history"
)

// Backend is what the menu drives: the running client and notifier
// (app/service in production, a fake in tests). Every method must return
// quickly; none is called on a UI thread, but the controller's loop waits
// for them.
type Backend interface {
	Reconnect()                             // drop the connection and dial now (or restart a client that gave up)
	Pause(until time.Time, showErrors bool) // zero time: resume; showErrors: errors still pop up
	ReloadSettings() Target                 // re-read settings after the settings window closed; restarts the client if they changed
	Announce(n notify.Notification)         // show a notification about the connection; never blocks
	SignOut(reason string)                  // the credentials were forgotten: stop the client now
}

// Target is the part of the settings the menu shows.
type Target struct {
	Site       string // host[:port] of the site URL
	Channel    string
	Configured bool
	// CredsProblem says why the saved credentials could not be read (the
	// keyring is locked or missing); "" when they were read or none exist.
	CredsProblem string
}

// errQuit ends the controller when the user clicks Quit.
var errQuit = errors.New("quit from the tray menu")

// controller owns the tray's state: the latest client status, the pause,
// the open windows. One goroutine (run) reads it and draws; status
// callbacks and window exits only store and poke the redraw channel.
type controller struct {
	clk     clock.Clock
	log     *slog.Logger
	backend Backend
	draw    func(Menu)
	demo    bool
	// open runs one window process and returns when it has exited. It is
	// called on a goroutine that the controller owns and awaits.
	open func(ctx context.Context, w Window) error
	// raise brings an already open window to the front; nil: not possible.
	raise func(w Window)

	redraw chan struct{} // buffer of one: repeated pokes collapse

	mu          sync.Mutex
	status      wsclient.Status
	target      Target
	pauseUntil  time.Time
	pauseErrors bool
	openWins    map[Window]bool
	// ann says each connection change that needs the user once; run
	// feeds it, and its offline time goes into the View.
	ann announcer
}

func newController(clk clock.Clock, log *slog.Logger, b Backend, t Target, draw func(Menu),
	open func(context.Context, Window) error) *controller {
	return &controller{
		clk: clk, log: log, backend: b, target: t, draw: draw, open: open,
		redraw:      make(chan struct{}, 1),
		openWins:    map[Window]bool{},
		pauseErrors: true,
	}
}

// setTarget stores what the menu shows about the settings.
func (c *controller) setTarget(t Target) {
	c.mu.Lock()
	c.target = t
	c.mu.Unlock()
	c.poke()
}

// SetStatus stores the client's status and asks for a redraw. It never
// blocks, so it is safe as wsclient's OnStatus callback.
func (c *controller) SetStatus(s wsclient.Status) {
	c.mu.Lock()
	prev := c.status
	c.status = s
	c.mu.Unlock()
	if s.State != prev.State {
		c.log.Info("connection", "state", s.State.String(), "attempt", s.Attempt, "err", s.Err)
	}
	c.poke()
}

func (c *controller) poke() {
	select {
	case c.redraw <- struct{}{}:
	default:
	}
}

func (c *controller) view(now time.Time) View {
	c.mu.Lock()
	defer c.mu.Unlock()
	return View{
		Status: c.status, Site: c.target.Site, Channel: c.target.Channel,
		Configured: c.target.Configured, PauseUntil: c.pauseUntil, Demo: c.demo,
		CredsProblem: c.target.CredsProblem, PauseErrors: c.pauseErrors,
		OfflineSince: c.ann.offlineSince(now),
	}
}

// announce feeds the latest status to the announcer and hands what it
// says to the backend; it returns when it next needs to run on its own.
func (c *controller) announce(now time.Time) time.Time {
	c.mu.Lock()
	site := c.target.Site
	if site == "" {
		site = "the site"
	}
	st := c.status
	if st.State == wsclient.StateSignedOut && c.target.CredsProblem != "" {
		st.Err = c.target.CredsProblem // the keyring's fault, not the site's
	}
	n, ok := c.ann.step(st, site, now)
	due := c.ann.due()
	c.mu.Unlock()
	if ok {
		c.log.Info("announcing", "title", n.Title)
		c.backend.Announce(n)
	}
	return due
}

// run draws the menu and handles actions until ctx ends or Quit is
// clicked. It wakes only for a status change, a click, a window closing or
// the menu's own Refresh time (a countdown's next second, a pause's end):
// nothing periodic while nothing changes. Before returning it waits for
// the window goroutines it started (their processes get ctx's end).
func (c *controller) run(ctx context.Context, actions <-chan Action, initial []Window) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	for _, w := range initial {
		c.openWindow(ctx, &wg, w)
	}

	var (
		last   Menu
		drawn  bool
		timer  clock.Timer
		timerC <-chan time.Time
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		now := c.clk.Now()
		due := c.announce(now)
		m := Render(c.view(now), now)
		if !m.Refresh.IsZero() && (due.IsZero() || m.Refresh.Before(due)) {
			due = m.Refresh
		}
		// The timer is set before drawing, so whoever sees the draw sees
		// the wake-up that goes with it.
		if timer != nil {
			timer.Stop()
			timer, timerC = nil, nil
		}
		if !due.IsZero() {
			timer = c.clk.NewTimer(due.Sub(now))
			timerC = timer.C()
		}
		if !drawn || m != last {
			c.draw(m)
			last, drawn = m, true
		}

		select {
		case <-ctx.Done():
			return nil
		case <-c.redraw:
		case <-timerC:
		case a := <-actions:
			if err := c.handle(ctx, &wg, a); err != nil {
				return err
			}
		}
	}
}

func (c *controller) handle(ctx context.Context, wg *sync.WaitGroup, a Action) error {
	c.log.Debug("tray menu", "action", a)
	switch a {
	case ActReconnect:
		// May read the keyring and restart the client: not on this loop.
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.backend.Reconnect()
		}()
	case ActPause15Min, ActPause1Hour, ActPauseTomorrow:
		choice := map[Action]PauseChoice{ActPause15Min: Pause15Min, ActPause1Hour: Pause1Hour,
			ActPauseTomorrow: PauseTomorrow}[a]
		until := PauseEnd(choice, c.clk.Now())
		c.setPause(until)
		c.log.Info("notifications paused", "until", until.Format(time.RFC3339))
	case ActResume:
		c.setPause(time.Time{})
		c.log.Info("notifications resumed")
	case ActPauseErrors:
		c.mu.Lock()
		c.pauseErrors = !c.pauseErrors
		until, show := c.pauseUntil, c.pauseErrors
		c.mu.Unlock()
		c.backend.Pause(until, show)
		c.log.Info("errors during a pause", "shown", show)
	case ActSignOut:
		// Asked for by the user (Forget credentials): no announcement.
		c.mu.Lock()
		c.ann.quietSignOut = true
		c.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.backend.SignOut("The saved credentials were deleted.")
		}()
	case ActHistory:
		c.openWindow(ctx, wg, WindowHistory)
	case ActSettings:
		c.openWindow(ctx, wg, WindowSettings)
	case ActQuit:
		return errQuit
	}
	return nil
}

func (c *controller) setPause(until time.Time) {
	c.mu.Lock()
	c.pauseUntil = until
	show := c.pauseErrors
	c.mu.Unlock()
	c.backend.Pause(until, show)
}

// openWindow starts w's process unless it is already open. A goroutine
// owned by run waits for it; after the settings window the backend reloads
// the settings, and the menu is redrawn with the new target.
func (c *controller) openWindow(ctx context.Context, wg *sync.WaitGroup, w Window) {
	c.mu.Lock()
	if c.openWins[w] {
		c.mu.Unlock()
		c.log.Info("window already open; raising it", "window", w)
		if c.raise != nil {
			c.raise(w)
		}
		return
	}
	c.openWins[w] = true
	c.mu.Unlock()

	wg.Add(1)
	go func() {
		defer wg.Done()
		err := c.open(ctx, w)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("window process failed", "window", w, "err", err)
		}
		if w == WindowSettings && ctx.Err() == nil {
			c.setTarget(c.backend.ReloadSettings())
		}
		c.mu.Lock()
		delete(c.openWins, w)
		c.mu.Unlock()
		c.poke()
	}()
}
