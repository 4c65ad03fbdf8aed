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
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/systray"

	"github.com/toasttray/toasttray/app/autostart"
	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/instance"
	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/service"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// Options configure Run.
type Options struct {
	AppID   string       // single instance, keyring service, notification app ID
	Version string       // for the User-Agent
	Logger  *slog.Logger // default slog.Default()
	Demo    bool         // run against the embedded demo server with in-memory settings
	// AtLogin: started by a login entry (autostart.Flag). When ToastTray
	// already runs (a second login entry started it), exit quietly instead
	// of asking it to show Settings.
	AtLogin bool
}

// windowGrace is how long a window process gets to close after the tray,
// quitting, closes its stdin, before it is killed.
const windowGrace = 3 * time.Second

// Run shows the tray icon and keeps the client connected until ctx ends or
// the user quits. Each step builds one part from the ones before it.
func Run(ctx context.Context, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "tray")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// One tray per user (and one demo): a second launch asks the first to
	// show Settings (a second start at login, nothing) and exits. Its
	// requests, and clicks on notifications, arrive on requests.
	requests := make(chan Action, 1)
	release, err := acquireInstance(opts.AppID, opts.Demo, opts.AtLogin, requests, log)
	if errors.Is(err, instance.ErrAlreadyRunning) && opts.AtLogin {
		log.Info("ToastTray is already running (started at login twice); exiting")
		return nil
	}
	if errors.Is(err, instance.ErrAlreadyRunning) {
		log.Info("ToastTray is already running; asked it to show Settings")
		return nil
	}
	if err != nil {
		return fmt.Errorf("tray: %w", err)
	}
	defer release()

	place, err := openPlace(ctx, opts.Demo, opts.AppID, log)
	if err != nil {
		return err
	}
	defer place.close()
	entry := autostart.Tray(opts.AppID)
	applyLoginPolicy(place.settings.Policy, entry, log)
	if !opts.Demo {
		updateLoginEntry(entry, log)
	}

	l := &launcher{env: place.childEnv, demo: opts.Demo, log: log}
	hist := openHistory(place.dir, l, log)
	defer func() {
		if err := hist.Close(); err != nil {
			log.Warn("saving notification history", "err", err)
		}
	}()

	notifier := newNotifier(opts.AppID, requests, log)
	defer notifier.Close() // after svc.Stop, which ends the gate calling it

	redraw := make(chan struct{}, 1)
	svc := service.New(service.Options{
		Version:     opts.Version,
		Notifier:    notifier,
		History:     hist,
		SeenPath:    filepath.Join(place.dir, service.SeenFileName),
		Settings:    place.settings,
		Credentials: place.creds,
		Logger:      log,
		OnStatus:    pokeStatus(log, redraw),
	})
	defer svc.Stop()
	target := svc.Reload()

	var initial []Window
	if !target.Configured {
		log.Info("first run: opening Settings")
		initial = append(initial, WindowSettings)
	}
	icon := showTray(log)
	defer icon.end()
	if icon.settings && len(initial) == 0 {
		initial = append(initial, WindowSettings)
	}
	ctl := newController(controllerDeps{
		clk: clock.Real, log: log, backend: svc, draw: icon.draw, demo: opts.Demo, redraw: redraw,
		wins: &windowProcs{launcher: l, hist: hist, log: log},
	}, target)

	var wg sync.WaitGroup
	defer wg.Wait()
	clicksCtx, stopClicks := context.WithCancel(ctx)
	defer stopClicks()
	clicks := make(chan Action)
	if icon.tray != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			icon.tray.forward(clicksCtx, clicks)
		}()
	}

	log.Info("ToastTray running", "demo", opts.Demo, "tray_host", icon.host, "tray_icon", icon.tray != nil)
	err = ctl.run(ctx, clicks, requests, initial)
	stopClicks()
	if errors.Is(err, errQuit) {
		log.Info("quit from the tray menu")
		return nil
	}
	if ctx.Err() != nil {
		log.Info("shutting down", "reason", context.Cause(ctx))
	}
	return err
}

