// Command toasttray is a system-tray client that turns a Django site's
// WebSocket "toast" messages into native desktop notifications.
//
// main only parses flags, sets up logging and a signal-cancelled context,
// and hands over to the package that implements the chosen command.
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/toasttray/toasttray/app/cli"
	"github.com/toasttray/toasttray/app/console"
	_ "github.com/toasttray/toasttray/app/fynelocale" // must initialise before Fyne reads the locale
	"github.com/toasttray/toasttray/app/tray"
	"github.com/toasttray/toasttray/app/ui"
)

// fyneAppTOML is the single source of the version and app ID.
//
//go:embed FyneApp.toml
var fyneAppTOML []byte

const usage = `ToastTray turns a Django site's WebSocket toasts into desktop notifications.

Usage:
  toasttray [flags]                 run in the system tray (opens Settings on first run)
  toasttray -demo                   run in the tray against a built-in demo server
  toasttray --autostart             as started at login: if already running, exit quietly
  toasttray listen [flags]          headless: print received messages as JSON lines
  toasttray check [flags]           diagnose the connection step by step
  toasttray policy                  print the effective settings and where each came from
  toasttray demo-server [flags]     run the backend emulator on its own
  toasttray settings                open the Settings window
  toasttray history                 open the Notification history window

Run "toasttray <command> -h" for a command's flags.

Flags:
`

func main() {
	console.AttachParent()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	version, appID := appMetadata(fyneAppTOML)

	fs := flag.NewFlagSet("toasttray", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	demo := fs.Bool("demo", false, "use the built-in demo server; saved settings are left untouched")
	atLogin := fs.Bool("autostart", false, "started at login (every login entry passes it): if ToastTray is already running, exit quietly instead of opening Settings")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "toasttray %s\n", version)
		return 0
	}

	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "toasttray: %v\n", err)
		return 2
	}
	slog.SetDefault(logger)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	env := cli.Env{Version: version, AppID: appID, Stdout: stdout, Stderr: stderr, Logger: logger}
	rest := fs.Args()
	cmd := ""
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "":
		err = tray.Run(ctx, tray.Options{AppID: appID, Version: version, Logger: logger, Demo: *demo, AtLogin: *atLogin})
	case "listen":
		err = cli.Listen(ctx, rest, env)
	case "check":
		err = cli.Check(ctx, rest, env)
	case "policy":
		err = cli.Policy(ctx, rest, env)
	case "demo-server":
		err = cli.DemoServer(ctx, rest, env)
	case "settings":
		err = ui.Settings(ctx, rest, env)
	case "history":
		err = ui.History(ctx, rest, env)
	default:
		fmt.Fprintf(stderr, "toasttray: unknown command %q\n\n", cmd)
		fs.Usage()
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, cli.ErrUsage):
		return 2
	default:
		logger.Error("toasttray failed", "command", cmd, "err", err)
		return 1
	}
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad -log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		opts.ReplaceAttr = cli.SafeLogAttr
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("bad -log-format %q: want text or json", format)
}

// appMetadata reads Version and ID from FyneApp.toml, the one place they are
// set. A flat key scan is enough for the two keys we need.
func appMetadata(toml []byte) (version, id string) {
	version, id = "dev", "org.toasttray.ToastTray"
	sc := bufio.NewScanner(bytes.NewReader(toml))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		val = strings.Trim(strings.TrimSpace(val), `"`)
		switch strings.TrimSpace(key) {
		case "Version":
			version = val
		case "ID":
			id = val
		}
	}
	return version, id
}
