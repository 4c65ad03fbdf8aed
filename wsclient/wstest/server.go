// Package wstest is an in-process emulator of the backend ToastTray talks to:
// a Django site using django-aws-api-gateway-websockets behind an AWS API
// Gateway WebSocket API. It enforces the rules of PROTOCOL.md (sign-in, CSRF,
// single-use session-bound tokens, handshake headers, rate limits, idle and
// maximum-duration limits, message size) and has switches for faults, so the
// client's tests, the app's demo mode and `toasttray demo-server` all run
// against the same thing, the way net/http/httptest serves both tests and
// tools.
//
// Time-based rules read the clock given in Options, so tests drive them with
// clock.Fake instead of waiting.
package wstest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/toasttray/toasttray/wsclient/clock"
)

// Defaults, taken from PROTOCOL.md.
const (
	DefaultTokenPath         = "/api/ws-token/"
	DefaultLoginPath         = "/accounts/login/"
	DefaultStage             = "prod"
	DefaultSessionCookieName = "sessionid"
	DefaultChannel           = "default"
	DefaultTokenTTL          = 60 * time.Second
	DefaultIdleTimeout       = 10 * time.Minute
	DefaultMaxDuration       = 2 * time.Hour
	DefaultRateLimit         = 20  // per minute, for tokens and for connects
	DefaultCatchupMax        = 200 // backlog toasts per catch-up answer, the app's default
	// MaxMessageSize is the gateway's message limit in both directions.
	MaxMessageSize = 128 * 1024
	// FrameSize is the size of the frames the gateway splits messages into.
	FrameSize = 32 * 1024
	// RateWindow is the window of every rate limit.
	RateWindow = time.Minute
	// CSRFCookieName is Django's default CSRF cookie.
	CSRFCookieName = "csrftoken"
	// DemoUser and DemoPassword are the user of a server without Users
	// (and demo-server's and the tray's -demo defaults).
	DemoUser     = "demo"
	DemoPassword = "demo"
)

// Options configure a Server. The zero value is a usable server with one user
// "demo" (password "demo").
type Options struct {
	Users map[string]string // username → password; default {"demo": "demo"}
	// TokenPath, LoginPath and Stage default to "/api/ws-token/",
	// "/accounts/login/" and "prod" (the WebSocket URL is ws://host/<stage>).
	TokenPath, LoginPath, Stage string
	SessionCookieName           string // default "sessionid"
	DefaultChannel              string // channel of a connect without one; default "default"
	Clock                       clock.Clock
	// TokenTTL, IdleTimeout, MaxDuration default to 60s, 10m and 2h.
	TokenTTL, IdleTimeout, MaxDuration time.Duration
	// Limits per RateWindow (one minute, sliding). 0 means the default of 20;
	// a negative value disables the limit. Fleet tests where many clients
	// share 127.0.0.1 (like an office NAT) raise ConnectRateLimitPerIP.
	TokenRateLimit, ConnectRateLimitPerIP, ConnectRateLimitPerUser int
	RefuseStatus                                                   int  // HTTP status of a refused handshake; default 403
	IgnorePings                                                    bool // never answer ping frames (the real gateway may not)
	Logger                                                         *slog.Logger
	// TLS serves https/wss with httptest's certificate (see Certificate),
	// offering h2 and http/1.1 via ALPN like real servers; Client speaks h2.
	TLS bool
	// Addr to listen on; default "127.0.0.1:0". Only loopback addresses are
	// accepted unless Public is set, since the control endpoints have no auth.
	// With Public, /_push, /_control/, /_stats and @connections answer only
	// requests from this machine; the site and gateway answer everyone.
	Addr   string
	Public bool
	// CatchupHandler, if set, is answered as the site's catch-up app
	// does (see SendToast); CatchupMax caps one answer's backlog (default
	// 200, the app's): beyond it the terminator says "more".
	CatchupHandler string
	CatchupMax     int
}

