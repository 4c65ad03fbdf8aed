package wstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/toasttray/toasttray/wsclient/clock"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// closedWatch reads conn in the background and reports its end.
type closedWatch struct {
	done chan struct{}
	err  error
}

func watch(conn *websocket.Conn) *closedWatch {
	w := &closedWatch{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				w.err = err
				return
			}
		}
	}()
	return w
}

func (w *closedWatch) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-w.done:
		return w.err
	case <-time.After(10 * time.Second): // only reached when the test fails
		t.Fatal("connection not closed")
		return nil
	}
}

func TestIdleTimeout(t *testing.T) {
	s, fake := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	conn := c.connect("")
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	w := watch(conn)
	fake.Advance(10 * time.Minute)
	if err := w.wait(t); closeCode(err) != websocket.CloseGoingAway {
		t.Fatalf("after 10 idle minutes: %v, want close 1001", err)
	}
	if err := s.WaitConnections(ctxT(t), 0); err != nil {
		t.Fatal(err)
	}
}

// A client message moves the idle deadline: with one at 9m, the connection
// lives until 19m.
func TestIdleTimeoutResetByClientMessage(t *testing.T) {
	s, fake := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	conn := c.connect("")
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(9 * time.Minute)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"handler":"keepalive"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitReceived(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	w := watch(conn)
	fake.Advance(9*time.Minute + 59*time.Second) // the first deadline, 10m, passes
	// The server re-arms its idle timer (idle + max = 2 timers) unless it
	// wrongly closed the connection.
	if !fake.BlockUntil(2, w.done) {
		t.Fatalf("closed at 18m59s despite a message at 9m: %v", w.err)
	}
	fake.Advance(time.Second)
	if err := w.wait(t); closeCode(err) != websocket.CloseGoingAway {
		t.Fatalf("at 19m: %v, want close 1001", err)
	}
}

// Pushes count as activity too (PROTOCOL.md §5).
func TestIdleTimeoutResetByPush(t *testing.T) {
	s, fake := newServer(t, wstest.Options{IdleTimeout: time.Minute})
	c := signedIn(t, s)
	conn := c.connect("")
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(50 * time.Second)
	s.Push("", map[string]string{"type": "toast"})
	mustRead(t, conn)
	w := watch(conn)
	fake.Advance(50 * time.Second)
	if !fake.BlockUntil(2, w.done) {
		t.Fatalf("closed 50s after a push with a 1m idle timeout: %v", w.err)
	}
	fake.Advance(10 * time.Second)
	if err := w.wait(t); closeCode(err) != websocket.CloseGoingAway {
		t.Fatalf("%v, want 1001", err)
	}
}

func TestMaxDuration(t *testing.T) {
	s, fake := newServer(t, wstest.Options{MaxDuration: 2 * time.Hour, IdleTimeout: 3 * time.Hour})
	c := signedIn(t, s)
	conn := c.connect("")
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	w := watch(conn)
	fake.Advance(2 * time.Hour)
	if err := w.wait(t); closeCode(err) != websocket.CloseGoingAway {
		t.Fatalf("at 2h: %v, want close 1001", err)
	}
}

func TestDropAll(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	a, b := watch(c.connect("")), watch(c.connect("other"))
	if err := s.WaitConnections(ctxT(t), 2); err != nil {
		t.Fatal(err)
	}
	if n := s.DropAll(4000); n != 2 {
		t.Fatalf("DropAll affected %d", n)
	}
	for _, w := range []*closedWatch{a, b} {
		if err := w.wait(t); closeCode(err) != 4000 {
			t.Errorf("%v, want close 4000", err)
		}
	}
	if err := s.WaitConnections(ctxT(t), 0); err != nil {
		t.Fatal(err)
	}
	if s.Counters().Disconnects != 2 {
		t.Error("Disconnects not counted")
	}
}

func TestResetAll(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	w := watch(c.connect(""))
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	s.ResetAll()
	err := w.wait(t)
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		t.Fatalf("got close frame %v; want an abrupt end", err)
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Logf("reset seen as %v", err)
	}
}

