//go:build !(linux || freebsd || openbsd || netbsd || windows)

package tray

// watcherName names the tray host in log messages; macOS has no
// StatusNotifierWatcher, its menu bar is always there.
const watcherName = "the menu bar"

// probeTrayHost: macOS always has a menu bar.
func probeTrayHost() (bus, host bool, err error) { return true, true, nil }

// sysTrayStartErr: systray has no failure to report here.
func sysTrayStartErr() error { return nil }
