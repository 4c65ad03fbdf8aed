package wstest

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/toasttray/toasttray/wsclient/clock"
)

// channelPattern is the package's rule for channel names; PROTOCOL.md caps
// them at 128 characters.
var channelPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ValidChannel reports whether name is a channel the backend accepts
// ("" means the default channel and is valid).
func ValidChannel(name string) bool { return name == "" || channelPattern.MatchString(name) }

// requiredHeaders are what Django's connect view insists on (plus the
// User-Agent API Gateway forwards).
var requiredHeaders = []string{"Cookie", "Origin", "Sec-WebSocket-Extensions",
	"Sec-WebSocket-Key", "Sec-WebSocket-Version", "User-Agent"}

// closeWait bounds how long a server-initiated close waits for the client's
// close reply before dropping TCP; a bound, not a synchronisation.
const closeWait = 2 * time.Second

// wsConn is one upgraded connection. The handler goroutine that upgraded it
// is its only writer (pushes, closes); one reader goroutine records what the
// client sends.
type wsConn struct {
	info     ConnInfo
	ws       *websocket.Conn
	gate     *gateConn
	send     chan outMsg // pushes, buffered; full → dropped
	closeReq chan int    // close code requested by DropAll, buffer 1
	// closing: a close was requested (guarded by Server.mu). Pushes no
	// longer reach the connection, as on API Gateway, where a connection
	// is gone for posts once DELETE has answered.
	closing    bool
	readerDone chan struct{} // closed when the reader ends
	lastActive time.Time     // guarded by Server.mu
	closeCode  atomic.Int64  // the code the server closed with, 0 if none
	// resetPending: ResetAll came while the 101 was being written.
	// Guarded by Server.mu, like ws and gate, which are nil until then.
	resetPending bool
	deaf         bool // guarded by Server.mu; see Deafen
}

type outMsg struct {
	typ  int
	data []byte
}

