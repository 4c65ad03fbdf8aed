package wstest_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/toasttray/toasttray/wsclient/clock"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// pclient is a client written from PROTOCOL.md alone: a cookie jar, the
// Django login form, the token endpoint with CSRF, and a plain gorilla
// dialer. Tests break one rule at a time through its knobs.
type pclient struct {
	t     *testing.T
	site  string // e.g. http://127.0.0.1:1234
	ws    string
	tok   string // token path
	login string // login path
	jar   *cookiejar.Jar
	hc    *http.Client
	tls   *tls.Config
}

func newPClient(t *testing.T, s *wstest.Server) *pclient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := *s.Client() // trusts the TLS certificate when there is one
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &pclient{t: t, site: s.URL, ws: s.WSURL, tok: s.TokenPath(), login: s.LoginPath(),
		jar: jar, hc: &hc, tls: s.TLSConfig()}
}

var csrfField = regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`)

func (c *pclient) cookie(name string) string {
	u, _ := url.Parse(c.site)
	for _, k := range c.jar.Cookies(u) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

func (c *pclient) setCookie(name, value string) {
	u, _ := url.Parse(c.site)
	c.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// signIn does PROTOCOL.md §1b and returns the POST's response.
func (c *pclient) signIn(user, pass string) *http.Response {
	c.t.Helper()
	resp, err := c.hc.Get(c.site + c.login)
	if err != nil {
		c.t.Fatalf("GET login: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		c.t.Fatalf("login form has no csrfmiddlewaretoken: %s", body)
	}
	form := url.Values{"csrfmiddlewaretoken": {string(m[1])}, "username": {user}, "password": {pass}}
	req, _ := http.NewRequest(http.MethodPost, c.site+c.login, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", c.site+c.login)
	resp, err = c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("POST login: %v", err)
	}
	return resp
}

// tokenReq builds the token request of PROTOCOL.md §1.
func (c *pclient) tokenReq() *http.Request {
	req, _ := http.NewRequest(http.MethodPost, c.site+c.tok, nil)
	req.Header.Set("X-CSRFToken", c.cookie("csrftoken"))
	req.Header.Set("Origin", c.site)
	req.Header.Set("Referer", c.site+"/")
	return req
}

// getToken fetches a token and fails the test if it cannot.
func (c *pclient) getToken() string {
	c.t.Helper()
	status, body := c.do(c.tokenReq())
	if status != http.StatusOK {
		c.t.Fatalf("token: %d %s", status, body)
	}
	var v struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		c.t.Fatalf("token body %q: %v", body, err)
	}
	return v.Token
}

func (c *pclient) do(req *http.Request) (int, string) {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// dialHeader is what PROTOCOL.md §2 says the handshake carries.
func (c *pclient) dialHeader() http.Header {
	return http.Header{
		"Cookie":     {fmt.Sprintf("sessionid=%s; csrftoken=%s", c.cookie("sessionid"), c.cookie("csrftoken"))},
		"Origin":     {c.site},
		"User-Agent": {"ToastTray-test/1.0"},
	}
}

func (c *pclient) dialer() *websocket.Dialer {
	return &websocket.Dialer{EnableCompression: true, TLSClientConfig: c.tls, HandshakeTimeout: 10 * time.Second}
}

func (c *pclient) wsURL(token, channel string) string {
	q := url.Values{"ws_token": {token}}
	if channel != "" {
		q.Set("channel", channel)
	}
	return c.ws + "?" + q.Encode()
}

// dialWith dials with the given header and dialer.
func (c *pclient) dialWith(d *websocket.Dialer, token, channel string, h http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := d.DialContext(ctx, c.wsURL(token, channel), h)
	if conn != nil {
		c.t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

// connect does the whole protocol and fails the test if refused.
func (c *pclient) connect(channel string) *websocket.Conn {
	c.t.Helper()
	conn, resp, err := c.dialWith(c.dialer(), c.getToken(), channel, c.dialHeader())
	if err != nil {
		c.t.Fatalf("dial: %v (%s)", err, refusal(resp))
	}
	return conn
}

func refusal(resp *http.Response) string {
	if resp == nil {
		return "no response"
	}
	return fmt.Sprintf("status %d, reason %q", resp.StatusCode, resp.Header.Get(wstest.ReasonHeader))
}

// signedIn returns a client that has signed in as demo.
func signedIn(t *testing.T, s *wstest.Server) *pclient {
	t.Helper()
	c := newPClient(t, s)
	resp := c.signIn("demo", "demo")
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("sign in: status %d", resp.StatusCode)
	}
	return c
}

// read reads one message with a real-time bound that only matters when
// the test is failing.
func read(t *testing.T, conn *websocket.Conn) (int, []byte, error) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	return conn.ReadMessage()
}

func mustRead(t *testing.T, conn *websocket.Conn) []byte {
	t.Helper()
	_, b, err := read(t, conn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func closeCode(err error) int {
	var ce *websocket.CloseError
	if e, ok := err.(*websocket.CloseError); ok {
		ce = e
		return ce.Code
	}
	return -1
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newServer starts a server with a fake clock and registers Close.
func newServer(t *testing.T, opts wstest.Options) (*wstest.Server, *clock.Fake) {
	t.Helper()
	fake := clock.NewFake(t0)
	if opts.Clock == nil {
		opts.Clock = fake
	}
	s := wstest.NewServer(opts)
	t.Cleanup(s.Close)
	return s, fake
}
