// Package realpeer starts ../shared/realpeer for tests: the real Django
// package django-aws-api-gateway-websockets behind an API Gateway emulator
// (see that folder's README). Each Start gets its own state folder and free
// ports, so tests may run several peers side by side.
//
// Where the folder is absent (a clone outside the workplace) Start skips the
// test with a message that says so; under CI (CI set) it fails instead,
// because there the real peer must be tested.
package realpeer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Python is Debian's interpreter, which has python3-django; a python3
// earlier on PATH (pyenv) does not.
const Python = "/usr/bin/python3"

// Users created by up.sh.
const (
	User     = "alice"
	Password = "alice-pass"
)

// Options adjust the peer. The zero value is the package's defaults.
type Options struct {
	GatewayArgs []string // extra gateway.py flags, e.g. "--ignore-pings"
	ExtraUsers  int      // also user1..userN with passwords userN-pass
	TokenRate   int      // tokens a minute per user (0: the package's 20)
	ConnectRate int      // connects a minute per IP and per user (0: 20)
	Env         []string // more variables for up.sh and push.py (REALPEER_APPS=…)
}

// Peer is a running real peer.
type Peer struct {
	Dir     string // the realpeer folder
	Run     string // this peer's state folder (logs, DB, PIDs)
	SiteURL string // http://127.0.0.1:PORT
	WSURL   string // ws://127.0.0.1:PORT/
	MgmtURL string // http://127.0.0.1:PORT (management API and /_control)

	env []string
}

// Dir returns the realpeer folder: $TOASTTRAY_REALPEER, or ../shared/realpeer
// beside the module root found from the working directory. ok is false when
// it does not exist.
func Dir() (dir string, ok bool) {
	if d := os.Getenv("TOASTTRAY_REALPEER"); d != "" {
		_, err := os.Stat(filepath.Join(d, "up.sh"))
		return d, err == nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			rp := filepath.Join(filepath.Dir(d), "shared", "realpeer")
			_, err := os.Stat(filepath.Join(rp, "up.sh"))
			return rp, err == nil
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// Require skips (or under CI fails) the test when the real peer is absent.
func Require(t testing.TB) string {
	t.Helper()
	dir, ok := Dir()
	if !ok {
		msg := "../shared/realpeer (the real django-aws-api-gateway-websockets peer) is absent; set TOASTTRAY_REALPEER to its folder"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI must run these tests)")
		}
		t.Skip(msg + "; skipping")
	}
	return dir
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs up.sh with a fresh state folder and free ports, and stops the
// peer when the test ends (printing its logs if the test failed).
func Start(t testing.TB, opts Options) *Peer {
	t.Helper()
	dir := Require(t)
	run := t.TempDir()
	site, gw, mgmt := FreePort(t), FreePort(t), FreePort(t)
	p := &Peer{
		Dir:     dir,
		Run:     run,
		SiteURL: fmt.Sprintf("http://127.0.0.1:%d", site),
		WSURL:   fmt.Sprintf("ws://127.0.0.1:%d/", gw),
		MgmtURL: fmt.Sprintf("http://127.0.0.1:%d", mgmt),
	}
	p.env = append(os.Environ(),
		"REALPEER_RUN="+run,
		"SITE_PORT="+strconv.Itoa(site), "GW_PORT="+strconv.Itoa(gw), "MGMT_PORT="+strconv.Itoa(mgmt),
		"PEERS_SITE_PORT="+strconv.Itoa(site), "PEERS_MGMT_URL="+p.MgmtURL,
		"EXTRA_USERS="+strconv.Itoa(opts.ExtraUsers),
		"GATEWAY_ARGS="+strings.Join(opts.GatewayArgs, " "),
	)
	if opts.TokenRate > 0 {
		p.env = append(p.env, "PEERS_TOKEN_RATE="+strconv.Itoa(opts.TokenRate))
	}
	if opts.ConnectRate > 0 {
		p.env = append(p.env, "PEERS_CONNECT_RATE="+strconv.Itoa(opts.ConnectRate))
	}
	p.env = append(p.env, opts.Env...)

	cmd := exec.Command(filepath.Join(dir, "up.sh"))
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() { p.stop(t) })
	if err != nil {
		t.Fatalf("starting the real peer (%s): %v\n%s", dir, err, out)
	}
	return p
}

func (p *Peer) stop(t testing.TB) {
	cmd := exec.Command(filepath.Join(p.Dir, "down.sh"))
	cmd.Env = p.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("stopping the real peer: %v\n%s", err, out)
	}
	if t.Failed() {
		for _, name := range []string{"django.log", "gateway.log"} {
			b, _ := os.ReadFile(filepath.Join(p.Run, name))
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("realpeer %s (tail):\n%s", name, b)
		}
	}
}

// StopGateway stops the gateway alone, without closing its sockets (a crash).
func (p *Peer) StopGateway(t testing.TB) {
	t.Helper()
	cmd := exec.Command(filepath.Join(p.Dir, "down.sh"), "gateway")
	cmd.Env = p.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stopping the gateway: %v\n%s", err, out)
	}
}

