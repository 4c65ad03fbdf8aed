package wsclient_test

import (
	"bytes"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoSecretsInLogsOrStatus runs sign-in, connects, drops and a failed
// sign-in with debug logging and checks that no password, session or token
// shows up anywhere.
func TestNoSecretsInLogsOrStatus(t *testing.T) {
	noLeak(t)
	var logs syncBuf
	var statuses []string
	var mu sync.Mutex
	h := newHarness(t, setup{
		srv:   wstest.Options{Users: map[string]string{"ann": "s3cret-pw"}},
		creds: &wsclient.Credentials{Username: "ann", Password: "s3cret-pw"},
		opts: func(o *wsclient.Options) {
			o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			on := o.OnStatus
			o.OnStatus = func(st wsclient.Status) {
				mu.Lock()
				statuses = append(statuses, st.Err)
				mu.Unlock()
				on(st)
			}
		},
	})
	h.start()
	h.waitState(wsclient.StateConnected)
	h.srv.ResetAll()
	st := h.waitState(wsclient.StateWaiting)
	h.srv.SetTokenFault(wstest.TokenError500)
	h.advanceTo(st.Until)
	st = h.waitState(wsclient.StateWaiting)
	h.srv.SetTokenFault(wstest.TokenOK)
	h.advanceTo(st.Until)
	h.waitState(wsclient.StateConnected)
	h.stop()
	mu.Lock()
	all := logs.String() + strings.Join(statuses, "\n")
	mu.Unlock()
	if strings.Contains(all, "s3cret") {
		t.Fatalf("password leaked:\n%s", all)
	}
	if m := regexp.MustCompile(`ws_token=[0-9a-f]{16,}|[0-9a-f]{64}|sessionid=[A-Za-z0-9]{8,}`).FindString(all); m != "" {
		t.Fatalf("secret leaked (%s):\n%s", m, all)
	}
}
