package wstest_test

import (
	"encoding/json"
	"testing"

	"github.com/toasttray/toasttray/wsclient/wstest"
)

// The catch-up site: toasts are kept per user and channel with increasing
// ids; a request gets the ones after since, marked, then the terminator;
// since "" gets only the terminator; silent and deaf switches.
func TestCatchupSite(t *testing.T) {
	s, _ := newServer(t, wstest.Options{CatchupHandler: "catchup", Users: map[string]string{"demo": "demo", "bob": "b"}})
	conn := signedIn(t, s).connect("ops")
	ask := func(since string) {
		t.Helper()
		if err := conn.WriteJSON(map[string]any{"action": "$default", "handler": "catchup", "since": since}); err != nil {
			t.Fatal(err)
		}
	}
	next := func() map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(mustRead(t, conn), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if id, n := s.SendToast("demo", "ops", map[string]any{"type": "toast", "message": "a"}); id != "1" || n != 1 {
		t.Fatalf("SendToast = %q, %d", id, n)
	}
	if m := next(); m["id"] != "1" || m["catchup"] != nil {
		t.Fatalf("live %v", m)
	}
	s.SendToast("bob", "ops", map[string]any{"type": "toast", "message": "not demo's"})
	s.SendToast("demo", "", map[string]any{"type": "toast", "message": "other channel"})
	s.SendToast("demo", "ops", map[string]any{"type": "toast", "message": "d"})
	if m := next(); m["id"] != "4" {
		t.Fatalf("live %v", m)
	}
	ask("")
	if m := next(); m["type"] != "catchup" || m["since"] != "" || m["last"] != "4" || m["count"] != 0.0 {
		t.Fatalf("terminator %v", m)
	}
	ask("0")
	for _, want := range []string{"1", "4"} {
		if m := next(); m["id"] != want || m["catchup"] != true {
			t.Fatalf("backlog %v, want id %s", m, want)
		}
	}
	if m := next(); m["type"] != "catchup" || m["count"] != 2.0 || m["since"] != "0" {
		t.Fatalf("terminator %v", m)
	}

	s.SetCatchupSilent(true)
	ask("0")
	if _, err := s.WaitReceived(ctxT(t), 3); err != nil {
		t.Fatal(err)
	}
	s.SetCatchupSilent(false)
	ask("4")
	if m := next(); m["type"] != "catchup" || m["since"] != "4" { // the silent request got nothing
		t.Fatalf("terminator %v", m)
	}

	id := s.Connections()[0].ID
	if err := s.Deafen(id); err != nil {
		t.Fatal(err)
	}
	ask("0")
	if _, n := s.SendToast("demo", "ops", map[string]any{"type": "toast", "message": "lost"}); n != 0 {
		t.Fatalf("deaf connection reached")
	}
	if _, err := s.WaitReceived(ctxT(t), 5); err != nil { // the request was handled: no answer
		t.Fatal(err)
	}
	if err := s.PushTo(id, map[string]any{"type": "mgmt"}); err != nil {
		t.Fatal(err)
	}
	if m := next(); m["type"] != "mgmt" { // the management API still reaches it
		t.Fatalf("after deafen %v", m)
	}
}
