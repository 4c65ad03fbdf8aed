//go:build !(linux || freebsd || openbsd || netbsd)

package tray

// probeTrayHost: Windows and macOS always have a notification area.
func probeTrayHost() (bus, host bool, err error) { return true, true, nil }