func (o Options) withDefaults() Options {
	if o.Users == nil {
		o.Users = map[string]string{DemoUser: DemoPassword}
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.TokenPath, DefaultTokenPath)
	def(&o.LoginPath, DefaultLoginPath)
	def(&o.Stage, DefaultStage)
	def(&o.SessionCookieName, DefaultSessionCookieName)
	def(&o.DefaultChannel, DefaultChannel)
	def(&o.Addr, "127.0.0.1:0")
	o.Stage = strings.Trim(o.Stage, "/")
	if o.Clock == nil {
		o.Clock = clock.Real
	}
	dur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	dur(&o.TokenTTL, DefaultTokenTTL)
	dur(&o.IdleTimeout, DefaultIdleTimeout)
	dur(&o.MaxDuration, DefaultMaxDuration)
	lim := func(n *int) {
		if *n == 0 {
			*n = DefaultRateLimit
		}
	}
	lim(&o.TokenRateLimit)
	lim(&o.ConnectRateLimitPerIP)
	lim(&o.ConnectRateLimitPerUser)
	if o.CatchupMax <= 0 {
		o.CatchupMax = DefaultCatchupMax
	}
	if o.RefuseStatus == 0 {
		o.RefuseStatus = http.StatusForbidden
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server is a running emulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the site URL, e.g. http://127.0.0.1:41234 (https with TLS).
	URL string
	// WSURL is the WebSocket URL, e.g. ws://127.0.0.1:41234/prod.
	WSURL string

	opts    Options
	clock   clock.Clock
	log     *slog.Logger
	ts      *httptest.Server
	handler http.Handler
	done    chan struct{} // closed by Close: every goroutine of ours ends
	wg      sync.WaitGroup
	started bool

	mu         sync.Mutex
	closed     bool
	users      map[string]string
	sessions   map[string]string // session id → user
	tokens     map[string]*tokenRec
	tokenTimes map[string][]time.Time // user → issue times
	connIP     map[string][]time.Time // IP → attempt times
	connUser   map[string][]time.Time // user → attempt times
	conns      map[string]*wsConn
	received   []ClientMessage
	counters   Counters
	accepting  bool
	blackhole  chan struct{} // non-nil while on; closed on heal
	tokenFault TokenFault
	faultCh    chan struct{} // closed and replaced when tokenFault changes
	changed    chan struct{} // closed and replaced on every state change
	httpConns  int           // open plain-HTTP connections (not upgraded)
	cu         catchupSite
}

type tokenRec struct {
	session, user string
	issued        time.Time
	used          bool
}

// Counters are what the server has done so far.
type Counters struct {
	LoginsOK, LoginsFailed int
	TokensIssued           int
	Connects               int // upgraded WebSocket connections
	Disconnects            int
	MessagesReceived       int // client messages recorded
	PushesDelivered        int // frames handed to a client's socket (pushes and garbage)
	Refusals               map[Reason]int
}

// Refused returns the refusal count for r.
func (c Counters) Refused(r Reason) int { return c.Refusals[r] }

// Reason names why a request was refused.
type Reason string

// Refusal reasons. The real backend tells the client much less; these let
// tests assert on exactly which rule fired.
const (
	ReasonNotAccepting    Reason = "not-accepting" // SetAccepting(false): connection reset
	ReasonNotWebSocket    Reason = "not-websocket"
	ReasonRateLimitedIP   Reason = "rate-limited-ip"
	ReasonRateLimitedUser Reason = "rate-limited-user"
	ReasonMissingHeader   Reason = "missing-header"
	ReasonBadOrigin       Reason = "bad-origin"
	ReasonNoSession       Reason = "no-session"
	ReasonNoToken         Reason = "no-token"
	ReasonUnknownToken    Reason = "unknown-token"
	ReasonReusedToken     Reason = "reused"
	ReasonExpiredToken    Reason = "expired"
	ReasonWrongSession    Reason = "wrong-session"
	ReasonBadChannel      Reason = "bad-channel"

	ReasonTokenMethod      Reason = "token-method" // GET etc. → 405
	ReasonTokenCSRF        Reason = "token-csrf"
	ReasonTokenNoAuth      Reason = "token-no-auth"
	ReasonTokenRateLimited Reason = "token-rate-limited"
	ReasonTokenFault       Reason = "token-fault" // SetTokenFault(TokenError500)

	ReasonLoginCSRF Reason = "login-csrf"
)

// ReasonHeader carries the refusal reason on refused handshakes, for
// debugging tests. The real gateway sends nothing like it: clients must not
// depend on it.
const ReasonHeader = "X-Wstest-Reason"

// ConnInfo describes an open WebSocket connection.
type ConnInfo struct {
	ID          string // API Gateway style connection ID, usable with PushTo
	User        string
	Channel     string // after applying DefaultChannel
	Opened      time.Time
	RemoteAddr  string
	UserAgent   string
	Compression bool // permessage-deflate was negotiated
}

// ClientMessage is one frame a client sent.
type ClientMessage struct {
	ConnID, User, Channel string
	At                    time.Time
	Binary                bool
	Raw                   []byte
	// Action and Handler are the "action" and "handler" fields ("" when
	// absent); Params holds the other fields. Err says why Raw is not a JSON
	// object, if it is not.
	Action, Handler string
	Params          map[string]any
	Err             string
}

// NewServer starts a server (see Options). It panics if it cannot listen,
// as httptest.NewServer does; use NewUnstartedServer and Start for an error.
func NewServer(opts Options) *Server {
	s := NewUnstartedServer(opts)
	if err := s.Start(); err != nil {
		panic(err)
	}
	return s
}

// NewUnstartedServer returns a server that is not listening yet: call Start,
// or serve Handler yourself.
func NewUnstartedServer(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:       opts,
		clock:      opts.Clock,
		log:        opts.Logger,
		done:       make(chan struct{}),
		users:      make(map[string]string, len(opts.Users)),
		sessions:   make(map[string]string),
		tokens:     make(map[string]*tokenRec),
		tokenTimes: make(map[string][]time.Time),
		connIP:     make(map[string][]time.Time),
		connUser:   make(map[string][]time.Time),
		conns:      make(map[string]*wsConn),
		accepting:  true,
		faultCh:    make(chan struct{}),
		changed:    make(chan struct{}),
		counters:   Counters{Refusals: map[Reason]int{}},
	}
	for u, p := range opts.Users {
		s.users[u] = p
	}
	s.handler = http.HandlerFunc(s.serveHTTP)
	return s
}

