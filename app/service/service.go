// Package service wires the non-GUI parts of ToastTray together: it runs a
// wsclient.Client with the current settings and credentials and routes its
// toasts into history and, through a notify.Gate, to a Notifier. The tray
// process uses it; `listen --notify` uses the same Gate and Notifier
// directly (it keeps no history and reads no saved settings), so popups
// look and coalesce the same.
//
// Data flows one way: client → (history, gate → notifier), and status →
// OnStatus. The service owns three kinds of goroutine, all ended by Stop:
// the one running Client.Run (one per Restart), the status forwarder, and
// the gate's worker.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// Options configure a Service; only what is set is used.
type Options struct {
	Version  string          // for the User-Agent
	Notifier notify.Notifier // nil: no popups
	History  *history.Store  // nil: toasts are not recorded; the caller closes it
	Clock    clock.Clock     // default clock.Real
	Logger   *slog.Logger    // default slog.Default()
	Rand     func() float64  // the client's jitter source; nil: its default
	// Watchers is wsclient.Options.Watchers: nil means the client's
	// defaults (sleep/wake, network change); empty means none (tests).
	Watchers []wsclient.Watcher

	// OnStatus receives status changes on the service's own goroutine, so
	// a slow receiver never holds up the client; if it falls behind, it
	// gets the latest status, not every intermediate one. Not called after
	// Stop returns.
	OnStatus func(wsclient.Status)
	// OnMessage sees every message before toast handling (listen prints
	// them). It runs on the client's delivery path: keep it quick.
	OnMessage func(wsclient.Message)
	// OnPause is notify.GateOptions.OnPause: the pause started, was
	// lifted, or ran out (zero time). It must not block.
	OnPause func(until time.Time)
	// Gate tunes the burst coalescing; its Clock, Logger, MinLevel and
	// OnPause are set by the service.
	Gate notify.GateOptions
	// SeenPath is the catch-up state file (SeenFileName next to the
	// history): the last toast id seen per site, user and channel, so
	// that catch-up after a restart asks for the right backlog. "": kept
	// in memory only.
	SeenPath string
}

// Service runs the client for the current settings. Its methods are safe
// for concurrent use.
type Service struct {
	opts Options
	gate *notify.Gate // nil without a Notifier
	seen *seenStore   // exactly-once by toast id, and the catch-up state

	// missed is the catch-up backlog awaiting its terminator; it pops up
	// as one summary when long (notify.Gate.SubmitMissed).
	missedMu sync.Mutex
	missed   notify.Missed

	// mu guards the fields below and serialises Restart and Stop. It is
	// held while waiting for Run to return, so nothing Run calls back into
	// (status, messages) may take it: those use the atomics and statusMu.
	mu      sync.Mutex
	client  *wsclient.Client
	cancel  context.CancelFunc
	runDone chan struct{} // closed when the current Run returns

	gen     atomic.Int64 // bumped by every Restart; stale clients' reports are dropped
	stopped atomic.Bool

	statusMu sync.Mutex
	latest   wsclient.Status
	pending  bool
	runErr   error         // what the current client's Run returned on its own
	kick     chan struct{} // buffer of one: a new status is waiting
	quit     chan struct{}
	fwdDone  chan struct{}
}

// New returns a stopped Service; call Restart to connect.
func New(opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{
		opts:    opts,
		kick:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		fwdDone: make(chan struct{}),
		seen:    newSeenStore(opts.SeenPath, opts.Clock, opts.Logger),
	}
	if opts.Notifier != nil {
		g := opts.Gate
		g.Clock, g.Logger, g.OnPause = opts.Clock, opts.Logger, opts.OnPause
		s.gate = notify.NewGate(opts.Notifier, g)
	}
	go s.forward()
	return s
}

