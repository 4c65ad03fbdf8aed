package tray

import "github.com/toasttray/toasttray/app/settings"

// trayPolicy is the organisation's policy the tray runs under, read once
// at start; none in demo mode, whose settings point at the built-in
// server.
func trayPolicy(demo bool) settings.Policy {
	if demo {
		return settings.Policy{}
	}
	return settings.LoadPolicy()
}