// Start listens on Options.Addr and serves.
func (s *Server) Start() error {
	if s.started {
		return errors.New("wstest: server already started")
	}
	host, _, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return fmt.Errorf("wstest: bad address %q: %w", s.opts.Addr, err)
	}
	if !s.opts.Public && !IsLoopback(host) {
		return fmt.Errorf("wstest: address %q is not loopback (set Public to allow)", s.opts.Addr)
	}
	l, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("wstest: listen: %w", err)
	}
	s.started = true
	s.ts = &httptest.Server{
		Listener: &gateListener{Listener: l, s: s},
		Config: &http.Server{
			Handler:           s.handler,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
			ConnState:         s.trackHTTPConn,
		},
	}
	if s.opts.TLS {
		// Offer h2 first, as nginx with http2, Caddy and Go servers do: a
		// client must not offer it for the WebSocket handshake.
		s.ts.EnableHTTP2 = true
		s.ts.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	s.URL = s.ts.URL
	u, _ := url.Parse(s.ts.URL)
	if s.opts.TLS {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path = "/" + s.opts.Stage
	s.WSURL = u.String()
	s.log.Info("wstest: listening", "url", s.URL, "ws_url", s.WSURL)
	return nil
}

// IsLoopback reports whether host (a name or an IP, without port) is a
// loopback address. "localhost" counts; other names do not.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Handler serves the whole emulator, for callers that run their own
// http.Server. URL and WSURL stay empty then; the rules use the request's
// Host, as Django does.
func (s *Server) Handler() http.Handler { return s.handler }

// TokenPath, LoginPath, Stage and SessionCookieName return the effective
// settings, defaults applied.
func (s *Server) TokenPath() string         { return s.opts.TokenPath }
func (s *Server) LoginPath() string         { return s.opts.LoginPath }
func (s *Server) Stage() string             { return s.opts.Stage }
func (s *Server) SessionCookieName() string { return s.opts.SessionCookieName }
func (s *Server) DefaultChannel() string    { return s.opts.DefaultChannel }

// Certificate returns the TLS certificate of a TLS server (nil otherwise),
// for a client's RootCAs.
func (s *Server) Certificate() *x509.Certificate {
	if s.ts == nil || !s.opts.TLS {
		return nil
	}
	return s.ts.Certificate()
}

// CertificatePEM is Certificate in PEM, for a client's CA file.
func (s *Server) CertificatePEM() []byte {
	c := s.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Client returns httptest's http.Client, which trusts the server's
// certificate. It is shared: copy it before setting a cookie jar.
func (s *Server) Client() *http.Client {
	if s.ts == nil {
		return &http.Client{}
	}
	return s.ts.Client()
}

// TLSConfig returns a client TLS config trusting the server (nil without TLS).
func (s *Server) TLSConfig() *tls.Config {
	c := s.Certificate()
	if c == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return &tls.Config{RootCAs: pool}
}

// Close drops every connection and stops every goroutine of the server.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.notifyLocked()
	s.mu.Unlock()
	if s.ts != nil {
		s.ts.Close()
	}
	s.wg.Wait()
	s.log.Info("wstest: closed")
}

// goroutine runs f as a goroutine that Close waits for. It returns false
// (and does not run f) once the server is closed.
func (s *Server) goroutine(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// enter registers the calling handler with Close's WaitGroup; leave must
// follow when enter returns true.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) leave() { s.wg.Done() }

// notifyLocked wakes WaitFor callers. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor blocks until cond returns true, re-checking it on every change of
// the server's state (connections, messages, counters, faults), or until ctx
// ends or the server closes. cond may call the server's methods.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wstest: wait: %w", ctx.Err())
		case <-s.done:
			if cond() {
				return nil
			}
			return errors.New("wstest: wait: server closed")
		}
	}
}

