//go:build !windows && !darwin

package autostart

// The entry is an XDG autostart .desktop file (enable etc.: entryfile.go).
func entryPath(a App) (string, error) { return desktopPath(a) }

func entryContent(a App) string { return desktopEntry(a) }
