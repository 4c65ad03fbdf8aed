package wstest_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/toasttray/toasttray/wsclient/wstest"
)

// The "done when" test: a client written from PROTOCOL.md alone signs in,
// gets a token, connects and receives a pushed toast.
func TestProtocolClientReceivesToast(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := newPClient(t, s)

	resp := c.signIn("demo", "demo")
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login status %d, want 302", resp.StatusCode)
	}
	if c.cookie("sessionid") == "" {
		t.Fatal("login set no sessionid")
	}
	tok := c.getToken()
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(tok) {
		t.Fatalf("token %q is not 64 hex chars", tok)
	}
	conn, resp2, err := c.dialWith(c.dialer(), tok, "", c.dialHeader())
	if err != nil {
		t.Fatalf("dial: %v (%s)", err, refusal(resp2))
	}
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	info := s.Connections()[0]
	if info.User != "demo" || info.Channel != "default" || info.ID == "" || !info.Opened.Equal(t0) || !info.Compression {
		t.Errorf("ConnInfo = %+v", info)
	}
	toast := map[string]any{"type": "toast", "level": "success", "title": "Saved", "message": "It worked"}
	if n := s.Push("", toast); n != 1 {
		t.Fatalf("Push reached %d connections, want 1", n)
	}
	typ, b, err := read(t, conn)
	if err != nil || typ != websocket.TextMessage {
		t.Fatalf("read: %v type %d", err, typ)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil || got["message"] != "It worked" || got["level"] != "success" {
		t.Fatalf("got %s", b)
	}
	cs := s.Counters()
	if cs.LoginsOK != 1 || cs.TokensIssued != 1 || cs.Connects != 1 || cs.PushesDelivered != 1 {
		t.Errorf("counters = %+v", cs)
	}
}

// Leaving out any one required header, reusing a token or using another
// session's token is refused, without an upgrade.
func TestHandshakeRefusals(t *testing.T) {
	s, _ := newServer(t, wstest.Options{ConnectRateLimitPerIP: -1, ConnectRateLimitPerUser: -1})
	c := signedIn(t, s)
	other := signedIn(t, s)

	cases := []struct {
		name   string
		dial   func() (*websocket.Conn, *http.Response, error)
		reason wstest.Reason
	}{
		{"no cookie", func() (*websocket.Conn, *http.Response, error) {
			h := c.dialHeader()
			h.Del("Cookie")
			return c.dialWith(c.dialer(), c.getToken(), "", h)
		}, wstest.ReasonMissingHeader},
		{"no origin", func() (*websocket.Conn, *http.Response, error) {
			h := c.dialHeader()
			h.Del("Origin")
			return c.dialWith(c.dialer(), c.getToken(), "", h)
		}, wstest.ReasonMissingHeader},
		{"no extensions", func() (*websocket.Conn, *http.Response, error) {
			d := c.dialer()
			d.EnableCompression = false
			return c.dialWith(d, c.getToken(), "", c.dialHeader())
		}, wstest.ReasonMissingHeader},
		{"no user agent", func() (*websocket.Conn, *http.Response, error) {
			h := c.dialHeader()
			h["User-Agent"] = []string{""} // net/http then sends none at all
			return c.dialWith(c.dialer(), c.getToken(), "", h)
		}, wstest.ReasonMissingHeader},
		{"origin without host:port", func() (*websocket.Conn, *http.Response, error) {
			h := c.dialHeader()
			h.Set("Origin", strings.Replace(c.site, "127.0.0.1", "localhost", 1))
			return c.dialWith(c.dialer(), c.getToken(), "", h)
		}, wstest.ReasonBadOrigin},
		{"session cookie of nobody", func() (*websocket.Conn, *http.Response, error) {
			h := c.dialHeader()
			h.Set("Cookie", "sessionid=nosuchsession; csrftoken="+c.cookie("csrftoken"))
			return c.dialWith(c.dialer(), c.getToken(), "", h)
		}, wstest.ReasonNoSession},
		{"no token", func() (*websocket.Conn, *http.Response, error) {
			return c.dialWith(c.dialer(), "", "", c.dialHeader())
		}, wstest.ReasonNoToken},
		{"made-up token", func() (*websocket.Conn, *http.Response, error) {
			return c.dialWith(c.dialer(), strings.Repeat("ab", 32), "", c.dialHeader())
		}, wstest.ReasonUnknownToken},
		{"reused token", func() (*websocket.Conn, *http.Response, error) {
			tok := c.getToken()
			conn, resp, err := c.dialWith(c.dialer(), tok, "", c.dialHeader())
			if err != nil {
				t.Fatalf("first use refused: %v (%s)", err, refusal(resp))
			}
			conn.Close()
			return c.dialWith(c.dialer(), tok, "", c.dialHeader())
		}, wstest.ReasonReusedToken},
		{"token of another session", func() (*websocket.Conn, *http.Response, error) {
			return c.dialWith(c.dialer(), other.getToken(), "", c.dialHeader())
		}, wstest.ReasonWrongSession},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Counters().Refused(tc.reason)
			conn, resp, err := tc.dial()
			if err == nil {
				conn.Close()
				t.Fatal("connected; want refused")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("err %v, %s; want 403", err, refusal(resp))
			}
			if got := s.Counters().Refused(tc.reason) - before; got != 1 {
				t.Errorf("refusals[%s] rose by %d, want 1 (header says %q)", tc.reason, got, resp.Header.Get(wstest.ReasonHeader))
			}
		})
	}
}

