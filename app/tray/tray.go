// Package tray is the long-running tray process.
package tray

import (
	"context"
	"errors"

	"github.com/toasttray/toasttray/app/cli"

	_ "fyne.io/systray" // placeholder until the tray lands
	_ "github.com/gen2brain/beeep"
	_ "github.com/gorilla/websocket"
	_ "github.com/zalando/go-keyring"
)

// Options configure Run.
type Options struct {
	Env  cli.Env
	Demo bool // run against the embedded demo server with in-memory settings
}

// Run shows the tray icon and keeps the client connected until ctx ends or
// the user quits.
func Run(ctx context.Context, opts Options) error {
	return errors.New("tray: not implemented yet")
}
