package wsclient

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// Catch-up: after every connect (first start, reconnect, wake, rotation)
// the client sends {"action": RouteKey, "handler": CatchupHandler,
// "since": <last id seen or "">}. The site pushes the toasts the client
// missed, oldest first and marked "catchup": true, then a terminator
// {"type": "catchup", "since": …, "last": <its latest id>, "count": N}.
// With since "" there is no backlog, only the terminator.
//
// Once the site has answered a catch-up request in this Run, an answer is
// also a liveness check: a connection that does not answer within
// catchupWait is deaf (PROTOCOL.md §5: the site may stop pushing to a
// connection that is open) and is replaced. A site that never answered is
// left alone: live toasts flow as before.

// CatchupType is the terminator's message type.
const CatchupType = "catchup"

// MaxIDLen bounds a toast id; longer ones are ignored (the toast then has
// no id and is shown as a toast without one).
const MaxIDLen = 128

// catchupWait is how long a connection has to answer a catch-up request.
// The answer is one view call plus one management-API push per missed
// toast: well under a second on a healthy site. 5 s leaves room for a
// cold Lambda start (1–3 s) without leaving a deaf desktop in place long.
const catchupWait = 5 * time.Second

// catchupPoll is the liveness re-check interval when no keepalive handler
// is configured. A deaf connection delays toasts by up to this much (they
// are not lost: the next connection's catch-up brings them); each check
// costs the site one view call, about 3 a second for 1000 desktops. It
// also keeps the gateway's 10-minute idle timer fed. With a keepalive the
// check replaces the keepalive message instead (see keepalive), so it adds
// no traffic and runs at the keepalive interval.
const catchupPoll = 5 * time.Minute

// CompareIDs orders toast ids: as decimal numbers when both are all
// digits (leading zeros ignored), else as plain strings. It returns -1, 0
// or +1; "" sorts before every id.
func CompareIDs(a, b string) int {
	if allDigits(a) && allDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			return cmp.Compare(len(a), len(b))
		}
	}
	return strings.Compare(a, b)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// cleanID keeps an id only if it is short and printable, and drops the
// leading zeros of a decimal one, so equal ids are equal strings.
func cleanID(s string) string {
	if len(s) > MaxIDLen || strings.ContainsFunc(s, isStripped) || strings.TrimSpace(s) != s {
		return ""
	}
	if allDigits(s) {
		if s = strings.TrimLeft(s, "0"); s == "" {
			s = "0"
		}
	}
	return s
}

// Terminator is the site's end-of-backlog message. More: the site sent
// only its cap's worth; the client asks again with since = Last.
type Terminator struct {
	Since, Last string
	Count       int
	More        bool
}

// Terminator reads a catch-up terminator; ok is false for other messages.
func (m Message) Terminator() (t Terminator, ok bool) {
	if m.Type != CatchupType {
		return Terminator{}, false
	}
	var f struct{ Since, Last, Count, More json.RawMessage }
	if json.Unmarshal(m.Raw, &f) != nil {
		return Terminator{}, false
	}
	t = Terminator{Since: cleanID(jsonString(f.Since)), Last: cleanID(jsonString(f.Last)), More: jsonString(f.More) == "true"}
	t.Count, _ = strconv.Atoi(jsonString(f.Count)) // a missing count stays 0
	return t, true
}

// catchupState is the Run goroutine's: it outlives connections.
type catchupState struct {
	last     string // highest id delivered or announced by a terminator
	answered bool   // the site answered a request in this Run: it supports catch-up
	// resume is the since of the next request while a catch-up is under
	// way (asked, its final terminator not yet in): the request's since,
	// moved up by each backlog toast (they come oldest first) and by a
	// "more" terminator's last. Live toasts overtake a backlog and move
	// last past toasts still to come (the next page, the rest of a
	// backlog whose connection died), so asking from last would skip them.
	resume  string
	pending bool
}

// since is what the next catch-up request asks from.
func (s *catchupState) since() string {
	if s.pending {
		return s.resume
	}
	return s.last
}

// resumeAt moves resume forward to id during a catch-up.
func (s *catchupState) resumeAt(id string) {
	if s.pending && CompareIDs(id, s.resume) > 0 {
		s.resume = id
	}
}

