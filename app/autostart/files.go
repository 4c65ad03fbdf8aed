package autostart

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/toasttray/toasttray/app/settings/atomicfile"
)

// writeFile and removeFile back the file-based platforms (XDG, macOS).
func writeFile(path, content string) error {
	return atomicfile.Write(path, []byte(content), 0o644)
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// xdgAutostartDir is $XDG_CONFIG_HOME/autostart, else ~/.config/autostart.
func xdgAutostartDir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "autostart"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".config", "autostart"), nil
}

func desktopPath(a App) (string, error) {
	d, err := xdgAutostartDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, a.ID+".desktop"), nil
}

// xdgConfigDirs is $XDG_CONFIG_DIRS's absolute folders, else /etc/xdg.
func xdgConfigDirs() []string {
	var dirs []string
	for _, d := range strings.Split(os.Getenv("XDG_CONFIG_DIRS"), ":") {
		if filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		dirs = []string{"/etc/xdg"}
	}
	return dirs
}

// firstFile returns the first of paths that exists, "" when none does.
func firstFile(paths []string) (string, error) {
	for _, p := range paths {
		_, err := os.Stat(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", nil
}