func TestStopAccepting(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	open := watch(c.connect(""))
	tok := c.getToken()
	s.SetAccepting(false)
	if _, err := c.hc.Do(c.tokenReq()); err == nil {
		t.Fatal("token endpoint answered while not accepting")
	}
	if _, resp, err := c.dialWith(c.dialer(), tok, "", c.dialHeader()); err == nil || resp != nil {
		t.Fatalf("dial while not accepting: %v %s; want a network error", err, refusal(resp))
	}
	// Open connections are untouched.
	if s.Push("", map[string]string{"type": "toast"}) != 1 {
		t.Fatal("open connection lost")
	}
	s.SetAccepting(true)
	c.connect("")
	if err := s.WaitConnections(ctxT(t), 2); err != nil {
		t.Fatal(err)
	}
	if s.Counters().Refused(wstest.ReasonNotAccepting) < 2 {
		t.Error("not-accepting refusals not counted")
	}
	select {
	case <-open.done:
		t.Fatalf("open connection ended: %v", open.err)
	default:
	}
}

func TestBlackhole(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	conn := c.connect("")
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	s.SetBlackhole(true)
	pong := make(chan struct{}, 1)
	conn.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"handler":"held"}`)); err != nil {
		t.Fatal(err)
	}
	s.Push("", map[string]string{"type": "toast", "message": "held"})
	// Nothing may come back while the blackhole is on. Proving a negative
	// needs a bounded wait.
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, b, err := conn.ReadMessage(); err == nil {
		t.Fatalf("received %s through a blackhole", b)
	}
	if len(s.Received()) != 0 {
		t.Fatal("server read a message through a blackhole")
	}
	// (The client conn is unusable after its read deadline.) On heal, the
	// message held in the blackhole reaches the server.
	s.SetBlackhole(false)
	if _, err := s.WaitReceived(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pong:
		t.Fatal("pong came back through the blackhole")
	default:
	}
}

func TestBlackholeHoldsHandshakeUntilHealed(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	tok := c.getToken()
	s.SetBlackhole(true)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	u := c.wsURL(tok, "")
	if conn, _, err := c.dialer().DialContext(ctx, u, c.dialHeader()); err == nil {
		conn.Close()
		t.Fatal("handshake completed through a blackhole")
	}
	s.SetBlackhole(false)
	// The lost attempt never reached Django: the token is still good.
	if _, resp, err := c.dialWith(c.dialer(), tok, "", c.dialHeader()); err != nil {
		t.Fatalf("after heal: %v %s", err, refusal(resp))
	}
}

func TestTokenFaults(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)

	s.SetTokenFault(wstest.TokenError500)
	if status, _ := c.do(c.tokenReq()); status != http.StatusInternalServerError {
		t.Errorf("500 fault: %d", status)
	}
	s.SetTokenFault(wstest.TokenSignedOut)
	if status, body := c.do(c.tokenReq()); status != http.StatusForbidden || body != "Authentication required" {
		t.Errorf("signed-out fault: %d %q", status, body)
	}
	s.SetTokenFault(wstest.TokenRateLimited)
	if status, body := c.do(c.tokenReq()); status != http.StatusForbidden || body != "Rate limit exceeded" {
		t.Errorf("rate-limited fault: %d %q", status, body)
	}

	s.SetTokenFault(wstest.TokenSlow)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.hc.Do(c.tokenReq().WithContext(ctx)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow fault with a 200ms client timeout: %v", err)
	}
	// A held request is released when the fault is cleared.
	res := make(chan int, 1)
	go func() {
		resp, err := c.hc.Do(c.tokenReq())
		if err != nil {
			res <- -1
			return
		}
		resp.Body.Close()
		res <- resp.StatusCode
	}()
	s.SetTokenFault(wstest.TokenOK)
	if got := <-res; got != http.StatusOK {
		t.Errorf("after clearing slow: %d", got)
	}
	if s.Counters().Refused(wstest.ReasonTokenFault) != 1 {
		t.Error("token-fault refusal not counted")
	}
}

func TestSignOut(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	open := c.connect("")
	tok := c.getToken()
	if n := s.SignOut("demo"); n != 1 {
		t.Fatalf("SignOut ended %d sessions", n)
	}
	if status, body := c.do(c.tokenReq()); status != http.StatusForbidden || body != "Authentication required" {
		t.Errorf("token after sign-out: %d %q", status, body)
	}
	_, resp, err := c.dialWith(c.dialer(), tok, "", c.dialHeader())
	if err == nil || resp.Header.Get(wstest.ReasonHeader) != string(wstest.ReasonNoSession) {
		t.Errorf("dial after sign-out: %v %s", err, refusal(resp))
	}
	// The open connection stays.
	s.Push("", map[string]string{"type": "toast", "message": "still here"})
	if b := mustRead(t, open); !strings.Contains(string(b), "still here") {
		t.Errorf("got %s", b)
	}
}

func TestGarbage(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	conn := c.connect("")
	conn.SetReadLimit(0)
	for _, kind := range wstest.GarbageKinds() {
		n, err := s.SendGarbage(kind)
		if err != nil || n != 1 {
			t.Fatalf("%s: %d %v", kind, n, err)
		}
		typ, b, err := read(t, conn)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		wantTyp, want, _ := wstest.GarbageFrame(kind)
		if typ != wantTyp || !bytes.Equal(b, want) {
			t.Errorf("%s: got type %d, %d bytes", kind, typ, len(b))
		}
		isObj := json.Unmarshal(b, new(map[string]any)) == nil
		switch kind {
		case wstest.GarbageBinary:
			if typ != websocket.BinaryMessage {
				t.Error("binary is not binary")
			}
		case wstest.GarbageInvalidUTF8:
			if utf8.Valid(b) {
				t.Error("invalid-utf8 is valid")
			}
		case wstest.GarbageNotJSON, wstest.GarbageNotObject, wstest.GarbageNested:
			if isObj {
				t.Errorf("%s decodes as an object", kind) // nested: Go refuses 20000 levels
			}
		case wstest.GarbageHuge:
			if len(b) != wstest.MaxMessageSize || !isObj {
				t.Errorf("huge: %d bytes, object %v", len(b), isObj)
			}
		case wstest.GarbageTooBig:
			if len(b) <= wstest.MaxMessageSize {
				t.Errorf("too-big: %d bytes", len(b))
			}
		}
	}
	if _, err := s.SendGarbage("nonsense"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func post(t *testing.T, u, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// managed starts a server with one open connection and returns it, its id
// and the management API's base URL for connections.
func managed(t *testing.T) (s *wstest.Server, conn *websocket.Conn, id, base string) {
	t.Helper()
	s, _ = newServer(t, wstest.Options{})
	conn = signedIn(t, s).connect("")
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	return s, conn, s.Connections()[0].ID, s.URL + "/" + s.Stage() + "/@connections/"
}

// del sends DELETE to u and returns the status code.
func del(t *testing.T, u string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestManagementAPI(t *testing.T) {
	s, conn, id, base := managed(t)

	resp, _ := post(t, base+id, `raw {not json} body`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	if b := mustRead(t, conn); string(b) != `raw {not json} body` {
		t.Errorf("got %q", b)
	}
	resp, _ = post(t, base+"nosuchid=", `{}`)
	if resp.StatusCode != http.StatusGone || resp.Header.Get("x-amzn-ErrorType") != "GoneException" {
		t.Errorf("unknown id: %d %q", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	resp, _ = post(t, base+id, strings.Repeat("x", wstest.MaxMessageSize+1))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize: %d", resp.StatusCode)
	}
	if err := s.PushTo("nosuchid=", "x"); !errors.Is(err, wstest.ErrGone) {
		t.Errorf("PushTo unknown: %v", err)
	}
	if err := s.PushTo(id, map[string]string{"type": "toast"}); err != nil {
		t.Errorf("PushTo: %v", err)
	}
	mustRead(t, conn)

	if code := del(t, base+id); code != http.StatusNoContent {
		t.Errorf("DELETE: %d", code)
	}
	if _, _, err := read(t, conn); closeCode(err) != websocket.CloseNormalClosure {
		t.Errorf("after DELETE: %v", err)
	}
}

func TestPushEndpoint(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	a, _ := c.connect("news"), c.connect("news")
	c.connect("")
	if err := s.WaitConnections(ctxT(t), 3); err != nil {
		t.Fatal(err)
	}
	resp, body := post(t, s.URL+"/_push?channel=news", `{"type":"toast","level":"info","message":"hi"}`)
	var v struct{ Delivered int }
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || v.Delivered != 2 {
		t.Fatalf("news push: %d %s", resp.StatusCode, body)
	}
	if b := mustRead(t, a); !strings.Contains(string(b), `"hi"`) {
		t.Errorf("got %s", b)
	}
	_, body = post(t, s.URL+"/_push", `{"type":"toast"}`)
	if !strings.Contains(body, `"delivered":1`) || !strings.Contains(body, `"channel":"default"`) {
		t.Errorf("default push: %s", body)
	}
	if resp, _ := post(t, s.URL+"/_push?channel=bad%20name", `{}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad channel: %d", resp.StatusCode)
	}
}

