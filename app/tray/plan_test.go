package tray

import (
	"errors"
	"strings"
	"testing"
)

// A tray that cannot show is handled alike everywhere: a WARN and the
// Settings window, never an app running invisibly. The start failure is
// Windows' (Shell_NotifyIcon refused; seen under Wine without a shell).
func TestPlanTray(t *testing.T) {
	probeErr := errors.New("probe failed")
	startErr := errors.New("the notification area refused the icon")
	for _, c := range []struct {
		name            string
		bus, host       bool
		probeErr, start error
		icon, settings  bool
		warn            string
	}{
		{name: "tray host", bus: true, host: true, icon: true},
		{name: "no bus", probeErr: probeErr, settings: true, warn: "no tray: no D-Bus session bus"},
		{name: "no tray host", bus: true, icon: true, settings: true, warn: "no tray host"},
		{name: "probe failed", bus: true, probeErr: probeErr, icon: true, settings: true, warn: "could not tell"},
		{name: "icon refused", bus: true, host: true, start: startErr, settings: true, warn: "no tray: the tray icon could not be created"},
		{name: "icon refused, probe failed", bus: true, probeErr: probeErr, start: startErr, settings: true, warn: "no tray: the tray icon could not be created"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := planTray(c.bus, c.host, c.probeErr, c.start)
			if p.Icon != c.icon || p.Settings != c.settings {
				t.Errorf("icon %v, settings %v; want %v, %v", p.Icon, p.Settings, c.icon, c.settings)
			}
			if c.warn == "" && p.Warn != "" || !strings.HasPrefix(p.Warn, c.warn) {
				t.Errorf("warning %q, want one starting %q", p.Warn, c.warn)
			}
			if c.warn != "" && c.start == nil && c.probeErr != nil && !errors.Is(p.Err, c.probeErr) {
				t.Errorf("err %v, want the probe's", p.Err)
			}
			if c.start != nil && !errors.Is(p.Err, c.start) {
				t.Errorf("err %v, want the start error", p.Err)
			}
			if !p.Icon && !p.Settings {
				t.Error("neither icon nor window: the app would run invisibly")
			}
		})
	}
}
