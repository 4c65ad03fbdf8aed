//go:build !windows

package autostart

// On the platforms whose entry is a file (XDG, macOS), entryPath names it
// and entryContent is what it holds.

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