// newConnID makes an ID shaped like API Gateway's ("L0SM9cOFvHcCIhw=").
func newConnID() string {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("wstest: crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b) + "="
}

// serveGateway is API Gateway's $connect plus the package's connect view.
// Checks run in the view's order; the token is consumed before the channel
// is validated, as the real one does.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	if s.dropIfBlackholed(w) {
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		s.mu.Lock()
		s.refuseLocked(ReasonNotWebSocket)
		s.mu.Unlock()
		http.Error(w, `{"message":"Upgrade Required"}`, http.StatusUpgradeRequired)
		return
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	sessUser := s.sessionUser(r)
	now := s.clock.Now()
	q := r.URL.Query()

	s.mu.Lock()
	refuse := func(reason Reason, djangoStatus int, msg string) {
		s.refuseLocked(reason)
		s.mu.Unlock()
		s.log.Info("wstest: connect refused", "reason", reason, "django", fmt.Sprintf("%d %s", djangoStatus, msg),
			"remote", ip, "user", sessUser)
		w.Header().Set(ReasonHeader, string(reason))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.opts.RefuseStatus)
		fmt.Fprint(w, `{"message": "Forbidden"}`)
	}
	// Rate limits count successful connects and rate-limited attempts, as
	// the package's ConnectionRateLimit records them.
	if !s.allowRateLocked(s.connIP, ip, s.opts.ConnectRateLimitPerIP, now) {
		recordRate(s.connIP, ip, now)
		if sessUser != "" {
			recordRate(s.connUser, sessUser, now)
		}
		refuse(ReasonRateLimitedIP, 400, "Too many connection attempts")
		return
	}
	if sessUser != "" && !s.allowRateLocked(s.connUser, sessUser, s.opts.ConnectRateLimitPerUser, now) {
		recordRate(s.connIP, ip, now)
		recordRate(s.connUser, sessUser, now)
		refuse(ReasonRateLimitedUser, 400, "Too many connection attempts")
		return
	}
	missing := 0
	for _, h := range requiredHeaders {
		if r.Header.Get(h) == "" {
			missing++
		}
	}
	if missing > 0 {
		refuse(ReasonMissingHeader, 400, fmt.Sprintf("Missing %d headers", missing))
		return
	}
	if !strings.Contains(r.Header.Get("Origin"), r.Host) {
		refuse(ReasonBadOrigin, 400, "Host is not in Origin")
		return
	}
	sid := ""
	if c, err := r.Cookie(s.opts.SessionCookieName); err == nil {
		sid = c.Value
	}
	if _, ok := s.sessions[sid]; !ok {
		refuse(ReasonNoSession, 400, "Invalid session")
		return
	}
	tokVal := q.Get("ws_token")
	tok := s.tokens[tokVal]
	switch {
	case tokVal == "":
		refuse(ReasonNoToken, 400, "Invalid or expired token")
		return
	case tok == nil:
		refuse(ReasonUnknownToken, 400, "Invalid or expired token")
		return
	case tok.used:
		refuse(ReasonReusedToken, 400, "Invalid or expired token")
		return
	case tok.session != sid:
		refuse(ReasonWrongSession, 400, "Invalid or expired token")
		return
	case now.Sub(tok.issued) > s.opts.TokenTTL:
		refuse(ReasonExpiredToken, 400, "Invalid or expired token")
		return
	}
	tok.used = true
	channel := q.Get("channel")
	if !ValidChannel(channel) {
		refuse(ReasonBadChannel, 500, "ValueError: Invalid channel name")
		return
	}
	if channel == "" {
		channel = s.opts.DefaultChannel
	}
	recordRate(s.connIP, ip, now)
	recordRate(s.connUser, tok.user, now)
	s.mu.Unlock()

	up := websocket.Upgrader{
		ReadBufferSize:    FrameSize,
		WriteBufferSize:   FrameSize, // the gateway sends frames of at most 32 KB
		EnableCompression: true,
		CheckOrigin:       func(*http.Request) bool { return true }, // checked above, Django's way
	}
	c := &wsConn{
		send:       make(chan outMsg, 256),
		closeReq:   make(chan int, 1),
		readerDone: make(chan struct{}),
		info: ConnInfo{
			ID: newConnID(), User: tok.user, Channel: channel, Opened: now,
			RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent(),
			// gorilla agrees to permessage-deflate whenever it is offered.
			Compression: strings.Contains(r.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate"),
		},
	}
	// The connection is registered, with its timers, before the 101 goes
	// out: a client that has connected can be pushed to at once (pushes
	// queue), and a test that saw it in Connections can advance a fake
	// clock right away.
	idle := s.clock.NewTimer(s.opts.IdleTimeout)
	maxDur := s.clock.NewTimer(s.opts.MaxDuration)
	s.mu.Lock()
	c.lastActive = now
	s.conns[c.info.ID] = c
	s.counters.Connects++
	s.notifyLocked()
	s.mu.Unlock()
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		idle.Stop()
		maxDur.Stop()
		s.mu.Lock()
		delete(s.conns, c.info.ID)
		s.counters.Connects--
		s.notifyLocked()
		s.mu.Unlock()
		s.log.Info("wstest: upgrade failed", "err", err)
		return
	}
	s.mu.Lock()
	c.ws = ws
	c.gate = findGate(ws.NetConn())
	reset := c.resetPending
	s.mu.Unlock()
	if reset {
		resetConn(ws.NetConn())
	}
	if c.gate != nil {
		c.gate.ws.Store(true)
	}
	s.log.Info("wstest: connected", "id", c.info.ID, "user", c.info.User, "channel", channel)
	s.runConn(c, idle, maxDur)
}

// dropIfBlackholed swallows a handshake that arrives during a blackhole:
// like packets lost in a partition, it never reaches Django (so it consumes
// no token); the TCP connection stays open, silent, until the blackhole
// heals or the server closes, and is then closed. It reports whether it
// took the request.
func (s *Server) dropIfBlackholed(w http.ResponseWriter) bool {
	s.mu.Lock()
	bh := s.blackhole
	s.mu.Unlock()
	if bh == nil {
		return false
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	nc, _, err := hj.Hijack()
	if err != nil {
		return true
	}
	defer nc.Close()
	select {
	case <-bh:
	case <-s.done:
	}
	return true
}

// runConn is the connection's writer and owner: it starts the reader,
// applies the idle and maximum-duration limits, writes pushes and closes.
func (s *Server) runConn(c *wsConn, idle, maxDur clock.Timer) {
	readerStarted := s.goroutine(func() { s.readLoop(c) })
	if !readerStarted {
		close(c.readerDone)
	}
	defer func() {
		c.gate.Close()
		_ = c.ws.Close()
		<-c.readerDone
		s.mu.Lock()
		delete(s.conns, c.info.ID)
		s.counters.Disconnects++
		s.notifyLocked()
		s.mu.Unlock()
		s.log.Info("wstest: disconnected", "id", c.info.ID, "user", c.info.User, "code", c.closeCode.Load())
	}()
	defer idle.Stop()
	defer maxDur.Stop()
	for {
		select {
		case m := <-c.send:
			// Counted before the write, so a test that has read the
			// message also sees it counted.
			s.mu.Lock()
			c.lastActive = s.clock.Now() // pushes count as activity
			s.counters.PushesDelivered++
			s.notifyLocked()
			s.mu.Unlock()
			if err := c.ws.WriteMessage(m.typ, m.data); err != nil {
				s.log.Debug("wstest: write failed", "id", c.info.ID, "err", err)
				return
			}
		case <-idle.C():
			// The deadline is last activity + IdleTimeout; client messages
			// move lastActive without touching the timer.
			s.mu.Lock()
			left := c.lastActive.Add(s.opts.IdleTimeout).Sub(s.clock.Now())
			s.mu.Unlock()
			if left > 0 {
				idle.Reset(left)
				continue
			}
			s.closeConn(c, websocket.CloseGoingAway, "Going away (idle timeout)")
			return
		case <-maxDur.C():
			s.closeConn(c, websocket.CloseGoingAway, "Going away (maximum connection duration)")
			return
		case code := <-c.closeReq:
			s.closeConn(c, code, "")
			return
		case <-c.readerDone:
			return
		case <-s.done:
			c.closeCode.Store(websocket.CloseGoingAway)
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
			return
		}
	}
}

// closeConn sends a close frame and waits, bounded, for the client's reply.
func (s *Server) closeConn(c *wsConn, code int, text string) {
	c.closeCode.Store(int64(code))
	msg := websocket.FormatCloseMessage(code, text)
	if code == websocket.CloseNoStatusReceived {
		msg = []byte{}
	}
	if err := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait)); err != nil {
		return
	}
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-c.readerDone:
	case <-t.C:
	case <-s.done:
	}
}