// Restart stops the running client (cancels it and waits for Run to
// return) and starts one for set and c. An error (invalid settings) leaves
// the service stopped, with the error in the status.
func (s *Service) Restart(set settings.Settings, c wsclient.Credentials) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped.Load() {
		return errors.New("restarting the connection: the service is stopped")
	}
	s.stopLocked()
	gen := s.gen.Add(1)
	s.setErr(nil)
	if s.gate != nil {
		s.gate.SetMinLevel(set.MinLevel)
	}
	site, sound := set.SiteURL, set.SoundOnError
	since := s.seen.use(seenKey(set.Normalized().SiteURL, c.Username, set.Normalized().Channel))
	client, err := wsclient.New(set.Config(s.opts.Version), c, wsclient.Options{
		Clock:        s.opts.Clock,
		Logger:       s.opts.Logger,
		Rand:         s.opts.Rand,
		Watchers:     s.opts.Watchers,
		OnStatus:     func(st wsclient.Status) { s.status(gen, st) },
		OnMessage:    func(m wsclient.Message) { s.message(m, site, sound) },
		CatchupSince: since,
	})
	if err != nil {
		err = fmt.Errorf("starting the connection: %w", err)
		s.setErr(err)
		s.publish(wsclient.Status{State: wsclient.StateStopped, Since: s.opts.Clock.Now(), Err: err.Error()})
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.client, s.cancel, s.runDone = client, cancel, done
	go s.run(ctx, gen, client, done)
	return nil
}

// run is the goroutine that owns one client's Run.
func (s *Service) run(ctx context.Context, gen int64, c *wsclient.Client, done chan struct{}) {
	defer close(done)
	err := c.Run(ctx)
	if ctx.Err() != nil {
		return // stopped or restarted: not news
	}
	// Run gave up on its own: signed out, bad configuration. Say so.
	st := c.Status()
	if err != nil && st.Err == "" {
		st.Err = err.Error()
	}
	if errors.Is(err, wsclient.ErrSignedOut) {
		st.State = wsclient.StateSignedOut
	} else if st.State != wsclient.StateSignedOut {
		st.State = wsclient.StateStopped
	}
	s.opts.Logger.Warn("connection stopped", "err", err)
	if s.gen.Load() == gen {
		s.setErr(err)
	}
	s.status(gen, st)
}

// stopLocked cancels the current client and waits for its Run to return.
func (s *Service) stopLocked() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.runDone
	s.client, s.cancel, s.runDone = nil, nil, nil
	s.submitMissed()
}

// message routes one message: every toast is recorded, and offered to the
// gate, which decides whether it pops up. Both calls return at once. A
// toast with an id already seen (live and in a catch-up backlog, on both
// connections of a rotation, before a restart) is dropped; a catch-up
// backlog waits for its terminator so that a long one pops up as one.
func (s *Service) message(m wsclient.Message, site string, sound bool) {
	if s.opts.OnMessage != nil {
		s.opts.OnMessage(m)
	}
	if term, ok := m.Terminator(); ok {
		s.seen.advance(term.Last)
		if !term.More { // else the client asks for the next page: one summary for all
			s.submitMissed()
		}
		return
	}
	t, err := m.Toast()
	if err != nil {
		s.opts.Logger.Debug("message is not a toast", "type", m.Type, "err", err)
		return
	}
	if t.ID != "" && !s.seen.admit(t.ID) {
		s.opts.Logger.Debug("dropping a toast already seen", "id", t.ID)
		return
	}
	if s.opts.History != nil {
		s.opts.History.Add(history.FromToast(t, s.opts.Clock.Now()))
	}
	if s.gate == nil {
		return
	}
	n := notify.FromToast(t, site, sound)
	if t.Catchup {
		s.missedMu.Lock()
		s.missed.Add(n)
		s.missedMu.Unlock()
		return
	}
	s.gate.Submit(n)
}

// submitMissed offers the catch-up backlog collected so far: at its
// terminator, or when the connection it came on ends without one.
func (s *Service) submitMissed() {
	if s.gate == nil {
		return
	}
	s.missedMu.Lock()
	defer s.missedMu.Unlock()
	if s.missed.Len() > 0 {
		s.gate.SubmitMissed(&s.missed)
	}
}

// status takes a report from client generation gen.
func (s *Service) status(gen int64, st wsclient.Status) {
	if st.State != wsclient.StateConnected {
		s.submitMissed() // the connection ended before the terminator
	}
	if gen == s.gen.Load() && !s.stopped.Load() {
		s.publish(st)
	}
}

