package notify

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/toasttray/toasttray/wsclient"
)

func TestFromToast(t *testing.T) {
	tests := []struct {
		name  string
		toast wsclient.Toast
		sound bool
		want  Notification
	}{
		{"titled info", wsclient.Toast{Level: "info", Title: "Saved", Message: "Your report is ready"}, true,
			Notification{Title: "Saved", Body: "Your report is ready", Level: "info"}},
		{"untitled error with sound", wsclient.Toast{Level: "error", Message: "Build failed"}, true,
			Notification{Title: "www.example.com · Error", Body: "Build failed", Level: "error", Urgent: true, Sound: true}},
		{"error without sound", wsclient.Toast{Level: "error", Title: "X"}, false,
			Notification{Title: "X", Level: "error", Urgent: true}},
		{"untitled warning", wsclient.Toast{Level: "warning", Message: "m"}, true,
			Notification{Title: "www.example.com · Warning", Body: "m", Level: "warning"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromToast(tt.toast, "https://www.example.com:443/x", tt.sound)
			tt.want.Title = strings.Replace(tt.want.Title, "www.example.com", "www.example.com:443", 1)
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// decodedLong is a toast as decoded from a frame whose title and message
// are over wsclient's bounds, in multi-byte text.
func decodedLong(t *testing.T) wsclient.Toast {
	t.Helper()
	m := wsclient.Message{Type: "toast", Raw: []byte(`{"type":"toast","title":"` + strings.Repeat("é", 1000) +
		`","message":"` + strings.Repeat("𝄞", 5000) + `"}`)}
	toast, err := m.Toast()
	if err != nil {
		t.Fatal(err)
	}
	return toast
}

// The decoder bounds a toast's text once; a popup shows it as decoded.
func TestFromToastKeepsDecodedText(t *testing.T) {
	toast := decodedLong(t)
	got := FromToast(toast, "", false)
	if got.Title != toast.Title || got.Body != toast.Message {
		t.Fatalf("cut again: title %d of %d runes, body %d of %d runes",
			utf8.RuneCountInString(got.Title), utf8.RuneCountInString(toast.Title),
			utf8.RuneCountInString(got.Body), utf8.RuneCountInString(toast.Message))
	}
}

func TestEscapeMarkup(t *testing.T) {
	in := `<b>bold</b> & <a href="x">link</a> <img src=x>`
	want := `&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href="x"&gt;link&lt;/a&gt; &lt;img src=x&gt;`
	if got := escapeMarkup(in); got != want {
		t.Fatalf("got %s", got)
	}
}

func TestFromToastURL(t *testing.T) {
	if n := FromToast(wsclient.Toast{Message: "m", URL: "https://www.example.com/x"}, "", false); n.URL != "https://www.example.com/x" {
		t.Errorf("URL %q", n.URL)
	}
	if n := FromToast(wsclient.Toast{Message: "m", URL: "file:///etc/passwd"}, "", false); n.URL != "" {
		t.Errorf("URL %q, want none", n.URL)
	}
}

// fakeBeeep is the desktop Notifier with its platform call recorded.
func fakeBeeep(t *testing.T, escape bool) (*Beeep, *[]Notification, *int) {
	var mu sync.Mutex
	var calls []Notification
	iconCalls := 0
	b := NewBeeep(BeeepOptions{IconDir: filepath.Join(t.TempDir(), "icons"), LevelIcon: func(l string) []byte {
		iconCalls++
		return []byte("png-" + l)
	}})
	t.Cleanup(b.Close)
	b.escape = escape
	b.show = func(n Notification) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, n)
		return nil
	}
	return b, &calls, &iconCalls
}

func TestBeeepNotifier(t *testing.T) {
	b, calls, iconCalls := fakeBeeep(t, true)
	b.Notify(Notification{Title: "T", Body: "a < b & c", Level: "info", URL: "https://x.example/"})
	b.Notify(Notification{Title: "E", Body: "x", Level: "error", Urgent: true, Sound: true})
	b.Notify(Notification{Title: "I", Body: "y", Level: "info", Icon: "/own.png"})
	b.Notify(Notification{Title: "U", Body: "y", Level: "../../etc/passwd"})
	c := *calls
	want0 := Notification{Title: "T", Body: "a &lt; b &amp; c", Level: "info", URL: "https://x.example/", Icon: c[0].Icon}
	if c[0] != want0 {
		t.Fatalf("%+v", c[0])
	}
	if !c[1].Urgent || !c[1].Sound || filepath.Base(c[1].Icon) != "error.png" {
		t.Fatalf("urgent: %+v", c[1])
	}
	infoIcon := c[0].Icon
	if filepath.Base(infoIcon) != "info.png" || c[2].Icon != "/own.png" || c[3].Icon != infoIcon {
		t.Fatalf("icons: %+v", c)
	}
	if data, _ := os.ReadFile(infoIcon); !bytes.Equal(data, []byte("png-info")) {
		t.Fatalf("icon content %q", data)
	}
	if *iconCalls != 2 { // info and error, once each
		t.Fatalf("icons rendered %d times", *iconCalls)
	}
}

func TestBeeepNoEscapeWhereNotMarkup(t *testing.T) {
	b, calls, _ := fakeBeeep(t, false)
	b.Notify(Notification{Body: "a & b"})
	if (*calls)[0].Body != "a & b" {
		t.Fatal((*calls)[0].Body)
	}
}

func TestBeeepErrorWrapped(t *testing.T) {
	b, _, _ := fakeBeeep(t, true)
	boom := errors.New("dbus gone")
	b.show = func(Notification) error { return boom }
	if err := b.Notify(Notification{}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
}
