package wsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSite is a tiny Django: a login form that rotates csrftoken and a
// token endpoint whose answer the test picks.
type fakeSite struct {
	mu       sync.Mutex
	srv      *httptest.Server
	answer   func(w http.ResponseWriter, r *http.Request) // token endpoint
	logins   int
	tokens   int
	lastHdr  http.Header
	badLogin bool
}

func newFakeSite(t *testing.T) *fakeSite {
	f := &fakeSite{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /accounts/login/", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: "pre-login", Path: "/"})
		fmt.Fprint(w, `<form><input type="hidden" name="csrfmiddlewaretoken" value="masked-form-token"></form>`)
	})
	mux.HandleFunc("POST /accounts/login/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.logins++
		ck, _ := r.Cookie("csrftoken")
		if r.FormValue("csrfmiddlewaretoken") != "masked-form-token" || ck == nil || ck.Value != "pre-login" ||
			r.Header.Get("Referer") != f.srv.URL+"/accounts/login/" {
			http.Error(w, "CSRF verification failed", http.StatusForbidden)
			return
		}
		if f.badLogin || r.FormValue("username") != "ann" || r.FormValue("password") != "pw" {
			fmt.Fprint(w, "<form>Please enter a correct username and password.</form>")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "s1", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: "rotated", Path: "/"})
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("/api/ws-token/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.tokens++
		f.lastHdr = r.Header.Clone()
		answer := f.answer
		f.mu.Unlock()
		answer(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.answer = func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"token":"`+strings.Repeat("ab", 32)+`","expires_in":60}`)
	}
	return f
}

func (f *fakeSite) session(t *testing.T, creds Credentials) *session {
	cfg := Config{SiteURL: f.srv.URL, WSURL: "ws" + strings.TrimPrefix(f.srv.URL, "http")}.WithDefaults()
	s, err := newSession(cfg, creds)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func forbid(body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { http.Error(w, body, http.StatusForbidden) }
}

func TestTokenSignsInAndSendsCSRF(t *testing.T) {
	f := newFakeSite(t)
	s := f.session(t, Credentials{Username: "ann", Password: "pw"})
	tok, err := s.token(context.Background())
	if err != nil || len(tok) != 64 {
		t.Fatalf("token %q, %v", tok, err)
	}
	h := f.lastHdr
	if h.Get("X-CSRFToken") != "rotated" || h.Get("Origin") != f.srv.URL || h.Get("Referer") != f.srv.URL+"/" ||
		!strings.Contains(h.Get("Cookie"), "sessionid=s1") {
		t.Fatalf("token request headers %v", h)
	}
	if got := s.cookieHeader(); !strings.Contains(got, "sessionid=s1") || !strings.Contains(got, "csrftoken=rotated") {
		t.Fatalf("handshake cookie %q", got)
	}
	if f.logins != 1 {
		t.Fatalf("logins %d", f.logins)
	}
}

func TestTokenClassification(t *testing.T) {
	tests := []struct {
		name    string
		creds   Credentials
		answer  func(http.ResponseWriter, *http.Request)
		is      error
		logins  int
		tokens  int
		fixHint string
	}{
		{"signed out, no password", Credentials{SessionID: "old", CSRFToken: "c"}, forbid("Authentication required"), ErrSignedOut, 0, 1, "sign in"},
		{"signed out, password: one re-sign-in", Credentials{Username: "ann", Password: "pw", SessionID: "old", CSRFToken: "c"}, forbid("Authentication required"), ErrSignedOut, 1, 2, "cookie name"},
		{"rate limited", Credentials{SessionID: "s", CSRFToken: "c"}, forbid("Rate limit exceeded"), ErrRateLimited, 0, 1, "wait"},
		{"csrf", Credentials{SessionID: "s", CSRFToken: "c"}, forbid("<html><h1>Forbidden (403)</h1><p>CSRF verification failed."), ErrRejected, 0, 2, "Site URL"},
		{"404", Credentials{SessionID: "s", CSRFToken: "c"}, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, ErrRejected, 0, 1, "token path"},
		{"500", Credentials{SessionID: "s", CSRFToken: "c"}, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, nil, 0, 1, ""},
		{"no token in answer", Credentials{SessionID: "s", CSRFToken: "c"}, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"tok":1}`) }, nil, 0, 1, "token path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSite(t)
			f.answer = tt.answer
			_, err := f.session(t, tt.creds).token(context.Background())
			var te *TokenError
			if err == nil || !errors.As(err, &te) {
				t.Fatalf("err %v", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err %v, want %v", err, tt.is)
			}
			if tt.is == nil && permanent(err) {
				t.Fatalf("transient error classified permanent: %v", err)
			}
			if f.logins != tt.logins || f.tokens != tt.tokens {
				t.Fatalf("logins %d tokens %d, want %d %d", f.logins, f.tokens, tt.logins, tt.tokens)
			}
			if !strings.Contains(te.Fix, tt.fixHint) {
				t.Fatalf("fix %q lacks %q", te.Fix, tt.fixHint)
			}
			for _, secret := range []string{"pw", "old"} {
				if strings.Contains(err.Error(), "="+secret) {
					t.Fatalf("secret in error: %v", err)
				}
			}
		})
	}
}

