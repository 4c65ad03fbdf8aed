// Package service wires the non-GUI parts of ToastTray together: it loads
// the settings and credentials, runs a wsclient.Client for them (restarting
// it when they change, one restart at a time), and routes its toasts,
// decoded once and deduplicated by id, into history and, through a
// notify.Gate, to a Notifier. The tray process uses it with saved settings
// (Reload); `listen` with a configuration from its flags (Restart).
//
// Data flows one way: client → (OnMessage, history, gate → notifier), and
// status → OnStatus. The service owns three kinds of goroutine, all ended
// by Stop: the one running Client.Run (one per Restart), the gate's worker,
// and the catch-up state's debounced save (its last write is flushed).
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
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

	// Settings is where Reload reads the settings (the tray's file).
	Settings settings.Store
	// Credentials loads the saved credentials of a site and user for
	// Reload (the keyring; the demo's password). Nothing saved: zero
	// Credentials and a nil error. An error is shown as
	// Target.CredsProblem and the client starts without credentials.
	Credentials func(site, user string) (wsclient.Credentials, error)

	// OnStatus receives every status change, in order. It is called on
	// the client's goroutine (or Restart's caller's), so it must not
	// block: store the status and wake your own goroutine. Not called
	// after Stop returns.
	OnStatus func(wsclient.Status)
	// OnMessage sees every message except toasts already seen (listen
	// prints them), before history and popups. It runs on the client's
	// delivery path: keep it quick.
	OnMessage func(wsclient.Message)
	// Gate tunes the burst coalescing; its Clock, Logger and MinLevel are
	// set by the service.
	Gate notify.GateOptions
	// SeenPath is the catch-up state file (SeenFileName next to the
	// history): the last toast id seen per site, user and channel, so
	// that catch-up after a restart asks for the right backlog. "": kept
	// in memory only.
	SeenPath string
}

// Run is what one client runs with: where to connect, as whom, and how
// its toasts pop up.
type Run struct {
	Config   wsclient.Config
	Creds    wsclient.Credentials
	MinLevel wsclient.Level // popups below it are not shown (history keeps them); "": all
	Sound    bool           // errors pop up with a sound
}

// Target is what Reload found in the settings: the part the tray's menu
// shows.
type Target struct {
	Site       string // host[:port] of the site URL
	Channel    string
	Configured bool
	// CredsProblem says why the saved credentials could not be read (the
	// keyring is locked or missing); "" when they were read or none exist.
	CredsProblem string
}

// Service runs the client for the current settings. Its methods are safe
// for concurrent use.
type Service struct {
	opts Options
	gate *notify.Gate // nil without a Notifier
	seen *seenStore   // exactly-once by toast id, and the catch-up state

	// reloadMu is held across Reload's "compare, restart, record" (and by
	// Reconnect and SignOut, which change what was recorded), so two
	// reloads at once restart once. Taken before mu.
	reloadMu sync.Mutex
	last     Run  // what the last successful Reload started or applied
	started  bool // last is running (or gave up on its own)

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
	sound   atomic.Bool  // Run.Sound of the current run, read by message per toast
	stopped atomic.Bool  // Stop was called: nothing starts any more
	silent  atomic.Bool  // Stop has ended the client: no more reports

	// statusMu is held while OnStatus runs, so reports reach it in the
	// order they are stored.
	statusMu sync.Mutex
	latest   wsclient.Status
	runErr   error // what the current client's Run returned on its own
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
		opts: opts,
		seen: newSeenStore(opts.SeenPath, opts.Clock, opts.Logger),
	}
	if opts.Notifier != nil {
		g := opts.Gate
		g.Clock, g.Logger = opts.Clock, opts.Logger
		s.gate = notify.NewGate(opts.Notifier, g)
	}
	return s
}

// RunFor is the Run of saved settings and credentials, as Reload makes it.
// Exported for the test beds (scripts/integration, scripts/testbed,
// wsclient/scenario) that run what the tray would run without a keyring.
func (s *Service) RunFor(set settings.Settings, c wsclient.Credentials) Run {
	return Run{Config: set.Config(s.opts.Version), Creds: c, MinLevel: set.MinLevel, Sound: set.SoundOnError}
}

// Reload reads the settings and credentials and restarts the client when
// they changed since the last Reload that started one (or it never did).
// A change of only the minimum level or the sound is applied to the
// running client instead: a restart would drop a healthy connection and
// spend a token for nothing. It makes keyring calls, so never call it on
// a UI thread.
func (s *Service) Reload() Target {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.reloadLocked(false)
}

// reloadLocked is Reload; force restarts even without a change.
func (s *Service) reloadLocked(force bool) Target {
	set, exists, err := s.opts.Settings.Load()
	if err != nil {
		s.opts.Logger.Warn("reading settings", "err", err)
	}
	// Configured first: it reads the CA file, as the client's New does
	// again; a file changed in between makes Restart fail, not record.
	configured := exists && set.Configured()
	t := Target{Site: siteHost(set.SiteURL), Channel: set.Channel, Configured: configured}
	var c wsclient.Credentials
	if set.SiteURL != "" && s.opts.Credentials != nil {
		if c, err = s.opts.Credentials(set.SiteURL, set.Username); err != nil {
			s.opts.Logger.Warn("reading credentials", "err", err) // the error names the account, never a secret
			t.CredsProblem = err.Error()
		}
	}
	if !configured {
		return t
	}
	r := s.RunFor(set, c)
	if !force && s.started && r == s.last {
		return t
	}
	// Only how toasts pop up changed, and the client runs (one that gave
	// up is started again, as for any change).
	if !force && s.started && r.Config == s.last.Config && r.Creds == s.last.Creds && s.Err() == nil {
		s.applyPopups(r)
		s.last = r
		return t
	}
	if err := s.Restart(r); err != nil {
		s.opts.Logger.Warn("starting the connection", "err", err)
		s.started = false // the next Reload tries again
		return t
	}
	s.last, s.started = r, true
	return t
}

