package ui

import (
	"encoding/json"
	"log/slog"
	"maps"

	"github.com/toasttray/toasttray/app/autostart"
	"github.com/toasttray/toasttray/app/settings"
)

// withMachineAutostart returns p with start_at_login enforced on when a
// machine-wide login entry (entry.MachineWide) starts ToastTray whatever
// the user's switch says. In the settings store's policy it locks the
// switch ("Set by your organisation") and Save, as for any enforced key,
// keeps the user's own value in settings.json: no user entry is written
// beside the machine-wide one, and the user's choice is back in force
// when the machine-wide entry goes.
func withMachineAutostart(p settings.Policy, entry autostart.App, log *slog.Logger) settings.Policy {
	where, err := entry.MachineWide()
	if err != nil {
		log.Warn("start at login", "err", err)
	}
	if where == "" {
		return p
	}
	enforced, from := map[string]json.RawMessage{}, map[string]string{}
	maps.Copy(enforced, p.Enforced)
	maps.Copy(from, p.EnforcedFrom)
	enforced[settings.FieldStartAtLogin], from[settings.FieldStartAtLogin] = json.RawMessage("true"), where
	p.Enforced, p.EnforcedFrom = enforced, from
	return p
}