// place is where settings, history and credentials come from: the user's
// config folder and keyring, or in demo mode a temporary folder (handed to
// the window processes through TOASTTRAY_CONFIG_DIR) and the demo password.
type place struct {
	dir      string
	childEnv []string // nil: the windows inherit the environment
	settings settings.Store
	creds    func(site, user string) (wsclient.Credentials, error)
	close    func()
}

func openPlace(ctx context.Context, demo bool, appID string, log *slog.Logger) (place, error) {
	var p place
	if demo {
		d, err := startDemo(ctx, log, clock.Real)
		if err != nil {
			return place{}, err
		}
		p = place{dir: d.dir, childEnv: append(os.Environ(), "TOASTTRAY_CONFIG_DIR="+d.dir), creds: d.creds, close: d.Close}
	} else {
		dir, err := settings.ConfigDir()
		if err != nil {
			return place{}, fmt.Errorf("tray: %w", err)
		}
		p = place{dir: dir, creds: keyringCreds(creds.Store{Service: appID}), close: func() {}}
	}
	p.settings = settings.Store{Path: filepath.Join(p.dir, settings.FileName), Policy: trayPolicy(demo)}
	return p, nil
}

// keyringCreds loads the saved credentials from the keyring; none saved
// is not an error.
func keyringCreds(keys creds.Store) func(site, user string) (wsclient.Credentials, error) {
	return func(site, user string) (wsclient.Credentials, error) {
		c, err := keys.Load(site, user)
		if errors.Is(err, creds.ErrNotFound) {
			return wsclient.Credentials{}, nil
		}
		return c, err
	}
}

// openHistory opens the history file; after each write an open History
// window re-reads it.
func openHistory(dir string, l *launcher, log *slog.Logger) *history.Store {
	return history.Open(filepath.Join(dir, history.FileName), history.Options{
		Logger: log, OnWrite: func() { l.send(WindowHistory, requestReload) },
	})
}

// newNotifier is the desktop Notifier. A click on a notification without
// a link (a summary, say) opens its window (the history, or Settings for
// a sign-out), as the menu items do. If a request is already waiting,
// this click is dropped: the user can click again.
func newNotifier(appID string, requests chan<- Action, log *slog.Logger) *notify.Beeep {
	return notify.NewBeeep(notify.BeeepOptions{
		AppName: "ToastTray", AppID: appID, Logger: log,
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
}

// trayIcon is what showTray set up: the icon (nil without one), how the
// menu is drawn, and end, which removes the icon.
type trayIcon struct {
	tray     *sysTray
	draw     func(Menu)
	end      func()
	host     bool // a tray host was found
	settings bool // open Settings: without a visible icon the app must not run invisibly
}

// showTray shows the icon if it can.
func showTray(log *slog.Logger) trayIcon {
	bus, host, perr := probeTrayHost()
	icon := trayIcon{end: func() {}, host: host}
	var startErr error
	if bus {
		icon.tray, icon.end, startErr = startSysTray(log)
	}
	plan := planTray(bus, host, perr, startErr)
	switch {
	case plan.Err != nil:
		log.Warn(plan.Warn, "err", plan.Err)
	case plan.Warn != "":
		log.Warn(plan.Warn)
	}
	icon.settings = plan.Settings
	if plan.Icon {
		icon.draw = icon.tray.draw
	} else {
		icon.tray = nil
		icon.draw = func(m Menu) { log.Debug("status", "line", m.Status, "detail", m.Detail) }
	}
	return icon
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

// windowProcs opens and raises the window processes. History opens (or
// comes to the front) with the toasts still queued for the debounced
// write written first (whose OnWrite asks an open window to re-read), and
// a raised window re-reads too.
type windowProcs struct {
	launcher *launcher
	hist     *history.Store
	log      *slog.Logger
}

func (p *windowProcs) open(ctx context.Context, w Window) error {
	p.flush(w)
	return p.launcher.run(ctx, w)
}

func (p *windowProcs) raise(w Window) {
	p.flush(w)
	p.launcher.send(w, requestRaise)
}

func (p *windowProcs) flush(w Window) {
	if w != WindowHistory {
		return
	}
	if err := p.hist.Flush(); err != nil {
		p.log.Warn("saving notification history", "err", err)
	}
}
