package ui

import (
	"strings"
	"testing"

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

// Each "raise" line from the tray raises the window once; other lines are
// ignored, and end of input ends the follower.
func TestFollowRaises(t *testing.T) {
	in := strings.NewReader("raise\nnoise\n  raise  \n\nraise")
	n := 0
	followRaises(in, func() { n++ })
	if n != 3 {
		t.Fatalf("raised %d times, want 3", n)
	}
}
