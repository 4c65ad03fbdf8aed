// Package ui holds ToastTray's Fyne windows. Each runs in a short-lived
// child process so the long-running tray process never starts Fyne's GL
// driver.
//
// The windows' contents are built by NewSettingsForm and NewHistoryView from
// their dependencies, so tests drive them with Fyne's test driver; Settings
// and History only wire the real dependencies and run the app.
package ui

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/toasttray/toasttray/app/autostart"
	"github.com/toasttray/toasttray/app/cli"
	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/instance"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// DemoFlag is the flag the tray passes to a window process in demo mode:
// settings come from TOASTTRAY_CONFIG_DIR (a temporary folder the tray
// set up) and credentials are never read from or written to the keyring.
const DemoFlag = "demo"

// RaiseFlag makes a window process read requests from its stdin, one a
// line: "raise" brings an already open window to the front (the user
// picked it again from the menu, or launched ToastTray a second time), and
// "reload" makes the History window re-read history.json (the tray wrote
// it). The end of stdin is the tray's request to close the window: the
// tray closes the pipe when it quits (or the OS does, when the tray dies).
const RaiseFlag = "raise-on-stdin"

// The requests the tray writes to a window's stdin (see RaiseFlag).
const (
	RequestRaise  = "raise"
	RequestReload = "reload"
)

type windowFlags struct {
	demo  bool
	raise bool
}

func parseFlags(name string, args []string, env cli.Env) (windowFlags, error) {
	var wf windowFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.BoolVar(&wf.demo, DemoFlag, false, "demo mode: temporary settings, no keyring")
	fs.BoolVar(&wf.raise, RaiseFlag, false, "bring the window to the front for each \"raise\" line on stdin (used by the tray)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return wf, err
		}
		return wf, fmt.Errorf("%s: %w", name, cli.ErrUsage)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "%s: unexpected arguments %q\n", name, fs.Args())
		return wf, fmt.Errorf("%s: %w", name, cli.ErrUsage)
	}
	return wf, nil
}

// Settings opens the settings window and returns when it closes (or ctx
// ends: the tray cancels its window processes when it quits).
func Settings(ctx context.Context, args []string, env cli.Env) error {
	wf, err := parseFlags("settings", args, env)
	if err != nil {
		return err
	}
	if err := checkDisplay(); err != nil {
		return fmt.Errorf("settings window: %w", err)
	}
	store, err := settings.DefaultStore()
	if err != nil {
		return fmt.Errorf("settings window: %w", err)
	}
	log := logger(env)
	entry := autostart.Tray(env.AppID)
	if wf.demo {
		store.Policy = settings.Policy{} // as the demo tray: its settings point at the built-in server
	} else {
		store.Policy = withMachineAutostart(store.Policy, entry, log)
	}
	a := newApp(env)
	w := a.NewWindow("ToastTray Settings")

	deps := SettingsDeps{
		Version: env.Version,
		Load:    store.LoadEffective,
		Check: func(ctx context.Context, cfg wsclient.Config, c wsclient.Credentials, report func(wsclient.Step)) error {
			return wsclient.Check(ctx, cfg, c, wsclient.Options{Logger: log}, report)
		},
		OnSaved: w.Close,
	}
	if wf.demo {
		deps.Note = "Demo mode: these settings point at the built-in demo server (user demo, password demo). " +
			"Changes last until the demo ends; your saved settings and the keyring are not touched."
		deps.LoadCreds = func(_, user string) (wsclient.Credentials, error) {
			return wsclient.Credentials{Username: user, Password: wstest.DemoPassword}, nil
		}
		deps.Save = func(s settings.Settings, _ wsclient.Credentials) error { return store.Save(s) }
	} else {
		ks := creds.Store{Service: env.AppID}
		deps.LoadCreds = ks.Load
		deps.Save = func(s settings.Settings, c wsclient.Credentials) error { return ks.SaveAll(store, s, c) }
		deps.Forget = func(site, user string) error {
			if err := ks.Delete(site, user); err != nil {
				return err
			}
			// The tray signs out at once; without a running tray there is
			// nothing to tell.
			err := instance.Notify(instance.Options{Name: env.AppID, Logger: log}, instance.RequestSignOut)
			if err != nil && !errors.Is(err, instance.ErrNotRunning) {
				log.Warn("telling the tray to sign out", "err", err)
			}
			return nil
		}
		deps.SetAutostart = entry.Set
	}
	f := NewSettingsForm(deps)
	defer f.Close()
	w.SetContent(f.Content())
	w.Resize(fyne.NewSize(640, 700))
	return runWindow(ctx, a, w, log, requestSource(wf), nil)
}

