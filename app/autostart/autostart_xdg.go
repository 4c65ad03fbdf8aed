//go:build !windows && !darwin

package autostart

func enable(a App) error {
	p, err := desktopPath(a)
	if err != nil {
		return err
	}
	return writeFile(p, desktopEntry(a))
}

func disable(a App) error {
	p, err := desktopPath(a)
	if err != nil {
		return err
	}
	return removeFile(p)
}

func enabled(a App) (bool, error) {
	p, err := desktopPath(a)
	if err != nil {
		return false, err
	}
	return fileExists(p)
}
