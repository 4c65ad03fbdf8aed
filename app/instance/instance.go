// Package instance keeps ToastTray to one tray process per user. The
// first process becomes the primary and listens for requests; a second
// launch hands its request (usually "show-settings") to the primary and
// exits, so clicking the app icon again opens Settings instead of starting
// a second tray icon and a second connection.
//
// The primary listens on a Unix socket in $XDG_RUNTIME_DIR (or the config
// folder). On Windows it listens on a loopback TCP port recorded, with a
// random token, in a file only the user can read.
package instance

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/app/settings/atomicfile"
)

// Requests a second launch may send.
const (
	RequestShowSettings = "show-settings"
	RequestShowHistory  = "show-history"
	// RequestSignOut: the Settings window deleted the saved credentials
	// (Forget credentials); the tray stops its connection at once.
	RequestSignOut = "sign-out"
	// RequestLoginStart: a second start at login (two login entries, the
	// user's and a machine-wide one); the primary does nothing.
	RequestLoginStart = "login-start"
)

// ErrAlreadyRunning is returned by Acquire in the second process, after
// the request was delivered to the primary: the caller exits.
var ErrAlreadyRunning = errors.New("ToastTray is already running")

// ioTimeout bounds one request on the socket, so a stuck peer cannot hold
// up the other side.
const ioTimeout = 2 * time.Second

const maxRequest = 1024

// Options configure Acquire.
type Options struct {
	Name string // the app ID; names the socket or port file
	Dir  string // default DefaultDir()
	// OnRequest receives requests from later launches, on the primary's
	// accept goroutine. It must not block.
	OnRequest func(request string)
	Logger    *slog.Logger

	tcp bool // use the Windows transport (tests set it on other systems)
}

// DefaultDir is $XDG_RUNTIME_DIR if set, else settings.ConfigDir().
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && runtime.GOOS != "windows" {
		return d, nil
	}
	return settings.ConfigDir()
}

// Primary is the running instance's listener. Close it at exit.
type Primary struct {
	ln        net.Listener
	opts      Options
	portFile  string // Windows transport: removed by Close
	token     string
	closeOnce sync.Once
	done      chan struct{}
}

// Acquire makes this process the primary instance, or, if another one is
// running, sends it request and returns ErrAlreadyRunning.
func Acquire(opts Options, request string) (*Primary, error) {
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("single instance: %w", err)
	}
	if opts.useTCP() {
		return acquireTCP(opts, request)
	}
	return acquireUnix(opts, request)
}

// ErrNotRunning is Notify's answer when no primary instance runs.
var ErrNotRunning = errors.New("single instance: no running instance")

// Notify sends request to the running primary instance and never becomes
// one itself: a window process telling the tray about a change (Acquire
// would make the window the primary when no tray runs).
func Notify(opts Options, request string) error {
	opts, err := opts.resolve()
	if err != nil {
		return err
	}
	token := ""
	network, addr := "unix", filepath.Join(opts.Dir, opts.Name+".sock")
	if opts.useTCP() {
		data, err := os.ReadFile(filepath.Join(opts.Dir, opts.Name+".port"))
		port, tok, ok := strings.Cut(strings.TrimSpace(string(data)), " ")
		if err != nil || !ok {
			return ErrNotRunning
		}
		token, network, addr = tok, "tcp", net.JoinHostPort("127.0.0.1", port)
	}
	conn, err := net.DialTimeout(network, addr, ioTimeout)
	if err != nil {
		return ErrNotRunning
	}
	if err := send(conn, token, request); err != nil {
		return fmt.Errorf("single instance: telling the running instance: %w", err)
	}
	return nil
}

