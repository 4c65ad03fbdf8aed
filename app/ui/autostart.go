package ui

import (
	"log/slog"

	"github.com/toasttray/toasttray/app/autostart"
	"github.com/toasttray/toasttray/app/settings"
)

// keyAutostart is settings.json's key of the start-at-login switch.
const keyAutostart = "start_at_login"

// withMachineAutostart wraps a settings Load: a machine-wide login entry
// (entry.MachineWide) starts ToastTray whatever the user's switch says,
// so the switch shows it as an enforced on ("Set by your organisation"),
// and Save, whose value then never changes, writes no user entry beside
// it.
func withMachineAutostart(load func() (settings.Effective, bool, error), entry autostart.App, log *slog.Logger) func() (settings.Effective, bool, error) {
	return func() (settings.Effective, bool, error) {
		eff, exists, err := load()
		where, merr := entry.MachineWide()
		if merr != nil {
			log.Warn("start at login", "err", merr)
		}
		if where != "" {
			eff.Settings.StartAtLogin = true
			eff.Sources[keyAutostart], eff.Origins[keyAutostart] = settings.SourceEnforced, where
		}
		return eff, exists, err
	}
}
