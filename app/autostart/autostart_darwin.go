//go:build darwin

package autostart

import (
	"os"
	"path/filepath"
)

// The entry is a LaunchAgent plist (enable etc.: entryfile.go). launchd
// loads it at the next login; it is not loaded now, since the app is
// already running.
func entryPath(a App) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "Library", "LaunchAgents", a.ID+".plist"), nil
}

func entryContent(a App) string { return launchAgent(a) }

func entryCommand(data string) ([]string, error) { return launchAgentCommand(data) }

// machineWide looks for a LaunchAgent of the same name for all users.
func machineWide(a App) (string, error) {
	return firstFile([]string{filepath.Join("/Library/LaunchAgents", a.ID+".plist")})
}
