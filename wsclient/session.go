package wsclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// csrfCookieName is Django's default CSRF_COOKIE_NAME.
const csrfCookieName = "csrftoken"

// requestTimeout bounds one HTTP exchange with the site, so a hung server
// cannot hold the client forever. Its TCP connect and TLS handshake are
// each bounded by Config.HandshakeTimeout (default 15 s) as the
// WebSocket's are; this is the whole exchange, connect to last byte.
const requestTimeout = 20 * time.Second

// maxBody bounds what we read of any response: token answers are tiny,
// login pages small.
const maxBody = 256 * 1024

// TokenError is a failed token or sign-in request, classified. It wraps
// ErrSignedOut, ErrRateLimited or ErrRejected where one applies; Fix says
// what the user can do. It never holds a secret.
type TokenError struct {
	Op      string // "sign-in" or "token"
	Status  int    // HTTP status, 0 for network errors
	Network bool   // failed before an answer: DNS, TCP, TLS, timeout
	Fix     string
	Err     error
}

func (e *TokenError) Error() string {
	s := e.Op + ": " + e.Err.Error()
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

func (e *TokenError) Unwrap() error { return e.Err }

// session is the Django session: a cookie jar, sign-in, and the token
// request. It is used by one goroutine at a time (the Run goroutine, or a
// rotation dial that Run waits for).
type session struct {
	cfg   Config
	creds Credentials
	site  *url.URL
	jar   *cookiejar.Jar
	hc    *http.Client
	tls   *tls.Config
}

func newSession(cfg Config, creds Credentials) (*session, error) {
	site, err := url.Parse(cfg.SiteURL)
	if err != nil {
		return nil, fmt.Errorf("site URL: %w", err)
	}
	tlsConf, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil) // only fails with options
	tr := &http.Transport{
		Proxy:               proxyFunc(cfg),
		DialContext:         dialContext(&net.Dialer{Timeout: cfg.HandshakeTimeout, KeepAlive: tcpKeepAlive}),
		TLSClientConfig:     tlsConf.Clone(), // the transport adds h2 to its own copy
		TLSHandshakeTimeout: cfg.HandshakeTimeout,
		MaxIdleConns:        2,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	s := &session{cfg: cfg, creds: creds, site: site, jar: jar, tls: tlsConf}
	s.hc = &http.Client{
		Transport: tr,
		Jar:       jar,
		// Django answers a good login with 302; we read it, not follow it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if creds.HasSession() {
		cookies := []*http.Cookie{{Name: cfg.SessionCookieName, Value: creds.SessionID, Path: "/"}}
		if creds.CSRFToken != "" {
			cookies = append(cookies, &http.Cookie{Name: csrfCookieName, Value: creds.CSRFToken, Path: "/"})
		}
		jar.SetCookies(site, cookies)
	}
	return s, nil
}

// tlsConfig trusts the system roots plus the optional CA file. There is
// deliberately no way to skip verification.
func tlsConfig(cfg Config) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pool, err := loadCAFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// wsTLS is the session's TLS config for the WebSocket: it offers only
// http/1.1 via ALPN. The handshake is HTTP/1.1, and a server offered h2
// (nginx with http2, Caddy, Go) picks it and then cannot read the upgrade.
func (s *session) wsTLS() *tls.Config {
	c := s.tls.Clone()
	c.NextProtos = []string{"http/1.1"}
	return c
}

// dropIdle closes the session's idle HTTP connections. The client calls it
// once a WebSocket is open: the next token is an hour or more away, and
// an idle keep-alive connection holds buffers and two goroutines until then.
func (s *session) dropIdle() { s.hc.CloseIdleConnections() }

// siteOrigin is what Django compares Origin with: scheme://host[:port].
func (s *session) siteOrigin() string { return s.site.Scheme + "://" + s.site.Host }

func (s *session) cookie(name string) string {
	for _, c := range s.jar.Cookies(s.site) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// cookieHeader is the site's cookies for the WebSocket handshake, which
// goes to another host but must carry the site's session (PROTOCOL.md §2).
func (s *session) cookieHeader() string {
	var parts []string
	for _, c := range s.jar.Cookies(s.site) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func (s *session) hasSession() bool { return s.cookie(s.cfg.SessionCookieName) != "" }

func (s *session) siteURL(path string) string {
	u := *s.site
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// token fetches one fresh single-use token, signing in first when needed
// and once more when the site says the session has ended.
func (s *session) token(ctx context.Context) (string, error) {
	if !s.hasSession() {
		if !s.creds.HasPassword() {
			return "", &TokenError{Op: "token", Err: fmt.Errorf("%w: no session and no password", ErrSignedOut),
				Fix: "sign in: enter the password or paste the sessionid cookie"}
		}
		if err := s.signIn(ctx); err != nil {
			return "", err
		}
	}
	signedIn, csrfRetried := false, false
	for {
		tok, err := s.requestToken(ctx)
		var te *TokenError
		if !errors.As(err, &te) {
			return tok, err
		}
		switch {
		case errors.Is(err, ErrSignedOut) && s.creds.HasPassword() && !signedIn:
			signedIn = true
			if err := s.signIn(ctx); err != nil {
				return "", err
			}
			continue
		case errors.Is(err, ErrSignedOut) && signedIn:
			te.Fix = "signed in, yet the token endpoint says Authentication required: check the session cookie name and the token path"
		case errors.Is(err, ErrRejected) && te.Status == http.StatusForbidden && !csrfRetried:
			// A stale csrftoken cookie: get a fresh one and try once more
			// before calling it a configuration error.
			csrfRetried = true
			if err := s.fetchCSRF(ctx); err == nil {
				continue
			}
		}
		return "", err
	}
}

type tokenAnswer struct {
	Token string `json:"token"`
}

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_.~+/=-]{8,512}$`)

func (s *session) requestToken(ctx context.Context) (string, error) {
	if s.cookie(csrfCookieName) == "" {
		if err := s.fetchCSRF(ctx); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.siteURL(s.cfg.TokenPath), nil)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	s.siteHeaders(req, s.siteOrigin()+"/")
	req.Header.Set("X-CSRFToken", s.cookie(csrfCookieName))
	req.Header.Set("Accept", "application/json")
	resp, body, err := s.do(req)
	if err != nil {
		return "", &TokenError{Op: "token", Network: true, Err: err}
	}
	if resp.StatusCode == http.StatusOK {
		var a tokenAnswer
		if err := json.Unmarshal(body, &a); err != nil || !tokenRE.MatchString(a.Token) {
			return "", &TokenError{Op: "token", Status: resp.StatusCode, Err: errors.New("the answer holds no token"),
				Fix: "check the token path: it must be the site's WebSocket token endpoint"}
		}
		return a.Token, nil
	}
	return "", s.classify("token", resp, body, "token_path")
}

// classify turns a refused site request into a TokenError.
func (s *session) classify(op string, resp *http.Response, body []byte, pathField string) error {
	text := string(body)
	e := &TokenError{Op: op, Status: resp.StatusCode}
	pathHint := map[string]string{"token_path": "the token path", "login_path": "the login path"}[pathField]
	switch {
	case strings.Contains(text, "Rate limit exceeded") || resp.StatusCode == http.StatusTooManyRequests:
		e.Err = fmt.Errorf("%w: the site refused: too many requests", ErrRateLimited)
		e.Fix = "wait a minute; other ToastTray instances of this user share the limit"
	case strings.Contains(text, "Authentication required") || resp.StatusCode == http.StatusUnauthorized ||
		(resp.StatusCode >= 300 && resp.StatusCode < 400 && op == "token"):
		e.Err = fmt.Errorf("%w: the site says Authentication required", ErrSignedOut)
		e.Fix = "sign in again: the session has ended"
	case resp.StatusCode == http.StatusForbidden && strings.Contains(strings.ToLower(text), "csrf"):
		e.Err = fmt.Errorf("%w: the site refused the request as a CSRF failure", ErrRejected)
		e.Fix = "the Site URL must match the site exactly (https, host and port), since Django checks Origin and Referer against it; if you pasted a session, paste the csrftoken cookie too"
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		e.Err = fmt.Errorf("%w: %s answers %s", ErrRejected, pathHint, resp.Status)
		e.Fix = "check " + pathHint + " in the settings"
	case resp.StatusCode >= 500:
		e.Err = fmt.Errorf("the site answered %s", resp.Status)
	case resp.StatusCode == http.StatusForbidden:
		e.Err = fmt.Errorf("%w: the site answered 403 %s", ErrRejected, s.snippet(text))
		e.Fix = "check the Site URL and " + pathHint
	default:
		e.Err = fmt.Errorf("unexpected answer %s %s", resp.Status, s.snippet(text))
	}
	return e
}

// snippet quotes the start of a plain-text body; HTML pages say nothing
// useful in one line. A refusal may echo the request (URL, Cookie,
// X-CSRFToken, form), so the session's secrets and extra are scrubbed.
func (s *session) snippet(body string, extra ...string) string {
	body = strings.TrimSpace(body)
	if strings.HasPrefix(body, "<") {
		return "(an HTML page)"
	}
	return fmt.Sprintf("%q", cleanLine(scrub(body, s.secrets(extra...)...), 80))
}

// secrets are the values that must never appear in an error or a log:
// the password, the session and CSRF cookies (as pasted and as the jar
// holds them now), and extra (a token).
func (s *session) secrets(extra ...string) []string {
	return append([]string{s.creds.Password, s.creds.SessionID, s.creds.CSRFToken,
		s.cookie(s.cfg.SessionCookieName), s.cookie(csrfCookieName)}, extra...)
}

// siteHeaders sets what Django's CSRF check of an https POST reads.
func (s *session) siteHeaders(req *http.Request, referer string) {
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set("Origin", s.siteOrigin())
	req.Header.Set("Referer", referer)
}

func (s *session) do(req *http.Request) (*http.Response, []byte, error) {
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, nil, redactErr(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", redactErr(err))
	}
	return resp, body, nil
}

// redactErr drops the URL from *url.Error: ours carry no secret, but a
// short message reads better in the tray.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)
	}
	return err
}

// fetchCSRF GETs the login page so Django sets a fresh csrftoken cookie;
// the token request sends that cookie's value as X-CSRFToken, so the
// page's form token is not needed.
func (s *session) fetchCSRF(ctx context.Context) error {
	_, err := s.loginPage(ctx)
	return err
}

var csrfInputRE = regexp.MustCompile(`name=["']csrfmiddlewaretoken["'][^>]*value=["']([^"']+)["']|value=["']([^"']+)["'][^>]*name=["']csrfmiddlewaretoken["']`)

// loginPage GETs the login form and returns its csrfmiddlewaretoken (the
// csrftoken cookie's value when the form has none); the jar keeps the
// cookie Django sets.
func (s *session) loginPage(ctx context.Context) (formToken string, err error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.siteURL(s.cfg.LoginPath), nil)
	if err != nil {
		return "", fmt.Errorf("login page: %w", err)
	}
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	resp, body, err := s.do(req)
	if err != nil {
		return "", &TokenError{Op: "sign-in", Network: true, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return "", s.classify("sign-in", resp, body, "login_path")
	}
	if m := csrfInputRE.FindSubmatch(body); m != nil {
		formToken = string(m[1]) + string(m[2])
	}
	if formToken == "" {
		formToken = s.cookie(csrfCookieName)
	}
	if formToken == "" {
		return "", &TokenError{Op: "sign-in", Status: resp.StatusCode, Err: fmt.Errorf("%w: the login page set no csrftoken cookie", ErrRejected),
			Fix: "check the login path: it must be the site's Django login page"}
	}
	return formToken, nil
}

// signIn posts the Django login form (PROTOCOL.md §1b). Login rotates the
// csrftoken cookie; the jar keeps the new one.
func (s *session) signIn(ctx context.Context) error {
	formToken, err := s.loginPage(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	form := url.Values{"csrfmiddlewaretoken": {formToken}, "username": {s.creds.Username}, "password": {s.creds.Password}}
	loginURL := s.siteURL(s.cfg.LoginPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	s.siteHeaders(req, loginURL)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, err := s.do(req)
	if err != nil {
		return &TokenError{Op: "sign-in", Network: true, Err: err}
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && s.hasSession():
		return nil
	case resp.StatusCode == http.StatusOK:
		return &TokenError{Op: "sign-in", Status: resp.StatusCode,
			Err: fmt.Errorf("%w: the site did not accept the username and password", ErrSignedOut),
			Fix: "check the username and password (sites with single sign-on or two-factor need a pasted session cookie)"}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return &TokenError{Op: "sign-in", Status: resp.StatusCode,
			Err: fmt.Errorf("%w: the login answered a redirect but set no %s cookie", ErrRejected, s.cfg.SessionCookieName),
			Fix: "check the session cookie name and that the Site URL uses https when the site's cookies are Secure"}
	}
	return s.classify("sign-in", resp, body, "login_path")
}
