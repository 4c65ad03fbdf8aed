package tray

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/service"
	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

type fakeBackend struct {
	mu          sync.Mutex
	reconnects  chan struct{}
	pauses      []time.Time
	pauseErrors []bool
	reloads     int
	next        service.Target
	status      wsclient.Status
	announced   chan notify.Notification
	signOuts    chan string
}

func (b *fakeBackend) Reconnect() { b.reconnects <- struct{}{} }
func (b *fakeBackend) Pause(until time.Time, showErrors bool) {
	b.mu.Lock()
	b.pauses = append(b.pauses, until)
	b.pauseErrors = append(b.pauseErrors, showErrors)
	b.mu.Unlock()
}
func (b *fakeBackend) Announce(n notify.Notification) { b.announced <- n }
func (b *fakeBackend) SignOut(reason string)          { b.signOuts <- reason }
func (b *fakeBackend) Status() wsclient.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status
}
func (b *fakeBackend) Reload() service.Target {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reloads++
	return b.next
}

// harness runs a controller with a fake clock; every draw arrives on draws
// and every window process is a fake that stays open until released.
type harness struct {
	t       *testing.T
	clk     *clock.Fake
	be      *fakeBackend
	c       *controller
	draws   chan Menu
	actions chan Action
	opened  chan Window
	raised  chan Window
	mu      sync.Mutex
	release map[Window]chan struct{}
	done    chan error
	cancel  context.CancelFunc
}

// fakeWindows runs the harness's fake window processes.
type fakeWindows struct {
	openFn func(ctx context.Context, w Window) error
	raised chan Window
}

func (f fakeWindows) open(ctx context.Context, w Window) error { return f.openFn(ctx, w) }
func (f fakeWindows) raise(w Window)                           { f.raised <- w }

func newHarness(t *testing.T, target service.Target, initial ...Window) *harness {
	t.Helper()
	h := &harness{
		t:   t,
		clk: clock.NewFake(time.Date(2026, 11, 26, 10, 0, 0, 0, time.Local)),
		be: &fakeBackend{reconnects: make(chan struct{}, 10), announced: make(chan notify.Notification, 10),
			signOuts: make(chan string, 10)},
		draws:   make(chan Menu, 100),
		actions: make(chan Action),
		opened:  make(chan Window, 10),
		raised:  make(chan Window, 10),
		release: map[Window]chan struct{}{},
		done:    make(chan error, 1),
	}
	open := func(ctx context.Context, w Window) error {
		rel := make(chan struct{})
		h.mu.Lock()
		h.release[w] = rel
		h.mu.Unlock()
		h.opened <- w
		select {
		case <-rel:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h.c = newController(controllerDeps{clk: h.clk, log: log, backend: h.be, draw: func(m Menu) { h.draws <- m },
		wins: fakeWindows{openFn: open, raised: h.raised}, redraw: make(chan struct{}, 1)}, target)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.c.run(ctx, h.actions, nil, initial) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			t.Error("controller did not stop")
		}
	})
	return h
}

// setStatus is the service reporting a status: stored, then a poke.
func (h *harness) setStatus(st wsclient.Status) {
	h.be.mu.Lock()
	h.be.status = st
	h.be.mu.Unlock()
	poke(h.c.redraw)
}

func (h *harness) draw() Menu {
	h.t.Helper()
	select {
	case m := <-h.draws:
		return m
	case <-time.After(10 * time.Second):
		h.t.Fatal("no draw")
	}
	return Menu{}
}

func (h *harness) expectStatus(want string) Menu {
	h.t.Helper()
	m := h.draw()
	if m.Status != want {
		h.t.Fatalf("status line = %q, want %q", m.Status, want)
	}
	return m
}

func (h *harness) announced() notify.Notification {
	h.t.Helper()
	select {
	case n := <-h.be.announced:
		return n
	case <-time.After(10 * time.Second): // a hang guard, not synchronisation
		h.t.Fatal("nothing announced")
	}
	return notify.Notification{}
}

func (h *harness) noDraw() {
	h.t.Helper()
	select {
	case m := <-h.draws:
		h.t.Fatalf("unexpected draw %+v", m)
	default:
	}
}

func (h *harness) close(w Window) {
	h.mu.Lock()
	rel := h.release[w]
	h.mu.Unlock()
	close(rel)
}

var site = service.Target{Site: "example.com", Channel: "ops", Configured: true}

