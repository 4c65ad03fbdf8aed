package ui

import (
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/toasttray/toasttray/app/history"
	"github.com/toasttray/toasttray/app/text"
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
// toasts, newest first, with Clear and (for toasts with a link) Open. A tap
// on a row shows the whole toast; Reload re-reads the file (the tray asks
// for it after each write, so the open window stays current).
type HistoryView struct {
	deps    HistoryDeps
	win     fyne.Window // parent of the dialogs
	entries []history.Entry
	list    *widget.List
	empty   *widget.Label
	message *widget.Label
	count   *widget.Label
	clear   *widget.Button
	content fyne.CanvasObject
	icons   map[string]fyne.Resource
	confirm *dialog.ConfirmDialog // Clear's question, while shown
	readErr bool                  // message shows a failed read, which the next good one hides
	detail  *historyDetail        // the tapped entry, while shown

	mu     sync.Mutex
	loads  int  // loads started; a result older than the last is dropped
	closed bool // Close was called: Reload does nothing
	busy   sync.WaitGroup

	onDone func() // tests: a background job's result is shown
}

// NewHistoryView builds the view for window w (its dialogs' parent) and
// loads the entries in the background.
func NewHistoryView(w fyne.Window, deps HistoryDeps) *HistoryView {
	return newHistoryView(w, deps, nil)
}

func newHistoryView(w fyne.Window, deps HistoryDeps, onDone func()) *HistoryView {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	v := &HistoryView{deps: deps, win: w, onDone: onDone, icons: map[string]fyne.Resource{}}
	for _, l := range assets.Levels {
		v.icons[l] = fyne.NewStaticResource(l+".png", assets.LevelIcon(l))
	}
	v.list = widget.NewList(func() int { return len(v.entries) }, v.newRow, v.updateRow)
	v.list.HideSeparators = false
	v.list.OnSelected = func(id widget.ListItemID) {
		v.list.Unselect(id) // so that tapping the same row again shows it again
		if id >= 0 && id < len(v.entries) {
			v.showDetail(v.entries[id])
		}
	}
	v.empty = widget.NewLabel("No notifications yet.")
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Hide()
	v.message = widget.NewLabel("")
	v.message.Importance = widget.DangerImportance
	v.message.Wrapping = fyne.TextWrapWord
	v.message.Hide()
	v.count = widget.NewLabel("Loading…")
	v.clear = widget.NewButtonWithIcon("Clear", theme.DeleteIcon(), v.askClear)
	v.clear.Disable()
	bottom := container.NewVBox(v.message, container.NewHBox(v.count, layout.NewSpacer(), v.clear))
	v.content = container.NewBorder(nil, bottom, nil, nil, container.NewStack(v.list, v.empty))
	v.Reload()
	return v
}

// Content is the view's root object.
func (v *HistoryView) Content() fyne.CanvasObject { return v.content }

// Close waits for background work; later Reloads do nothing.
func (v *HistoryView) Close() {
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	v.busy.Wait()
}

// Reload re-reads the history in the background and shows it. It may be
// called from any goroutine; when loads overlap, only the last one started
// is shown, so an older read never replaces a newer one.
func (v *HistoryView) Reload() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	v.loads++
	n := v.loads
	v.busy.Add(1)
	go func() {
		defer v.busy.Done()
		entries, err := v.deps.List()
		fyne.Do(func() {
			defer v.done()
			v.mu.Lock()
			stale := n != v.loads
			v.mu.Unlock()
			if stale {
				return
			}
			if err != nil {
				v.showError("Could not read the history: " + err.Error())
			} else if v.readErr {
				v.hideError()
			}
			v.readErr = err != nil
			v.setEntries(entries)
		})
	}()
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
	v.content.Refresh() // lay out again: the hidden label had no room
}

func (v *HistoryView) hideError() {
	v.message.Hide()
	v.content.Refresh()
}

// askClear asks before Clear: it cannot be undone.
func (v *HistoryView) askClear() {
	n := len(v.entries)
	what := "all 1 notification"
	if n != 1 {
		what = fmt.Sprintf("all %d notifications", n)
	}
	v.confirm = dialog.NewConfirm("Clear history?",
		"Remove "+what+" from History? This cannot be undone.",
		func(ok bool) {
			v.confirm = nil
			if ok {
				v.doClear()
			}
		}, v.win)
	v.confirm.SetConfirmText("Remove all")
	v.confirm.SetDismissText("Cancel")
	v.confirm.SetConfirmImportance(widget.DangerImportance)
	v.confirm.Show()
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
			v.hideError()
			v.setEntries(nil)
			// A load started before the Clear would bring the entries
			// back: read again, which also drops that load.
			v.Reload()
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
			v.openURL(r.url, v.showError)
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
	title := text.OneLine(e.Title)
	if title == "" {
		title = e.Level.Name()
	}
	r.title.SetText(title)
	r.text.SetText(text.OneLine(e.Message))
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
	r.set(e, v.icon(e.Level), v.deps.Now())
}

