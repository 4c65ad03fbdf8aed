//go:build realpeer

package suite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/toasttray/toasttray/app/cli"
)

// cliEnv, when set in a process's environment, makes the test binary run
// that ToastTray command (listen, check) instead of the tests, the way
// main.go does: app/cli's entry with a signal-cancelled context. The
// suite starts the commands this way unless $TOASTTRAY_BIN names a built
// toasttray (make realpeer passes ./toasttray), so a plain `go test` needs
// no cgo build of the tray.
const cliEnv = "REALPEER_SUITE_CLI"

func TestMain(m *testing.M) {
	if cmd := os.Getenv(cliEnv); cmd != "" {
		os.Exit(runCLI(cmd, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runCLI is main.go's dispatch for the headless commands, JSON logs.
func runCLI(cmd string, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	env := cli.Env{Version: "realpeer", Stdout: os.Stdout, Stderr: os.Stderr, Logger: logger}
	var err error
	switch cmd {
	case "listen":
		err = cli.Listen(ctx, args, env)
	case "check":
		err = cli.Check(ctx, args, env)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, cli.ErrUsage):
		return 2
	}
	logger.Error("toasttray failed", "command", cmd, "err", err)
	return 1
}