func TestControllerCountdownWakesOnlyWhileCounting(t *testing.T) {
	h := newHarness(t, site)
	h.expectStatus("Not connected")
	if n := h.clk.Waiters(); n != 0 {
		t.Fatalf("idle menu set %d timers, want none", n)
	}

	now := h.clk.Now()
	h.setStatus(wsclient.Status{State: wsclient.StateWaiting, Attempt: 3, Until: now.Add(2500 * time.Millisecond)})
	h.expectStatus("Reconnecting in 3 s (attempt 4)")
	if d := h.clk.Deadlines(); len(d) != 1 || d[0] != 500*time.Millisecond {
		t.Fatalf("deadlines = %v, want one at 500ms (the next whole second)", d)
	}
	h.clk.Advance(500 * time.Millisecond)
	h.expectStatus("Reconnecting in 2 s (attempt 4)")
	h.clk.Advance(time.Second)
	h.expectStatus("Reconnecting in 1 s (attempt 4)")
	h.clk.Advance(time.Second)
	h.expectStatus("Reconnecting… (attempt 4)")
	// Only the offline announcement's timer is left: 30 s after the
	// outage began.
	if d := h.clk.Deadlines(); len(d) != 1 || d[0] != OfflineAfter-2500*time.Millisecond {
		t.Fatalf("countdown over but deadlines %v", d)
	}

	h.setStatus(wsclient.Status{State: wsclient.StateConnected, Since: h.clk.Now()})
	m := h.expectStatus("Connected to example.com · channel ops · since 10:00")
	if m.Refresh.Sub(h.clk.Now()) < 13*time.Hour {
		t.Errorf("connected menu refreshes at %v, want only at midnight", m.Refresh)
	}
	// The same status again draws nothing.
	h.setStatus(wsclient.Status{State: wsclient.StateConnected, Since: now})
	h.setStatus(wsclient.Status{State: wsclient.StateSignedOut})
	h.expectStatus("Signed out — open Settings")
	h.noDraw()
}

func TestControllerPauseAndResume(t *testing.T) {
	h := newHarness(t, site)
	h.draw()
	start := h.clk.Now()

	h.actions <- ActPause15Min
	m := h.draw()
	if !m.Paused || m.PauseTitle != "Paused until 10:15, except errors" {
		t.Fatalf("after pausing: %+v", m)
	}
	h.clk.Advance(15 * time.Minute)
	if m := h.draw(); m.Paused {
		t.Fatalf("pause did not end by itself: %+v", m)
	}

	h.actions <- ActPauseTomorrow
	if m := h.draw(); !m.Paused {
		t.Fatalf("not paused: %+v", m)
	}
	h.actions <- ActResume
	if m := h.draw(); m.Paused {
		t.Fatalf("resume left it paused: %+v", m)
	}

	h.be.mu.Lock()
	defer h.be.mu.Unlock()
	want := []time.Time{start.Add(15 * time.Minute), PauseEnd(PauseTomorrow, start.Add(15*time.Minute)), {}}
	if len(h.be.pauses) != len(want) {
		t.Fatalf("backend pauses = %v, want %v", h.be.pauses, want)
	}
	for i := range want {
		if !h.be.pauses[i].Equal(want[i]) {
			t.Errorf("pause %d = %v, want %v", i, h.be.pauses[i], want[i])
		}
	}
}

func TestControllerReconnect(t *testing.T) {
	h := newHarness(t, site)
	h.draw()
	h.actions <- ActReconnect
	select {
	case <-h.be.reconnects:
	case <-time.After(10 * time.Second):
		t.Fatal("Reconnect not called")
	}
}

func TestControllerSettingsWindowReloadsOnClose(t *testing.T) {
	h := newHarness(t, service.Target{}, WindowSettings) // first run: settings open at start
	h.expectStatus("Not set up — open Settings")
	if w := <-h.opened; w != WindowSettings {
		t.Fatalf("opened %v", w)
	}
	// A second click while it is open starts no second process: it
	// raises the open window.
	h.actions <- ActSettings
	if w := <-h.raised; w != WindowSettings {
		t.Fatalf("raised %v, want settings", w)
	}
	h.actions <- ActHistory
	if w := <-h.opened; w != WindowHistory {
		t.Fatalf("opened %v, want history", w)
	}

	h.be.mu.Lock()
	h.be.next = site
	h.be.mu.Unlock()
	h.close(WindowSettings)
	h.expectStatus("Not connected")
	h.be.mu.Lock()
	reloads := h.be.reloads
	h.be.mu.Unlock()
	if reloads != 1 {
		t.Fatalf("reloads = %d, want 1", reloads)
	}

	// Closing history reloads nothing; settings can be opened again.
	h.close(WindowHistory)
	h.actions <- ActSettings
	if w := <-h.opened; w != WindowSettings {
		t.Fatalf("opened %v", w)
	}
	select {
	case w := <-h.opened:
		t.Fatalf("extra window %v", w)
	default:
	}
}

