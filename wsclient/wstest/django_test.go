package wstest_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient/wstest"
)

func TestLogin(t *testing.T) {
	s, _ := newServer(t, wstest.Options{Users: map[string]string{"alice": "s3cret"}})

	t.Run("success rotates csrftoken", func(t *testing.T) {
		c := newPClient(t, s)
		resp, err := c.hc.Get(c.site + c.login)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		before := c.cookie("csrftoken")
		field := string(csrfField.FindSubmatch(body)[1])
		if before == "" || field == before {
			t.Fatalf("cookie %q, form token %q: want a cookie and a masked form token that differs", before, field)
		}
		resp = c.signIn("alice", "s3cret")
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") == "" {
			t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		after := c.cookie("csrftoken")
		if after == "" || after == before {
			t.Errorf("csrftoken not rotated: %q → %q", before, after)
		}
		if c.cookie("sessionid") == "" {
			t.Error("no sessionid")
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		c := newPClient(t, s)
		resp := c.signIn("alice", "nope")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !csrfField.Match(body) {
			t.Fatalf("status %d; want 200 with the form", resp.StatusCode)
		}
		if c.cookie("sessionid") != "" {
			t.Error("failed login set a session")
		}
		if s.Counters().LoginsFailed != 1 {
			t.Error("LoginsFailed not counted")
		}
	})
	post := func(c *pclient, form url.Values, referer string) int {
		req, _ := http.NewRequest(http.MethodPost, c.site+c.login, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if referer != "" {
			req.Header.Set("Referer", referer)
		}
		status, _ := c.do(req)
		return status
	}
	t.Run("csrf rules", func(t *testing.T) {
		c := newPClient(t, s)
		resp, _ := c.hc.Get(c.site + c.login)
		resp.Body.Close()
		good := url.Values{"csrfmiddlewaretoken": {c.cookie("csrftoken")}, "username": {"alice"}, "password": {"s3cret"}}
		bad := url.Values{"csrfmiddlewaretoken": {strings.Repeat("x", 32)}, "username": {"alice"}, "password": {"s3cret"}}
		none := url.Values{"username": {"alice"}, "password": {"s3cret"}}
		for name, tc := range map[string]struct {
			form    url.Values
			referer string
		}{
			"no referer":         {good, ""},
			"foreign referer":    {good, "http://evil.example.com/accounts/login/"},
			"wrong csrf token":   {bad, c.site + c.login},
			"missing csrf token": {none, c.site + c.login},
		} {
			if got := post(c, tc.form, tc.referer); got != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", name, got)
			}
		}
		if c.cookie("sessionid") != "" {
			t.Error("a refused login set a session")
		}
		if got := post(c, good, c.site+c.login); got != http.StatusFound {
			t.Errorf("the unmasked cookie value as form token: %d, want 302", got)
		}
	})
	t.Run("no csrf cookie", func(t *testing.T) {
		c := newPClient(t, s)
		form := url.Values{"csrfmiddlewaretoken": {strings.Repeat("a", 32)}, "username": {"alice"}, "password": {"s3cret"}}
		if got := post(c, form, c.site+c.login); got != http.StatusForbidden {
			t.Errorf("status %d, want 403", got)
		}
	})
}

func TestTokenEndpoint(t *testing.T) {
	s, fake := newServer(t, wstest.Options{})
	c := signedIn(t, s)

	status, _ := c.do(mustReq(t, http.MethodGet, c.site+c.tok))
	if status != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", status)
	}

	anon := newPClient(t, s)
	anon.setCookie("csrftoken", strings.Repeat("q", 32))
	if status, body := anon.do(anon.tokenReq()); status != http.StatusForbidden || body != "Authentication required" {
		t.Errorf("no session: %d %q", status, body)
	}

	req := c.tokenReq()
	req.Header.Del("X-CSRFToken")
	if status, body := c.do(req); status != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Errorf("no X-CSRFToken: %d %q", status, body)
	}
	req = c.tokenReq()
	req.Header.Set("X-CSRFToken", strings.Repeat("z", 32))
	if status, _ := c.do(req); status != http.StatusForbidden {
		t.Errorf("mismatched X-CSRFToken: %d", status)
	}
	req = c.tokenReq()
	req.Header.Set("Origin", "http://evil.example.com")
	if status, _ := c.do(req); status != http.StatusForbidden {
		t.Errorf("foreign Origin: %d", status)
	}
	// Over plain http, Django does not insist on Origin or Referer.
	req = c.tokenReq()
	req.Header.Del("Origin")
	req.Header.Del("Referer")
	if status, body := c.do(req); status != http.StatusOK {
		t.Errorf("http without Origin/Referer: %d %s", status, body)
	}
	if got := s.Counters().Refused(wstest.ReasonTokenCSRF); got != 3 {
		t.Errorf("token-csrf refusals %d, want 3", got)
	}

	// 20 a minute per user (one issued above).
	for i := 1; i < 20; i++ {
		c.getToken()
	}
	if status, body := c.do(c.tokenReq()); status != http.StatusForbidden || body != "Rate limit exceeded" {
		t.Fatalf("21st token: %d %q", status, body)
	}
	fake.Advance(61 * time.Second)
	c.getToken()
	if got := s.Counters(); got.TokensIssued != 21 || got.Refused(wstest.ReasonTokenRateLimited) != 1 {
		t.Errorf("counters %+v", got)
	}
}

