package wsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const (
	// writeWait bounds one write; a socket that cannot take a small frame
	// in this long is as dead as one that does not answer a ping, so it is
	// the default pong wait.
	writeWait = DefaultPongWait
	// closeWait bounds the close handshake: one small frame each way.
	closeWait = writeWait / 2
	// tcpKeepAlive is the TCP keepalive period of every connection (token
	// requests and WebSockets): it only matters when no ping is due sooner.
	tcpKeepAlive = 30 * time.Second
)

// conn is one WebSocket connection and its reader goroutine. The Run
// goroutine owns it: only it writes messages, closes and awaits the
// reader (the reader itself only sends a 1009 close control frame, which
// gorilla allows concurrently with other writes).
type conn struct {
	ws     *websocket.Conn
	slot   int           // 0 or 1, for rotation dedup
	gen    uint64        // Client.gen when it opened: reconnect requests before it are stale
	opened time.Time     // on the client's clock
	errc   chan error    // the reader's final error; buffer 1
	done   chan struct{} // closed by the owner: the reader stops delivering
	exited chan struct{} // closed when the reader has returned

	// Liveness is counted, not timed: a pong may be read before the
	// write of its ping has returned, and wall time can jump.
	recv     atomic.Uint64 // frames and pongs read so far
	answered atomic.Bool   // the peer has answered a ping on this connection
	pingRecv uint64        // owner only: recv just before the unanswered ping went out
	closed   bool          // owner only
}

// errTooBig ends a connection that delivered a message over
// MaxMessageSize once inflated; the text never holds any of its content.
var errTooBig = fmt.Errorf("the server sent a message over %d bytes (closed with 1009, message too big)", MaxMessageSize)

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
// roots, HTTP/1.1 only, through the proxy routeFor picks.
func dialer(cfg Config, sess *session) *websocket.Dialer {
	nd := &net.Dialer{Timeout: cfg.HandshakeTimeout, KeepAlive: tcpKeepAlive}
	return &websocket.Dialer{
		// No Dialer.Proxy: the tunnel is dialTCP's, as check's, which also
		// speaks to https proxies; routeFor decides at each dial.
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			r, err := routeFor(cfg, cfg.WSURL)
			if err != nil {
				return nil, err
			}
			return dialTCP(ctx, nd, r.URL, sess.tls, addr)
		},
		TLSClientConfig:   sess.wsTLS(),
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
	ws, resp, err := handshake(ctx, dialer(cfg, sess), u, handshakeHeader(cfg, sess))
	if err != nil {
		de := &dialError{Network: resp == nil}
		if resp != nil {
			de.Status = resp.StatusCode
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			de.Err = fmt.Errorf("the gateway refused the connection: %s %s", resp.Status, sess.snippet(string(body), token))
		} else {
			de.Err = fmt.Errorf("connecting to %s: %w", redactURL(u), scrubErr(err, sess.secrets(token)...))
		}
		return nil, de
	}
	// On the wire, i.e. compressed bytes when permessage-deflate is on:
	// readMessage checks the inflated size.
	ws.SetReadLimit(MaxMessageSize)
	return ws, nil
}

// handshake runs d's opening handshake, cut short when ctx ends.
// gorilla/websocket v1.5.3 honours only a context's deadline once the TCP
// connection is up, not its cancellation: a gateway that holds the
// handshake would keep a stopping client waiting for HandshakeTimeout.
func handshake(ctx context.Context, d *websocket.Dialer, u string, h http.Header) (*websocket.Conn, *http.Response, error) {
	var (
		mu      sync.Mutex
		nc      net.Conn
		aborted bool
	)
	abort := func(c net.Conn) { _ = c.SetDeadline(time.Unix(1, 0)) } // in the past: blocked I/O fails now
	netDial := d.NetDialContext
	d.NetDialContext = func(dctx context.Context, network, addr string) (net.Conn, error) {
		c, err := netDial(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		nc = c
		if aborted {
			abort(c)
		}
		return c, nil
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		aborted = true
		if nc != nil {
			abort(nc)
		}
	})
	ws, resp, err := d.DialContext(ctx, u, h)
	if !stop() && err == nil {
		ws.Close() // ctx ended as the handshake finished; its deadline may be set
		return nil, nil, ctx.Err()
	}
	return ws, resp, err
}

// scrubErr makes sure an error text never carries a secret.
func scrubErr(err error, secrets ...string) error {
	if msg := scrub(err.Error(), secrets...); msg != err.Error() {
		return errors.New(msg)
	}
	return err
}

// scrub replaces each secret in s, as sent and URL-encoded (as in a query
// or a form), with REDACTED.
func scrub(s string, secrets ...string) string {
	for _, v := range secrets {
		if v == "" {
			continue
		}
		s = strings.ReplaceAll(s, v, "REDACTED")
		if q := url.QueryEscape(v); q != v {
			s = strings.ReplaceAll(s, q, "REDACTED")
		}
	}
	return s
}

// startReader runs the connection's reader. It delivers frames until the
// socket fails or the owner closes done, then reports on errc and exits.
func (c *Client) startReader(cn *conn, frames chan<- frame) {
	cn.ws.SetPongHandler(func(string) error {
		cn.recv.Add(1)
		cn.answered.Store(true)
		c.trace.event(tracePong)
		return nil
	})
	go func() {
		defer close(cn.exited)
		for {
			typ, data, err := cn.readMessage()
			if err != nil {
				cn.errc <- err
				return
			}
			cn.recv.Add(1)
			select {
			case frames <- frame{c: cn, typ: typ, data: data}:
			case <-cn.done:
				return
			}
		}
	}()
}

// readMessage reads one whole message of at most MaxMessageSize bytes.
// gorilla's read limit counts the bytes on the wire, which with
// permessage-deflate are compressed: a 100 KB frame can inflate to
// gigabytes. So the inflated message is read through a limit too, and
// one over it is refused as the gateway does: close with 1009.
func (cn *conn) readMessage() (int, []byte, error) {
	typ, r, err := cn.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxMessageSize+1))
	if err != nil {
		return 0, nil, err
	}
	if len(data) > MaxMessageSize {
		_ = cn.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""), time.Now().Add(writeWait))
		return 0, nil, errTooBig
	}
	return typ, data, nil
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
