// Package tray is the long-running tray process: a fyne.io/systray icon and
// menu over app/service. It never starts Fyne's GL driver; the Settings and
// History windows run as short-lived child processes of the same binary
// (see app/ui), so the tray idles at a few MB and no periodic wake-ups.
//
// The menu is a pure function of the client's status, the pause and the
// time (Render); the controller redraws only when one of those changes.
package tray

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/systray"

	"github.com/toasttray/toasttray/app/cli"
	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/instance"
	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/service"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// Options configure Run.
type Options struct {
	Env  cli.Env
	Demo bool // run against the embedded demo server with in-memory settings
}

// windowGrace is how long a window process gets to close after the tray,
// quitting, closes its stdin, before it is killed.
const windowGrace = 3 * time.Second

// Run shows the tray icon and keeps the client connected until ctx ends or
// the user quits.
func Run(ctx context.Context, opts Options) error {
	log := opts.Env.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "tray")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// One tray per user (and one demo): a second launch asks the first to
	// show Settings and exits.
	requests := make(chan Action, 1)
	release, err := acquireInstance(opts.Env.AppID, opts.Demo, requests, log)
	if errors.Is(err, instance.ErrAlreadyRunning) {
		log.Info("ToastTray is already running; asked it to show Settings")
		return nil
	}
	if err != nil {
		return fmt.Errorf("tray: %w", err)
	}
	defer release()

	// Where settings and history live; in demo mode a temporary folder,
	// handed to the window processes through TOASTTRAY_CONFIG_DIR.
	var (
		configDir string
		childEnv  []string
		demo      *demoEnv
	)
	if opts.Demo {
		var err error
		demo, err = startDemo(ctx, log, clock.Real)
		if err != nil {
			return err
		}
		defer demo.Close()
		configDir = demo.dir
		childEnv = append(os.Environ(), "TOASTTRAY_CONFIG_DIR="+demo.dir)
	} else {
		var err error
		if configDir, err = settings.ConfigDir(); err != nil {
			return fmt.Errorf("tray: %w", err)
		}
	}

	// After each write of the history an open History window re-reads it.
	l := &launcher{env: childEnv, demo: opts.Demo, log: log}
	hist := history.Open(filepath.Join(configDir, history.FileName), history.Options{
		Logger: log, OnWrite: func() { l.send(WindowHistory, requestReload) },
	})
	defer func() {
		if err := hist.Close(); err != nil {
			log.Warn("saving notification history", "err", err)
		}
	}()

	// The controller exists before the service so that the service's
	// status callback has somewhere to go (it only stores and pokes); its
	// backend, window launcher and drawing are filled in before it runs.
	ctl := newController(clock.Real, log, nil, Target{}, nil, nil)
	ctl.demo = opts.Demo

	notifier := notify.NewBeeep(notify.BeeepOptions{
		AppName: "ToastTray", AppID: opts.Env.AppID, Logger: log,
		// A click on a notification without a link (a summary, say) opens
		// its window (the history, or Settings for a sign-out), as the
		// menu items do. If a request is already waiting, this click is
		// dropped: the user can click again.
		OnOpen: func(w string) {
			a := ActHistory
			if w == notify.WindowSettings {
				a = ActSettings
			}
			select {
			case requests <- a:
			default:
			}
		},
	})
	defer notifier.Close() // after svc.Stop, which ends the gate calling it
	svc := service.New(service.Options{
		Version:  opts.Env.Version,
		Notifier: notifier,
		History:  hist,
		SeenPath: filepath.Join(configDir, service.SeenFileName),
		Logger:   log,
		OnStatus: ctl.SetStatus,
	})
	defer svc.Stop()

	be := &backend{
		svc:   svc,
		store: settings.Store{Path: filepath.Join(configDir, settings.FileName), Policy: trayPolicy(opts.Demo)},
		keys:  creds.Store{Service: opts.Env.AppID},
		demo:  opts.Demo,
		log:   log,
	}
	ctl.backend = be
	ctl.setTarget(be.ReloadSettings())
	// History opens (or comes to the front) with the toasts still queued
	// for the debounced write: they are written first (whose OnWrite asks
	// an open window to re-read), and a raised window re-reads too.
	flushHistory := func(w Window) {
		if w != WindowHistory {
			return
		}
		if err := hist.Flush(); err != nil {
			log.Warn("saving notification history", "err", err)
		}
	}
	ctl.open = func(ctx context.Context, w Window) error {
		flushHistory(w)
		return l.run(ctx, w)
	}
	ctl.raise = func(w Window) {
		flushHistory(w)
		l.send(w, requestRaise)
	}

	var initial []Window
	if !ctl.view(ctl.clk.Now()).Configured {
		log.Info("first run: opening Settings")
		initial = append(initial, WindowSettings)
	}

	bus, host, perr := probeTrayHost()
	actions := make(chan Action)
	var wg sync.WaitGroup
	defer wg.Wait()
	fwdCtx, stopFwd := context.WithCancel(ctx)
	defer stopFwd()

	var (
		st       *sysTray
		startErr error
	)
	if bus {
		var end func()
		st, end, startErr = startSysTray(log)
		defer end()
	}
	plan := planTray(bus, host, perr, startErr)
	switch {
	case plan.Err != nil:
		log.Warn(plan.Warn, "err", plan.Err)
	case plan.Warn != "":
		log.Warn(plan.Warn)
	}
	if plan.Settings && len(initial) == 0 {
		initial = append(initial, WindowSettings)
	}
	if plan.Icon {
		ctl.draw = st.draw
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.forward(fwdCtx, actions)
		}()
	} else {
		ctl.draw = func(m Menu) { log.Debug("status", "line", m.Status, "detail", m.Detail) }
	}
	// Requests from second launches become clicks on the menu.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			var a Action
			select {
			case <-fwdCtx.Done():
				return
			case a = <-requests:
			}
			select {
			case actions <- a:
			case <-fwdCtx.Done():
				return
			}
		}
	}()

	log.Info("ToastTray running", "demo", opts.Demo, "tray_host", host, "tray_icon", plan.Icon)
	err = ctl.run(ctx, actions, initial)
	stopFwd()
	if errors.Is(err, errQuit) {
		log.Info("quit from the tray menu")
		return nil
	}
	if ctx.Err() != nil {
		log.Info("shutting down", "reason", context.Cause(ctx))
	}
	return err
}