// A token refused for belonging to another session stays usable by its own
// session, as the package's lookup filters by session.
func TestWrongSessionDoesNotConsumeToken(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	a, b := signedIn(t, s), signedIn(t, s)
	tok := b.getToken()
	if conn, _, err := a.dialWith(a.dialer(), tok, "", a.dialHeader()); err == nil {
		conn.Close()
		t.Fatal("a used b's token")
	}
	if _, resp, err := b.dialWith(b.dialer(), tok, "", b.dialHeader()); err != nil {
		t.Fatalf("b's own token refused after a's attempt: %v (%s)", err, refusal(resp))
	}
}

func TestRefuseStatusConfigurable(t *testing.T) {
	s, _ := newServer(t, wstest.Options{RefuseStatus: http.StatusBadRequest})
	c := signedIn(t, s)
	_, resp, err := c.dialWith(c.dialer(), "", "", c.dialHeader())
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("err %v, %s; want 400", err, refusal(resp))
	}
}

func TestTokenTTL(t *testing.T) {
	s, fake := newServer(t, wstest.Options{})
	c := signedIn(t, s)

	tok := c.getToken()
	fake.Advance(60 * time.Second) // the TTL itself is still valid
	if _, resp, err := c.dialWith(c.dialer(), tok, "", c.dialHeader()); err != nil {
		t.Fatalf("token at 60s refused: %v (%s)", err, refusal(resp))
	}

	tok = c.getToken()
	fake.Advance(61 * time.Second)
	_, resp, err := c.dialWith(c.dialer(), tok, "", c.dialHeader())
	if err == nil || resp.Header.Get(wstest.ReasonHeader) != string(wstest.ReasonExpiredToken) {
		t.Fatalf("token at 61s: err %v, %s; want expired", err, refusal(resp))
	}
	if s.Counters().Refused(wstest.ReasonExpiredToken) != 1 {
		t.Error("expired refusal not counted")
	}
}

func TestTokenTTLOption(t *testing.T) {
	s, fake := newServer(t, wstest.Options{TokenTTL: 5 * time.Second})
	c := signedIn(t, s)
	tok := c.getToken()
	fake.Advance(6 * time.Second)
	if _, resp, err := c.dialWith(c.dialer(), tok, "", c.dialHeader()); err == nil {
		t.Fatal("token older than TokenTTL accepted")
	} else if resp.Header.Get(wstest.ReasonHeader) != string(wstest.ReasonExpiredToken) {
		t.Fatalf("%s; want expired", refusal(resp))
	}
}