func TestControllerQuitClosesWindows(t *testing.T) {
	h := newHarness(t, site, WindowHistory)
	h.draw()
	<-h.opened
	h.actions <- ActQuit
	select {
	case err := <-h.done:
		if !errors.Is(err, errQuit) {
			t.Fatalf("run = %v, want errQuit", err)
		}
		h.done <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("quit did not end run (window goroutine not awaited?)")
	}
}

// Thirty seconds without a connection: the controller's own timer turns
// the icon offline and announces it once; the next connection announces
// the way back. A sign-out the user asked for (Forget credentials) stops
// the backend and is not announced.
func TestControllerAnnouncements(t *testing.T) {
	h := newHarness(t, site)
	h.expectStatus("Not connected")
	h.setStatus(wsclient.Status{State: wsclient.StateWaiting, Err: "dial tcp: connect: connection refused"})
	if m := h.expectStatus("Reconnecting…"); m.Icon != assets.TrayConnecting {
		t.Fatalf("offline at once: %+v", m)
	}
	h.clk.Advance(OfflineAfter)
	m := h.expectStatus("Offline since 10:00 · Reconnecting…")
	if m.Icon != assets.TrayOffline {
		t.Fatalf("icon %v", m.Icon)
	}
	if n := h.announced(); n.Title != "Offline" || n.Window != notify.WindowSettings {
		t.Fatalf("announced %+v", n)
	}
	h.setStatus(wsclient.Status{State: wsclient.StateConnecting, Attempt: 1})
	h.expectStatus("Offline since 10:00 · Connecting to example.com… (attempt 2)")
	h.setStatus(wsclient.Status{State: wsclient.StateConnected, Since: h.clk.Now()})
	h.expectStatus("Connected to example.com · channel ops · since 10:00")
	if n := h.announced(); n.Title != "Back online" || n.Window != notify.WindowHistory {
		t.Fatalf("announced %+v", n)
	}

	h.actions <- ActSignOut
	if r := <-h.be.signOuts; r != "The saved credentials were deleted." {
		t.Fatalf("sign-out reason %q", r)
	}
	h.setStatus(wsclient.Status{State: wsclient.StateSignedOut, Err: "The saved credentials were deleted."})
	if m := h.expectStatus("Signed out — open Settings"); m.Detail != "The saved credentials were deleted." {
		t.Fatalf("detail %q", m.Detail)
	}
	if len(h.be.announced) != 0 {
		t.Fatalf("announced %+v", <-h.be.announced)
	}
}

// Signed out because the keyring could not be read: the notice says so,
// not "no password is saved".
func TestControllerAnnouncesKeyringProblem(t *testing.T) {
	target := site
	target.CredsProblem = "loading credentials for demo@example.com: the system keyring is not available: locked"
	h := newHarness(t, target)
	h.draw()
	h.setStatus(wsclient.Status{State: wsclient.StateSignedOut, Err: "token: signed out: no session and no password"})
	h.expectStatus("Cannot read the keyring — open Settings")
	want := "The system keyring could not be read: unlock it, then choose Reconnect now. Click to open Settings and sign in again."
	if n := h.announced(); n.Body != want {
		t.Fatalf("announced %q", n.Body)
	}
}

// "Show errors while paused" is a choice: on by default, toggled from the
// Pause submenu, passed to the backend with the pause.
func TestControllerPauseErrorsChoice(t *testing.T) {
	h := newHarness(t, site)
	if m := h.draw(); !m.PauseErrors {
		t.Fatal("errors are not shown during a pause by default")
	}
	h.actions <- ActPause1Hour
	if m := h.draw(); m.PauseTitle != "Paused until 11:00, except errors" {
		t.Fatalf("%+v", m)
	}
	h.actions <- ActPauseErrors
	if m := h.draw(); m.PauseErrors || m.PauseTitle != "Paused until 11:00" {
		t.Fatalf("%+v", m)
	}
	h.be.mu.Lock()
	defer h.be.mu.Unlock()
	end := h.clk.Now().Add(time.Hour)
	if len(h.be.pauses) != 2 || !h.be.pauses[0].Equal(end) || !h.be.pauses[1].Equal(end) ||
		!h.be.pauseErrors[0] || h.be.pauseErrors[1] {
		t.Fatalf("pauses %v %v", h.be.pauses, h.be.pauseErrors)
	}
}
