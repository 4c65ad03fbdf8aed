//go:build windows

package autostart

import (
	"errors"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

func enable(a App) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.SetStringValue(a.ID, windowsCommand(a))
}

func disable(a App) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.DeleteValue(a.ID); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return err
	}
	return nil
}

// current parses the HKCU Run value as CreateProcess would; a value that
// is not a string is not ToastTray's.
func current(a App) ([]string, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer k.Close()
	s, _, err := k.GetStringValue(a.ID)
	if errors.Is(err, registry.ErrNotExist) || errors.Is(err, registry.ErrUnexpectedType) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return windows.DecomposeCommandLine(s)
}

// machineWide looks for the value under HKLM's Run key (the .msi's with
// ALLUSERS=1 AUTOSTART=1), of any type.
func machineWide(a App) (string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer k.Close()
	if _, _, err := k.GetValue(a.ID, nil); errors.Is(err, registry.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return `HKLM\` + runKey + `\` + a.ID, nil
}