// trayPlan is what Run does about the tray icon.
type trayPlan struct {
	Icon     bool   // draw the menu into the icon
	Settings bool   // open Settings: without a visible icon the app must not run invisibly
	Warn     string // logged at WARN when not empty, with Err if any
	Err      error
}

// planTray decides from the tray host probe and from starting systray
// (startErr; only tried when there is a bus). A missing tray is the same
// on every OS: say so and open Settings.
func planTray(bus, host bool, probeErr, startErr error) trayPlan {
	switch {
	case !bus:
		return trayPlan{Settings: true, Err: probeErr,
			Warn: "no tray: no D-Bus session bus; opening Settings instead"}
	case startErr != nil:
		return trayPlan{Settings: true, Err: startErr,
			Warn: "no tray: the tray icon could not be created; opening Settings instead. " +
				"Launch ToastTray again to reopen Settings."}
	case probeErr != nil:
		return trayPlan{Icon: true, Settings: true, Err: probeErr,
			Warn: "could not tell whether a tray host is running; opening Settings"}
	case !host:
		return trayPlan{Icon: true, Settings: true,
			Warn: "no tray host (" + watcherName + " is not on the session bus): " +
				"the icon will appear if one starts; opening Settings meanwhile. " +
				"Launch ToastTray again to reopen Settings."}
	}
	return trayPlan{Icon: true}
}

// startSysTray exports the StatusNotifierItem (adds the notification area
// icon on Windows) and builds the menu; end removes it. The menu is built
// before the first draw, and start has exported the D-Bus properties by
// then, so no icon change is lost. systray registers synchronously, so a
// failure is known before waiting for onReady, which then never comes.
func startSysTray(log *slog.Logger) (*sysTray, func(), error) {
	ready := make(chan *sysTray, 1)
	start, end := systray.RunWithExternalLoop(func() { ready <- buildSysTray() }, nil)
	if err := sysTrayStartErr(); err != nil {
		return nil, func() {}, err
	}
	start()
	st := <-ready
	log.Debug("tray icon exported")
	return st, end, nil
}

// backend adapts app/service to the controller, and reloads settings and
// credentials when the settings window closes.
type backend struct {
	svc   *service.Service
	store settings.Store
	keys  creds.Store
	demo  bool
	log   *slog.Logger

	mu      sync.Mutex
	current settings.Settings
	creds   wsclient.Credentials
	running bool
}

