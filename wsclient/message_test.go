package wsclient

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		in, typ string
		err     error
	}{
		{`{"type":"toast"}`, "toast", nil},
		{`  {"type":"chat_message","x":[1,2]}`, "chat_message", nil},
		{`{"no":"type"}`, "", nil},
		{`{"type":42}`, "42", nil},
		{`{"type":{"a":1}}`, "", nil},
		{`{"type":"a\u0000b\nc"}`, "ab c", nil},
		{`[1,2]`, "", ErrNotObject},
		{`"str"`, "", ErrNotObject},
		{`null`, "", ErrNotObject},
		{`not json`, "", ErrNotJSON},
		{`{"type":`, "", ErrNotJSON},
		{``, "", ErrNotJSON},
	}
	for _, tt := range tests {
		m, err := DecodeMessage([]byte(tt.in))
		if !errors.Is(err, tt.err) || (err == nil && m.Type != tt.typ) {
			t.Errorf("DecodeMessage(%q) = %q, %v; want %q, %v", tt.in, m.Type, err, tt.typ, tt.err)
		}
		if err == nil && string(m.Raw) != tt.in {
			t.Errorf("Raw = %q", m.Raw)
		}
	}
	buf := []byte(`{"type":"toast"}`)
	m, _ := DecodeMessage(buf)
	buf[2] = 'X'
	if string(m.Raw) != `{"type":"toast"}` {
		t.Error("Raw aliases the caller's buffer")
	}
}

func mustToast(t *testing.T, in string) (Toast, error) {
	t.Helper()
	m, err := DecodeMessage([]byte(in))
	if err != nil {
		t.Fatalf("decode %q: %v", in, err)
	}
	return m.Toast()
}

func TestToast(t *testing.T) {
	tests := []struct {
		in   string
		want Toast
	}{
		{`{"type":"toast","level":"success","title":"Saved","message":"Done"}`,
			Toast{Level: LevelSuccess, Title: "Saved", Message: "Done"}},
		{`{"type":"toast","payload":{"level":"WARNING","title":"T","message":"M","url":"https://x.example/a?b=1","timeout":5}}`,
			Toast{Level: LevelWarning, Title: "T", Message: "M", URL: "https://x.example/a?b=1"}},
		{`{"type":"toast","level":"error","payload":{"message":"nested wins"},"message":"flat"}`,
			Toast{Level: LevelError, Message: "nested wins"}},
		{`{"type":"toast","level":"bogus","message":"m","url":"javascript:alert(1)","timeout":4000}`,
			Toast{Level: LevelInfo, Message: "m"}},
		{`{"type":"notification","level":40,"title":12,"body":"b","link":"http://h/x","timeout_ms":1500}`,
			Toast{Level: LevelError, Title: "12", Message: "b", URL: "http://h/x"}},
		{`{"type":"toast","title":"  a\u0007b\tc\u202e  ","message":"l1\r\n\n\n\nl2\u0000","timeout":"1h"}`,
			Toast{Level: LevelInfo, Title: "ab c", Message: "l1\n\nl2"}},
		{`{"type":"toast","message":"x","url":"https://a b/","timeout":-3}`,
			Toast{Level: LevelInfo, Message: "x"}},
		// Userinfo disguises the host: the link would open evil.example.
		{`{"type":"toast","message":"x","url":"https://user:pass@evil.example/"}`, Toast{Level: LevelInfo, Message: "x"}},
		{`{"type":"toast","message":"x","url":"https://www.example.com@evil.example/"}`, Toast{Level: LevelInfo, Message: "x"}},
		{`{"type":"toast","message":"x","payload":{"link":"HTTP://@evil.example/"}}`, Toast{Level: LevelInfo, Message: "x"}},
		{`{"type":"toast","message":"x","url":"ftp://files.example/a"}`, Toast{Level: LevelInfo, Message: "x"}},
	}
	for _, tt := range tests {
		got, err := mustToast(t, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Toast(%s)\n got  %+v, %v\n want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{`{"type":"chat_message","message":"x"}`, `{"type":"toast"}`, `{"type":"toast","title":" ","payload":[1]}`} {
		if _, err := mustToast(t, in); !errors.Is(err, ErrNotToast) {
			t.Errorf("Toast(%s) err = %v, want ErrNotToast", in, err)
		}
	}
}

// The one bound on a toast's text (the app does not cut again): runes,
// not bytes, so 2- and 4-byte text keeps as many characters as ASCII,
// never a split rune, and the cut is marked.
func TestToastBounds(t *testing.T) {
	long := strings.Repeat("é𝄞a", 2000)
	got, err := mustToast(t, `{"type":"toast","title":"`+long+`","message":"`+long+`","url":"https://h/`+strings.Repeat("a", 3000)+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	for what, c := range map[string]struct {
		s   string
		max int
	}{"title": {got.Title, MaxTitleLen}, "message": {got.Message, MaxMessageLen}} {
		cut, ok := strings.CutSuffix(c.s, "…")
		if n := utf8.RuneCountInString(c.s); n != c.max || !ok || !utf8.ValidString(c.s) || !strings.HasPrefix(long, cut) {
			t.Errorf("%s: %d runes (want %d), marked %v, valid %v, a prefix %v", what, n, c.max, ok, utf8.ValidString(c.s), strings.HasPrefix(long, cut))
		}
	}
	if got.URL != "" {
		t.Errorf("over-long URL kept")
	}
	got, _ = mustToast(t, "{\"type\":\"toast\",\"title\":\"bad \xff utf8\",\"message\":\"m\"}")
	if got.Title != "bad \uFFFD utf8" {
		t.Errorf("title %q", got.Title)
	}
}

func TestLevels(t *testing.T) {
	for in, want := range map[string]Level{"success": LevelSuccess, " Info ": LevelInfo, "warn": LevelWarning,
		"danger": LevelError, "ERROR": LevelError, "": LevelInfo, "debug": LevelInfo} {
		if got := ParseLevel(in); got != want {
			t.Errorf("ParseLevel(%q) = %q", in, got)
		}
	}
	if !(LevelInfo.Rank() < LevelSuccess.Rank() && LevelSuccess.Rank() < LevelWarning.Rank() && LevelWarning.Rank() < LevelError.Rank()) {
		t.Error("rank order")
	}
	for l, want := range map[Level]string{LevelSuccess: "Success", LevelInfo: "Info", LevelWarning: "Warning", LevelError: "Error", "": "Info", "debug": "Info"} {
		if got := l.Name(); got != want {
			t.Errorf("Level(%q).Name() = %q, want %q", l, got, want)
		}
	}
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	c := Credentials{Username: "ann", Password: "hunter2", SessionID: "sess123", CSRFToken: "csrf456"}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "sess123") || strings.Contains(s, "csrf456") || !strings.Contains(s, "ann") {
			t.Errorf("leaks or lacks the user: %s", s)
		}
	}
}
