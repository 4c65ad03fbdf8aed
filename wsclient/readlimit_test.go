package wsclient_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/toasttray/toasttray/wsclient"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// TestCompressedOversizeRefused: a message over the 128 KB limit that
// permessage-deflate shrinks to a few KB on the wire is refused like any
// other (close 1009, reconnect) and never reaches the app; one of exactly
// 128 KB is delivered on the same connection.
func TestCompressedOversizeRefused(t *testing.T) {
	_, tooBig, err := wstest.GarbageFrame(wstest.GarbageTooBig) // 192 KB of one letter
	if err != nil {
		t.Fatal(err)
	}
	huge := `{"type":"toast","level":"info","message":"` + strings.Repeat("x", 10<<20) + `"}`
	for name, frame := range map[string][]byte{"192KB": tooBig, "10MB": []byte(huge)} {
		t.Run(name, func(t *testing.T) {
			noLeak(t)
			h := newHarness(t, setup{})
			h.start()
			h.waitState(wsclient.StateConnected)
			conns := h.srv.Connections()
			if len(conns) != 1 || !conns[0].Compression {
				t.Fatalf("want one connection with compression: %+v", conns)
			}
			if _, err := h.srv.SendGarbage(wstest.GarbageHuge); err != nil { // exactly 128 KB: fine
				t.Fatal(err)
			}
			if m := h.waitMsg(); len(m.Raw) != wstest.MaxMessageSize {
				t.Fatalf("128 KB message arrived as %d bytes", len(m.Raw))
			}
			if err := h.srv.PushTo(conns[0].ID, json.RawMessage(frame)); err != nil {
				t.Fatal(err)
			}
			var st wsclient.Status
		wait:
			for {
				select {
				case m := <-h.msgs:
					t.Fatalf("a %d-byte message was delivered to the app", len(m.Raw))
				case st = <-h.status:
					if st.State == wsclient.StateWaiting {
						break wait
					}
				case <-time.After(failsafe):
					t.Fatalf("neither refused nor delivered; status %+v", h.client.Status())
				}
			}
			if !strings.Contains(st.Err, "1009") || strings.Contains(st.Err, "xxxx") {
				t.Fatalf("status error %q: want the 1009 refusal, without content", st.Err)
			}
			h.advanceTo(st.Until)
			h.waitState(wsclient.StateConnected)
			h.srv.Push("default", toast(2))
			if n := msgN(t, h.waitMsg()); n != 2 {
				t.Fatalf("message %d", n)
			}
			if s := h.client.Stats(); s.Delivered != 2 || s.Connects != 2 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}
