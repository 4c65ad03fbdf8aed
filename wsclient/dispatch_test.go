package wsclient

import (
	"log/slog"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestAfterDropPolicy(t *testing.T) {
	cfg := Config{}.WithDefaults()
	healthy, brief := cfg.StableAfter, time.Second
	tests := []struct {
		name  string
		kind  dropKind
		up    time.Duration
		read  bool            // the connection read a frame or a pong
		want  []time.Duration // consecutive drops of this kind
		probe bool
	}{
		{"1001 of a healthy connection: at once", dropGoingAway, healthy, true, []time.Duration{0, 0}, false},
		{"abrupt drop: within 0.5 s", dropAbrupt, healthy, true, []time.Duration{250 * time.Millisecond, 250 * time.Millisecond}, true},
		{"server close: spread over 4.5 s", dropServerClose, healthy, true, []time.Duration{2250 * time.Millisecond, 2250 * time.Millisecond}, false},
		{"wake: at once, probe first", dropReconnect, healthy, true, []time.Duration{0}, true},
		{"accept-and-drop grows", dropGoingAway, brief, true, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second}, false},
		{"flapping link: grows to 4 s windows", dropAbrupt, brief, true, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second}, true},
		{"idle flapping link, up 2 s", dropAbrupt, aliveAfter, false, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, true},
		{"cut before it read anything grows", dropAbrupt, brief, false, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, true},
	}
	for _, tt := range tests {
		c := &Client{rand: func() float64 { return 0.5 }}
		c.log = discard()
		r := &runner{c: c, cfg: cfg}
		for i, want := range tt.want {
			if got := r.afterDrop(dropped{kind: tt.kind, up: tt.up, read: tt.read}); got != want {
				t.Errorf("%s: drop %d: delay %v, want %v", tt.name, i, got, want)
			}
			if r.netFail != tt.probe {
				t.Errorf("%s: probe %v", tt.name, r.netFail)
			}
		}
	}
}

// TestRetryAfterServerClose: a failed attempt after the server-close
// spread waits within the next window (8 s), as it did when the spread
// was itself a backoff window (4 s).
func TestRetryAfterServerClose(t *testing.T) {
	cfg := Config{}.WithDefaults()
	c := &Client{rand: func() float64 { return 0.5 }}
	c.log = discard()
	r := &runner{c: c, cfg: cfg}
	if got := r.afterDrop(dropped{kind: dropServerClose, up: cfg.StableAfter}); got != 2250*time.Millisecond {
		t.Fatalf("first delay %v, want 2.25 s", got)
	}
	if got := r.backoff(); got != 4*time.Second {
		t.Fatalf("retry delay %v, want 4 s (half of an 8 s window)", got)
	}
}

// BenchmarkDecodeDispatch measures a frame's way from the reader to
// OnMessage.
func BenchmarkDecodeDispatch(b *testing.B) {
	var toasts int
	c, err := New(Config{SiteURL: "https://www.example.com", WSURL: "wss://ws.example.com"}, Credentials{}, Options{
		OnMessage: func(m Message) {
			if m.Type == "toast" {
				toasts++
			}
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	frames := [][]byte{
		[]byte(`{"type":"toast","level":"success","title":"Saved","message":"Your changes were saved."}`),
		[]byte(`{"type":"task_progress","payload":{"task":"export","percent":42}}`),
		[]byte(`{"type":"toast","payload":{"level":"warning","title":"Disk","message":"Almost full","url":"https://www.example.com/disk"}}`),
		[]byte(`{"type":"chat_message","user":"ann","text":"hello there"}`),
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c.dispatch(websocket.TextMessage, frames[i%len(frames)])
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	if toasts == 0 {
		b.Fatal("no toast dispatched")
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
