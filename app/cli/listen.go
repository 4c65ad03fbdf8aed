package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/service"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

// Environment variables that carry secrets, so they never appear in a
// process list or shell history.
const (
	envPassword  = "TOASTTRAY_PASSWORD"
	envSessionID = "TOASTTRAY_SESSIONID"
	envCSRFToken = "TOASTTRAY_CSRFTOKEN"
)

const connUsage = `
Sign in with --user and the password in $TOASTTRAY_PASSWORD (or on stdin
with --password-stdin), or with a session cookie from a signed-in browser
in $TOASTTRAY_SESSIONID (and $TOASTTRAY_CSRFTOKEN).

Flags:
`

// connFlags are the connection flags listen and check share.
type connFlags struct {
	cfg           wsclient.Config
	user          string
	passwordStdin bool
	// saved, if set, gives the settings that fill in what the flags leave
	// unset (check: the tray's, organisation policy included).
	saved func() settings.Settings
}

func (f *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cfg.SiteURL, "site", "", "Django site URL, e.g. https://www.example.com (required)")
	fs.StringVar(&f.cfg.WSURL, "ws", "", "WebSocket URL, e.g. wss://ws.example.com/prod (required)")
	fs.StringVar(&f.cfg.Channel, "channel", "", "channel name (empty: the site's default)")
	fs.StringVar(&f.cfg.TokenPath, "token-path", wsclient.DefaultTokenPath, "path of the token endpoint")
	fs.StringVar(&f.cfg.LoginPath, "login-path", wsclient.DefaultLoginPath, "path of the Django login page")
	fs.StringVar(&f.cfg.RouteKey, "route-key", wsclient.DefaultRouteKey, "API Gateway route key (the \"action\" of sent messages)")
	fs.StringVar(&f.user, "user", "", "username for the login form")
	fs.StringVar(&f.cfg.KeepaliveHandler, "keepalive-handler", "", "handler to call every 9 minutes to keep the connection alive (empty: none)")
	fs.StringVar(&f.cfg.CatchupHandler, "catchup-handler", "", "handler that sends the toasts missed while disconnected (empty: none)")
	fs.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from the first line of stdin")
	fs.StringVar(&f.cfg.CAFile, "ca-file", "", "PEM file of extra certificate authorities (private CAs)")
	fs.StringVar(&f.cfg.Proxy, "proxy", "", "proxy URL, e.g. http://proxy.example:3128, or direct for none (empty: $HTTPS_PROXY, else the system's)")
	fs.StringVar(&f.cfg.SessionCookieName, "session-cookie", wsclient.DefaultSessionCookieName, "name of the site's session cookie")
}

// parse parses args and gathers credentials; it prints what is wrong and
// returns ErrUsage for a bad command line. extra, if not nil, registers
// the command's own flags.
func (f *connFlags) parse(name, summary string, args []string, env Env, stdin io.Reader, extra func(*flag.FlagSet)) (wsclient.Credentials, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	f.register(fs)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: toasttray %s [flags]\n\n%s\n%s", name, summary, connUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return wsclient.Credentials{}, err
		}
		return wsclient.Credentials{}, ErrUsage
	}
	fail := func(format string, a ...any) (wsclient.Credentials, error) {
		fmt.Fprintf(env.Stderr, name+": "+format+"\n", a...)
		return wsclient.Credentials{}, ErrUsage
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	required := "--site and --ws are required (see -h)"
	if f.saved != nil {
		f.fill(fs, f.saved())
		required = "--site and --ws are required when Settings has none (see -h)"
	}
	if f.cfg.SiteURL == "" || f.cfg.WSURL == "" {
		return fail("%s", required)
	}
	f.cfg.UserAgent = wsclient.UserAgent(env.Version)
	if err := f.cfg.Validate(); err != nil {
		return fail("%v", err)
	}
	creds := wsclient.Credentials{Username: f.user, SessionID: os.Getenv(envSessionID), CSRFToken: os.Getenv(envCSRFToken)}
	if f.user != "" {
		creds.Password = os.Getenv(envPassword)
		if f.passwordStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && (!errors.Is(err, io.EOF) || line == "") {
				return fail("reading the password from stdin: %v", err)
			}
			creds.Password = strings.TrimRight(line, "\r\n")
		}
	}
	if !creds.HasPassword() && !creds.HasSession() {
		return fail("no credentials: give --user with $%s or --password-stdin, or set $%s", envPassword, envSessionID)
	}
	return creds, nil
}