// readLoop records client messages until the connection ends.
func (s *Server) readLoop(c *wsConn) {
	defer close(c.readerDone)
	c.ws.SetReadLimit(MaxMessageSize) // on the wire; gorilla closes with 1009
	if s.opts.IgnorePings {
		c.ws.SetPingHandler(func(string) error { return nil })
	}
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		// Compressed frames can hide a big message: check the inflated size.
		data, err := io.ReadAll(io.LimitReader(r, MaxMessageSize+1))
		if err != nil {
			return
		}
		if len(data) > MaxMessageSize {
			c.closeCode.Store(websocket.CloseMessageTooBig)
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""), time.Now().Add(closeWait))
			return
		}
		s.record(c, typ, data)
	}
}

func (s *Server) record(c *wsConn, typ int, data []byte) {
	m := ClientMessage{
		ConnID: c.info.ID, User: c.info.User, Channel: c.info.Channel,
		At: s.clock.Now(), Binary: typ == websocket.BinaryMessage, Raw: data,
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		m.Err = "not a JSON object"
		if err != nil {
			m.Err = err.Error()
		}
	} else {
		m.Action, _ = obj["action"].(string)
		m.Handler, _ = obj["handler"].(string)
		delete(obj, "action")
		delete(obj, "handler")
		m.Params = obj
	}
	s.mu.Lock()
	c.lastActive = m.At
	s.received = append(s.received, m)
	s.counters.MessagesReceived++
	s.answerCatchupLocked(c, m)
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Debug("wstest: message", "id", c.info.ID, "action", m.Action, "handler", m.Handler, "bytes", len(data))
}

// ErrGone is PushTo's error for a connection that does not exist, the
// management API's 410 GoneException.
var ErrGone = errors.New("wstest: GoneException: no such connection")

// encode turns a push value into a frame body: []byte and json.RawMessage
// go as they are, anything else as JSON.
func encode(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case json.RawMessage:
		return x, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("wstest: encode push: %w", err)
	}
	return b, nil
}

// Push sends v to every connection on channel ("" = the default channel)
// and returns how many connections it was queued to.
func (s *Server) Push(channel string, v any) int {
	b, err := encode(v)
	if err != nil {
		s.log.Warn("wstest: push not sent", "err", err)
		return 0
	}
	return s.pushRaw(channel, websocket.TextMessage, b)
}

func (s *Server) pushRaw(channel string, typ int, b []byte) int {
	if channel == "" {
		channel = s.opts.DefaultChannel
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if c.info.Channel == channel && !c.closing && !c.deaf && c.enqueue(typ, b) {
			n++
		}
	}
	return n
}

// PushTo sends v to one connection; ErrGone if it is not open.
func (s *Server) PushTo(id string, v any) error {
	b, err := encode(v)
	if err != nil {
		return err
	}
	return s.pushToRaw(id, websocket.TextMessage, b)
}

func (s *Server) pushToRaw(id string, typ int, b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[id]
	if c == nil || c.closing {
		return fmt.Errorf("push to %q: %w", id, ErrGone)
	}
	if !c.enqueue(typ, b) {
		return fmt.Errorf("push to %q: send queue full", id)
	}
	return nil
}

func (c *wsConn) enqueue(typ int, b []byte) bool {
	select {
	case c.send <- outMsg{typ: typ, data: b}:
		return true
	default:
		return false
	}
}

