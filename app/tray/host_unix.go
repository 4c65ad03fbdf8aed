//go:build linux || freebsd || openbsd || netbsd

package tray

import (
	"fmt"

	"github.com/godbus/dbus/v5"
)

// watcherName is the D-Bus name of the tray host (the StatusNotifierItem
// watcher) that fyne.io/systray registers with.
const watcherName = "org.kde.StatusNotifierWatcher"

// probeTrayHost reports whether a session bus exists (systray can run at
// all) and whether a tray host owns the watcher name (the icon will show).
// It uses a private connection so systray's shared one is left alone.
func probeTrayHost() (bus, host bool, err error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false, false, fmt.Errorf("connecting to the D-Bus session bus: %w", err)
	}
	defer conn.Close()
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&host); err != nil {
		return true, false, fmt.Errorf("asking the session bus for %s: %w", watcherName, err)
	}
	return true, host, nil
}

// sysTrayStartErr: on D-Bus systray cannot fail before exporting the item;
// a missing bus or tray host is what probeTrayHost finds.
func sysTrayStartErr() error { return nil }