func TestControlEndpoints(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	w := watch(c.connect(""))
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	ctl := func(path string, want int) {
		t.Helper()
		resp, body := post(t, s.URL+"/_control/"+path, "")
		if resp.StatusCode != want {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	ctl("token-fault?kind=500", 200)
	if status, _ := c.do(c.tokenReq()); status != 500 {
		t.Errorf("token-fault via HTTP: %d", status)
	}
	ctl("token-fault?kind=none", 200)
	ctl("token-fault?kind=bogus", 400)
	ctl("garbage?kind=not-json", 200)
	ctl("garbage?kind=bogus", 400)
	ctl("stop-accepting", 200)
	if _, err := c.hc.Do(c.tokenReq()); err == nil {
		t.Error("stop-accepting via HTTP had no effect")
	}
	ctl("start-accepting", 200)
	ctl("blackhole", 200)
	ctl("heal", 200)
	ctl("sign-out?user=demo", 200)
	ctl("sign-out", 400)
	ctl("nonsense", 404)
	ctl("drop?code=1006", 400)
	ctl("drop?code=4001", 200)
	if err := w.wait(t); closeCode(err) != 4001 {
		t.Errorf("drop via HTTP: %v", err)
	}
	ctl("reset", 200)
	resp, err := http.Get(s.URL + "/_stats")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"TokensIssued"`) {
		t.Errorf("stats: %s", b)
	}
}

func TestDemoToasts(t *testing.T) {
	s, fake := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	conn := c.connect("")
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	stop := wstest.StartDemoToasts(context.Background(), s, 5*time.Second)
	defer stop()
	fake.BlockUntil(3, nil) // idle + max timers of the connection, and the ticker
	for i, level := range []string{"success", "info", "warning", "error", "success"} {
		fake.Advance(5 * time.Second)
		var m map[string]any
		if err := json.Unmarshal(mustRead(t, conn), &m); err != nil {
			t.Fatal(err)
		}
		if m["type"] != "toast" || m["level"] != level || !strings.Contains(fmt.Sprint(m["message"]), fmt.Sprintf("#%d", i+1)) {
			t.Errorf("toast %d = %v", i, m)
		}
	}
	stop()
	stop2 := wstest.StartDemoToasts(context.Background(), s, 0)
	stop2()
}

// Close ends every goroutine the server started, even with connections,
// held handshakes and held token requests in flight.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	s := wstest.NewServer(wstest.Options{Clock: clock.NewFake(t0)})
	c := signedIn(t, s)
	c.connect("")
	c.connect("x")
	stop := wstest.StartDemoToasts(context.Background(), s, time.Second)
	defer stop()
	if err := s.WaitConnections(ctxT(t), 2); err != nil {
		t.Fatal(err)
	}
	s.SetTokenFault(wstest.TokenSlow)
	held := make(chan error, 1)
	go func() {
		resp, err := c.hc.Do(c.tokenReq())
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}()
	s.Close()
	<-held
	s.Close() // idempotent

	// net/http's own connection goroutines end just after their sockets
	// close; poll for them, as goleak does.
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		leaked := ""
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "wsclient/wstest.") && !strings.Contains(g, "wstest_test.") {
				leaked = g
				break
			}
		}
		if leaked == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutine left after Close:\n%s", leaked)
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLoopbackOnly(t *testing.T) {
	s := wstest.NewUnstartedServer(wstest.Options{Addr: "0.0.0.0:0"})
	if err := s.Start(); err == nil {
		s.Close()
		t.Fatal("listened on a public address without Public")
	}
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "0.0.0.0": false, "192.168.1.2": false, "example.com": false} {
		if wstest.IsLoopback(host) != want {
			t.Errorf("IsLoopback(%q) != %v", host, want)
		}
	}
}

// A Public server shows its site to the network but keeps its
// unauthenticated switches to this machine.
func TestPublicKeepsSwitchesLocal(t *testing.T) {
	s := wstest.NewUnstartedServer(wstest.Options{Public: true})
	defer s.Close()
	serve := func(method, path, remote string) int {
		r := httptest.NewRequest(method, path, strings.NewReader(`{"type":"toast"}`))
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		return w.Code
	}
	for _, tt := range []struct{ method, path string }{
		{"POST", "/_push?channel=default"},
		{"POST", "/_control/stop-accepting"},
		{"GET", "/_stats"},
		{"POST", "/prod/@connections/abc"},
	} {
		if code := serve(tt.method, tt.path, "192.0.2.7:5000"); code != http.StatusForbidden {
			t.Errorf("%s %s from the network: %d, want 403", tt.method, tt.path, code)
		}
		if code := serve(tt.method, tt.path, "127.0.0.1:5000"); code == http.StatusForbidden {
			t.Errorf("%s %s from loopback: 403", tt.method, tt.path)
		}
	}
	if code := serve("GET", "/accounts/login/", "192.0.2.7:5000"); code != http.StatusOK {
		t.Errorf("login page from the network: %d", code)
	}
	if code := serve("GET", "/_stats", "[::1]:5000"); code != http.StatusOK {
		t.Errorf("stats from ::1: %d", code)
	}
}

// What a blackhole holds is delivered, not lost, when it heals.
func TestBlackholeHealDeliversHeldPush(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	conn := c.connect("")
	s.SetBlackhole(true)
	if s.Push("", map[string]string{"type": "toast", "message": "held"}) != 1 {
		t.Fatal("push not queued")
	}
	s.SetBlackhole(false)
	if b := mustRead(t, conn); !strings.Contains(string(b), "held") {
		t.Fatalf("got %s", b)
	}
}

func TestPushEncodings(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	conn := c.connect("")
	for _, tc := range []struct {
		v    any
		want string
	}{
		{[]byte("raw bytes"), "raw bytes"},
		{json.RawMessage(`{"a":1}`), `{"a":1}`},
		{"a string", `"a string"`},
		{map[string]int{"n": 2}, `{"n":2}`},
	} {
		if n := s.Push("", tc.v); n != 1 {
			t.Fatalf("%v: reached %d", tc.v, n)
		}
		if b := mustRead(t, conn); string(b) != tc.want {
			t.Errorf("%v: got %s, want %s", tc.v, b, tc.want)
		}
	}
	if n := s.Push("", func() {}); n != 0 {
		t.Error("an unencodable value was pushed")
	}
	if err := s.PushTo(s.Connections()[0].ID, func() {}); err == nil {
		t.Error("PushTo accepted an unencodable value")
	}
}

func TestManagementGet(t *testing.T) {
	_, _, id, base := managed(t)
	resp, err := http.Get(base + id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "connectedAt") || !strings.Contains(string(b), "ToastTray-test") {
		t.Errorf("GET: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(base + "gone=")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("GET unknown: %d", resp.StatusCode)
	}
}

func TestWaitForCancelled(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.WaitConnections(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitConnections with a cancelled ctx: %v", err)
	}
}

// Handler serves the emulator from any http.Server; rules use the
// request's Host, so no URL needs configuring.
func TestHandlerOnOwnServer(t *testing.T) {
	s := wstest.NewUnstartedServer(wstest.Options{})
	defer s.Close()
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	c := newPClient(t, s)
	c.site, c.ws = hs.URL, "ws"+strings.TrimPrefix(hs.URL, "http")+"/"+s.Stage()
	c.hc = &http.Client{Jar: c.jar, CheckRedirect: c.hc.CheckRedirect}
	c.signIn("demo", "demo").Body.Close()
	conn := c.connect("")
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	s.Push("", map[string]string{"type": "toast", "message": "own"})
	if b := mustRead(t, conn); !strings.Contains(string(b), "own") {
		t.Fatalf("got %s", b)
	}
}

// TestDeletedConnectionTakesNoPushes: once DELETE @connections has
// answered, the connection is gone for pushes and the management API, as
// on API Gateway, even while its close is still under way (held here by
// the blackhole). A push counted as delivered there would be lost.
func TestDeletedConnectionTakesNoPushes(t *testing.T) {
	s, conn, id, base := managed(t)
	s.SetBlackhole(true)
	if code := del(t, base+id); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	if n := s.Push("", map[string]string{"type": "toast", "message": "late"}); n != 0 {
		t.Errorf("Push after DELETE reached %d connections", n)
	}
	if err := s.PushTo(id, "x"); !errors.Is(err, wstest.ErrGone) {
		t.Errorf("PushTo after DELETE: %v", err)
	}
	if resp, _ := post(t, base+id, `{}`); resp.StatusCode != http.StatusGone {
		t.Errorf("POST after DELETE: %d", resp.StatusCode)
	}
	if code := del(t, base+id); code != http.StatusGone {
		t.Errorf("second DELETE: %d", code)
	}
	s.SetBlackhole(false)
	if _, _, err := read(t, conn); closeCode(err) != websocket.CloseNormalClosure {
		t.Errorf("after DELETE: %v", err)
	}
}
