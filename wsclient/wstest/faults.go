package wstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"
)

// TokenFault makes the token endpoint misbehave.
type TokenFault string

// Token endpoint faults.
const (
	TokenOK          TokenFault = ""             // behave
	TokenError500    TokenFault = "500"          // answer 500, as a crashed Django does
	TokenSlow        TokenFault = "slow"         // hold requests until the fault is cleared or the client gives up
	TokenSignedOut   TokenFault = "signed-out"   // answer 403 Authentication required to everyone
	TokenRateLimited TokenFault = "rate-limited" // answer 403 Rate limit exceeded to everyone
)

// SetTokenFault switches the token endpoint's fault; TokenOK clears it and
// releases requests held by TokenSlow.
func (s *Server) SetTokenFault(f TokenFault) {
	s.mu.Lock()
	s.tokenFault = f
	close(s.faultCh)
	s.faultCh = make(chan struct{})
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("wstest: token fault", "fault", string(f))
}

// applyTokenFault handles the 500 and slow faults; it returns false when
// the request has been answered (or abandoned).
func (s *Server) applyTokenFault(w http.ResponseWriter, r *http.Request) bool {
	for {
		s.mu.Lock()
		f, ch := s.tokenFault, s.faultCh
		if f == TokenError500 {
			s.refuseLocked(ReasonTokenFault)
		}
		s.mu.Unlock()
		switch f {
		case TokenError500:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "<!doctype html><title>Server Error (500)</title><h1>Server Error (500)</h1>")
			return false
		case TokenSlow:
			select {
			case <-ch:
				continue
			case <-r.Context().Done():
				return false
			case <-s.done:
				return false
			}
		}
		return true
	}
}

// SignOut ends every session of user, as an expired or revoked session:
// the token endpoint then answers 403 Authentication required and the
// handshake "Invalid session". Open connections stay open, as they do for
// the real backend. It returns how many sessions ended.
func (s *Server) SignOut(user string) int {
	s.mu.Lock()
	n := 0
	for sid, u := range s.sessions {
		if u == user {
			delete(s.sessions, sid)
			n++
		}
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("wstest: signed out", "user", user, "sessions", n)
	return n
}

// SetAccepting(false) makes the server look down: every request except the
// /_control endpoints gets its TCP connection reset. Open WebSocket
// connections are left alone (see DropAll and ResetAll).
func (s *Server) SetAccepting(on bool) {
	s.mu.Lock()
	s.accepting = on
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("wstest: accepting", "on", on)
}

func (s *Server) isAccepting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepting
}

// SetBlackhole(true) stops all traffic on WebSocket connections, open and
// new: TCP stays open but nothing is read or written (pings go unanswered,
// pushes wait; new handshakes hang and are lost, closed at heal without an
// answer). SetBlackhole(false) heals it and what open connections held
// flows again.
func (s *Server) SetBlackhole(on bool) {
	s.mu.Lock()
	switch {
	case on && s.blackhole == nil:
		s.blackhole = make(chan struct{})
	case !on && s.blackhole != nil:
		close(s.blackhole)
		s.blackhole = nil
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("wstest: blackhole", "on", on)
}

// DropAll closes every connection with a close frame carrying code (e.g.
// 1001 going away, 1011 internal error, 1012 service restart) and returns
// how many it asked to close. Use ResetAll for an abrupt drop.
func (s *Server) DropAll(code int) int {
	s.mu.Lock()
	n := 0
	for _, c := range s.conns {
		c.requestCloseLocked(code)
		n++
	}
	s.mu.Unlock()
	s.log.Info("wstest: drop all", "code", code, "connections", n)
	return n
}

// ResetAll aborts every connection with a TCP reset, no close frame.
func (s *Server) ResetAll() int {
	s.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(s.conns))
	n := len(s.conns)
	for _, c := range s.conns {
		if c.ws == nil { // its 101 is being written: reset right after
			c.resetPending = true
			continue
		}
		conns = append(conns, c.ws)
	}
	s.mu.Unlock()
	for _, ws := range conns {
		resetConn(ws.NetConn())
	}
	s.log.Info("wstest: reset all", "connections", n)
	return n
}

// GarbageKind names a kind of bad frame for SendGarbage.
type GarbageKind string

// Garbage the real backend can send (anything may arrive, PROTOCOL.md §3).
const (
	GarbageNotJSON     GarbageKind = "not-json"     // plain text
	GarbageNotObject   GarbageKind = "not-object"   // JSON, but an array
	GarbageBinary      GarbageKind = "binary"       // a binary frame
	GarbageInvalidUTF8 GarbageKind = "invalid-utf8" // a text frame that is not UTF-8
	GarbageHuge        GarbageKind = "huge"         // a toast of exactly 128 KB, the gateway's maximum
	GarbageTooBig      GarbageKind = "too-big"      // 192 KB, more than the gateway allows: for client read limits
	GarbageNested      GarbageKind = "nested"       // a toast with 20000-deep nested JSON inside
	GarbageUnknownType GarbageKind = "unknown-type" // a well-formed object of a type nobody knows
	GarbageMarkup      GarbageKind = "markup"       // a toast whose text is HTML and control characters
)