func (b *backend) Reconnect() {
	b.mu.Lock()
	running := b.running
	b.mu.Unlock()
	if running && b.svc.Err() == nil {
		b.svc.Reconnect()
		return
	}
	// The client gave up (signed out, bad settings) or never started:
	// start again from what is saved.
	b.reload(true)
}

func (b *backend) Pause(until time.Time, showErrors bool) { b.svc.Pause(until, showErrors) }

func (b *backend) Announce(n notify.Notification) { b.svc.Announce(n) }

// SignOut stops the client at once. The credentials it ran with are
// gone, so the reload when the settings window closes (no credentials)
// sees nothing new and does not start a client that would sign out again.
func (b *backend) SignOut(reason string) {
	b.mu.Lock()
	b.creds = wsclient.Credentials{}
	b.mu.Unlock()
	b.svc.SignOut(reason)
}

func (b *backend) ReloadSettings() Target { return b.reload(false) }

// reload reads settings and credentials and restarts the client when they
// changed (or force). It runs keyring calls, so never on a UI thread.
func (b *backend) reload(force bool) Target {
	s, exists, err := b.store.Load()
	if err != nil {
		b.log.Warn("reading settings", "err", err)
	}
	var c wsclient.Credentials
	var credsProblem string
	if s.SiteURL != "" {
		if b.demo {
			c = wsclient.Credentials{Username: s.Username, Password: wstest.DemoPassword}
		} else if c, err = b.keys.Load(s.SiteURL, s.Username); err != nil && !errors.Is(err, creds.ErrNotFound) {
			b.log.Warn("reading credentials", "err", err) // the error names the account, never a secret
			credsProblem = err.Error()
		}
	}
	configured := exists && s.Configured()
	t := Target{Site: siteHost(s.SiteURL), Channel: s.Channel, Configured: configured, CredsProblem: credsProblem}

	b.mu.Lock()
	changed := force || !b.running || s != b.current || c != b.creds
	b.current, b.creds = s, c
	b.mu.Unlock()
	if !configured || !changed {
		return t
	}
	if err := b.svc.Restart(s, c); err != nil {
		b.log.Warn("starting the connection", "err", err)
	}
	b.mu.Lock()
	b.running = true
	b.mu.Unlock()
	return t
}

// launcher runs a window process: this binary with the window's command.
type launcher struct {
	env  []string // nil: inherit
	demo bool
	log  *slog.Logger

	mu     sync.Mutex
	raises map[Window]io.Writer // stdin of each running window process, for send
}

func (l *launcher) run(ctx context.Context, w Window) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("opening %s window: %w", w, err)
	}
	args := []string{string(w), raiseFlag}
	if l.demo {
		args = append(args, "-demo")
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = l.env
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// The window reads requests ("raise", "reload") from its stdin, and
	// closes at the end of it (ui.runWindow).
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("opening %s window: %w", w, err)
	}
	l.mu.Lock()
	if l.raises == nil {
		l.raises = map[Window]io.Writer{}
	}
	l.raises[w] = stdin
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.raises, w)
		l.mu.Unlock()
	}()
	// On quit, ask the window to close by closing its stdin, which works
	// on every OS (Windows has no SIGTERM); kill it only if it has not
	// exited after the grace period, so a Save in flight can finish.
	cmd.Cancel = stdin.Close
	cmd.WaitDelay = windowGrace
	l.log.Info("opening window", "window", w)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s window: %w", w, err)
	}
	l.log.Info("window closed", "window", w, "open_for", time.Since(start).Round(time.Second))
	return nil
}

// raiseFlag, requestRaise and requestReload are ui.RaiseFlag,
// ui.RequestRaise and ui.RequestReload (not imported: the tray package
// stays free of the window code).
const (
	raiseFlag     = "-raise-on-stdin"
	requestRaise  = "raise"
	requestReload = "reload"
)

// send writes the request req to the running window process w, if any:
// requestRaise brings it to the front, requestReload makes History re-read
// the file.
func (l *launcher) send(w Window, req string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if in := l.raises[w]; in != nil {
		if _, err := io.WriteString(in, req+"\n"); err != nil {
			l.log.Debug("sending a request to a window", "window", w, "request", req, "err", err)
		}
	}
}

// siteHost is the host[:port] of a site URL, for the status line.
func siteHost(site string) string {
	u, err := url.Parse(site)
	if err != nil || u.Host == "" {
		return site
	}
	return u.Host
}
