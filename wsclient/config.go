package wsclient

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Defaults. Timing constants are derived from the gateway's limits
// (PROTOCOL.md §5) and from the token rate limit (20 a minute).
const (
	DefaultTokenPath         = "/api/ws-token/"
	DefaultLoginPath         = "/accounts/login/"
	DefaultRouteKey          = "$default"
	DefaultSessionCookieName = "sessionid"
	DefaultUserAgent         = "ToastTray"

	// MaxKeepaliveInterval stays a minute under the gateway's 10-minute
	// idle timeout, so one late timer cannot let it fire.
	MaxKeepaliveInterval = 9 * time.Minute
	// DefaultBackoffBase and DefaultBackoffCap: the first retry comes fast
	// (a short outage heals in about a second); the cap keeps a long outage
	// to about 2 tokens a minute per client, far under the 20/min limit.
	DefaultBackoffBase = 500 * time.Millisecond
	DefaultBackoffCap  = 30 * time.Second
	// DefaultStableAfter: a connection that lasted this long resets the
	// backoff; a server that accepts and drops at once cannot cause a loop.
	DefaultStableAfter = 10 * time.Second
	// DefaultPingInterval and DefaultPongWait: a dead socket is noticed
	// within PingInterval+PongWait, from the start of a connection (the
	// first ping goes out on connect), when the peer answers pings. The
	// pong wait is a third of the interval, as long as a slow link's
	// round trip may need yet short enough that a deadline is over well
	// before the next ping.
	DefaultPingInterval = 30 * time.Second
	DefaultPongWait     = DefaultPingInterval / 3
	// DefaultRotateAfter leaves 5 minutes before the gateway's 2-hour cap
	// on a connection's life.
	DefaultRotateAfter = 2*time.Hour - 5*time.Minute
	// DefaultHandshakeTimeout bounds each of TCP connect, TLS and the
	// WebSocket upgrade, for the WebSocket and for token requests alike.
	DefaultHandshakeTimeout = 15 * time.Second

	// MaxMessageSize fits the gateway's 128 KB messages with room for a
	// little framing slack.
	MaxMessageSize = 128*1024 + 1024
	// MaxChannelLen is the server's limit on channel names.
	MaxChannelLen = 128
)

// Config says where and how to connect. Zero durations take defaults.
type Config struct {
	SiteURL, WSURL, TokenPath, LoginPath, Channel, RouteKey string
	SessionCookieName                                       string        // default "sessionid"
	KeepaliveHandler                                        string        // "" = no application keepalive
	KeepaliveInterval                                       time.Duration // default and max 9m
	CatchupHandler                                          string        // "" = no catch-up (catchup.go)
	CAFile                                                  string        // optional PEM bundle for private CAs
	Proxy                                                   string        // "" = automatic (environment, then system), ProxyDirect, or a proxy URL
	UserAgent                                               string        // UserAgent(version)
	BackoffBase, BackoffCap, StableAfter, PingInterval, PongWait,
	RotateAfter, HandshakeTimeout time.Duration // zero → defaults
}

// WithDefaults fills every empty field with its default and clamps the
// keepalive interval to the gateway's idle timeout.
func (c Config) WithDefaults() Config {
	def := func(s *string, v string) {
		*s = strings.TrimSpace(*s)
		if *s == "" {
			*s = v
		}
	}
	c.SiteURL = strings.TrimSpace(c.SiteURL)
	c.WSURL = strings.TrimSpace(c.WSURL)
	c.Channel = strings.TrimSpace(c.Channel)
	c.KeepaliveHandler = strings.TrimSpace(c.KeepaliveHandler)
	c.CatchupHandler = strings.TrimSpace(c.CatchupHandler)
	c.CAFile = strings.TrimSpace(c.CAFile)
	c.Proxy = strings.TrimSpace(c.Proxy)
	def(&c.TokenPath, DefaultTokenPath)
	def(&c.LoginPath, DefaultLoginPath)
	def(&c.RouteKey, DefaultRouteKey)
	def(&c.SessionCookieName, DefaultSessionCookieName)
	def(&c.UserAgent, DefaultUserAgent)
	dur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	dur(&c.KeepaliveInterval, MaxKeepaliveInterval)
	c.KeepaliveInterval = min(c.KeepaliveInterval, MaxKeepaliveInterval)
	dur(&c.BackoffBase, DefaultBackoffBase)
	dur(&c.BackoffCap, DefaultBackoffCap)
	c.BackoffCap = max(c.BackoffCap, c.BackoffBase)
	dur(&c.StableAfter, DefaultStableAfter)
	dur(&c.PingInterval, DefaultPingInterval)
	dur(&c.PongWait, max(c.PingInterval/(DefaultPingInterval/DefaultPongWait), time.Millisecond)) // the same share of a configured interval
	dur(&c.RotateAfter, DefaultRotateAfter)
	dur(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	return c
}

// FieldError is one invalid field; Field is one of the names listed on
// Validate, Reason a sentence fragment for the settings window.
type FieldError struct {
	Field, Reason string
}

// ValidationError lists every invalid field at once, so a settings window
// can mark them all.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Reason
	}
	return "invalid configuration: " + strings.Join(parts, "; ")
}

