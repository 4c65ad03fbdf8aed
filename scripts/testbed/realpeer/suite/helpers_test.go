//go:build realpeer

package suite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/toasttray/toasttray/app/notify"
	"github.com/toasttray/toasttray/app/service"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/scripts/testbed/realpeer"
	"github.com/toasttray/toasttray/wsclient"
)

// waitLong bounds every wait: a hang guard on a loaded 2-core machine,
// never a measurement. Waits that include the client's own timers (a
// minute of rate limit, a 40 s ping cycle) use their own, longer bounds.
const waitLong = 3 * time.Minute

// startPeer starts a real peer with connect and token limits raised, so
// that subtests sharing it one after another do not trip the package's
// per-minute limits (tested on their own in TestRateLimits).
func startPeer(t *testing.T, opts realpeer.Options) *realpeer.Peer {
	t.Helper()
	if opts.TokenRate == 0 {
		opts.TokenRate = 1000
	}
	if opts.ConnectRate == 0 {
		opts.ConnectRate = 1000
	}
	return realpeer.Start(t, opts)
}

// stateEv is one status the client reported.
type stateEv struct {
	State   string
	Attempt int
	Err     string
}

// observer collects what a client reported: statuses and the seq numbers
// of the toasts it received. Waiters are woken on every change.
type observer struct {
	mu      sync.Mutex
	states  []stateEv
	seqs    []int
	popups  int
	changed chan struct{}
}

func newObserver() *observer { return &observer{changed: make(chan struct{})} }

func (o *observer) update(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f()
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *observer) addState(e stateEv) {
	o.update(func() {
		if n := len(o.states); n > 0 && o.states[n-1].State == e.State {
			o.states[n-1] = e // same state, new attempt or error
			return
		}
		o.states = append(o.states, e)
	})
}