// Restart starts whatever of the two servers is not running.
func (p *Peer) Restart(t testing.TB) {
	t.Helper()
	cmd := exec.Command(filepath.Join(p.Dir, "up.sh"))
	cmd.Env = p.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restarting the real peer: %v\n%s", err, out)
	}
}

// PushResult is push.py's answer.
type PushResult struct {
	Channel   string `json:"channel"`
	Targets   int    `json:"targets"`
	Delivered int    `json:"delivered"`
	Gone      int    `json:"gone"`
}

// Push sends msg (a JSON object) to every connected session of channel
// through the package's own send path (push.py).
func (p *Peer) Push(ctx context.Context, channel, msg string) (PushResult, error) {
	cmd := exec.CommandContext(ctx, Python, filepath.Join(p.Dir, "push.py"), "--channel", channel, msg)
	cmd.Env = p.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return PushResult{}, fmt.Errorf("push.py: %w: %s", err, stderr.Bytes())
	}
	var r PushResult
	if err := json.Unmarshal(out, &r); err != nil {
		return PushResult{}, fmt.Errorf("push.py answered %q: %w", out, err)
	}
	return r, nil
}

// Control posts to /_control/<action> with the given query (drop-all,
// stop-accepting, start-accepting, blackhole, unblackhole).
func (p *Peer) Control(ctx context.Context, action string, query url.Values) error {
	u := p.MgmtURL + "/_control/" + action
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("control %s: %w", action, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("control %s: %s", action, resp.Status)
	}
	return nil
}

// State is /_control/state.
type State struct {
	Accepting   bool `json:"accepting"`
	Blackhole   bool `json:"blackhole"`
	Connections int  `json:"connections"`
}

// State reads the gateway's state.
func (p *Peer) State(ctx context.Context) (State, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.MgmtURL+"/_control/state", nil)
	if err != nil {
		return State{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return State{}, fmt.Errorf("gateway state: %w", err)
	}
	defer resp.Body.Close()
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		return State{}, fmt.Errorf("gateway state: %w", err)
	}
	var s State
	_ = json.Unmarshal(raw["accepting"], &s.Accepting)
	_ = json.Unmarshal(raw["blackhole"], &s.Blackhole)
	// "connections" may be a count or a list, depending on the emulator.
	if err := json.Unmarshal(raw["connections"], &s.Connections); err != nil {
		var list []json.RawMessage
		if json.Unmarshal(raw["connections"], &list) == nil {
			s.Connections = len(list)
		}
	}
	return s, nil
}

// WaitConnections polls the gateway until it holds n live connections.
func (p *Peer) WaitConnections(ctx context.Context, n int) error {
	for {
		s, err := p.State(ctx)
		if err == nil && s.Connections == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d connections (last state %+v, err %v): %w", n, s, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Event is one line of gateway.log.
type Event map[string]any

// GatewayLog reads gateway.log's JSON lines (connect, refuse, disconnect,
// message, push, control).
func (p *Peer) GatewayLog() ([]Event, error) {
	b, err := os.ReadFile(filepath.Join(p.Run, "gateway.log"))
	if err != nil {
		return nil, err
	}
	var evs []Event
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e Event
		if json.Unmarshal(line, &e) == nil {
			evs = append(evs, e)
		}
	}
	return evs, nil
}

// Shell runs Python code in the site's Django (manage.py shell -c) against
// this peer's database, and returns what it printed: how tests reach into
// the server side (end a session, count tokens).
func (p *Peer) Shell(ctx context.Context, code string) (string, error) {
	cmd := exec.CommandContext(ctx, Python, "manage.py", "shell", "-c", code)
	cmd.Dir = filepath.Join(p.Dir, "site")
	cmd.Env = p.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("manage.py shell: %w: %s", err, stderr.Bytes())
	}
	return string(out), nil
}

// Pushed is one push of pusher.py.
type Pushed struct {
	Channel   string  `json:"channel"`
	Seq       int     `json:"seq"`
	T         float64 `json:"t"` // unix seconds
	Targets   int     `json:"targets"`
	Delivered int     `json:"delivered"`
	Err       string  `json:"error"` // the send path raised
}

// RunPusher pushes {"type":"toast","id":…,"seq":N} to channel every
// interval for duration through the package's send path (pusher.py, one
// process), and returns every push.
func (p *Peer) RunPusher(ctx context.Context, channel string, every, duration time.Duration) ([]Pushed, error) {
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.CommandContext(ctx, Python, filepath.Join(filepath.Dir(file), "pusher.py"), "--realpeer", p.Dir,
		"--channel", channel, "--every", strconv.FormatFloat(every.Seconds(), 'f', -1, 64),
		"--duration", strconv.FormatFloat(duration.Seconds(), 'f', -1, 64))
	cmd.Env = p.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var pushes []Pushed
	for _, line := range bytes.Split(out, []byte("\n")) {
		var ps Pushed
		if json.Unmarshal(line, &ps) == nil {
			pushes = append(pushes, ps)
		}
	}
	if err != nil {
		return pushes, fmt.Errorf("pusher.py: %w: %s", err, stderr.Bytes())
	}
	return pushes, nil
}
