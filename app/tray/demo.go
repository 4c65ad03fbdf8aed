package tray

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/clock"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// Demo mode: the embedded emulator on loopback, settings in a temporary
// folder (never the user's), the demo user's password in memory (never the
// keyring), and a toast of each level every few seconds.

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

// demoToasts cycle through every level; one carries a link (the history
// window's Open button) and one has markup that must show as text.
var demoToasts = []map[string]any{
	{"type": "toast", "level": "success", "title": "Report ready", "message": "Your monthly report finished in 42 s.",
		"url": "https://example.com/reports/42"},
	{"type": "toast", "level": "info", "message": "Alice joined the channel."},
	{"type": "toast", "level": "warning", "title": "Disk space", "message": "Volume /data is 91% full <90% is the limit> & rising."},
	{"type": "toast", "level": "error", "title": "Build failed", "message": "Pipeline #1234 failed at step \"test\"."},
}

// demoEnv is a running demo backend. Close stops the pusher and the server
// and removes the temporary folder.
type demoEnv struct {
	srv    *wstest.Server
	dir    string
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startDemo starts the emulator and writes the demo settings into a new
// temporary folder.
func startDemo(ctx context.Context, log *slog.Logger, clk clock.Clock) (*demoEnv, error) {
	dir, err := os.MkdirTemp("", "toasttray-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	srv := wstest.NewUnstartedServer(wstest.Options{Logger: log.With("component", "demo-server"), Clock: clk})
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
	d := &demoEnv{srv: srv, dir: dir}
	ctx, d.cancel = context.WithCancel(ctx)
	if every := demoInterval(log); every > 0 {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.push(ctx, clk, log, every)
		}()
	} else {
		log.Info("demo mode: no demo toasts (" + demoIntervalEnv + "=0)")
	}
	log.Info("demo mode: built-in server started; saved settings and the keyring are not used",
		"site", srv.URL, "ws", srv.WSURL, "config_dir", dir)
	return d, nil
}

// push sends the next demo toast every interval until ctx ends.
func (d *demoEnv) push(ctx context.Context, clk clock.Clock, log *slog.Logger, every time.Duration) {
	t := clk.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		msg := demoToasts[i%len(demoToasts)]
		n := d.srv.Push(demoChannel, msg)
		log.Debug("demo toast pushed", "toast_level", msg["level"], "connections", n)
	}
}

// creds gives the demo user's password, never the keyring's.
func (d *demoEnv) creds(_, user string) (wsclient.Credentials, error) {
	return wsclient.Credentials{Username: user, Password: wstest.DemoPassword}, nil
}

// Close stops the pusher and the server and removes the temporary folder.
func (d *demoEnv) Close() {
	d.cancel()
	d.wg.Wait()
	d.srv.Close()
	os.RemoveAll(d.dir)
}