// fill takes what no flag on the command line set from the saved settings
// s: flags win. The username only for password sign-in.
func (f *connFlags) fill(fs *flag.FlagSet, s settings.Settings) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	c := s.Config("")
	user := ""
	if s.Auth == settings.AuthPassword {
		user = strings.TrimSpace(s.Username)
	}
	for name, v := range map[string]struct {
		dst *string
		val string
	}{
		"site": {&f.cfg.SiteURL, c.SiteURL}, "ws": {&f.cfg.WSURL, c.WSURL}, "channel": {&f.cfg.Channel, c.Channel},
		"token-path": {&f.cfg.TokenPath, c.TokenPath}, "login-path": {&f.cfg.LoginPath, c.LoginPath},
		"route-key": {&f.cfg.RouteKey, c.RouteKey}, "keepalive-handler": {&f.cfg.KeepaliveHandler, c.KeepaliveHandler},
		"catchup-handler": {&f.cfg.CatchupHandler, c.CatchupHandler}, "ca-file": {&f.cfg.CAFile, c.CAFile},
		"proxy": {&f.cfg.Proxy, c.Proxy},
		"user":  {&f.user, user},
	} {
		if !set[name] && v.val != "" {
			*v.dst = v.val
		}
	}
}

// stdin is where --password-stdin reads; a variable for tests.
var stdin io.Reader = os.Stdin

// newNotifier makes the Notifier of listen --notify; a variable for tests.
var newNotifier = func(log *slog.Logger) notify.Notifier {
	return notify.NewBeeep(notify.BeeepOptions{AppName: "ToastTray", Logger: log})
}

// listenSeenFile is listen's catch-up state (service.Options.SeenPath) in
// the config folder, apart from the tray's: each has its own last id.
const listenSeenFile = "listen-" + service.SeenFileName

// Listen runs the client headless: every received message is one JSON line
// on stdout (a toast once, by id, also across restarts), every status
// change a JSON log line on stderr, until ctx ends. With --notify, toasts
// also pop up as desktop notifications. Toasts take the tray's path
// (app/service), without history.
func Listen(ctx context.Context, args []string, env Env) error {
	var (
		f        connFlags
		popups   bool
		addFlags = func(fs *flag.FlagSet) {
			fs.BoolVar(&popups, "notify", false, "also show each toast as a desktop notification (bursts are coalesced)")
		}
	)
	creds, err := f.parse("listen", "Connects and prints every received message as one JSON line; with --notify,\ntoasts also pop up as desktop notifications.", args, env, stdin, addFlags)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if env.Logger != nil && env.Logger.Enabled(ctx, slog.LevelDebug) {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: SafeLogAttr}))
	out := &lineOut{w: env.Stdout}
	var n notify.Notifier // nil: no popups
	if popups {
		// A group keeps the notifier's attributes apart from the
		// client's in each JSON line.
		n = newNotifier(log.WithGroup("notify"))
		if c, ok := n.(interface{ Close() }); ok {
			defer c.Close() // after the service's Stop: its gate may be calling Notify
		}
	}
	seenPath := ""
	if dir, err := settings.ConfigDir(); err != nil {
		log.Warn("no folder for the catch-up state; toasts seen are kept in memory only", "err", err)
	} else {
		seenPath = filepath.Join(dir, listenSeenFile)
	}
	svc := service.New(service.Options{
		Version:   env.Version,
		Notifier:  n,
		SeenPath:  seenPath,
		Logger:    log.With("component", "wsclient"),
		OnStatus:  logStatus(log),
		OnMessage: out.message,
	})
	defer svc.Stop()
	// Never a sound: beeep sounds by writing BEL to stdout, which carries
	// the JSON lines.
	if err := svc.Restart(service.Run{Config: f.cfg, Creds: creds}); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-svc.Done(): // the client gave up: signed out, say
	}
	svc.Stop()
	if err := svc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("listen: %w", err)
	}
	return out.err
}

// logStatus logs each status change as one line.
func logStatus(log *slog.Logger) func(wsclient.Status) {
	return func(st wsclient.Status) {
		attrs := []any{"state", st.State.String(), "attempt", st.Attempt}
		if !st.Until.IsZero() {
			attrs = append(attrs, "until", st.Until)
		}
		if st.Err != "" {
			attrs = append(attrs, "err", st.Err)
		}
		log.Info("status", attrs...)
	}
}

// lineOut prints messages as compact JSON lines, with the runes a terminal
// would act on escaped; it keeps the first write error (a closed pipe) for
// Listen to return.
type lineOut struct {
	mu   sync.Mutex
	w    io.Writer
	buf  bytes.Buffer
	line []byte
	err  error
}

func (o *lineOut) message(m wsclient.Message) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Reset()
	if err := json.Compact(&o.buf, m.Raw); err != nil {
		return // DecodeMessage accepted it as JSON: cannot happen
	}
	o.line = append(wsclient.AppendSafeJSON(o.line[:0], o.buf.Bytes()), '\n')
	if _, err := o.w.Write(o.line); err != nil && o.err == nil {
		o.err = fmt.Errorf("writing to stdout: %w", err)
	}
}