// note moves last forward with a delivered toast or terminator.
func (s *catchupState) note(m Message) {
	var id string
	if t, ok := m.Terminator(); ok {
		id = t.Last
	} else if toastTypes[m.Type] && bytes.Contains(m.Raw, []byte(`"id"`)) {
		if t, err := m.Toast(); err == nil {
			id = t.ID
		}
	}
	if CompareIDs(id, s.last) > 0 {
		s.last = id
	}
}

// liveCatchup is serve's part: the request awaiting its answer and the
// next liveness check.
type liveCatchup struct {
	wait clock.Timer // the answer's deadline; nil when none is awaited
	conn *conn       // the connection the awaited request went out on
	poll clock.Timer // next liveness check; nil until the site answered
}

// catchupRequest asks the current connection for what was missed and
// arms the answer's deadline. Without a handler it does nothing.
func (l *live) catchupRequest() error {
	r := l.r
	if r.cfg.CatchupHandler == "" {
		return nil
	}
	since := r.cu.since()
	b, err := encodeOutgoing(r.cfg.RouteKey, r.cfg.CatchupHandler, map[string]any{"since": since})
	if err != nil {
		return fmt.Errorf("catch-up request: %w", err) // cannot happen: ids are bounded
	}
	r.cu.pending, r.cu.resume = true, since
	stop(l.cu.poll)
	stop(l.cu.wait)
	l.cu.poll = nil
	l.cu.conn = l.cur
	l.cu.wait = r.c.clk.NewTimer(catchupWait)
	return l.write(b)
}

// catchupAnswer reports whether f is a terminator; one from the connection
// whose answer is awaited ends the wait and schedules the next check, or,
// with "more", asks for the next page at once. A backlog toast on that
// connection restarts the wait: a long backlog takes a while (one push per
// toast) and each one shows that pushes reach the connection.
// Terminators bypass rotation dedup: the copies answer different requests.
func (l *live) catchupAnswer(f frame) (bool, error) {
	r := l.r
	if r.cfg.CatchupHandler == "" || f.typ != websocket.TextMessage || !bytes.Contains(f.data, []byte(CatchupType)) {
		return false, nil
	}
	m, err := decodeMessage(f.data)
	if err != nil {
		return false, nil
	}
	if m.Type != CatchupType {
		if l.cu.wait != nil && f.c == l.cu.conn && toastTypes[m.Type] {
			if t, err := m.Toast(); err == nil && t.Catchup {
				l.cu.wait.Reset(catchupWait)
				r.cu.resumeAt(t.ID)
			}
		}
		return false, nil
	}
	if !r.cu.answered {
		r.c.log.Info("the site supports catch-up; checking connections with it")
		r.cu.answered = true
	}
	if f.c != l.cu.conn {
		return true, nil
	}
	stop(l.cu.wait)
	l.cu.wait, l.cu.conn = nil, nil
	stop(l.cu.poll)
	l.cu.poll = nil
	if t, _ := m.Terminator(); t.More {
		r.cu.note(m)
		r.cu.resumeAt(t.Last) // the next page starts after this one
		return true, l.catchupRequest()
	}
	r.cu.pending = false
	if r.cfg.KeepaliveHandler == "" { // else the keepalive timer checks
		l.cu.poll = r.c.clk.NewTimer(catchupPoll)
	}
	return true, nil
}

// keepalive sends the application keepalive, or, once the site has
// answered catch-up, a catch-up request in its place: it keeps the
// gateway's idle timer fed just the same and checks the connection too.
func (l *live) keepalive() error {
	if l.r.cu.answered {
		return l.catchupRequest()
	}
	return l.write(keepaliveMsg(l.r.cfg))
}

// catchupExpired handles a request's deadline: an error (replace the
// connection) when a site that answers catch-up did not.
func (l *live) catchupExpired() error {
	r := l.r
	l.cu.wait, l.cu.conn = nil, nil
	if !r.cu.answered {
		r.cu.pending = false // nothing under way: a site without the app
		r.c.log.Debug("no catch-up answer; the site does not seem to support it", "handler", r.cfg.CatchupHandler)
		return nil
	}
	r.c.stats.catchupTimeout.Add(1)
	return fmt.Errorf("no answer to catch-up within %s: the site no longer pushes to this connection", catchupWait)
}

// catchupStop stops serve's catch-up timers.
func (l *live) catchupStop() {
	stop(l.cu.wait)
	stop(l.cu.poll)
}