// GarbageKinds lists every kind, for tests that try them all.
func GarbageKinds() []GarbageKind {
	return []GarbageKind{GarbageNotJSON, GarbageNotObject, GarbageBinary, GarbageInvalidUTF8,
		GarbageHuge, GarbageTooBig, GarbageNested, GarbageUnknownType, GarbageMarkup}
}

// GarbageFrame returns the frame type and body SendGarbage sends for kind.
func GarbageFrame(kind GarbageKind) (messageType int, data []byte, err error) {
	text := websocket.TextMessage
	switch kind {
	case GarbageNotJSON:
		return text, []byte("this is not JSON {"), nil
	case GarbageNotObject:
		return text, []byte(`["toast","info","an array, not an object"]`), nil
	case GarbageBinary:
		return websocket.BinaryMessage, []byte{0x00, 0xff, 0x7b, 0x22, 0x01, 0x02}, nil
	case GarbageInvalidUTF8:
		return text, []byte("{\"type\":\"toast\",\"level\":\"info\",\"message\":\"bad \xff\xfe bytes\"}"), nil
	case GarbageHuge, GarbageTooBig:
		size := MaxMessageSize
		if kind == GarbageTooBig {
			size = MaxMessageSize + MaxMessageSize/2
		}
		head := `{"type":"toast","level":"info","title":"Huge","message":"`
		tail := `"}`
		return text, []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail), nil
	case GarbageNested:
		const depth = 20000
		return text, []byte(`{"type":"toast","level":"info","message":"nested","x":` +
			strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`), nil
	case GarbageUnknownType:
		return text, []byte(`{"type":"mystery_event","level":"info","data":{"a":1}}`), nil
	case GarbageMarkup:
		return text, []byte(`{"type":"toast","level":"warning","title":"<b>Bold</b> <script>alert(1)</script>",` +
			`"message":"<a href=\"javascript:alert(1)\">click</a>\u0000\u001b[31m red"}`), nil
	}
	return 0, nil, fmt.Errorf("wstest: unknown garbage kind %q", kind)
}

// SendGarbage sends a bad frame of kind to every open connection and
// returns how many got it queued.
func (s *Server) SendGarbage(kind GarbageKind) (int, error) {
	typ, data, err := GarbageFrame(kind)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	n := 0
	for _, c := range s.conns {
		if c.enqueue(typ, data) {
			n++
		}
	}
	s.mu.Unlock()
	s.log.Info("wstest: garbage sent", "kind", string(kind), "connections", n)
	return n, nil
}

// serveControl is the HTTP face of the fault methods:
// POST /_control/<fault>. It has no authentication: loopback only.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request, fault string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "POST to /_control/<fault>", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	n := 0
	switch fault {
	case "drop":
		code := websocket.CloseGoingAway
		if v := q.Get("code"); v != "" {
			c, err := strconv.Atoi(v)
			if err != nil || c < 1000 || c > 4999 || c == websocket.CloseNoStatusReceived ||
				c == websocket.CloseAbnormalClosure || c == websocket.CloseTLSHandshake {
				http.Error(w, "code must be a close code that can be sent (1000-4999, not 1005/1006/1015)", http.StatusBadRequest)
				return
			}
			code = c
		}
		n = s.DropAll(code)
	case "reset":
		n = s.ResetAll()
	case "stop-accepting":
		s.SetAccepting(false)
	case "start-accepting":
		s.SetAccepting(true)
	case "blackhole":
		s.SetBlackhole(true)
	case "heal":
		s.SetBlackhole(false)
	case "token-fault":
		f := TokenFault(q.Get("kind"))
		switch f {
		case "none":
			f = TokenOK
		case TokenOK, TokenError500, TokenSlow, TokenSignedOut, TokenRateLimited:
		default:
			http.Error(w, "kind must be none, 500, slow, signed-out or rate-limited", http.StatusBadRequest)
			return
		}
		s.SetTokenFault(f)
	case "sign-out":
		user := q.Get("user")
		if user == "" {
			http.Error(w, "user= is required", http.StatusBadRequest)
			return
		}
		n = s.SignOut(user)
	case "garbage":
		var err error
		if n, err = s.SendGarbage(GarbageKind(q.Get("kind"))); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, "unknown fault; one of: drop, reset, stop-accepting, start-accepting, blackhole, heal, token-fault, sign-out, garbage", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "fault": fault, "affected": n})
}

// serveStats answers GET /_stats with the counters and open connections.
func (s *Server) serveStats(w http.ResponseWriter, r *http.Request) {
	c := s.Counters()
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"counters": c, "connections": s.Connections()})
}