// An invalid channel fails after the token is consumed: the same token is
// then "reused".
func TestBadChannelConsumesToken(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	tok := c.getToken()
	for _, ch := range []string{"bad channel", "x/y", strings.Repeat("a", 129)} {
		_, resp, err := c.dialWith(c.dialer(), tok, ch, c.dialHeader())
		if err == nil {
			t.Fatalf("channel %q accepted", ch)
		}
		want := wstest.ReasonBadChannel
		if ch != "bad channel" {
			want = wstest.ReasonReusedToken
		}
		if got := resp.Header.Get(wstest.ReasonHeader); got != string(want) {
			t.Errorf("channel %q: reason %q, want %q", ch, got, want)
		}
	}
	// 128 characters of the allowed set is fine.
	conn := c.connect(strings.Repeat("a-_Z9", 25) + "abc")
	if err := s.WaitConnections(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	if got := s.Connections()[0].Channel; len(got) != 128 {
		t.Errorf("channel %q", got)
	}
	conn.Close()
	if !wstest.ValidChannel("") || wstest.ValidChannel("a b") {
		t.Error("ValidChannel wrong")
	}
}

func TestChannelsArePushTargets(t *testing.T) {
	s, _ := newServer(t, wstest.Options{DefaultChannel: "lobby"})
	c := signedIn(t, s)
	lobby := c.connect("")
	news := c.connect("news")
	if err := s.WaitConnections(ctxT(t), 2); err != nil {
		t.Fatal(err)
	}
	if n := s.Push("news", map[string]string{"type": "toast", "message": "n"}); n != 1 {
		t.Fatalf("news push reached %d", n)
	}
	if n := s.Push("lobby", map[string]string{"type": "toast", "message": "l"}); n != 1 {
		t.Fatalf("lobby push reached %d", n)
	}
	if b := mustRead(t, news); !strings.Contains(string(b), `"n"`) {
		t.Errorf("news got %s", b)
	}
	if b := mustRead(t, lobby); !strings.Contains(string(b), `"l"`) {
		t.Errorf("lobby got %s", b)
	}
}

func TestConnectRateLimitPerUser(t *testing.T) {
	s, fake := newServer(t, wstest.Options{ConnectRateLimitPerUser: 3, ConnectRateLimitPerIP: -1, TokenRateLimit: -1})
	c := signedIn(t, s)
	for i := 0; i < 3; i++ {
		c.connect("").Close()
	}
	_, resp, err := c.dialWith(c.dialer(), c.getToken(), "", c.dialHeader())
	if err == nil || resp.Header.Get(wstest.ReasonHeader) != string(wstest.ReasonRateLimitedUser) {
		t.Fatalf("4th connect: %v %s; want rate-limited-user", err, refusal(resp))
	}
	// Another user on the same IP is not limited by demo's budget.
	s.AddUser("bob", "pw")
	bob := newPClient(t, s)
	bob.signIn("bob", "pw").Body.Close()
	bob.connect("").Close()
	// The window slides: a minute after the first attempts, demo may connect.
	fake.Advance(61 * time.Second)
	c.connect("").Close()
}

func TestConnectRateLimitPerIP(t *testing.T) {
	s, fake := newServer(t, wstest.Options{ConnectRateLimitPerIP: 2, ConnectRateLimitPerUser: -1})
	c := signedIn(t, s)
	c.connect("").Close()
	fake.Advance(30 * time.Second)
	c.connect("").Close()
	// A different user behind the same address (an office NAT) shares the budget.
	s.AddUser("bob", "pw")
	bob := newPClient(t, s)
	bob.signIn("bob", "pw").Body.Close()
	refused := func(when string) {
		t.Helper()
		_, resp, err := bob.dialWith(bob.dialer(), bob.getToken(), "", bob.dialHeader())
		if err == nil || resp.Header.Get(wstest.ReasonHeader) != string(wstest.ReasonRateLimitedIP) {
			t.Fatalf("%s: %v %s; want rate-limited-ip", when, err, refusal(resp))
		}
	}
	refused("3rd connect at t0+30s")
	// Sliding window: at t0+61s the attempt of t0 has left it, the two of
	// t0+30s have not; refused attempts count too, as the package records them.
	fake.Advance(31 * time.Second)
	refused("at t0+61s")
	fake.Advance(59 * time.Second) // t0+120s: only the attempt of t0+61s is left
	bob.connect("").Close()
	refused("second at t0+120s")
	if got := s.Counters().Refused(wstest.ReasonRateLimitedIP); got != 3 {
		t.Errorf("rate-limited-ip refusals %d, want 3", got)
	}
}

func TestConnectRateLimitDefaultAndFleet(t *testing.T) {
	s, _ := newServer(t, wstest.Options{ConnectRateLimitPerUser: -1, TokenRateLimit: -1})
	c := signedIn(t, s)
	for i := 0; i < 20; i++ {
		c.connect("").Close()
	}
	if _, resp, err := c.dialWith(c.dialer(), c.getToken(), "", c.dialHeader()); err == nil {
		t.Fatal("21st connect in a minute accepted")
	} else if resp.Header.Get(wstest.ReasonHeader) != string(wstest.ReasonRateLimitedIP) {
		t.Fatalf("%s", refusal(resp))
	}

	fleet, _ := newServer(t, wstest.Options{ConnectRateLimitPerIP: 1000, ConnectRateLimitPerUser: -1, TokenRateLimit: -1})
	f := signedIn(t, fleet)
	for i := 0; i < 30; i++ {
		f.connect("")
	}
	if err := fleet.WaitConnections(ctxT(t), 30); err != nil {
		t.Fatal(err)
	}
}

func TestClientMessagesRecorded(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	conn := c.connect("room1")
	msgs := []string{
		`{"action":"$default","handler":"ping","n":1,"tags":["a"]}`,
		`{"handler":"default"}`,
		`not json`,
	}
	for _, m := range msgs {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.WaitReceived(ctxT(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0]
	if m.Action != "$default" || m.Handler != "ping" || m.Params["n"] != float64(1) || m.User != "demo" ||
		m.Channel != "room1" || m.ConnID == "" || m.Err != "" {
		t.Errorf("message 0 = %+v", m)
	}
	if _, ok := m.Params["handler"]; ok {
		t.Error("Params still hold handler")
	}
	if got[1].Action != "" || got[1].Handler != "default" {
		t.Errorf("message 1 = %+v", got[1])
	}
	if got[2].Err == "" || string(got[2].Raw) != "not json" {
		t.Errorf("message 2 = %+v", got[2])
	}
	if s.Counters().MessagesReceived != 3 {
		t.Error("MessagesReceived")
	}
}

func TestMessageSizeLimit(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "compressed"}[compress], func(t *testing.T) {
			s, _ := newServer(t, wstest.Options{})
			c := signedIn(t, s)
			conn := c.connect("")
			conn.EnableWriteCompression(compress)
			ok := `{"handler":"default","x":"` + strings.Repeat("a", wstest.MaxMessageSize-len(`{"handler":"default","x":""}`)) + `"}`
			if err := conn.WriteMessage(websocket.TextMessage, []byte(ok)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.WaitReceived(ctxT(t), 1); err != nil {
				t.Fatal("a 128 KB message was not accepted:", err)
			}
			if err := conn.WriteMessage(websocket.TextMessage, []byte(ok+" ")); err != nil {
				t.Fatal(err)
			}
			_, _, err := read(t, conn)
			if closeCode(err) != websocket.CloseMessageTooBig {
				t.Fatalf("over 128 KB: %v, want close 1009", err)
			}
			if n := len(s.Received()); n != 1 {
				t.Errorf("%d messages recorded, want 1", n)
			}
		})
	}
}

func TestPings(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		t.Run(map[bool]string{false: "answered", true: "ignored"}[ignore], func(t *testing.T) {
			s, _ := newServer(t, wstest.Options{IgnorePings: ignore})
			c := signedIn(t, s)
			conn := c.connect("")
			pong := false
			conn.SetPongHandler(func(string) error { pong = true; return nil })
			if err := conn.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(5*time.Second)); err != nil {
				t.Fatal(err)
			}
			// The server handles the ping before this message, and any pong
			// is on the wire before the push that follows the message.
			if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"handler":"x"}`)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.WaitReceived(ctxT(t), 1); err != nil {
				t.Fatal(err)
			}
			s.Push("", map[string]string{"type": "toast"})
			mustRead(t, conn)
			if pong == ignore {
				t.Errorf("pong received = %v with IgnorePings = %v", pong, ignore)
			}
		})
	}
}

func TestHugeMessageArrivesWhole(t *testing.T) {
	s, _ := newServer(t, wstest.Options{})
	c := signedIn(t, s)
	conn := c.connect("")
	n, err := s.SendGarbage(wstest.GarbageHuge)
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	b := mustRead(t, conn)
	if len(b) != wstest.MaxMessageSize {
		t.Fatalf("huge message is %d bytes, want %d", len(b), wstest.MaxMessageSize)
	}
}