func (v *HistoryView) icon(l wsclient.Level) fyne.Resource {
	if icon, ok := v.icons[string(l)]; ok {
		return icon
	}
	return v.icons["info"]
}

// openURL opens u in the background and hands an error to report, on the
// UI thread: where nothing can open links, the user sees why.
func (v *HistoryView) openURL(u string, report func(msg string)) {
	v.busy.Add(1)
	go func() {
		defer v.busy.Done()
		err := v.deps.Open(u)
		fyne.Do(func() {
			defer v.done()
			if err != nil {
				report("Could not open the link: " + err.Error())
			}
		})
	}()
}

// historyDetail is the dialog with one whole entry: the row shows one
// truncated line, this shows every line of the message.
type historyDetail struct {
	dialog  *dialog.CustomDialog
	title   *widget.Label
	when    *widget.Label // level and full date
	missed  *widget.Label
	message *widget.Label
	link    *widget.Label // the link as text, if any
	open    *widget.Button
	err     *widget.Label // why the link did not open
	body    *fyne.Container
}

func (v *HistoryView) showDetail(e history.Entry) {
	d := &historyDetail{}
	title := e.Title
	if title == "" {
		title = e.Level.Name()
	}
	d.title = widget.NewLabel(title)
	d.title.TextStyle = fyne.TextStyle{Bold: true}
	d.title.Wrapping = fyne.TextWrapWord
	d.title.Selectable = true
	d.when = widget.NewLabel(e.Level.Name() + " · " + e.Time.In(v.deps.Now().Location()).Format("Mon 2 Jan 2006 15:04:05"))
	d.missed = widget.NewLabel("missed: came with the catch-up after a time offline")
	d.missed.TextStyle = fyne.TextStyle{Italic: true}
	if !e.Missed {
		d.missed.Hide()
	}
	icon := container.NewGridWrap(fyne.NewSquareSize(theme.IconInlineSize()*1.5), widget.NewIcon(v.icon(e.Level)))
	head := container.NewVBox(container.NewHBox(container.NewCenter(icon), d.when), d.missed, d.title)

	d.message = widget.NewLabel(e.Message)
	d.message.Wrapping = fyne.TextWrapWord
	d.message.Selectable = true // the text can be copied

	d.err = widget.NewLabel("")
	d.err.Importance = widget.DangerImportance
	d.err.Wrapping = fyne.TextWrapWord
	d.err.Hide()
	d.link = widget.NewLabel(e.URL)
	d.link.Wrapping = fyne.TextWrapBreak
	d.link.Selectable = true
	d.open = widget.NewButtonWithIcon("Open link", theme.ComputerIcon(), nil)
	var foot []fyne.CanvasObject
	if u, ok := e.OpenURL(); ok {
		d.open.OnTapped = func() {
			d.err.Hide()
			v.openURL(u, func(msg string) {
				d.err.SetText(msg)
				d.err.Show()
				d.body.Refresh() // lay out again: the hidden label had no room
			})
		}
		foot = append(foot, container.NewBorder(nil, nil, nil, d.open, d.link))
	} else if e.URL != "" {
		d.link.SetText("Link not opened by ToastTray (only http and https links without a user name or password): " + e.URL)
		d.open.Hide()
		foot = append(foot, d.link)
	} else {
		d.link.Hide()
		d.open.Hide()
	}
	foot = append(foot, d.err)

	d.body = container.NewBorder(head, container.NewVBox(foot...), nil, nil, container.NewVScroll(d.message))
	d.dialog = dialog.NewCustom("Notification", "Close", d.body, v.win)
	d.dialog.SetOnClosed(func() {
		if v.detail == d {
			v.detail = nil
		}
	})
	v.detail = d
	size := v.win.Canvas().Size()
	d.dialog.Resize(fyne.NewSize(min(640, size.Width*0.9), min(480, size.Height*0.9)))
	d.dialog.Show()
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

// parseHTTPURL accepts only the links wsclient.LinkURL allows, as a
// *url.URL for Fyne's OpenURL.
func parseHTTPURL(s string) (*url.URL, error) {
	link, ok := wsclient.LinkURL(s)
	if !ok {
		return nil, errors.New("opening link: only http and https links without a user name or password are opened")
	}
	return url.Parse(link)
}
