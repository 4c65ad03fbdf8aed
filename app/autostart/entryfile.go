//go:build !windows

package autostart

import (
	"errors"
	"io/fs"
	"os"
)

// On the platforms whose entry is a file (XDG, macOS), entryPath names it
// and entryContent is what it holds; entryCommand reads the command back.

func enable(a App) error {
	p, err := entryPath(a)
	if err != nil {
		return err
	}
	return writeFile(p, entryContent(a))
}

func disable(a App) error {
	p, err := entryPath(a)
	if err != nil {
		return err
	}
	return removeFile(p)
}

func current(a App) ([]string, error) {
	p, err := entryPath(a)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return entryCommand(string(data))
}
