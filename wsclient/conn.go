package wsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// writeWait bounds one write; a socket that cannot take a small frame in
// this long is dead. closeWait bounds the close handshake.
const (
	writeWait = 10 * time.Second
	closeWait = 5 * time.Second
)

// conn is one WebSocket connection and its reader goroutine. The Run
// goroutine owns it: only it writes, closes and awaits the reader.
type conn struct {
	ws     *websocket.Conn
	slot   int           // 0 or 1, for rotation dedup
	opened time.Time     // on the client's clock
	errc   chan error    // the reader's final error; buffer 1
	done   chan struct{} // closed by the owner: the reader stops delivering
	exited chan struct{} // closed when the reader has returned

	lastRecv atomic.Int64 // clock nanos of the last frame or pong
	answered atomic.Bool  // the peer has answered a ping on this connection
	pingAt   time.Time    // owner only: when the unanswered ping went out
	closed   bool         // owner only
}

// frame is one message a reader passes to the Run goroutine.
type frame struct {
	c    *conn
	typ  int
	data []byte
}

// dialError is a failed handshake; Network means no HTTP answer came.
type dialError struct {
	Status  int
	Network bool
	Err     error
}

func (e *dialError) Error() string { return e.Err.Error() }
func (e *dialError) Unwrap() error { return e.Err }

// dialer is the WebSocket dialer for cfg: compression offered (the
// backend wants Sec-WebSocket-Extensions), TCP keepalive on, our TLS
// roots.
func dialer(cfg Config, sess *session) *websocket.Dialer {
	nd := &net.Dialer{Timeout: cfg.HandshakeTimeout, KeepAlive: 30 * time.Second}
	return &websocket.Dialer{
		NetDialContext:    nd.DialContext,
		Proxy:             http.ProxyFromEnvironment,
		TLSClientConfig:   sess.tls.Clone(),
		HandshakeTimeout:  cfg.HandshakeTimeout,
		EnableCompression: true,
	}
}

// handshakeHeader carries what Django checks (PROTOCOL.md §2).
func handshakeHeader(cfg Config, sess *session) http.Header {
	h := http.Header{}
	h.Set("Cookie", sess.cookieHeader())
	h.Set("Origin", sess.siteOrigin())
	h.Set("User-Agent", cfg.UserAgent)
	return h
}

// dialWS opens the WebSocket with a token fetched just before.
func dialWS(ctx context.Context, cfg Config, sess *session, token string) (*websocket.Conn, error) {
	u, err := buildURL(cfg.WSURL, token, cfg.Channel)
	if err != nil {
		return nil, err
	}
	ws, resp, err := dialer(cfg, sess).DialContext(ctx, u, handshakeHeader(cfg, sess))
	if err != nil {
		de := &dialError{Network: resp == nil}
		if resp != nil {
			de.Status = resp.StatusCode
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			de.Err = fmt.Errorf("the gateway refused the connection: %s %s", resp.Status, snippet(string(body)))
		} else {
			de.Err = fmt.Errorf("connecting to %s: %w", redactURL(u), scrubErr(err, token))
		}
		return nil, de
	}
	ws.SetReadLimit(MaxMessageSize)
	return ws, nil
}

// scrubErr makes sure an error text never carries the token.
func scrubErr(err error, token string) error {
	if token != "" && strings.Contains(err.Error(), token) {
		return errors.New(strings.ReplaceAll(err.Error(), token, "REDACTED"))
	}
	return err
}

// startReader runs the connection's reader. It delivers frames until the
// socket fails or the owner closes done, then reports on errc and exits.
func (c *Client) startReader(cn *conn, frames chan<- frame) {
	cn.ws.SetPongHandler(func(string) error {
		cn.answered.Store(true)
		cn.lastRecv.Store(c.clk.Now().UnixNano())
		if c.hooks.pong != nil {
			c.hooks.pong()
		}
		return nil
	})
	go func() {
		defer close(cn.exited)
		for {
			typ, data, err := cn.ws.ReadMessage()
			if err != nil {
				cn.errc <- err
				return
			}
			cn.lastRecv.Store(c.clk.Now().UnixNano())
			select {
			case frames <- frame{c: cn, typ: typ, data: data}:
			case <-cn.done:
				return
			}
		}
	}()
}

// write sends one frame with a deadline; only the Run goroutine calls it.
func (cn *conn) write(typ int, data []byte) error {
	cn.ws.SetWriteDeadline(time.Now().Add(writeWait))
	if err := cn.ws.WriteMessage(typ, data); err != nil {
		return fmt.Errorf("writing to the WebSocket: %w", err)
	}
	return nil
}

func (cn *conn) ping() error {
	return cn.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
}

// sayGoodbye sends a close frame; the reader then ends when the peer
// answers (or abort cuts it short).
func (cn *conn) sayGoodbye(code int) {
	_ = cn.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(closeWait))
}

// abort closes the socket and waits for the reader: the connection is
// gone when it returns.
func (cn *conn) abort() {
	if !cn.closed {
		cn.closed = true
		close(cn.done)
	}
	cn.ws.Close()
	<-cn.exited
}
