package ui

import (
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