// trackHTTPConn counts open connections that are not WebSockets: a
// hijacked connection has become one and is counted by NumConnections.
func (s *Server) trackHTTPConn(_ net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case http.StateNew:
		s.httpConns++
	case http.StateHijacked, http.StateClosed:
		s.httpConns--
	default:
		return
	}
	s.notifyLocked()
}

// NumHTTPConnections reports the open plain-HTTP connections (sign-in and
// token requests, idle keep-alives included), so tests can check that a
// client does not hold connections it no longer needs.
func (s *Server) NumHTTPConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpConns
}

// WaitConnections blocks until exactly n connections are open.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	err := s.WaitFor(ctx, func() bool { return s.NumConnections() == n })
	if err != nil {
		return fmt.Errorf("waiting for %d connections (have %d): %w", n, s.NumConnections(), err)
	}
	return nil
}

// WaitReceived blocks until at least n client messages have been recorded
// and returns them all.
func (s *Server) WaitReceived(ctx context.Context, n int) ([]ClientMessage, error) {
	err := s.WaitFor(ctx, func() bool { return len(s.Received()) >= n })
	if err != nil {
		return s.Received(), fmt.Errorf("waiting for %d client messages: %w", n, err)
	}
	return s.Received(), nil
}

// NumConnections returns how many WebSocket connections are open.
func (s *Server) NumConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Connections lists the open connections, oldest first.
func (s *Server) Connections() []ConnInfo {
	s.mu.Lock()
	out := make([]ConnInfo, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c.info)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Opened.Equal(out[j].Opened) {
			return out[i].Opened.Before(out[j].Opened)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Received returns a copy of every client message recorded so far.
func (s *Server) Received() []ClientMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ClientMessage(nil), s.received...)
}

// Counters returns a snapshot of the counters.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters
	c.Refusals = make(map[Reason]int, len(s.counters.Refusals))
	for k, v := range s.counters.Refusals {
		c.Refusals[k] = v
	}
	return c
}

// AddUser adds or changes a user's password.
func (s *Server) AddUser(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[user] = password
}

// NewSession creates a signed-in session for user, as if they had logged in
// with a browser, and returns the values a user would paste from it.
// csrfToken is a fresh CSRF secret: send it as the csrftoken cookie and the
// X-CSRFToken header.
func (s *Server) NewSession(user string) (sessionID, csrfToken string) {
	sessionID = randomString(32, sessionAlphabet)
	s.mu.Lock()
	s.sessions[sessionID] = user
	s.notifyLocked()
	s.mu.Unlock()
	return sessionID, newCSRFSecret()
}

// refuse counts a refusal. s.mu must be held.
func (s *Server) refuseLocked(r Reason) {
	s.counters.Refusals[r]++
	s.notifyLocked()
}

// allowRate applies a sliding-window limit to times[key], recording now if
// record is set. It returns false when limit attempts are already in the
// window. s.mu must be held.
func (s *Server) allowRateLocked(m map[string][]time.Time, key string, limit int, now time.Time) bool {
	if limit < 0 {
		return true
	}
	ts := m[key]
	cut := 0
	for cut < len(ts) && !ts[cut].After(now.Add(-RateWindow)) {
		cut++
	}
	ts = ts[cut:]
	if len(ts) == 0 {
		delete(m, key)
	} else {
		m[key] = ts
	}
	return len(ts) < limit
}

func recordRate(m map[string][]time.Time, key string, now time.Time) {
	m[key] = append(m[key], now)
}