// serveManagement is the gateway's management API for one connection:
// POST sends the raw body, GET describes it, DELETE disconnects it.
func (s *Server) serveManagement(w http.ResponseWriter, r *http.Request, id string) {
	gone := func() {
		w.Header().Set("x-amzn-ErrorType", "GoneException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusGone)
		fmt.Fprint(w, `{"message":null}`)
	}
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxMessageSize+1))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		if len(body) > MaxMessageSize {
			w.Header().Set("x-amzn-ErrorType", "PayloadTooLargeException")
			http.Error(w, `{"message":"Message too long"}`, http.StatusRequestEntityTooLarge)
			return
		}
		if err := s.pushToRaw(id, websocket.TextMessage, body); err != nil {
			if errors.Is(err, ErrGone) {
				gone()
				return
			}
			w.Header().Set("x-amzn-ErrorType", "LimitExceededException")
			http.Error(w, `{"message":"Limit exceeded"}`, http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		s.mu.Lock()
		c := s.conns[id]
		s.mu.Unlock()
		if c == nil || c.closing {
			gone()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"connectedAt": c.info.Opened.UTC().Format(time.RFC3339),
			"identity":    map[string]string{"sourceIp": strings.Split(c.info.RemoteAddr, ":")[0], "userAgent": c.info.UserAgent},
		})
	case http.MethodDelete:
		s.mu.Lock()
		c := s.conns[id]
		if c == nil || c.closing {
			s.mu.Unlock()
			gone()
			return
		}
		c.requestCloseLocked(websocket.CloseNormalClosure)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "", http.StatusMethodNotAllowed)
	}
}

// requestCloseLocked asks the connection's writer to close it with code.
// Server.mu must be held.
func (c *wsConn) requestCloseLocked(code int) {
	c.closing = true
	select {
	case c.closeReq <- code:
	default: // a close is already pending
	}
}

// servePush is the emulator's convenience endpoint:
// POST /_push?channel=NAME with the raw message as body.
func (s *Server) servePush(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "POST the message as the body", http.StatusMethodNotAllowed)
		return
	}
	channel := r.URL.Query().Get("channel")
	if !ValidChannel(channel) {
		http.Error(w, "invalid channel name", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxMessageSize+1))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if len(body) > MaxMessageSize {
		http.Error(w, "message over 128 KB", http.StatusRequestEntityTooLarge)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		http.Error(w, "empty body: POST the message, e.g. {\"type\":\"toast\",\"level\":\"info\",\"message\":\"hi\"}", http.StatusBadRequest)
		return
	}
	n := s.pushRaw(channel, websocket.TextMessage, body)
	if channel == "" {
		channel = s.opts.DefaultChannel
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"channel": channel, "delivered": n})
}

// gateListener wraps accepted connections so the blackhole fault can hold
// their traffic and the reset fault can reach TCP.
type gateListener struct {
	net.Listener
	s *Server
}

func (l *gateListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &gateConn{Conn: c, s: l.s, closed: make(chan struct{})}, nil
}

// gateConn holds reads and writes of an upgraded connection while the
// blackhole is on: the peer's TCP stays open, but nothing is read or
// written until the blackhole heals.
type gateConn struct {
	net.Conn
	s         *Server
	ws        atomic.Bool // only WebSocket connections are held
	closeOnce sync.Once
	closed    chan struct{}
}

func findGate(nc net.Conn) *gateConn {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	g, _ := nc.(*gateConn)
	return g
}

func (g *gateConn) wait() error {
	if !g.ws.Load() {
		return nil
	}
	for {
		g.s.mu.Lock()
		bh := g.s.blackhole
		g.s.mu.Unlock()
		if bh == nil {
			return nil
		}
		select {
		case <-bh:
		case <-g.closed:
			return net.ErrClosed
		case <-g.s.done:
			return net.ErrClosed
		}
	}
}

func (g *gateConn) Read(p []byte) (int, error) {
	if err := g.wait(); err != nil {
		return 0, err
	}
	n, err := g.Conn.Read(p)
	// Data that arrived during a blackhole is held until it heals.
	if werr := g.wait(); werr != nil {
		return 0, werr
	}
	return n, err
}

func (g *gateConn) Write(p []byte) (int, error) {
	if err := g.wait(); err != nil {
		return 0, err
	}
	return g.Conn.Write(p)
}

func (g *gateConn) Close() error {
	if g == nil {
		return nil
	}
	g.closeOnce.Do(func() { close(g.closed) })
	return g.Conn.Close()
}

// resetConn closes nc with a TCP reset instead of a FIN.
func resetConn(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	inner := nc
	if g, ok := nc.(*gateConn); ok {
		inner = g.Conn
		defer g.Close()
	}
	if tcp, ok := inner.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = inner.Close()
}
