package wsclient

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/toasttray/toasttray/wsclient/clock"
)

// TestReaderClosesOversizeWith1009: the reader measures a message after
// inflating it. A compressed 10 MB message is not delivered; the peer gets
// close 1009 (message too big), as the gateway itself would send, and the
// reader ends with an error. The 128 KB message before it is delivered.
func TestReaderClosesOversizeWith1009(t *testing.T) {
	const limit = 128 * 1024
	codes := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := websocket.Upgrader{EnableCompression: true}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			codes <- -1
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), limit))
		_ = ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 10<<20))
		_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, _, err = ws.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			codes <- -1
			return
		}
		codes <- ce.Code
	}))
	defer srv.Close()
	d := websocket.Dialer{EnableCompression: true}
	ws, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatal("compression not negotiated")
	}
	ws.SetReadLimit(MaxMessageSize) // as dialWS does
	c := &Client{clk: clock.Real}
	cn := &conn{ws: ws, errc: make(chan error, 1), done: make(chan struct{}), exited: make(chan struct{})}
	frames := make(chan frame)
	c.startReader(cn, frames)
	defer cn.abort()
	failsafe := time.After(15 * time.Second)
	select {
	case f := <-frames:
		if len(f.data) != limit {
			t.Fatalf("first message: %d bytes", len(f.data))
		}
	case err := <-cn.errc:
		t.Fatalf("128 KB message refused: %v", err)
	case <-failsafe:
		t.Fatal("no first message")
	}
	select {
	case f := <-frames:
		t.Fatalf("a %d-byte message was delivered", len(f.data))
	case err := <-cn.errc:
		if err == nil || strings.Contains(err.Error(), "xxxx") {
			t.Fatalf("reader error %v", err)
		}
	case <-failsafe:
		t.Fatal("the reader neither delivered nor refused")
	}
	select {
	case code := <-codes:
		if code != websocket.CloseMessageTooBig {
			t.Fatalf("peer got close code %d, want 1009", code)
		}
	case <-failsafe:
		t.Fatal("the peer got no close frame")
	}
}
