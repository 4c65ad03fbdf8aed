package wstest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// serveHTTP routes a request to the Django part, the gateway or the
// emulator's own endpoints.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	defer s.leave()
	p := r.URL.Path
	stage := "/" + s.opts.Stage
	isControl := strings.HasPrefix(p, "/_control/") || p == "/_stats"
	if s.opts.Public && !fromThisMachine(r) &&
		(isControl || p == "/_push" || strings.HasPrefix(p, stage+"/@connections/")) {
		// These endpoints have no authentication: a Public server
		// shows its site to the network, not its switches.
		http.Error(w, "this endpoint answers only requests from the machine the server runs on", http.StatusForbidden)
		return
	}
	if !isControl && !s.isAccepting() {
		s.mu.Lock()
		s.refuseLocked(ReasonNotAccepting)
		s.mu.Unlock()
		resetRequest(w)
		return
	}
	switch {
	case p == s.opts.LoginPath:
		s.serveLogin(w, r)
	case p == s.opts.TokenPath:
		s.serveToken(w, r)
	case p == stage || p == stage+"/":
		s.serveGateway(w, r)
	case strings.HasPrefix(p, stage+"/@connections/"):
		s.serveManagement(w, r, strings.TrimPrefix(p, stage+"/@connections/"))
	case p == "/_push":
		s.servePush(w, r)
	case p == "/_stats":
		s.serveStats(w, r)
	case strings.HasPrefix(p, "/_control/"):
		s.serveControl(w, r, strings.TrimPrefix(p, "/_control/"))
	case p == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>ToastTray demo site</title><p>Signed in: %v</p>",
			s.sessionUser(r) != "")
	default:
		http.NotFound(w, r)
	}
}

// fromThisMachine reports a request from loopback or from the address it
// arrived at (this machine calling its own LAN address): a remote peer
// cannot complete a TCP handshake with our own address as its source.
func fromThisMachine(r *http.Request) bool {
	remote, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	if IsLoopback(remote) {
		return true
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(local.String())
	ip := net.ParseIP(remote)
	return err == nil && ip != nil && ip.Equal(net.ParseIP(host))
}

// resetRequest aborts the request's TCP connection with a reset, as a
// server that is down (or crashed mid-request) would.
func resetRequest(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	nc, _, err := hj.Hijack()
	if err != nil {
		return
	}
	resetConn(nc)
}

// sessionUser returns the user of the request's session cookie, or "".
func (s *Server) sessionUser(r *http.Request) string {
	c, err := r.Cookie(s.opts.SessionCookieName)
	if err != nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[c.Value]
}

// siteOrigin is the origin Django considers its own: scheme://Host.
func siteOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// checkCSRF applies Django's CSRF middleware to an unsafe request: a
// present Origin must be the site's; over HTTPS (or when requireReferer is
// set) a same-origin Referer is needed when Origin is absent; the csrftoken
// cookie must exist and match the form field or X-CSRFToken header, masked
// or not. It returns "" or the failure reason Django would show.
func checkCSRF(r *http.Request, requireReferer bool) string {
	origin := siteOrigin(r)
	if o := r.Header.Get("Origin"); o != "" {
		if o != origin {
			return fmt.Sprintf("Origin checking failed - %s does not match any trusted origins.", o)
		}
	} else if r.TLS != nil || requireReferer {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return "Referer checking failed - no Referer."
		}
		u, err := url.Parse(ref)
		if err != nil || u.Scheme+"://"+u.Host != origin {
			return "Referer checking failed - Referer does not match any trusted origins."
		}
	}
	c, err := r.Cookie(CSRFCookieName)
	if err != nil || c.Value == "" {
		return "CSRF cookie not set."
	}
	secret := unmaskCSRF(c.Value)
	if secret == "" {
		return "CSRF cookie has incorrect length."
	}
	sent := r.Header.Get("X-CSRFToken")
	if sent == "" && r.Method == http.MethodPost {
		sent = r.PostFormValue("csrfmiddlewaretoken")
	}
	if sent == "" {
		return "CSRF token missing."
	}
	if unmaskCSRF(sent) != secret {
		return "CSRF token incorrect."
	}
	return ""
}

func csrfFailure(w http.ResponseWriter, reason string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "<!doctype html><title>403 Forbidden</title><h1>Forbidden (403)</h1>"+
		"<p>CSRF verification failed. Request aborted.</p><p>%s</p>", html.EscapeString(reason))
}

// serveLogin is Django's LoginView: GET shows the form and sets the CSRF
// cookie; POST checks CSRF (with a same-site Referer) and credentials, then
// answers 302 with a new session and a rotated CSRF cookie, or 200 with the
// form again.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		secret := ""
		if c, err := r.Cookie(CSRFCookieName); err == nil {
			secret = unmaskCSRF(c.Value)
		}
		if secret == "" {
			secret = newCSRFSecret()
		}
		s.setCSRFCookie(w, r, secret)
		s.loginForm(w, r, secret, "")
	case http.MethodPost:
		if reason := checkCSRF(r, true); reason != "" {
			s.mu.Lock()
			s.refuseLocked(ReasonLoginCSRF)
			s.mu.Unlock()
			s.log.Info("wstest: login refused", "reason", "csrf", "detail", reason)
			csrfFailure(w, reason)
			return
		}
		user, pass := r.PostFormValue("username"), r.PostFormValue("password")
		s.mu.Lock()
		want, ok := s.users[user]
		if !ok || want != pass || user == "" {
			s.counters.LoginsFailed++
			s.notifyLocked()
			s.mu.Unlock()
			s.log.Info("wstest: login failed", "user", user)
			c, _ := r.Cookie(CSRFCookieName)
			s.loginForm(w, r, unmaskCSRF(c.Value), "Please enter a correct username and password. Note that both fields may be case-sensitive.")
			return
		}
		sid := randomString(32, sessionAlphabet)
		s.sessions[sid] = user
		s.counters.LoginsOK++
		s.notifyLocked()
		s.mu.Unlock()
		s.log.Info("wstest: login", "user", user)
		http.SetCookie(w, &http.Cookie{Name: s.opts.SessionCookieName, Value: sid, Path: "/",
			HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 14 * 24 * 3600})
		s.setCSRFCookie(w, r, newCSRFSecret()) // Django rotates the token on login
		next := r.URL.Query().Get("next")
		if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusFound)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "", http.StatusMethodNotAllowed)
	}
}

