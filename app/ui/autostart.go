package ui

import "github.com/toasttray/toasttray/app/autostart"

// autostartSetter returns the start-at-login switch for the app ID.
func autostartSetter(appID string) func(on bool) error {
	return autostart.App{ID: appID, Name: "ToastTray"}.Set
}
