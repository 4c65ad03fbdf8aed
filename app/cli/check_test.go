package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/toasttray/toasttray/wsclient/wstest"
)

func TestCheckAllSteps(t *testing.T) {
	s := wstest.NewServer(wstest.Options{})
	defer s.Close()
	t.Setenv(envPassword, "demo")
	out := newLineWriter("WebSocket handshake")
	done := make(chan error, 1)
	go func() { done <- Check(context.Background(), connArgs(s), testEnv(out, &bytes.Buffer{})) }()
	waitSeen(t, out, done)
	s.Push("", map[string]any{"type": "toast", "message": "hi"})
	if err := <-done; err != nil {
		t.Fatalf("Check = %v\n%s", err, out.String())
	}
	text := out.String()
	for _, step := range []string{"DNS", "TCP", "TLS", "Sign in", "Token", "WebSocket handshake", "First message"} {
		if !strings.Contains(text, "ok   "+step) {
			t.Errorf("no ok %s in:\n%s", step, text)
		}
	}
	if !strings.Contains(text, `received a "toast" message`) || !strings.Contains(text, "All steps passed") {
		t.Errorf("output:\n%s", text)
	}
}

func TestCheckFailsWithFix(t *testing.T) {
	s := wstest.NewServer(wstest.Options{})
	defer s.Close()
	tests := []struct {
		name, password string
		args           []string
		step, fix      string
	}{
		{"bad password", "nope", nil, "FAIL Sign in", "check the username and password"},
		{"bad token path", "demo", []string{"--token-path", "/api/nope/"}, "FAIL Token", "token path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envPassword, tt.password)
			var out bytes.Buffer
			err := Check(context.Background(), connArgs(s, tt.args...), testEnv(&out, &bytes.Buffer{}))
			if !errors.Is(err, errCheckFailed) {
				t.Fatalf("Check = %v", err)
			}
			if !strings.Contains(out.String(), tt.step) || !strings.Contains(out.String(), "fix: ") || !strings.Contains(out.String(), tt.fix) {
				t.Fatalf("output:\n%s", out.String())
			}
			if tt.password != "demo" && strings.Contains(out.String(), tt.password) {
				t.Fatalf("password printed:\n%s", out.String())
			}
		})
	}
}

// With a catch-up handler, check says whether the site answers it.
func TestCheckCatchup(t *testing.T) {
	s := wstest.NewServer(wstest.Options{CatchupHandler: "catchup"})
	defer s.Close()
	t.Setenv(envPassword, "demo")
	out := newLineWriter("WebSocket handshake")
	done := make(chan error, 1)
	go func() {
		done <- Check(context.Background(), connArgs(s, "--catchup-handler", "catchup"), testEnv(out, &bytes.Buffer{}))
	}()
	waitSeen(t, out, done)
	s.SendToast("demo", "", map[string]any{"type": "toast", "message": "hi"})
	if err := <-done; err != nil {
		t.Fatalf("Check = %v\n%s", err, out.String())
	}
	if text := out.String(); !strings.Contains(text, `ok   Catch-up             the site supports catch-up (handler "catchup" answered; its latest id is "1")`) {
		t.Errorf("output:\n%s", text)
	}
}

// --proxy is validated like the setting; the refusal names the flag's
// problem, never the password in it.
func TestCheckProxyFlag(t *testing.T) {
	t.Setenv(envPassword, "demo")
	var errOut bytes.Buffer
	args := []string{"--site", "https://a.example", "--ws", "wss://b.example", "--user", "u", "--proxy", "ftp://u:S3cret@proxy.example:21"}
	if err := Check(context.Background(), args, testEnv(&bytes.Buffer{}, &errOut)); !errors.Is(err, ErrUsage) {
		t.Fatalf("Check with a bad --proxy = %v, want ErrUsage", err)
	}
	if !strings.Contains(errOut.String(), "proxy: must start with http://") || strings.Contains(errOut.String(), "S3cret") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
}
