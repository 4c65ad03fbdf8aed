package ui

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestFyneTestDriverAvailable(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("probe")
	l := widget.NewLabel("hello")
	w.SetContent(l)
	if l.Text != "hello" {
		t.Fatal("label text lost")
	}
}

// Each request line from the tray is handled once, trimmed; blank lines
// are skipped, and end of input ends the follower.
func TestFollowRequests(t *testing.T) {
	in := strings.NewReader("raise\nnoise\n  reload  \n\nraise")
	var got []string
	followRequests(in, func(req string) { got = append(got, req) })
	if strings.Join(got, ",") != "raise,noise,reload,raise" {
		t.Fatalf("requests %q", got)
	}
}

// quitApp is Fyne's test app with a Run that, like the real one, blocks
// until Quit.
type quitApp struct {
	fyne.App
	once  sync.Once
	quit  chan struct{}
	quits int // Quit calls, read after Run returned
}

func (a *quitApp) Run() { <-a.quit }
func (a *quitApp) Quit() {
	a.quits++
	a.once.Do(func() { close(a.quit) })
}

// The end of stdin (the tray closed the pipe: it is quitting) closes the
// window through the app's Quit, on the UI thread; raise lines before it
// do not.
func TestWindowClosesAtEndOfStdin(t *testing.T) {
	a := &quitApp{App: test.NewTempApp(t), quit: make(chan struct{})}
	w := a.NewWindow("probe")
	stdin, tray := io.Pipe()
	ran := make(chan error, 1)
	go func() {
		ran <- runWindow(context.Background(), a, w, slog.New(slog.NewTextHandler(io.Discard, nil)), stdin, nil)
	}()
	io.WriteString(tray, "raise\n") // returns once read: the window is up
	tray.Close()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("the window stayed open after the end of stdin")
	}
	if a.quits != 1 {
		t.Fatalf("Quit called %d times, want 1", a.quits)
	}
}
