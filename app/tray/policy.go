package tray

import (
	"encoding/json"
	"log/slog"
	"slices"

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

// updateLoginEntry rewrites the user's own login entry when a ToastTray
// older than autostart.Flag wrote it (this program, no arguments): beside
// a machine-wide entry it would open Settings at every login. Any other
// entry is left as it is, as is one the user turned off; none is created,
// and machine-wide entries are not the user's to change.
func updateLoginEntry(entry autostart.App, log *slog.Logger) {
	cur, err := entry.Current()
	if err != nil {
		log.Warn("login entry not checked", "err", err)
		return
	}
	want, err := entry.Command()
	if err != nil {
		log.Warn("login entry not checked", "err", err)
		return
	}
	old := slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == autostart.Flag })
	if cur == nil || !slices.Equal(cur, old) || slices.Equal(old, want) {
		return
	}
	if err := entry.Enable(); err != nil {
		log.Warn("updating the login entry", "err", err)
		return
	}
	log.Info("login entry updated", "was", cur, "now", want)
}