// resolve checks the name and fills in the defaults.
func (opts Options) resolve() (Options, error) {
	if opts.Name == "" || strings.ContainsAny(opts.Name, `/\`) {
		return opts, fmt.Errorf("single instance: invalid name %q", opts.Name)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return opts, fmt.Errorf("single instance: %w", err)
		}
		opts.Dir = d
	}
	return opts, nil
}

// useTCP: Windows has no Unix sockets for this (and tests can ask for TCP).
func (opts Options) useTCP() bool { return opts.tcp || runtime.GOOS == "windows" }

func acquireUnix(opts Options, request string) (*Primary, error) {
	path := filepath.Join(opts.Dir, opts.Name+".sock")
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("unix", path)
		if err == nil {
			return start(ln, opts, "", ""), nil
		}
		if attempt > 0 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("single instance: listening on %s: %w", path, err)
		}
		conn, derr := net.DialTimeout("unix", path, ioTimeout)
		if derr == nil {
			if err := send(conn, "", request); err != nil {
				return nil, fmt.Errorf("single instance: asking the running instance: %w", err)
			}
			return nil, ErrAlreadyRunning
		}
		// Nobody listens: a crashed primary left the socket. Take over.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("single instance: removing stale socket: %w", err)
		}
	}
}

func acquireTCP(opts Options, request string) (*Primary, error) {
	portFile := filepath.Join(opts.Dir, opts.Name+".port")
	if data, err := os.ReadFile(portFile); err == nil {
		if port, token, ok := strings.Cut(strings.TrimSpace(string(data)), " "); ok {
			if _, err := strconv.Atoi(port); err == nil {
				conn, derr := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), ioTimeout)
				if derr == nil {
					if err := send(conn, token, request); err == nil {
						return nil, ErrAlreadyRunning
					}
					// Someone else's port now, or a dying primary: take over.
				}
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("single instance: %w", err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	port := ln.Addr().(*net.TCPAddr).Port
	if err := atomicfile.Write(portFile, []byte(fmt.Sprintf("%d %s\n", port, token)), 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("single instance: %w", err)
	}
	return start(ln, opts, portFile, token), nil
}

// wire is one request. The token proves the sender could read the port
// file (any local user can reach a loopback port).
type wire struct {
	Token   string `json:"token,omitempty"`
	Request string `json:"request"`
}

func send(conn net.Conn, token, request string) error {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	b, _ := json.Marshal(wire{Token: token, Request: request})
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return err
	}
	reply, err := bufio.NewReader(io.LimitReader(conn, 64)).ReadString('\n')
	if err != nil {
		return err
	}
	if reply != "ok\n" {
		return fmt.Errorf("refused: %q", strings.TrimSpace(reply))
	}
	return nil
}

func start(ln net.Listener, opts Options, portFile, token string) *Primary {
	p := &Primary{ln: ln, opts: opts, portFile: portFile, token: token, done: make(chan struct{})}
	go p.serve()
	return p
}

// serve is the accept loop; Close ends it. Requests are tiny and bounded
// by ioTimeout, so they are handled one at a time.
func (p *Primary) serve() {
	defer close(p.done)
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.opts.Logger.Warn("single instance: accept failed; no longer listening", "err", err)
			}
			return
		}
		p.handle(conn)
	}
}

func (p *Primary) handle(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ioTimeout))
	line, err := bufio.NewReader(io.LimitReader(conn, maxRequest)).ReadString('\n')
	if err != nil {
		return
	}
	var w wire
	if err := json.Unmarshal([]byte(line), &w); err != nil || w.Token != p.token {
		io.WriteString(conn, "refused\n")
		p.opts.Logger.Warn("single instance: refused a request")
		return
	}
	io.WriteString(conn, "ok\n")
	p.opts.Logger.Debug("single instance: request", "request", w.Request)
	if p.opts.OnRequest != nil {
		p.opts.OnRequest(w.Request)
	}
}

// Close stops listening, waits for the accept loop and removes the socket
// or port file.
func (p *Primary) Close() error {
	var err error
	p.closeOnce.Do(func() {
		err = p.ln.Close()
		<-p.done
		if p.portFile != "" {
			// Only our own: a newer primary may have replaced it.
			if data, rerr := os.ReadFile(p.portFile); rerr == nil && strings.Contains(string(data), p.token) {
				os.Remove(p.portFile)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("single instance: closing: %w", err)
	}
	return nil
}
