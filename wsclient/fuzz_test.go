package wsclient

// Fuzz targets for what the network controls: frame decoding, toast
// extraction, and the WebSocket URL the client builds from settings plus a
// token. Run one with, e.g.:
//
//	go test -run '^$' -fuzz '^FuzzDecodeMessage$' -fuzztime 60s ./wsclient
//
// The seed corpus (f.Add below, plus testdata/fuzz/<Target> if present) runs
// as ordinary subtests in `go test ./wsclient`.

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/toasttray/toasttray/wsclient/wstest"
)

// seedFrames are realistic and hostile frames: the documented shapes, every
// wstest garbage kind, and edge cases of the loose wire format.
func seedFrames(f *testing.F) {
	for i := 0; i < 4; i++ {
		b, _ := json.Marshal(wstest.DemoToast(i))
		f.Add(b)
	}
	for _, k := range wstest.GarbageKinds() {
		if k == wstest.GarbageTooBig || k == wstest.GarbageHuge || k == wstest.GarbageNested {
			continue // large seeds slow every fuzz iteration's minimisation
		}
		_, b, err := wstest.GarbageFrame(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"type":"toast","level":"success","title":"Saved","message":"ok"}`,
		`{"type":"toast","payload":{"level":"error","title":"T","message":"M","url":"https://e.com/x","timeout":5}}`,
		`{"type":"notification","level":40,"title":1.5,"body":"b","timeout_ms":"2500"}`,
		`{"type":"toast","level":"warn","text":"x","link":"javascript:alert(1)","timeout":"3s"}`,
		`{"type":"toast","message":"m","url":"https://user:pass@evil.example/"}`,
		`{"type":"toast","title":"\u202eevil\u0000","message":"a\n\n\n\nb\r\n\tc","timeout":-1}`,
		`{"type":"toast","message":"` + strings.Repeat("é", 2100) + `"}`,
		`{"type":{"nested":true},"payload":[1,2]}`,
		`{"type":"toast","payload":null,"title":null,"message":"m"}`,
		`{"type":"toast","payload":{"payload":{"title":"deep"}},"message":"top"}`,
		` {"type":"toast","message":"leading space"}`,
		`{"type":"system","level":"info"}`,
		`{"type":"toast","timeout":1e308,"message":"inf"}`,
		`{"type":"toast","timeout":"9999999h","message":"long"}`,
		`{"type":"toast","message":"dup","message":"second"}`,
		`{}`, `[]`, `null`, `"string"`, `12`, ``, `{`, "{\"type\":\"toast\",\"message\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeMessage(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		orig := string(data)
		m, err := DecodeMessage(data)
		if string(data) != orig {
			t.Fatal("DecodeMessage modified its input")
		}
		if err != nil {
			if !errors.Is(err, ErrNotJSON) && !errors.Is(err, ErrNotObject) {
				t.Fatalf("unclassified decode error: %v", err)
			}
			if errors.Is(err, ErrNotObject) && !json.Valid(data) {
				t.Fatalf("ErrNotObject for invalid JSON %q", data)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if string(m.Raw) != orig {
			t.Fatal("Raw is not the frame")
		}
		if len(data) > 0 {
			data[0] ^= 0xff // Raw must be a copy
			if string(m.Raw) != orig {
				t.Fatal("Raw aliases the caller's buffer")
			}
			data[0] ^= 0xff
		}
		checkLine(t, "type", m.Type, maxTypeLen)

		toast, err := m.Toast()
		if err != nil {
			if !errors.Is(err, ErrNotToast) && !errors.Is(err, ErrNotJSON) {
				t.Fatalf("unclassified toast error: %v", err)
			}
			if toastTypes[m.Type] && errors.Is(err, ErrNotJSON) {
				t.Fatalf("a decoded object failed toast JSON decoding: %v", err)
			}
			return
		}
		if !toastTypes[m.Type] {
			t.Fatalf("toast from type %q", m.Type)
		}
		checkToast(t, toast)
	})
}

// FuzzToastFields builds toasts field by field, flat or nested, so the
// fuzzer spends its time on field values rather than on JSON syntax.
func FuzzToastFields(f *testing.F) {
	f.Add("success", "Saved", "Your changes were saved.", "https://example.com/a?b=c", "5", false)
	f.Add("40", "", "m", "http://h", "2500", true)
	f.Add("weird", "\u202e\x00t", "a\n\n\nb", "file:///etc/passwd", "1h", true)
	f.Add("info", "Link", "m", "https://user:pass@evil.example/", "", false)
	f.Add("info", "Link", "m", "https://www.example.com@evil.example/x", "", true)
	f.Add("", " ", " ", "https://", "-3", false)
	f.Add("ERROR", strings.Repeat("x", 300), strings.Repeat("y\n", 2000), "https://e.com/"+strings.Repeat("p", 2100), "1e9", false)
	f.Fuzz(func(t *testing.T, level, title, message, link, timeout string, nested bool) {
		fields := map[string]any{"level": level, "title": title, "message": message, "url": link, "timeout": timeout}
		obj := map[string]any{"type": "toast"}
		if nested {
			obj["payload"] = fields
		} else {
			for k, v := range fields {
				obj[k] = v
			}
		}
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Skip() // invalid UTF-8 is replaced by Marshal, so this is rare
		}
		m, err := DecodeMessage(raw)
		if err != nil {
			t.Fatalf("valid object refused: %v", err)
		}
		toast, err := m.Toast()
		if err != nil {
			if !errors.Is(err, ErrNotToast) {
				t.Fatalf("toast error: %v", err)
			}
			// Only a toast with no visible title and no message is refused.
			if cleanLine(title, MaxTitleLen) != "" || cleanText(message, MaxMessageLen) != "" {
				t.Fatalf("refused a toast with text: title %q message %q: %v", title, message, err)
			}
			return
		}
		checkToast(t, toast)
		if toast.Level != ParseLevel(level) && !isNumber(level) {
			t.Fatalf("level %q became %q, want %q", level, toast.Level, ParseLevel(level))
		}
	})
}

// isNumber matches parseWireLevel: any integer Atoi reads ("070", "+40")
// is a Django level number.
func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// checkLine: valid UTF-8, at most max runes, no control or bidi runes, no
// surrounding spaces.
func checkLine(t *testing.T, what, s string, max int) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s %q is not valid UTF-8", what, s)
	}
	if n := utf8.RuneCountInString(s); n > max {
		t.Fatalf("%s has %d runes, limit %d", what, n, max)
	}
	if strings.ContainsFunc(s, isStripped) {
		t.Fatalf("%s %q holds a control or bidi rune", what, s)
	}
	if strings.TrimSpace(s) != s {
		t.Fatalf("%s %q is not trimmed", what, s)
	}
}

func checkToast(t *testing.T, toast Toast) {
	t.Helper()
	switch toast.Level {
	case LevelSuccess, LevelInfo, LevelWarning, LevelError:
	default:
		t.Fatalf("level %q", toast.Level)
	}
	checkLine(t, "title", toast.Title, MaxTitleLen)
	msg := toast.Message
	if !utf8.ValidString(msg) || utf8.RuneCountInString(msg) > MaxMessageLen {
		t.Fatalf("message invalid or too long: %d runes", utf8.RuneCountInString(msg))
	}
	if strings.ContainsFunc(strings.ReplaceAll(msg, "\n", ""), isStripped) {
		t.Fatalf("message %q holds a control or bidi rune", msg)
	}
	if strings.Contains(msg, "\n\n\n") {
		t.Fatalf("message %q keeps more than two line breaks in a row", msg)
	}
	if toast.Title == "" && toast.Message == "" {
		t.Fatal("empty toast accepted")
	}
	if toast.URL != "" {
		u, err := url.Parse(toast.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(toast.URL) > MaxURLLen {
			t.Fatalf("URL %q kept", toast.URL)
		}
	}
}

// FuzzBuildURL checks the connection URL: the token and channel arrive
// intact, the configured URL's own parameters are kept, and the redacted
// form used in logs never carries the token.
func FuzzBuildURL(f *testing.F) {
	tok := strings.Repeat("ab12", 16)
	f.Add("wss://ws.example.com", tok, "news")
	f.Add("wss://x.execute-api.eu-west-1.amazonaws.com/prod?site=a", tok, "")
	f.Add("wss://ws.example.com/p?channel=fromurl", tok, "")
	f.Add("wss://ws.example.com/?a=1&a=2#frag", "a b&c=d", "x-y_z")
	f.Add("ws://127.0.0.1:8000/prod?ws_token=stale", tok, "c")
	f.Add("wss://[::1]:443/p%20q?x=%zz", tok, "c")
	f.Add("wss://user:pw@h/", tok, "c")
	f.Fuzz(func(t *testing.T, wsURL, token, channel string) {
		// The client builds from the configuration as WithDefaults left
		// it: URL and channel trimmed.
		wsURL, channel = strings.TrimSpace(wsURL), strings.TrimSpace(channel)
		got, err := buildURL(wsURL, token, channel)
		cfgErr := Config{SiteURL: "https://www.example.com", WSURL: wsURL, Channel: channel}.Validate()
		if err != nil {
			if cfgErr == nil {
				t.Fatalf("Validate accepted %q but buildURL failed: %v", wsURL, err)
			}
			return
		}
		u, perr := url.Parse(got)
		if perr != nil {
			t.Fatalf("built URL %q does not parse: %v", got, perr)
		}
		q := u.Query()
		if q.Get("ws_token") != token || len(q["ws_token"]) != 1 {
			t.Fatalf("ws_token = %q, want %q (url %q)", q["ws_token"], token, got)
		}
		if channel != "" && (q.Get("channel") != channel || len(q["channel"]) != 1) {
			t.Fatalf("channel = %q, want %q", q["channel"], channel)
		}
		if u.Fragment != "" {
			t.Fatalf("fragment %q kept", u.Fragment)
		}
		if orig, err := url.Parse(wsURL); err == nil {
			for k, vs := range orig.Query() {
				if k == "ws_token" || (k == "channel" && channel != "") {
					continue
				}
				if strings.Join(q[k], "\x00") != strings.Join(vs, "\x00") {
					t.Fatalf("parameter %q changed: %q → %q", k, vs, q[k])
				}
			}
			if cfgErr == nil && u.Scheme != orig.Scheme {
				t.Fatalf("scheme changed: %q → %q", orig.Scheme, u.Scheme)
			}
		}
		red := redactURL(got)
		if rq, err := url.Parse(red); err == nil && rq.Query().Get("ws_token") != "REDACTED" {
			t.Fatalf("redacted URL %q still has ws_token %q", red, rq.Query().Get("ws_token"))
		}
		if len(token) >= 8 && !strings.Contains(wsURL, token) && !strings.Contains(channel, token) &&
			!strings.Contains("REDACTED", token) {
			for _, form := range []string{token, url.QueryEscape(token)} {
				if strings.Contains(red, form) {
					t.Fatalf("redacted URL %q leaks the token %q", red, token)
				}
			}
		}
	})
}

// FuzzValidateChannel: the client refuses, before spending a token, every
// channel the server would refuse after consuming it (PROTOCOL.md §2), and
// accepts every channel the server accepts.
func FuzzValidateChannel(f *testing.F) {
	for _, s := range []string{"", "news", "a-b_c", "with space", "ü", strings.Repeat("a", 128), strings.Repeat("a", 129), "a\n", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ch string) {
		client := validateChannel(ch) == nil
		server := wstest.ValidChannel(ch)
		if client != server {
			t.Fatalf("channel %q: client accepts=%v, server accepts=%v", ch, client, server)
		}
	})
}

// FuzzConfigValidate: whatever the settings, Validate does not panic,
// names only documented fields, and a valid configuration yields a client.
func FuzzConfigValidate(f *testing.F) {
	f.Add("https://www.example.com", "wss://ws.example.com/prod", "/api/ws-token/", "/accounts/login/", "news", "$default", "keepalive", int64(0))
	f.Add("http://127.0.0.1:8000", "ws://127.0.0.1:8000/prod", "", "", "", "", "", int64(-1))
	f.Add("http://example.com", "ws://example.com", "api", "//evil", "bad name", "has space", "1bad", int64(time.Hour))
	f.Add("https://user:pw@example.com?q#f", "wss://", "/a?b", "/l", strings.Repeat("c", 129), strings.Repeat("r", 129), "ok_name", int64(1))
	known := map[string]bool{"site_url": true, "ws_url": true, "token_path": true, "login_path": true,
		"channel": true, "route_key": true, "keepalive_handler": true, "ca_file": true, "timing": true}
	f.Fuzz(func(t *testing.T, site, ws, tokenPath, loginPath, channel, route, keep string, d int64) {
		cfg := Config{SiteURL: site, WSURL: ws, TokenPath: tokenPath, LoginPath: loginPath, Channel: channel,
			RouteKey: route, KeepaliveHandler: keep, PingInterval: time.Duration(d), BackoffBase: time.Duration(d)}
		err := cfg.Validate()
		if err == nil {
			if _, nerr := New(cfg, Credentials{}, Options{}); nerr != nil {
				t.Fatalf("Validate accepted, New refused: %v", nerr)
			}
			w := cfg.WithDefaults()
			if w.KeepaliveInterval <= 0 || w.KeepaliveInterval > MaxKeepaliveInterval || w.BackoffCap < w.BackoffBase {
				t.Fatalf("defaults out of range: %+v", w)
			}
			if _, err := buildURL(w.WSURL, "t", w.Channel); err != nil {
				t.Fatalf("valid config, URL not buildable: %v", err)
			}
			return
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) == 0 {
			t.Fatalf("not a ValidationError: %v", err)
		}
		for _, fe := range ve.Fields {
			if !known[fe.Field] || fe.Reason == "" {
				t.Fatalf("undocumented field or empty reason: %+v", fe)
			}
		}
	})
}
