// Package cli holds ToastTray's headless subcommands (listen, check,
// demo-server). It imports no GUI code, so these commands stay small.
package cli

import (
	"errors"
	"io"
	"log/slog"

	"github.com/toasttray/toasttray/wsclient"
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

// SafeLogAttr is the ReplaceAttr of every JSON log handler: log lines carry
// server text (errors quoting an answer, close reasons), and the JSON
// handler lets C1 controls and bidi overrides through to the terminal.
// (The text handler quotes them itself.)
func SafeLogAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(wsclient.SafeLine(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(wsclient.SafeLine(err.Error()))
		}
	}
	return a
}
