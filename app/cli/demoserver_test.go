package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// lineWriter collects output and signals when a line containing want
// has been written.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newLineWriter(want string) *lineWriter {
	return &lineWriter{want: want, seen: make(chan struct{})}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func testEnv(stdout, stderr io.Writer) Env {
	return Env{Version: "test", AppID: "org.toasttray.ToastTray", Stdout: stdout, Stderr: stderr,
		Logger: slog.New(slog.NewTextHandler(stderr, nil))}
}

// TestDemoServerAsANewUser starts demo-server, follows what it prints
// (sign in, token, WebSocket, the curl push) and sees the toast arrive.
func TestDemoServerAsANewUser(t *testing.T) {
	out := newLineWriter("Stop with Ctrl+C.")
	var errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- DemoServer(ctx, []string{"--addr", "127.0.0.1:0", "--user", "ann", "--password", "pw"}, testEnv(out, &lockedWriter{w: &errOut}))
	}()
	select {
	case <-out.seen:
	case err := <-done:
		t.Fatalf("demo-server ended early: %v\n%s", err, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("demo-server printed no settings:\n%s", out.String())
	}
	text := out.String()
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s*` + name + `:\s+(\S+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %q in:\n%s", name, text)
		}
		return m[1]
	}
	site, wsURL, tokPath, loginPath := field("Site URL"), field("WebSocket URL"), field("Token path"), field("Login path")
	if field("Username") != "ann" || strings.Contains(text, "pw\n") {
		t.Errorf("user/password shown wrongly:\n%s", text)
	}
	curl := regexp.MustCompile(`curl -X POST '([^']+)'`).FindStringSubmatch(text)
	body := regexp.MustCompile(`-d '([^']+)'`).FindStringSubmatch(text)
	if curl == nil || body == nil {
		t.Fatalf("no curl command in:\n%s", text)
	}

	// Sign in as PROTOCOL.md §1b says.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(site + loginPath)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("no login form: %s", page)
	}
	form := url.Values{"csrfmiddlewaretoken": {string(csrf[1])}, "username": {"ann"}, "password": {"pw"}}
	req, _ := http.NewRequest(http.MethodPost, site+loginPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", site+loginPath)
	resp, err = hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("login: %v %v", err, resp)
	}
	resp.Body.Close()
	u, _ := url.Parse(site)
	cookie := func(name string) string {
		for _, c := range jar.Cookies(u) {
			if c.Name == name {
				return c.Value
			}
		}
		return ""
	}
	// Token (§1).
	req, _ = http.NewRequest(http.MethodPost, site+tokPath, nil)
	req.Header.Set("X-CSRFToken", cookie("csrftoken"))
	req.Header.Set("Origin", site)
	req.Header.Set("Referer", site+"/")
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tokBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := regexp.MustCompile(`"token":"([0-9a-f]{64})"`).FindSubmatch(tokBody)
	if tok == nil {
		t.Fatalf("token: %d %s", resp.StatusCode, tokBody)
	}
	// WebSocket (§2).
	d := websocket.Dialer{EnableCompression: true}
	conn, wsResp, err := d.Dial(wsURL+"?ws_token="+string(tok[1]), http.Header{
		"Cookie":     {"sessionid=" + cookie("sessionid")},
		"Origin":     {site},
		"User-Agent": {"test"},
	})
	if err != nil {
		t.Fatalf("dial: %v %v", err, wsResp)
	}
	defer conn.Close()
	// The printed curl command, done with net/http. The server registers a
	// connection before answering 101, so the push reaches it.
	resp, err = http.Post(curl[1], "application/json", strings.NewReader(body[1]))
	if err != nil {
		t.Fatal(err)
	}
	pushAnswer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(pushAnswer), `"delivered":1`) {
		t.Fatalf("push answered %s", pushAnswer)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil || !strings.Contains(string(msg), `"type":"toast"`) {
		t.Fatalf("toast: %v %s", err, msg)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo-server returned %v", err)
	}
	if strings.Contains(errOut.String(), string(tok[1])) || strings.Contains(errOut.String(), cookie("sessionid")) {
		t.Error("a secret reached the log")
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestDemoServerDemoToasts(t *testing.T) {
	out := newLineWriter("Stop with Ctrl+C.")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- DemoServer(ctx, []string{"--addr", "127.0.0.1:0", "--demo-toasts", "20ms"}, testEnv(out, io.Discard))
	}()
	<-out.seen
	if !strings.Contains(out.String(), "demo toast every 20ms") {
		t.Errorf("output:\n%s", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDemoServerFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--addr", "0.0.0.0:8765"},
		{"--addr", "192.0.2.1:8765"},
		{"--addr", "nonsense"},
		{"--bogus"},
		{"extra"},
		{"--user", ""},
	} {
		var stderr bytes.Buffer
		err := DemoServer(context.Background(), args, testEnv(io.Discard, &stderr))
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%v: %v, want ErrUsage", args, err)
		}
		if stderr.Len() == 0 {
			t.Errorf("%v: nothing said about what is wrong", args)
		}
	}
	if err := DemoServer(context.Background(), []string{"-h"}, testEnv(io.Discard, io.Discard)); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestCheckDemoAddr(t *testing.T) {
	if w, err := checkDemoAddr("127.0.0.1:8765", false); w != "" || err != nil {
		t.Errorf("loopback: %q %v", w, err)
	}
	if w, err := checkDemoAddr("[::1]:0", false); w != "" || err != nil {
		t.Errorf("::1: %q %v", w, err)
	}
	if _, err := checkDemoAddr("0.0.0.0:8765", false); err == nil {
		t.Error("0.0.0.0 without --public accepted")
	}
	if w, err := checkDemoAddr("0.0.0.0:8765", true); err != nil || w == "" {
		t.Errorf("0.0.0.0 with --public: %q %v, want a warning", w, err)
	}
}

// With --public the site answers the network and the push and control
// endpoints still answer this machine, by loopback or by its own address
// (wstest's tests cover the refusal of other machines).
func TestDemoServerPublic(t *testing.T) {
	out := newLineWriter("Stop with Ctrl+C.")
	var errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- DemoServer(ctx, []string{"--addr", "0.0.0.0:0", "--public"}, testEnv(out, &lockedWriter{w: &errOut}))
	}()
	waitSeen(t, out, done)
	text := out.String()
	if !strings.Contains(text, "answer only requests from this machine") {
		t.Errorf("no word on the local-only endpoints:\n%s", text)
	}
	m := regexp.MustCompile(`Site URL:\s+http://\S+:(\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no site URL in:\n%s", text)
	}
	hosts := []string{"127.0.0.1"}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() != nil && !ip.IP.IsLoopback() {
				hosts = append(hosts, ip.IP.String()) // this machine by its LAN address
				break
			}
		}
	}
	for _, h := range hosts {
		base := "http://" + net.JoinHostPort(h, m[1])
		for _, req := range []struct{ method, path string }{{"GET", "/"}, {"POST", "/_push?channel=default"}, {"GET", "/_stats"}} {
			r, _ := http.NewRequest(req.method, base+req.path, strings.NewReader(`{"type":"toast"}`))
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s%s: %d", req.method, base, req.path, resp.StatusCode)
			}
		}
	}
	t.Logf("tried %v", hosts)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
