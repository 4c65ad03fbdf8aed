// Package ui holds ToastTray's Fyne windows. Each runs in a short-lived
// child process so the long-running tray process never starts Fyne's GL
// driver.
package ui

import (
	"context"
	"errors"

	"github.com/toasttray/toasttray/app/cli"

	_ "fyne.io/fyne/v2/app" // placeholder until the windows land
	_ "fyne.io/fyne/v2/widget"
)

// Settings opens the settings window and returns when it closes.
func Settings(ctx context.Context, args []string, env cli.Env) error {
	return errors.New("settings: not implemented yet")
}

// History opens the notification history window and returns when it closes.
func History(ctx context.Context, args []string, env cli.Env) error {
	return errors.New("history: not implemented yet")
}
