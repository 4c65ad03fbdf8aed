package wstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"

	"github.com/gorilla/websocket"
)

// catchupSite is the site side of catch-up, as the toasttray_catchup app
// does it: every toast sent through SendToast gets the next id and is kept
// per user and channel; a request to Options.CatchupHandler with
// {"since": id} is answered on that connection with the kept toasts after
// id, oldest first and marked "catchup": true, then the terminator
// {"type": "catchup", "since", "last", "count", "more"}. With since "" there
// is no backlog, only the terminator, whose "last" is then the latest id
// the site gave any toast ("0" before the first; ids are per server, one
// site); else it is the last id sent, and "more" says the cap cut the
// backlog short. Guarded by Server.mu.
type catchupSite struct {
	nextID int
	outbox map[string][]storedToast // user + "\x00" + channel → oldest first
	silent bool
}

type storedToast struct {
	id  int
	msg map[string]any
}

func outboxKey(user, channel string) string { return user + "\x00" + channel }

// SendToast is the site sending a toast to user on channel ("" = the
// default channel): it gives t the next id (decimal, increasing), keeps it
// for catch-up, and pushes it to the user's open connections on channel
// that are not deaf. It returns the id and the connections reached.
func (s *Server) SendToast(user, channel string, t map[string]any) (id string, delivered int) {
	if channel == "" {
		channel = s.opts.DefaultChannel
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cu.nextID++
	n := s.cu.nextID
	msg := maps.Clone(t)
	msg["id"] = strconv.Itoa(n)
	if s.cu.outbox == nil {
		s.cu.outbox = map[string][]storedToast{}
	}
	k := outboxKey(user, channel)
	s.cu.outbox[k] = append(s.cu.outbox[k], storedToast{id: n, msg: msg})
	b, err := json.Marshal(msg)
	if err != nil {
		s.log.Warn("wstest: toast not sent", "err", err)
		return msg["id"].(string), 0
	}
	for _, c := range s.conns {
		if c.info.User == user && c.info.Channel == channel && !c.closing && !c.deaf && c.enqueue(websocket.TextMessage, b) {
			delivered++
		}
	}
	return msg["id"].(string), delivered
}

// SetCatchupSilent(true) makes the catch-up handler accept requests and
// never answer, like a site without the app.
func (s *Server) SetCatchupSilent(on bool) {
	s.mu.Lock()
	s.cu.silent = on
	s.mu.Unlock()
}

// Deafen makes connection id deaf: it stays open and its frames are
// recorded, but the site pushes nothing more to it (SendToast, Push,
// catch-up answers), as the package does after a 410 during the
// handshake (PROTOCOL.md §5). The management API (PushTo) still reaches it.
func (s *Server) Deafen(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[id]
	if c == nil {
		return fmt.Errorf("deafen %q: %w", id, ErrGone)
	}
	c.deaf = true
	return nil
}

// answerCatchupLocked answers a catch-up request from c, if it is one.
// A since that is not a number counts as "", as in the app.
func (s *Server) answerCatchupLocked(c *wsConn, m ClientMessage) {
	if s.opts.CatchupHandler == "" || m.Handler != s.opts.CatchupHandler || s.cu.silent || c.deaf || c.closing {
		return
	}
	since, _ := m.Params["since"].(string)
	after, err := strconv.Atoi(since)
	if err != nil || after < 0 {
		// No backlog; "last" says where the site is, never "": a
		// client that starts with since "" would ask with "" for ever.
		b, _ := json.Marshal(map[string]any{"type": "catchup", "since": "", "last": strconv.Itoa(s.cu.nextID), "count": 0, "more": false})
		c.enqueue(websocket.TextMessage, b)
		return
	}
	last, count, more := since, 0, false
	for _, st := range s.cu.outbox[outboxKey(c.info.User, c.info.Channel)] {
		if st.id <= after {
			continue
		}
		if count == s.opts.CatchupMax {
			more = true
			break
		}
		msg := maps.Clone(st.msg)
		msg["catchup"] = true
		if b, err := json.Marshal(msg); err == nil && c.enqueue(websocket.TextMessage, b) {
			count++
			last = strconv.Itoa(st.id)
		}
	}
	b, _ := json.Marshal(map[string]any{"type": "catchup", "since": since, "last": last, "count": count, "more": more}) // plain values
	c.enqueue(websocket.TextMessage, b)
}
