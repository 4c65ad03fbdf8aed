package tray

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/service"
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

// Backend is what the menu shows and drives: *service.Service in
// production, a fake in tests. Status, Pause and Announce return at once
// and are called on the controller's loop; Reconnect, Reload and SignOut
// may read the keyring and restart the client, so the controller calls
// them on goroutines of its own.
type Backend interface {
	Status() wsclient.Status                // the client's latest status
	Reconnect()                             // drop the connection and dial now (or restart a client that gave up)
	Pause(until time.Time, showErrors bool) // zero time: resume; showErrors: errors still pop up
	Reload() service.Target                 // re-read settings after the settings window closed; restarts the client if they changed
	Announce(n notify.Notification)         // show a notification about the connection; never blocks
	SignOut(reason string)                  // the credentials were forgotten: stop the client now
}

// windows runs the window processes.
type windows interface {
	// open runs one window process and returns when it has exited. It is
	// called on a goroutine that the controller owns and awaits.
	open(ctx context.Context, w Window) error
	// raise brings an already open window to the front.
	raise(w Window)
}

// errQuit ends the controller when the user clicks Quit.
var errQuit = errors.New("quit from the tray menu")

// controller owns the tray's state: the target, the pause, the open
// windows; the status is the backend's. One goroutine (run) reads it and
// draws; status changes and window exits only poke the redraw channel.
type controller struct {
	controllerDeps
	mu          sync.Mutex
	target      service.Target
	pauseUntil  time.Time
	pauseErrors bool
	openWins    map[Window]bool
	// ann says each connection change that needs the user once; run
	// feeds it, and its offline time goes into the View.
	ann announcer
}

// controllerDeps is what a controller works with; every field is set.
type controllerDeps struct {
	clk     clock.Clock
	log     *slog.Logger
	backend Backend
	wins    windows
	draw    func(Menu)
	demo    bool
	// redraw has a buffer of one, so repeated pokes collapse; the
	// backend's status changes poke it too (pokeStatus).
	redraw chan struct{}
}

func newController(d controllerDeps, t service.Target) *controller {
	return &controller{controllerDeps: d, target: t, openWins: map[Window]bool{}, pauseErrors: true}
}

// pokeStatus is the backend's OnStatus: it logs a change of state and
// pokes redraw; it never blocks. Calls come in order, one at a time.
func pokeStatus(log *slog.Logger, redraw chan struct{}) func(wsclient.Status) {
	var prev wsclient.State
	return func(s wsclient.Status) {
		if s.State != prev {
			log.Info("connection", "state", s.State.String(), "attempt", s.Attempt, "err", s.Err)
		}
		prev = s.State
		poke(redraw)
	}
}

func poke(redraw chan struct{}) {
	select {
	case redraw <- struct{}{}:
	default:
	}
}

// setTarget stores what the menu shows about the settings.
func (c *controller) setTarget(t service.Target) {
	c.mu.Lock()
	c.target = t
	c.mu.Unlock()
	poke(c.redraw)
}

func (c *controller) view(now time.Time) View {
	st := c.backend.Status()
	c.mu.Lock()
	defer c.mu.Unlock()
	return View{
		Status: st, Site: c.target.Site, Channel: c.target.Channel,
		Configured: c.target.Configured, PauseUntil: c.pauseUntil, Demo: c.demo,
		CredsProblem: c.target.CredsProblem, PauseErrors: c.pauseErrors,
		OfflineSince: c.ann.offlineSince(now),
	}
}

// announce feeds the latest status to the announcer and hands what it
// says to the backend; it returns when it next needs to run on its own.
func (c *controller) announce(now time.Time) time.Time {
	st := c.backend.Status()
	c.mu.Lock()
	site := c.target.Site
	if site == "" {
		site = "the site"
	}
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

// run draws the menu and handles actions (clicks, and requests from
// second launches and notifications) until ctx ends or Quit is clicked.
// It wakes only for a status change, an action, a window closing or the
// menu's own Refresh time (a countdown's next second, a pause's end):
// nothing periodic while nothing changes. Before returning it waits for
// the goroutines it started (window processes get ctx's end).
func (c *controller) run(ctx context.Context, clicks, requests <-chan Action, initial []Window) error {
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
		case a := <-clicks:
			if err := c.handle(ctx, &wg, a); err != nil {
				return err
			}
		case a := <-requests:
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
		c.wins.raise(w)
		return
	}
	c.openWins[w] = true
	c.mu.Unlock()

	wg.Add(1)
	go func() {
		defer wg.Done()
		err := c.wins.open(ctx, w)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("window process failed", "window", w, "err", err)
		}
		if w == WindowSettings && ctx.Err() == nil {
			c.setTarget(c.backend.Reload())
		}
		c.mu.Lock()
		delete(c.openWins, w)
		c.mu.Unlock()
		poke(c.redraw)
	}()
}