func (s *Service) setErr(err error) {
	s.statusMu.Lock()
	s.runErr = err
	s.statusMu.Unlock()
}

// publish stores st as the latest status and wakes the forwarder; it never
// blocks.
func (s *Service) publish(st wsclient.Status) {
	s.statusMu.Lock()
	s.latest, s.pending = st, true
	s.statusMu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// forward is the goroutine that calls OnStatus, so the client's callback
// returns at once however slow the receiver is.
func (s *Service) forward() {
	defer close(s.fwdDone)
	for {
		select {
		case <-s.quit:
			return
		case <-s.kick:
		}
		s.statusMu.Lock()
		st, ok := s.latest, s.pending
		s.pending = false
		s.statusMu.Unlock()
		if ok && s.opts.OnStatus != nil {
			s.opts.OnStatus(st)
		}
	}
}

// Status is the latest status reported.
func (s *Service) Status() wsclient.Status {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	return s.latest
}

// Err is what the current client's Run returned on its own (for example
// wrapping wsclient.ErrSignedOut), or nil while it runs.
func (s *Service) Err() error {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	return s.runErr
}

// Done is closed when the current client's Run returns, on its own (see
// Err) or because of Restart or Stop; with no client it is closed already.
// listen uses it to exit when the client gives up.
func (s *Service) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runDone == nil {
		return closed
	}
	return s.runDone
}

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Reconnect drops the connection and dials now ("Reconnect now"). A
// client that has given up (signed out) is not running: call Restart.
func (s *Service) Reconnect() {
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if c != nil {
		c.Reconnect("requested by the user")
	}
}

// Send sends an application message through the current connection.
func (s *Service) Send(ctx context.Context, handler string, params map[string]any) error {
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if c == nil {
		return errors.New("sending: not connected")
	}
	return c.Send(ctx, handler, params)
}

// Pause stops popups until the given time (zero: resume), errors too
// unless showErrors. History still records everything.
func (s *Service) Pause(until time.Time, showErrors bool) {
	if s.gate != nil {
		s.gate.Pause(until, showErrors)
	}
}

// Announce shows a notification about the connection itself (signed out,
// offline) through the same Notifier as toasts: see notify.Gate.Announce.
// It is not recorded in history.
func (s *Service) Announce(n notify.Notification) {
	if s.gate != nil {
		s.gate.Announce(n)
	}
}

// SignOut stops the client at once and reports StateSignedOut with reason,
// as if the site had signed it out: the saved credentials were deleted
// ("Forget credentials"), so the connection they opened must not stay.
// Restart starts again.
func (s *Service) SignOut(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped.Load() {
		return
	}
	s.stopLocked()
	gen := s.gen.Add(1) // reports of the stopped client are stale now
	s.setErr(fmt.Errorf("%w: %s", wsclient.ErrSignedOut, reason))
	s.status(gen, wsclient.Status{State: wsclient.StateSignedOut, Since: s.opts.Clock.Now(), Err: reason})
}

// PausedUntil is the end of the current pause, zero when not paused.
func (s *Service) PausedUntil() time.Time {
	if s.gate == nil {
		return time.Time{}
	}
	return s.gate.PausedUntil()
}

// GateStats reports what the gate did with toasts (zero without a
// Notifier).
func (s *Service) GateStats() notify.GateStats {
	if s.gate == nil {
		return notify.GateStats{}
	}
	return s.gate.Stats()
}

// Stop ends the client, the gate and the forwarder, and waits for them.
// It does not close History (the caller owns it). Stop is idempotent.
func (s *Service) Stop() {
	s.mu.Lock()
	if s.stopped.Swap(true) {
		s.mu.Unlock()
		return
	}
	s.stopLocked()
	s.mu.Unlock()
	close(s.quit)
	<-s.fwdDone
	if s.gate != nil {
		s.gate.Close()
	}
	if err := s.seen.close(); err != nil {
		s.opts.Logger.Warn("saving the catch-up state", "err", err)
	}
}
