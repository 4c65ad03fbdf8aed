package tray

import (
	"errors"
	"strings"

	"fyne.io/systray"
)

// watcherName names the tray host in log messages; Windows has no
// StatusNotifierWatcher.
const watcherName = "the notification area"

// probeTrayHost: whether the notification area takes the icon is only
// known once systray has tried (sysTrayStartErr).
func probeTrayHost() (bus, host bool, err error) { return true, true, nil }

// sysTrayStartErr reports whether systray failed to add the icon, which
// Shell_NotifyIcon refuses when there is no notification area (Explorer
// not running yet, Wine without a desktop shell). systray then only logs
// "systray error: unable to init instance" and never calls onReady; every
// later call fails with ErrTrayNotReadyYet, which SetIconFromFilePath
// passes on, as text only (%v). Once the icon exists, the empty path just
// fails to load and changes nothing.
func sysTrayStartErr() error {
	err := systray.SetIconFromFilePath("")
	if err != nil && strings.Contains(err.Error(), systray.ErrTrayNotReadyYet.Error()) {
		return errors.New("the notification area refused the icon (Shell_NotifyIcon failed)")
	}
	return nil
}
