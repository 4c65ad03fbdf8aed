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
		{"untitled warning", wsclient.Toast{Level: "warning", Message: " m "}, true,
			Notification{Title: "www.example.com · Warning", Body: "m", Level: "warning"}},
		{"multi-line title", wsclient.Toast{Level: "success", Title: "a\nb\tc"}, true,
			Notification{Title: "a b c", Level: "success"}},
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

func TestBound(t *testing.T) {
	long := strings.Repeat("é", 1000)
	got := FromToast(wsclient.Toast{Title: long, Message: long}, "", false)
	if utf8.RuneCountInString(got.Title) != MaxTitleLen || utf8.RuneCountInString(got.Body) != MaxBodyLen {
		t.Fatalf("title %d runes, body %d runes", utf8.RuneCountInString(got.Title), utf8.RuneCountInString(got.Body))
	}
	if !strings.HasSuffix(got.Body, "…") || !utf8.ValidString(got.Body) {
		t.Fatal("bad cut")
	}
	if Bound("abc", 3) != "abc" || Bound("abcd", 3) != "ab…" {
		t.Fatal(Bound("abcd", 3))
	}
}

func TestEscapeMarkup(t *testing.T) {
	in := `<b>bold</b> & <a href="x">link</a> <img src=x>`
	want := `&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href="x"&gt;link&lt;/a&gt; &lt;img src=x&gt;`
	if got := EscapeMarkup(in); got != want {
		t.Fatalf("got %s", got)
	}
}

type call struct {
	fn, title, body string
	icon            any
}

func fakeBeeep(t *testing.T, escape bool) (*Beeep, *[]call, *int) {
	var mu sync.Mutex
	var calls []call
	iconCalls := 0
	b := NewBeeep(BeeepOptions{IconDir: filepath.Join(t.TempDir(), "icons"), LevelIcon: func(l string) []byte {
		iconCalls++
		return []byte("png-" + l)
	}})
	b.escape = escape
	rec := func(fn string) func(string, string, any) error {
		return func(title, body string, icon any) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{fn, title, body, icon})
			return nil
		}
	}
	b.notify, b.alert = rec("notify"), rec("alert")
	return b, &calls, &iconCalls
}

func TestBeeepNotifier(t *testing.T) {
	b, calls, iconCalls := fakeBeeep(t, true)
	b.Notify(Notification{Title: "T", Body: "a < b & c", Level: "info"})
	b.Notify(Notification{Title: "E", Body: "x", Level: "error", Urgent: true, Sound: true})
	b.Notify(Notification{Title: "E2", Body: "x", Level: "error", Urgent: true})
	b.Notify(Notification{Title: "I", Body: "y", Level: "info"})
	b.Notify(Notification{Title: "U", Body: "y", Level: "../../etc/passwd"})
	c := *calls
	if c[0].fn != "notify" || c[0].body != "a &lt; b &amp; c" || c[0].title != "T" {
		t.Fatalf("%+v", c[0])
	}
	if c[1].fn != "alert" || c[2].fn != "notify" {
		t.Fatalf("urgency routing: %+v", c)
	}
	infoIcon := c[0].icon.(string)
	if filepath.Base(infoIcon) != "info.png" || c[3].icon != infoIcon || c[4].icon != infoIcon {
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
	if (*calls)[0].body != "a & b" {
		t.Fatal((*calls)[0].body)
	}
}

func TestBeeepErrorWrapped(t *testing.T) {
	b, _, _ := fakeBeeep(t, true)
	boom := errors.New("dbus gone")
	b.notify = func(string, string, any) error { return boom }
	if err := b.Notify(Notification{}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
}
