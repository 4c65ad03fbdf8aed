package ui

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/assets"
	"github.com/toasttray/toasttray/wsclient"
)

// HistoryDeps is what the history view touches; all are called off the UI
// thread.
type HistoryDeps struct {
	List  func() ([]history.Entry, error) // newest first
	Clear func() error
	Open  func(url string) error // opens an http(s) URL in the browser
	Now   func() time.Time       // for "today" in timestamps; default time.Now
}

// HistoryView is the history window's content: a list of the recorded
// toasts, newest first, with Clear and (for toasts with a link) Open.
type HistoryView struct {
	deps    HistoryDeps
	entries []history.Entry
	list    *widget.List
	empty   *widget.Label
	message *widget.Label
	count   *widget.Label
	clear   *widget.Button
	content fyne.CanvasObject
	icons   map[string]fyne.Resource
	busy    sync.WaitGroup

	onDone func() // tests: a background job's result is shown
}

// NewHistoryView builds the view and loads the entries in the background.
func NewHistoryView(deps HistoryDeps) *HistoryView {
	return newHistoryView(deps, nil)
}

func newHistoryView(deps HistoryDeps, onDone func()) *HistoryView {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	v := &HistoryView{deps: deps, onDone: onDone, icons: map[string]fyne.Resource{}}
	for _, l := range assets.Levels {
		v.icons[l] = fyne.NewStaticResource(l+".png", assets.LevelIcon(l))
	}
	v.list = widget.NewList(func() int { return len(v.entries) }, v.newRow, v.updateRow)
	v.list.HideSeparators = false
	v.empty = widget.NewLabel("No notifications yet.")
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Hide()
	v.message = widget.NewLabel("")
	v.message.Importance = widget.DangerImportance
	v.message.Wrapping = fyne.TextWrapWord
	v.message.Hide()
	v.count = widget.NewLabel("Loading…")
	v.clear = widget.NewButtonWithIcon("Clear", theme.DeleteIcon(), v.doClear)
	v.clear.Disable()
	bottom := container.NewVBox(v.message, container.NewHBox(v.count, layout.NewSpacer(), v.clear))
	v.content = container.NewBorder(nil, bottom, nil, nil, container.NewStack(v.list, v.empty))
	v.busy.Add(1)
	go v.load()
	return v
}

// Content is the view's root object.
func (v *HistoryView) Content() fyne.CanvasObject { return v.content }

// Close waits for background work.
func (v *HistoryView) Close() { v.busy.Wait() }

func (v *HistoryView) load() {
	defer v.busy.Done()
	entries, err := v.deps.List()
	fyne.Do(func() {
		defer v.done()
		if err != nil {
			v.showError("Could not read the history: " + err.Error())
		}
		v.setEntries(entries)
	})
}

func (v *HistoryView) setEntries(e []history.Entry) {
	v.entries = e
	v.list.Refresh()
	switch len(e) {
	case 0:
		v.count.SetText("")
		v.empty.Show()
		v.clear.Disable()
	case 1:
		v.count.SetText("1 notification")
	default:
		v.count.SetText(fmt.Sprintf("%d notifications", len(e)))
	}
	if len(e) > 0 {
		v.empty.Hide()
		v.clear.Enable()
	}
}

func (v *HistoryView) showError(msg string) {
	v.message.SetText(msg)
	v.message.Show()
}

func (v *HistoryView) doClear() {
	v.clear.Disable()
	v.busy.Add(1)
	go func() {
		defer v.busy.Done()
		err := v.deps.Clear()
		fyne.Do(func() {
			defer v.done()
			if err != nil {
				v.showError("Could not clear the history: " + err.Error())
				v.clear.Enable()
				return
			}
			v.message.Hide()
			v.setEntries(nil)
		})
	}()
}

func (v *HistoryView) done() {
	if v.onDone != nil {
		v.onDone()
	}
}

// historyRow is one line of the list: level icon, time, title and message,
// a "missed" tag when it came with a catch-up backlog, and an Open button
// when the toast carries an http(s) link.
type historyRow struct {
	widget.BaseWidget
	icon        *widget.Icon
	when        *widget.Label
	title, text *widget.Label
	missed      *widget.Label
	open        *widget.Button
	url         string
	obj         fyne.CanvasObject
}

func (v *HistoryView) newRow() fyne.CanvasObject {
	r := &historyRow{}
	r.icon = widget.NewIcon(nil)
	r.when = widget.NewLabel("24 Nov 00:00")
	r.when.TextStyle = fyne.TextStyle{Monospace: true}
	r.title = widget.NewLabel("")
	r.title.TextStyle = fyne.TextStyle{Bold: true}
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.text = widget.NewLabel("")
	r.text.Truncation = fyne.TextTruncateEllipsis
	r.missed = widget.NewLabel("missed")
	r.missed.TextStyle = fyne.TextStyle{Italic: true}
	r.missed.Hide()
	r.open = widget.NewButton("Open", func() {
		if r.url != "" {
			v.openURL(r.url)
		}
	})
	icon := container.NewGridWrap(fyne.NewSize(theme.IconInlineSize()*1.5, theme.IconInlineSize()*1.5), r.icon)
	left := container.NewHBox(container.NewCenter(icon), container.NewGridWrap(r.when.MinSize(), r.when))
	texts := container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.InnerPadding()), r.title, r.text)
	r.obj = container.NewBorder(nil, nil, left, container.NewHBox(container.NewCenter(r.missed), container.NewCenter(r.open)), texts)
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
func (r *historyRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(r.obj)
}

func (r *historyRow) set(e history.Entry, icon fyne.Resource, now time.Time) {
	r.icon.SetResource(icon)
	r.when.SetText(whenText(e.Time, now))
	title := oneLine(e.Title)
	if title == "" {
		title = strings.ToUpper(string(e.Level[:min(1, len(e.Level))])) + string(e.Level[min(1, len(e.Level)):])
	}
	r.title.SetText(title)
	r.text.SetText(oneLine(e.Message))
	if e.Missed {
		r.missed.Show()
	} else {
		r.missed.Hide()
	}
	if u, ok := e.OpenURL(); ok {
		r.url = u
		r.open.Show()
	} else {
		r.url = ""
		r.open.Hide()
	}
}

func (v *HistoryView) updateRow(id widget.ListItemID, obj fyne.CanvasObject) {
	r, ok := obj.(*historyRow)
	if !ok || id < 0 || id >= len(v.entries) {
		return
	}
	e := v.entries[id]
	icon, ok := v.icons[string(e.Level)]
	if !ok {
		icon = v.icons["info"]
	}
	r.set(e, icon, v.deps.Now())
}

func (v *HistoryView) openURL(u string) {
	v.busy.Add(1)
	go func() {
		defer v.busy.Done()
		err := v.deps.Open(u)
		fyne.Do(func() {
			defer v.done()
			if err != nil {
				v.showError("Could not open the link: " + err.Error())
			}
		})
	}()
}

// whenText is "14:03:12" for today's entries, "24 Nov 14:03" before.
func whenText(t, now time.Time) string {
	t = t.In(now.Location())
	y, m, d := now.Date()
	if ty, tm, td := t.Date(); ty == y && tm == m && td == d {
		return t.Format("15:04:05")
	}
	return t.Format("2 Jan 15:04")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// parseHTTPURL accepts only the links wsclient.LinkURL allows, as a
// *url.URL for Fyne's OpenURL.
func parseHTTPURL(s string) (*url.URL, error) {
	link, ok := wsclient.LinkURL(s)
	if !ok {
		return nil, errors.New("opening link: only http and https links without a user name or password are opened")
	}
	return url.Parse(link)
}