// History opens the notification history window and returns when it closes.
func History(ctx context.Context, args []string, env cli.Env) error {
	wf, err := parseFlags("history", args, env)
	if err != nil {
		return err
	}
	if err := checkDisplay(); err != nil {
		return fmt.Errorf("history window: %w", err)
	}
	path, err := history.DefaultPath()
	if err != nil {
		return fmt.Errorf("history window: %w", err)
	}
	log := logger(env)
	store := history.Open(path, history.Options{Logger: log})
	a := newApp(env)
	w := a.NewWindow("ToastTray — Notification history")
	v := NewHistoryView(w, HistoryDeps{
		List:  store.List,
		Clear: store.Clear,
		Open: func(u string) error {
			pu, err := parseHTTPURL(u)
			if err != nil {
				return err
			}
			return openLink(a, pu)
		},
	})
	defer v.Close()
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(720, 520))
	// Raised, the window is current too: the tray wrote what it had
	// queued before asking, and re-reading a 200-entry file is cheap.
	return runWindow(ctx, a, w, log, requestSource(wf), v.Reload)
}

func logger(env cli.Env) *slog.Logger {
	if env.Logger != nil {
		return env.Logger
	}
	return slog.Default()
}

// errNoDisplay: Fyne's driver would panic without a display server.
var errNoDisplay = errors.New("no graphical display: neither DISPLAY nor WAYLAND_DISPLAY is set")

func checkDisplay() error {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errNoDisplay
		}
	}
	return nil
}

func newApp(env cli.Env) fyne.App {
	id := env.AppID
	if id == "" {
		id = "org.toasttray.ToastTray"
	}
	a := app.NewWithID(id)
	a.SetIcon(fyne.NewStaticResource("toasttray.png", assets.AppIcon))
	return a
}

// requestSource is stdin when the tray asked to send requests, else nil.
func requestSource(wf windowFlags) io.Reader {
	if wf.raise {
		return os.Stdin
	}
	return nil
}

// followRequests calls handle for every request line read from r (see
// RaiseFlag) and returns at end of input (the tray closed the pipe) or a
// read error.
func followRequests(r io.Reader, handle func(req string)) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if req := strings.TrimSpace(sc.Text()); req != "" {
			handle(req)
		}
	}
}

// runWindow shows w until it is closed, ctx ends or requests (when not
// nil) ends. "raise" requests bring w to the front and also call reload,
// "reload" requests call reload (when not nil); others are ignored. The
// goroutine that watches ctx and requests ends when Run returns; the one
// following requests ends at the end of requests, or with the process.
func runWindow(ctx context.Context, a fyne.App, w fyne.Window, log *slog.Logger, requests io.Reader, reload func()) error {
	w.SetMaster()
	w.CenterOnScreen()
	w.Show()
	ended := make(chan struct{}) // requests ended: the tray asks us to close
	if requests != nil {
		go func() {
			followRequests(requests, func(req string) {
				log.Debug("request from the tray", "request", req)
				switch req {
				case RequestRaise:
					fyne.Do(func() { w.Show(); w.RequestFocus() })
					fallthrough
				case RequestReload:
					if reload != nil {
						reload()
					}
				}
			})
			close(ended)
		}()
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			log.Info("closing window", "reason", context.Cause(ctx))
			fyne.Do(a.Quit)
		case <-ended:
			log.Info("closing window", "reason", "the tray closed stdin")
			fyne.Do(a.Quit)
		case <-done:
		}
	}()
	a.Run()
	close(done)
	return nil
}
