package wsclient_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/toasttray/toasttray/wsclient"
)

// TestGatewayFailingSpendsNoTokens: a gateway that answers 503 costs one
// token (the attempt that found out), then only token-free probes.
func TestGatewayFailingSpendsNoTokens(t *testing.T) {
	noLeak(t)
	var mu sync.Mutex
	withToken, without := 0, 0
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.URL.Query().Has("ws_token") {
			withToken++
		} else {
			without++
		}
		mu.Unlock()
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
	}))
	defer gw.Close()
	h := newHarness(t, setup{cfg: func(c *wsclient.Config) { c.WSURL = "ws" + strings.TrimPrefix(gw.URL, "http") }})
	h.start()
	for i := 0; i < 6; i++ {
		st := h.waitState(wsclient.StateWaiting)
		if !strings.Contains(st.Err, "503") {
			t.Fatalf("status %+v", st)
		}
		h.advanceTo(st.Until)
	}
	h.waitState(wsclient.StateWaiting)
	mu.Lock()
	defer mu.Unlock()
	if c := h.srv.Counters(); c.TokensIssued != 1 || withToken != 1 || without != 6 {
		t.Fatalf("tokens %d, handshakes with token %d, probes %d", c.TokensIssued, withToken, without)
	}
}