func TestBadPasswordIsSignedOut(t *testing.T) {
	f := newFakeSite(t)
	_, err := f.session(t, Credentials{Username: "ann", Password: "wrong"}).token(context.Background())
	if !errors.Is(err, ErrSignedOut) || f.tokens != 0 || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err %v, tokens %d", err, f.tokens)
	}
}

func TestNetworkErrorIsTransient(t *testing.T) {
	f := newFakeSite(t)
	s := f.session(t, Credentials{SessionID: "s", CSRFToken: "c"})
	f.srv.Close()
	_, err := s.token(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || !te.Network || permanent(err) {
		t.Fatalf("err %v", err)
	}
}

// TestRefusalEchoIsScrubbed: refusal pages that echo the request (its URL,
// Cookie and X-CSRFToken headers, the login form) must not carry the
// token, session, CSRF token or password into errors, so into logs and
// the status either. The snippet shows 80 characters: each echo order
// puts a different secret first.
func TestRefusalEchoIsScrubbed(t *testing.T) {
	const sessionID, csrf, password = "Sess10nSecret", "CsrfT0kenSecret", "pa ss&word"
	echo := map[string]func(r *http.Request) string{
		"url":    func(r *http.Request) string { return r.URL.RequestURI() },
		"cookie": func(r *http.Request) string { return r.Header.Get("Cookie") },
		"header": func(r *http.Request) string { return r.Header.Get("X-CSRFToken") },
		"form": func(r *http.Request) string {
			b, _ := io.ReadAll(r.Body)
			return string(b)
		},
	}
	refuse := func(first string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			text := "refused " + echo[first](r)
			for _, k := range []string{"url", "cookie", "header", "form"} {
				text += " | " + echo[k](r)
			}
			http.Error(w, text, http.StatusBadRequest)
		}
	}
	check := func(t *testing.T, err error, secrets ...string) {
		t.Helper()
		if err == nil {
			t.Fatal("no error")
		}
		for _, s := range secrets {
			for _, v := range []string{s, url.QueryEscape(s)} {
				if strings.Contains(err.Error(), v[:8]) {
					t.Fatalf("secret %q in error: %v", s, err)
				}
			}
		}
		if !strings.Contains(err.Error(), "REDACTED") {
			t.Fatalf("the echo is not in the error, so this test proves nothing: %v", err)
		}
	}
	for _, first := range []string{"url", "cookie", "header"} {
		t.Run("token endpoint, "+first+" first", func(t *testing.T) {
			f := newFakeSite(t)
			f.answer = refuse(first)
			_, err := f.session(t, Credentials{SessionID: sessionID, CSRFToken: csrf}).token(context.Background())
			check(t, err, sessionID, csrf)
		})
		t.Run("gateway, "+first+" first", func(t *testing.T) {
			f := newFakeSite(t)
			gw := httptest.NewServer(refuse(first))
			defer gw.Close()
			s := f.session(t, Credentials{SessionID: sessionID, CSRFToken: csrf})
			s.cfg.WSURL = "ws" + strings.TrimPrefix(gw.URL, "http") + "/prod"
			tok, err := s.token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			_, err = dialWS(context.Background(), s.cfg, s, tok)
			check(t, err, tok, sessionID, csrf)
		})
	}
	t.Run("login form", func(t *testing.T) {
		f := newFakeSite(t)
		f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: csrf, Path: "/"})
				fmt.Fprint(w, "<form></form>")
				return
			}
			refuse("form")(w, r)
		})
		_, err := f.session(t, Credentials{Username: "ann", Password: password}).token(context.Background())
		check(t, err, password, csrf)
	})
}

// TestTokenTLSBoundByHandshakeTimeout: a site that accepts TCP but never
// answers the TLS handshake fails the token request after
// Config.HandshakeTimeout, as the WebSocket dial does, not after the
// transport's own 15 s or requestTimeout.
func TestTokenTLSBoundByHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // silent: never answers the ClientHello
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	site := "https://" + ln.Addr().String()
	cfg := Config{SiteURL: site, WSURL: "wss://" + ln.Addr().String(), HandshakeTimeout: 50 * time.Millisecond}.WithDefaults()
	s, err := newSession(cfg, Credentials{SessionID: "s", CSRFToken: "c"})
	if err != nil {
		t.Fatal(err)
	}
	// Generous: the handshake timeout is 50 ms; the old fixed 15 s
	// would run into this deadline instead.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = s.token(ctx)
	if err == nil || !strings.Contains(err.Error(), "TLS handshake timeout") {
		t.Fatalf("err %v, want a TLS handshake timeout", err)
	}
}
