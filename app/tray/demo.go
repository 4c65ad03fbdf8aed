package tray

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// Demo mode: the embedded emulator on loopback, settings in a temporary
// folder (never the user's), the demo user's password in memory (never the
// keyring), and a toast of each level every few seconds on the channel
// the demo settings name (wstest.StartDemoToasts).

const (
	demoChannel = "demo"
	// DemoInterval is how often the demo pushes a toast, unless
	// TOASTTRAY_DEMO_INTERVAL says otherwise ("0" stops the toasts, to
	// measure the idle cost of a connected tray).
	DemoInterval    = 4 * time.Second
	demoIntervalEnv = "TOASTTRAY_DEMO_INTERVAL"
)

// demoInterval reads TOASTTRAY_DEMO_INTERVAL (a Go duration, or 0).
func demoInterval(log *slog.Logger) time.Duration {
	v := os.Getenv(demoIntervalEnv)
	if v == "" {
		return DemoInterval
	}
	if v == "0" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		log.Warn("ignoring bad "+demoIntervalEnv, "value", v)
		return DemoInterval
	}
	return d
}

// demoEnv is a running demo backend. Close stops the pusher and the server
// and removes the temporary folder.
type demoEnv struct {
	srv  *wstest.Server
	dir  string
	stop func() // ends the toasts
}

// startDemo starts the emulator and writes the demo settings into a new
// temporary folder.
func startDemo(ctx context.Context, log *slog.Logger, clk clock.Clock) (*demoEnv, error) {
	dir, err := os.MkdirTemp("", "toasttray-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	srv := wstest.NewUnstartedServer(wstest.Options{Logger: log.With("component", "demo-server"), Clock: clk,
		DefaultChannel: demoChannel})
	if err := srv.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("demo: %w", err)
	}
	s := settings.Default()
	s.SiteURL, s.WSURL = srv.URL, srv.WSURL
	s.TokenPath, s.LoginPath = srv.TokenPath(), srv.LoginPath()
	s.Channel = demoChannel
	s.Username = wstest.DemoUser
	s.RememberPassword = true
	if err := (settings.Store{Path: filepath.Join(dir, settings.FileName)}).Save(s); err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("demo: %w", err)
	}
	every := demoInterval(log)
	if every == 0 {
		log.Info("demo mode: no demo toasts (" + demoIntervalEnv + "=0)")
	}
	d := &demoEnv{srv: srv, dir: dir, stop: wstest.StartDemoToasts(ctx, srv, every)}
	log.Info("demo mode: built-in server started; saved settings and the keyring are not used",
		"site", srv.URL, "ws", srv.WSURL, "config_dir", dir)
	return d, nil
}

// creds gives the demo user's password, never the keyring's.
func (d *demoEnv) creds(_, user string) (wsclient.Credentials, error) {
	return wsclient.Credentials{Username: user, Password: wstest.DemoPassword}, nil
}

// Close stops the pusher and the server and removes the temporary folder.
func (d *demoEnv) Close() {
	d.stop()
	d.srv.Close()
	os.RemoveAll(d.dir)
}
