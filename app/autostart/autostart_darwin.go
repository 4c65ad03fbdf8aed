//go:build darwin

package autostart

import (
	"os"
	"path/filepath"
)

// The LaunchAgent is loaded by launchd at the next login; it is not
// loaded now, since the app is already running.

func enable(a App) error {
	p, err := launchAgentPath(a)
	if err != nil {
		return err
	}
	return writeFile(p, launchAgent(a))
}

func disable(a App) error {
	p, err := launchAgentPath(a)
	if err != nil {
		return err
	}
	return removeFile(p)
}

func enabled(a App) (bool, error) {
	p, err := launchAgentPath(a)
	if err != nil {
		return false, err
	}
	return fileExists(p)
}

func launchAgentPath(a App) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "Library", "LaunchAgents", a.ID+".plist"), nil
}