var (
	channelRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	handlerRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// UserAgent is the User-Agent for an app version: "ToastTray/<version>",
// or DefaultUserAgent without one.
func UserAgent(version string) string {
	if version == "" {
		return DefaultUserAgent
	}
	return DefaultUserAgent + "/" + version
}

// Validate checks the configuration after WithDefaults. Field names:
// "site_url", "ws_url", "token_path", "login_path", "channel", "route_key",
// "keepalive_handler", "catchup_handler", "ca_file", "proxy", and "timing" for
// negative durations.
func (c Config) Validate() error {
	var fe []FieldError
	add := func(field, format string, a ...any) {
		fe = append(fe, FieldError{Field: field, Reason: fmt.Sprintf(format, a...)})
	}
	for _, d := range []time.Duration{c.KeepaliveInterval, c.BackoffBase, c.BackoffCap, c.StableAfter,
		c.PingInterval, c.PongWait, c.RotateAfter, c.HandshakeTimeout} {
		if d < 0 {
			add("timing", "durations must not be negative")
			break
		}
	}
	c = c.WithDefaults()
	if reason := checkURL(c.SiteURL, "https", "http", "https://www.example.com"); reason != "" {
		add("site_url", "%s", reason)
	} else if u, _ := url.Parse(c.SiteURL); u.RawQuery != "" || u.Fragment != "" {
		add("site_url", "must not have a query or fragment")
	}
	if reason := checkURL(c.WSURL, "wss", "ws", "wss://ws.example.com"); reason != "" {
		add("ws_url", "%s", reason)
	}
	checkPath := func(field, p string) {
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "?# \t\r\n") {
			add(field, "must be a path on the site starting with /, e.g. %s", map[string]string{
				"token_path": DefaultTokenPath, "login_path": DefaultLoginPath}[field])
		}
	}
	checkPath("token_path", c.TokenPath)
	checkPath("login_path", c.LoginPath)
	if err := validateChannel(c.Channel); err != nil {
		add("channel", "%s", err.Error())
	}
	if len(c.RouteKey) > 128 || strings.ContainsFunc(c.RouteKey, isStripped) || strings.ContainsRune(c.RouteKey, ' ') {
		add("route_key", "must be a route name without spaces, e.g. $default")
	}
	if c.KeepaliveHandler != "" && (len(c.KeepaliveHandler) > 128 || !handlerRE.MatchString(c.KeepaliveHandler)) {
		add("keepalive_handler", "must be a handler (method) name such as keepalive, or empty for none")
	}
	if c.CatchupHandler != "" && (len(c.CatchupHandler) > 128 || !handlerRE.MatchString(c.CatchupHandler)) {
		add("catchup_handler", "must be a handler (method) name such as catchup, or empty for none")
	}
	if strings.ContainsFunc(c.SessionCookieName, func(r rune) bool { return r <= ' ' || strings.ContainsRune("=;,\"\\", r) }) {
		add("site_url", "session cookie name %q is not a valid cookie name", c.SessionCookieName)
	}
	if c.CAFile != "" {
		if _, err := loadCAFile(c.CAFile); err != nil {
			add("ca_file", "%s", err.Error())
		}
	}
	if reason := validateProxy(c.Proxy); reason != "" {
		add("proxy", "%s", reason)
	}
	if len(fe) > 0 {
		return &ValidationError{Fields: fe}
	}
	return nil
}

// validateChannel applies the server's rule (PROTOCOL.md §2); an invalid
// name would make the server fail after consuming the token.
func validateChannel(ch string) error {
	if ch == "" {
		return nil // the site's default channel
	}
	if len(ch) > MaxChannelLen {
		return fmt.Errorf("must be at most %d characters", MaxChannelLen)
	}
	if !channelRE.MatchString(ch) {
		return errors.New("may contain only letters, digits, _ and -")
	}
	return nil
}

// checkURL returns "" when raw is an absolute URL with the secure scheme,
// or the plain one on a loopback host.
func checkURL(raw, secure, plain, example string) string {
	if raw == "" {
		return "required, e.g. " + example
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "must be a full URL, e.g. " + example
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	switch strings.ToLower(u.Scheme) {
	case secure:
		return ""
	case plain:
		if isLoopbackHost(u.Hostname()) {
			return ""
		}
		return fmt.Sprintf("must use %s:// (%s:// is allowed only for localhost)", secure, plain)
	}
	return "must start with " + secure + "://, e.g. " + example
}

// loadCAFile returns the system roots plus a PEM bundle that must hold at
// least one certificate: the CA file adds authorities, it does not replace
// the system's (a site and its gateway may use different CAs).
func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system store: the CA file alone
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("the CA file holds no PEM certificate")
	}
	return pool, nil
}