func mustReq(t *testing.T, method, u string) *http.Request {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// A pasted session (NewSession) works like a signed-in browser's.
func TestNewSession(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	sid, csrf := s.NewSession("demo")
	c := newPClient(t, s)
	c.setCookie("sessionid", sid)
	c.setCookie("csrftoken", csrf)
	conn := c.connect("")
	s.Push("", map[string]string{"type": "toast", "message": "pasted"})
	if b := mustRead(t, conn); !strings.Contains(string(b), "pasted") {
		t.Fatalf("got %s", b)
	}
}

func TestSessionCookieName(t *testing.T) {
	s, _ := newServer(t, wstest.Options{SessionCookieName: "mysite_session"})
	c := signedIn(t, s)
	if c.cookie("mysite_session") == "" || c.cookie("sessionid") != "" {
		t.Fatal("login did not use the configured cookie name")
	}
	h := c.dialHeader()
	h.Set("Cookie", "mysite_session="+c.cookie("mysite_session"))
	if _, resp, err := c.dialWith(c.dialer(), c.getToken(), "", h); err != nil {
		t.Fatalf("dial: %v %s", err, refusal(resp))
	}
}

func TestTLS(t *testing.T) {
	s, _ := newServer(t, wstest.Options{TLS: true})
	if !strings.HasPrefix(s.URL, "https://") || !strings.HasPrefix(s.WSURL, "wss://") {
		t.Fatalf("URL %s WSURL %s", s.URL, s.WSURL)
	}
	if s.Certificate() == nil || !strings.Contains(string(s.CertificatePEM()), "BEGIN CERTIFICATE") {
		t.Fatal("no certificate")
	}
	// Like nginx with http2, Caddy and Go servers, it picks h2 when offered.
	conf := s.TLSConfig()
	conf.NextProtos = []string{"h2", "http/1.1"}
	tc, err := tls.Dial("tcp", strings.TrimPrefix(s.URL, "https://"), conf)
	if err != nil {
		t.Fatal(err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Errorf("negotiated %q, want h2", p)
	}
	tc.Close()
	c := signedIn(t, s)
	// Over https the token endpoint wants Origin or Referer.
	req := c.tokenReq()
	req.Header.Del("Origin")
	req.Header.Del("Referer")
	if status, body := c.do(req); status != http.StatusForbidden || !strings.Contains(body, "Referer") {
		t.Errorf("https without Origin/Referer: %d %q", status, body)
	}
	req = c.tokenReq()
	req.Header.Del("Origin")
	if status, _ := c.do(req); status != http.StatusOK {
		t.Errorf("https with Referer only: %d", status)
	}
	conn := c.connect("")
	s.Push("", map[string]string{"type": "toast", "message": "secure"})
	if b := mustRead(t, conn); !strings.Contains(string(b), "secure") {
		t.Fatalf("got %s", b)
	}
	// A client that does not trust the certificate cannot connect.
	d := c.dialer()
	d.TLSClientConfig = nil
	if _, _, err := c.dialWith(d, c.getToken(), "", c.dialHeader()); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
}