func (s *Server) setCSRFCookie(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{Name: CSRFCookieName, Value: secret, Path: "/",
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request, secret, errMsg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate, private")
	errHTML := ""
	if errMsg != "" {
		errHTML = `<ul class="errorlist nonfield"><li>` + html.EscapeString(errMsg) + `</li></ul>`
	}
	fmt.Fprintf(w, `<!doctype html>
<html><head><title>Log in</title></head><body>
<form method="post" action="%s">
%s
<input type="hidden" name="csrfmiddlewaretoken" value="%s">
<p><label for="id_username">Username:</label> <input type="text" name="username" id="id_username" autofocus required></p>
<p><label for="id_password">Password:</label> <input type="password" name="password" id="id_password" required></p>
<input type="submit" value="Log in">
</form></body></html>
`, html.EscapeString(s.opts.LoginPath), errHTML, maskCSRF(secret))
}

// serveToken is the package's WebSocketTokenView behind Django's CSRF
// middleware.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if ok := s.applyTokenFault(w, r); !ok {
		return
	}
	if r.Method != http.MethodPost {
		s.mu.Lock()
		s.refuseLocked(ReasonTokenMethod)
		s.mu.Unlock()
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "", http.StatusMethodNotAllowed)
		return
	}
	if reason := checkCSRF(r, false); reason != "" {
		s.mu.Lock()
		s.refuseLocked(ReasonTokenCSRF)
		s.mu.Unlock()
		s.log.Info("wstest: token refused", "reason", ReasonTokenCSRF, "detail", reason)
		csrfFailure(w, reason)
		return
	}
	c, err := r.Cookie(s.opts.SessionCookieName)
	sid := ""
	if err == nil {
		sid = c.Value
	}
	now := s.clock.Now()
	s.mu.Lock()
	user, ok := s.sessions[sid]
	if !ok || s.tokenFault == TokenSignedOut {
		s.refuseLocked(ReasonTokenNoAuth)
		s.mu.Unlock()
		s.log.Info("wstest: token refused", "reason", ReasonTokenNoAuth)
		forbidden(w, "Authentication required")
		return
	}
	if s.tokenFault == TokenRateLimited || !s.allowRateLocked(s.tokenTimes, user, s.opts.TokenRateLimit, now) {
		s.refuseLocked(ReasonTokenRateLimited)
		s.mu.Unlock()
		s.log.Info("wstest: token refused", "reason", ReasonTokenRateLimited, "user", user)
		forbidden(w, "Rate limit exceeded")
		return
	}
	recordRate(s.tokenTimes, user, now)
	tok := randomHex(32)
	s.tokens[tok] = &tokenRec{session: sid, user: user, issued: now}
	s.counters.TokensIssued++
	s.pruneTokensLocked(now)
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Debug("wstest: token issued", "user", user)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 60})
}

// pruneTokensLocked forgets tokens long past their TTL, so a long demo run
// does not grow without bound. Used tokens are kept as long, so reuse is
// still told apart from unknown within that time.
func (s *Server) pruneTokensLocked(now time.Time) {
	for k, t := range s.tokens {
		if now.Sub(t.issued) > 10*s.opts.TokenTTL+time.Hour {
			delete(s.tokens, k)
		}
	}
}

func forbidden(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprint(w, body)
}

// Random values in Django's formats.
const (
	sessionAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	csrfAlphabet    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	csrfSecretLen   = 32
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("wstest: crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomHex(nbytes int) string {
	b := make([]byte, nbytes)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("wstest: crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

func newCSRFSecret() string { return randomString(csrfSecretLen, csrfAlphabet) }

// maskCSRF is Django's _mask_cipher_secret: the form carries a 64-character
// masked token that differs from the cookie but unmasks to the same secret.
func maskCSRF(secret string) string {
	mask := randomString(csrfSecretLen, csrfAlphabet)
	out := make([]byte, csrfSecretLen)
	for i := 0; i < csrfSecretLen; i++ {
		x := strings.IndexByte(csrfAlphabet, secret[i])
		y := strings.IndexByte(csrfAlphabet, mask[i])
		out[i] = csrfAlphabet[(x+y)%len(csrfAlphabet)]
	}
	return mask + string(out)
}

// unmaskCSRF returns the secret of a 32-character (plain) or 64-character
// (masked) token, or "" if it is malformed.
func unmaskCSRF(tok string) string {
	for i := 0; i < len(tok); i++ {
		if strings.IndexByte(csrfAlphabet, tok[i]) < 0 {
			return ""
		}
	}
	switch len(tok) {
	case csrfSecretLen:
		return tok
	case 2 * csrfSecretLen:
		mask, cipher := tok[:csrfSecretLen], tok[csrfSecretLen:]
		out := make([]byte, csrfSecretLen)
		for i := 0; i < csrfSecretLen; i++ {
			x := strings.IndexByte(csrfAlphabet, cipher[i])
			y := strings.IndexByte(csrfAlphabet, mask[i])
			out[i] = csrfAlphabet[(x-y+len(csrfAlphabet))%len(csrfAlphabet)]
		}
		return string(out)
	}
	return ""
}
