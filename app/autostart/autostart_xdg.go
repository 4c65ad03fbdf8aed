//go:build !windows && !darwin

package autostart

import "path/filepath"

// The entry is an XDG autostart .desktop file (enable etc.: entryfile.go).
func entryPath(a App) (string, error) { return desktopPath(a) }

func entryContent(a App) string { return desktopEntry(a) }

func entryCommand(data string) ([]string, error) { return desktopCommand(data), nil }

// machineWide looks for a file of the same name in the autostart folder of
// each of $XDG_CONFIG_DIRS (default /etc/xdg). A user's own file of that
// name takes its place (the XDG autostart spec), so one of them starts.
func machineWide(a App) (string, error) {
	var paths []string
	for _, d := range xdgConfigDirs() {
		paths = append(paths, filepath.Join(d, "autostart", a.ID+".desktop"))
	}
	return firstFile(paths)
}
