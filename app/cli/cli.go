// Package cli holds ToastTray's headless subcommands (listen, check,
// demo-server). It imports no GUI code, so these commands stay small.
package cli

import (
	"errors"
	"io"
	"log/slog"
)

// Env is what every subcommand gets from main.
type Env struct {
	Version string       // e.g. "0.1.0"
	AppID   string       // reverse-DNS app ID
	Stdout  io.Writer    // command output
	Stderr  io.Writer    // diagnostics and logs
	Logger  *slog.Logger // the process logger (writes to Stderr)
}

// ErrUsage means the command line was wrong; the command has already
// printed what was wrong, and main exits with status 2.
var ErrUsage = errors.New("usage error")
