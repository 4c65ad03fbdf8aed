package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/toasttray/toasttray/wsclient/wstest"
)

const demoServerUsage = `Usage: toasttray demo-server [flags]

Runs the backend emulator (Django + API Gateway WebSocket) on its own, so
ToastTray can be tried without a real site. It prints the settings to enter
in ToastTray and how to push a toast with curl.

Flags:
`

// DemoServer runs the backend emulator standalone until ctx is cancelled.
func DemoServer(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("demo-server", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	addr := fs.String("addr", "127.0.0.1:8765", "address to listen on (loopback unless --public)")
	user := fs.String("user", wstest.DemoUser, "username that can sign in")
	password := fs.String("password", wstest.DemoPassword, "password of --user")
	public := fs.Bool("public", false, "allow a non-loopback --addr: the demo site and gateway answer the network, the push and control endpoints only this machine")
	demoToasts := fs.Duration("demo-toasts", 0, "push a toast of each level in turn to the default channel this often, e.g. 5s (0: off)")
	useTLS := fs.Bool("tls", false, "serve https/wss with a self-signed certificate, written to a temporary CA file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), demoServerUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "demo-server: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return ErrUsage
	}
	if *user == "" {
		fmt.Fprintln(env.Stderr, "demo-server: --user must not be empty")
		return ErrUsage
	}
	if *demoToasts < 0 {
		fmt.Fprintln(env.Stderr, "demo-server: --demo-toasts must not be negative")
		return ErrUsage
	}
	warning, err := checkDemoAddr(*addr, *public)
	if err != nil {
		fmt.Fprintf(env.Stderr, "demo-server: %v\n", err)
		return ErrUsage
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(env.Stderr, nil))
	}
	if warning != "" {
		logger.Warn(warning, "addr", *addr)
	}

	s := wstest.NewUnstartedServer(wstest.Options{
		Users:  map[string]string{*user: *password},
		Addr:   *addr,
		Public: *public,
		TLS:    *useTLS,
		Logger: logger,
	})
	if err := s.Start(); err != nil {
		return fmt.Errorf("demo-server: %w", err)
	}
	defer s.Close()

	caFile := ""
	if *useTLS {
		f, err := os.CreateTemp("", "toasttray-demo-ca-*.pem")
		if err != nil {
			return fmt.Errorf("demo-server: write CA file: %w", err)
		}
		caFile = f.Name()
		defer os.Remove(caFile)
		_, werr := f.Write(s.CertificatePEM())
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("demo-server: write CA file: %w", werr)
		}
	}

	printDemoSettings(env, s, *user, *password == wstest.DemoPassword, caFile, *demoToasts, *public)
	stop := wstest.StartDemoToasts(ctx, s, *demoToasts)
	defer stop()

	<-ctx.Done()
	fmt.Fprintln(env.Stdout, "demo-server: shutting down")
	return nil
}

// checkDemoAddr refuses a non-loopback address unless public is set, and
// then returns a warning to log.
func checkDemoAddr(addr string, public bool) (warning string, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("bad --addr %q: want host:port, e.g. 127.0.0.1:8765", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", fmt.Errorf("bad port in --addr %q", addr)
	}
	if wstest.IsLoopback(host) {
		return "", nil
	}
	if !public {
		return "", fmt.Errorf("--addr %q is not a loopback address; the demo server has no real security "+
			"(anyone who can reach it can push toasts and trigger faults): add --public if you mean it", addr)
	}
	return "demo-server: listening on a non-loopback address: anyone who can reach it can sign in as the demo user; " +
		"/_push, /_control and /_stats answer only this machine", nil
}

func printDemoSettings(env Env, s *wstest.Server, user string, defaultPassword bool, caFile string, every time.Duration, public bool) {
	w := env.Stdout
	pw := "(the one given with --password)"
	if defaultPassword {
		pw = wstest.DemoPassword
	}
	fmt.Fprintf(w, "ToastTray demo server %s is running.\n\n", env.Version)
	fmt.Fprintln(w, "Settings for ToastTray:")
	fmt.Fprintf(w, "  Site URL:       %s\n", s.URL)
	fmt.Fprintf(w, "  WebSocket URL:  %s\n", s.WSURL)
	fmt.Fprintf(w, "  Token path:     %s\n", s.TokenPath())
	fmt.Fprintf(w, "  Login path:     %s\n", s.LoginPath())
	fmt.Fprintf(w, "  Channel:        (leave empty for the default channel %q)\n", s.DefaultChannel())
	fmt.Fprintf(w, "  Username:       %s\n", user)
	fmt.Fprintf(w, "  Password:       %s\n", pw)
	if caFile != "" {
		fmt.Fprintf(w, "  CA file:        %s\n", caFile)
	}
	if strings.Contains(s.URL, "://0.0.0.0:") || strings.Contains(s.URL, "://[::]:") {
		fmt.Fprintln(w, "  (use this machine's address instead of 0.0.0.0 in both URLs)")
	}
	curlTLS := ""
	if caFile != "" {
		curlTLS = "--cacert " + caFile + " "
	}
	fmt.Fprintln(w, "\nPush a toast to everyone on the default channel:")
	fmt.Fprintf(w, "  curl %s-X POST '%s/_push?channel=%s' -H 'Content-Type: application/json' \\\n"+
		"    -d '{\"type\":\"toast\",\"level\":\"success\",\"title\":\"Hello\",\"message\":\"It works!\"}'\n",
		curlTLS, s.URL, s.DefaultChannel())
	fmt.Fprintln(w, "\nTry a fault (POST):")
	fmt.Fprintf(w, "  %s/_control/drop?code=1001   reset   stop-accepting   start-accepting   blackhole   heal\n", s.URL)
	fmt.Fprintf(w, "  %s/_control/token-fault?kind=500|slow|signed-out|rate-limited|none   sign-out?user=%s\n", s.URL, user)
	fmt.Fprintf(w, "  %s/_control/garbage?kind=not-json|binary|invalid-utf8|huge|nested|...\n", s.URL)
	fmt.Fprintf(w, "Counters and connections: curl %s%s/_stats\n", curlTLS, s.URL)
	if public {
		fmt.Fprintln(w, "(--public: /_push, /_control and /_stats answer only requests from this machine)")
	}
	if every > 0 {
		fmt.Fprintf(w, "\nPushing a demo toast every %s.\n", every)
	}
	fmt.Fprintln(w, "\nStop with Ctrl+C.")
}