// addMessage notes a received message's seq (toasts of this suite carry one).
func (o *observer) addMessage(raw []byte) {
	var m struct {
		Seq *int `json:"seq"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Seq == nil {
		return
	}
	o.update(func() { o.seqs = append(o.seqs, *m.Seq) })
}

// waitFor waits until cond, called with the lock held, is true.
func (o *observer) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		o.mu.Lock()
		ok, ch := cond(), o.changed
		o.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waiting for %s: not after %v; states %s, seqs %v", what, timeout, o.stateString(), o.received())
		}
	}
}

// mark is how many states have been seen so far.
func (o *observer) mark() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.states)
}

// statesSince returns the state names from mark on, space-separated.
func (o *observer) statesSince(mark int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var names []string
	for _, e := range o.states[min(mark, len(o.states)):] {
		names = append(names, e.State)
	}
	return strings.Join(names, " ")
}

func (o *observer) stateString() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	for _, e := range o.states {
		fmt.Fprintf(&b, "%s(%d", e.State, e.Attempt)
		if e.Err != "" {
			fmt.Fprintf(&b, " %q", e.Err)
		}
		b.WriteString(") ")
	}
	return b.String()
}

func (o *observer) last() stateEv {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.states) == 0 {
		return stateEv{}
	}
	return o.states[len(o.states)-1]
}

func (o *observer) received() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int(nil), o.seqs...)
}

// waitState waits for state to be the latest one, after mark.
func (o *observer) waitState(t *testing.T, state string, mark int, timeout time.Duration) {
	t.Helper()
	o.waitFor(t, "state "+state, timeout, func() bool {
		return len(o.states) > mark && o.states[len(o.states)-1].State == state
	})
}

// waitLast waits for state to be the latest one, for the service, whose
// status forwarder may skip states (it passes on the latest): the
// gateway log has shown the reconnect, so the latest "connected" is the
// new connection's.
func (o *svcClient) waitLast(t *testing.T, state string) {
	t.Helper()
	o.waitFor(t, "state "+state, waitLong, func() bool {
		return len(o.states) > 0 && o.states[len(o.states)-1].State == state
	})
}

// waitSeq waits for the toast numbered seq.
func (o *observer) waitSeq(t *testing.T, seq int) {
	t.Helper()
	o.waitFor(t, fmt.Sprintf("toast %d", seq), waitLong, func() bool {
		for _, s := range o.seqs {
			if s == seq {
				return true
			}
		}
		return false
	})
}

// cliProc is a running `toasttray listen`.
type cliProc struct {
	*observer
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer // every log line, printed when the test fails
	done   chan struct{}
	err    error // Wait's, valid after done
}

// toasttray returns the command for `toasttray sub args…`: $TOASTTRAY_BIN
// if set, else this test binary running app/cli's entry (see cliEnv).
func toasttray(sub string, args ...string) *exec.Cmd {
	if bin := os.Getenv("TOASTTRAY_BIN"); bin != "" {
		cmd := exec.Command(bin, append([]string{"-log-format", "json", sub}, args...)...)
		cmd.Env = os.Environ()
		return cmd
	}
	self, err := os.Executable()
	if err != nil {
		panic(fmt.Sprintf("finding the test binary: %v", err))
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), cliEnv+"="+sub)
	return cmd
}

// connArgs are listen's and check's connection flags for p.
func connArgs(p *realpeer.Peer, channel, user string) []string {
	return []string{"--site", p.SiteURL, "--ws", p.WSURL, "--channel", channel, "--user", user}
}

// startListen starts `toasttray listen` on channel as user, the password
// in $TOASTTRAY_PASSWORD (env adds or replaces variables, e.g. for a
// pasted session instead).
func startListen(t *testing.T, args []string, env ...string) *cliProc {
	t.Helper()
	c := &cliProc{observer: newObserver(), done: make(chan struct{})}
	c.cmd = toasttray("listen", args...)
	c.cmd.Env = append(c.cmd.Env, env...)
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting toasttray listen: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			c.addMessage(sc.Bytes())
		}
	})
	wg.Go(func() { c.readLog(stderr) })
	go func() {
		wg.Wait() // both pipes read to the end before Wait closes them
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			c.mu.Lock()
			t.Logf("toasttray listen log:\n%s", c.stderr.Bytes())
			c.mu.Unlock()
		}
	})
	return c
}

// readLog keeps listen's log and turns its "status" lines into states.
func (c *cliProc) readLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		c.mu.Lock()
		c.stderr.Write(line)
		c.stderr.WriteByte('\n')
		c.mu.Unlock()
		var e struct {
			Msg     string `json:"msg"`
			State   string `json:"state"`
			Attempt int    `json:"attempt"`
			Err     string `json:"err"`
		}
		if json.Unmarshal(line, &e) == nil && e.Msg == "status" {
			c.addState(stateEv{State: e.State, Attempt: e.Attempt, Err: e.Err})
		}
	}
}

// stop interrupts listen (Ctrl-C) and expects a clean exit.
func (c *cliProc) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("interrupting listen: %v", err)
	}
	select {
	case <-c.done:
	case <-time.After(waitLong):
		t.Fatal("listen did not exit after SIGINT")
	}
	if c.err != nil {
		t.Fatalf("listen exited with %v after SIGINT", c.err)
	}
}

// svcClient is the tray's service running in-process.
type svcClient struct {
	*observer
	svc *service.Service
}

// popupCounter is the desktop: it counts popups.
type popupCounter struct{ o *observer }

func (p popupCounter) Notify(notify.Notification) error {
	p.o.update(func() { p.o.popups++ })
	return nil
}

// startService runs the service as the tray does (settings, credentials,
// a notifier), with no sleep/network watchers.
func startService(t *testing.T, p *realpeer.Peer, channel, user, password string) *svcClient {
	t.Helper()
	o := newObserver()
	s := service.New(service.Options{
		Version:  "realpeer",
		Notifier: popupCounter{o},
		Watchers: []wsclient.Watcher{},
		OnStatus: func(st wsclient.Status) {
			o.addState(stateEv{State: st.State.String(), Attempt: st.Attempt, Err: st.Err})
		},
		OnMessage: func(m wsclient.Message) { o.addMessage(m.Raw) },
	})
	t.Cleanup(s.Stop)
	set := settings.Default()
	set.SiteURL, set.WSURL, set.Channel, set.Username = p.SiteURL, p.WSURL, channel, user
	if err := s.Restart(s.RunFor(set, wsclient.Credentials{Username: user, Password: password})); err != nil {
		t.Fatal(err)
	}
	return &svcClient{observer: o, svc: s}
}

// toast is a small toast carrying seq.
func toast(seq int) string {
	return fmt.Sprintf(`{"type":"toast","level":"info","title":"realpeer","message":"toast %d","seq":%d}`, seq, seq)
}

// push sends toast seq to channel with push.py and expects it delivered
// to exactly one connection.
func push(t *testing.T, p *realpeer.Peer, channel string, seq int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	r, err := p.Push(ctx, channel, toast(seq))
	if err != nil {
		t.Fatal(err)
	}
	if r.Targets != 1 || r.Delivered != 1 {
		t.Fatalf("push %d to %s: %+v, want one target, delivered", seq, channel, r)
	}
}

func control(t *testing.T, p *realpeer.Peer, action, query string) {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Control(ctx, action, q); err != nil {
		t.Fatal(err)
	}
}

func shell(t *testing.T, p *realpeer.Peer, code string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	out, err := p.Shell(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// endSessions deletes every Django session: the site forgets every
// sign-in, as when sessions expire.
func endSessions(t *testing.T, p *realpeer.Peer) {
	t.Helper()
	shell(t, p, "from django.contrib.sessions.models import Session; Session.objects.all().delete()")
}

// gwMark is how many gateway log events there are now.
func gwMark(t *testing.T, p *realpeer.Peer) int {
	t.Helper()
	evs, err := p.GatewayLog()
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func str(e realpeer.Event, key string) string {
	switch v := e[key].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return ""
}

// gwSummary describes, one word each, the connect and disconnect events of
// channel's connections and every refusal, from event mark on:
// "connect disconnect(1006,drop-all) refuse(503) connect".
func gwSummary(evs []realpeer.Event, mark int, channel string) string {
	ids := map[string]bool{}
	for _, e := range evs {
		if str(e, "event") == "connect" && str(e, "channel") == channel {
			ids[str(e, "id")] = true
		}
	}
	var words []string
	for _, e := range evs[min(mark, len(evs)):] {
		switch str(e, "event") {
		case "connect":
			if ids[str(e, "id")] {
				words = append(words, "connect")
			}
		case "disconnect":
			if ids[str(e, "id")] {
				words = append(words, fmt.Sprintf("disconnect(%s,%s)", str(e, "code"), str(e, "reason")))
			}
		case "refuse":
			words = append(words, fmt.Sprintf("refuse(%s)", str(e, "status")))
		}
	}
	return strings.Join(words, " ")
}

// waitGateway waits until channel's gateway events since mark match re.
func waitGateway(t *testing.T, p *realpeer.Peer, mark int, channel, re string) {
	t.Helper()
	rx := regexp.MustCompile("^" + re + "$")
	deadline := time.Now().Add(waitLong)
	var got string
	for {
		evs, err := p.GatewayLog()
		if err != nil {
			t.Fatal(err)
		}
		got = gwSummary(evs, mark, channel)
		if rx.MatchString(got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway events for %s = %q, want %q", channel, got, re)
		}
		time.Sleep(100 * time.Millisecond) // polling a file
	}
}

// djangoMark is the length of django.log now.
func djangoMark(t *testing.T, p *realpeer.Peer) int {
	t.Helper()
	return len(djangoLog(t, p))
}

func djangoLog(t *testing.T, p *realpeer.Peer) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.Run, "django.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// requests counts django.log's request lines since mark with method, path
// and status, e.g. ("POST", "/api/ws-token/", 403).
func requests(t *testing.T, p *realpeer.Peer, mark int, method, path string, status int) int {
	t.Helper()
	log := djangoLog(t, p)
	return strings.Count(log[min(mark, len(log)):], fmt.Sprintf("\"%s %s HTTP/1.1\" %d ", method, path, status))
}

// login signs in the way a browser does and returns the session and CSRF
// cookies, for "pasted session" clients.
func login(t *testing.T, p *realpeer.Peer, user, password string) (sessionID, csrf string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	site, _ := url.Parse(p.SiteURL)
	loginURL := p.SiteURL + "/accounts/login/"
	resp, err := hc.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := func(name string) string {
		for _, c := range jar.Cookies(site) {
			if c.Name == name {
				return c.Value
			}
		}
		return ""
	}
	form := url.Values{"csrfmiddlewaretoken": {cookie("csrftoken")}, "username": {user}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, loginURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", loginURL)
	req.Header.Set("Origin", p.SiteURL)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || cookie("sessionid") == "" {
		t.Fatalf("signing in as %s: %s, no session", user, resp.Status)
	}
	return cookie("sessionid"), cookie("csrftoken")
}
