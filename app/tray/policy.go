package tray

import (
	"encoding/json"
	"log/slog"

	"github.com/toasttray/toasttray/app/autostart"
	"github.com/toasttray/toasttray/app/settings"
)

// trayPolicy is the organisation's policy the tray runs under, read once
// at start; none in demo mode, whose settings point at the built-in
// server.
func trayPolicy(demo bool) settings.Policy {
	if demo {
		return settings.Policy{}
	}
	return settings.LoadPolicy()
}

// applyLoginPolicy makes the user's login entry match an enforced
// start_at_login at every tray start: Settings writes the entry only when
// its switch changes, which an enforced switch never does. A machine-wide
// entry (entry.MachineWide) decides for itself: the user's is left alone
// then, as it is when the key is not enforced.
func applyLoginPolicy(p settings.Policy, entry autostart.App, log *slog.Logger) {
	raw, ok := p.Enforced[settings.FieldStartAtLogin]
	if !ok {
		return
	}
	var on bool
	if err := json.Unmarshal(raw, &on); err != nil {
		log.Warn("policy: start_at_login", "err", err) // LoadPolicy checked it: cannot happen
		return
	}
	where, err := entry.MachineWide()
	if err != nil {
		log.Warn("policy: start_at_login not applied", "err", err)
		return
	}
	if where != "" {
		log.Info("policy: start_at_login left to the machine-wide entry", "entry", where)
		return
	}
	if err := entry.Set(on); err != nil {
		log.Warn("policy: applying start_at_login", "on", on, "err", err)
		return
	}
	log.Debug("policy: start_at_login applied", "on", on)
}