// siteHost is the host[:port] of a site URL, for the status line.
func siteHost(site string) string {
	u, err := url.Parse(site)
	if err != nil || u.Host == "" {
		return site
	}
	return u.Host
}

// Restart stops the running client (cancels it and waits for Run to
// return) and starts one for r. An error (invalid configuration) leaves
// the service stopped, with the error in the status.
func (s *Service) Restart(r Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped.Load() {
		return errors.New("restarting the connection: the service is stopped")
	}
	s.stopLocked()
	gen := s.gen.Add(1)
	s.setErr(nil)
	s.applyPopups(r)
	site := r.Config.SiteURL
	since := s.seen.use(seenKey(r.Config.SiteURL, r.Creds.Username, r.Config.Channel))
	client, err := wsclient.New(r.Config, r.Creds, wsclient.Options{
		Clock:        s.opts.Clock,
		Logger:       s.opts.Logger,
		Rand:         s.opts.Rand,
		Watchers:     s.opts.Watchers,
		OnStatus:     func(st wsclient.Status) { s.status(gen, st) },
		OnMessage:    func(m wsclient.Message) { s.message(m, site) },
		CatchupSince: since,
	})
	if err != nil {
		err = fmt.Errorf("starting the connection: %w", err)
		s.setErr(err)
		s.status(gen, wsclient.Status{State: wsclient.StateStopped, Since: s.opts.Clock.Now(), Err: err.Error()})
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.client, s.cancel, s.runDone = client, cancel, done
	go s.run(ctx, gen, client, done)
	return nil
}

// applyPopups makes r's minimum level and sound hold for the toasts that
// arrive from now on, without touching the client.
func (s *Service) applyPopups(r Run) {
	if s.gate != nil {
		s.gate.SetMinLevel(r.MinLevel)
	}
	s.sound.Store(r.Sound)
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
func (s *Service) message(m wsclient.Message, site string) {
	if term, ok := m.Terminator(); ok {
		s.onMessage(m)
		s.seen.advance(term.Last)
		if !term.More { // else the client asks for the next page: one summary for all
			s.submitMissed()
		}
		return
	}
	t, err := m.Toast()
	if err != nil {
		s.onMessage(m)
		s.opts.Logger.Debug("message is not a toast", "type", m.Type, "err", err)
		return
	}
	if t.ID != "" && !s.seen.admit(t.ID) {
		s.opts.Logger.Debug("dropping a toast already seen", "id", t.ID)
		return
	}
	s.onMessage(m)
	if s.opts.History != nil {
		s.opts.History.Add(history.FromToast(t, s.opts.Clock.Now()))
	}
	if s.gate == nil {
		return
	}
	n := notify.FromToast(t, site, s.sound.Load())
	if t.Catchup {
		s.missedMu.Lock()
		s.missed.Add(n)
		s.missedMu.Unlock()
		return
	}
	s.gate.Submit(n)
}

func (s *Service) onMessage(m wsclient.Message) {
	if s.opts.OnMessage != nil {
		s.opts.OnMessage(m)
	}
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

// status takes a report from client generation gen: stored as the latest
// and passed to OnStatus unless stale or stopped. The check and the call
// happen under statusMu, so a stale report can never overtake a newer one.
func (s *Service) status(gen int64, st wsclient.Status) {
	if st.State != wsclient.StateConnected {
		s.submitMissed() // the connection ended before the terminator
	}
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	if gen != s.gen.Load() || s.silent.Load() {
		return
	}
	s.latest = st
	if s.opts.OnStatus != nil {
		s.opts.OnStatus(st)
	}
}

func (s *Service) setErr(err error) {
	s.statusMu.Lock()
	s.runErr = err
	s.statusMu.Unlock()
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
// client that gave up (signed out, bad settings) or never started is
// started again from the saved settings, as Reload does even when they did
// not change.
func (s *Service) Reconnect() {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.stopped.Load() {
		return
	}
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if c != nil && s.Err() == nil {
		c.Reconnect("requested by the user")
		return
	}
	s.reloadLocked(true)
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
// The next Reload, finding no credentials and the same settings, starts
// nothing (a client without credentials would only sign out again).
func (s *Service) SignOut(reason string) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.last.Creds = wsclient.Credentials{}
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

// Stop ends the client and the gate, and waits for them.
// It does not close History (the caller owns it). Stop is idempotent.
func (s *Service) Stop() {
	s.mu.Lock()
	if s.stopped.Swap(true) {
		s.mu.Unlock()
		return
	}
	s.stopLocked() // the client's last report (stopped) still goes out
	s.silent.Store(true)
	s.mu.Unlock()
	if s.gate != nil {
		s.gate.Close()
	}
	if err := s.seen.close(); err != nil {
		s.opts.Logger.Warn("saving the catch-up state", "err", err)
	}
}
