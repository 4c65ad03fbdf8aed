package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

// SettingsDeps is everything the settings form touches outside itself.
// Production wires the settings file, the keyring and wsclient.Check; tests
// wire temp files, keyring.MockInit and fakes. Load, LoadCreds, Save,
// Forget, SetAutostart and Check are called off the UI thread.
type SettingsDeps struct {
	Version string
	// Load returns the current settings; exists=false on first run.
	Load func() (s settings.Settings, exists bool, err error)
	// LoadCreds returns the saved secrets for site and user (an error
	// when there are none).
	LoadCreds func(siteURL, username string) (wsclient.Credentials, error)
	// Save writes settings and credentials together or not at all
	// (creds.Store.SaveAll); empty credentials delete the saved ones.
	Save func(settings.Settings, wsclient.Credentials) error
	// Forget deletes the saved secrets for site and user; nil hides the
	// button (demo mode keeps no secrets).
	Forget func(siteURL, username string) error
	// SetAutostart turns start-at-login on or off; nil = not offered.
	SetAutostart func(on bool) error
	// Check runs the connection diagnosis, reporting each step.
	Check func(ctx context.Context, cfg wsclient.Config, c wsclient.Credentials, report func(wsclient.Step)) error
	// OnSaved is called on the UI thread after a successful Save (the
	// window process closes its window then).
	OnSaved func()
	// Note, if set, is shown above the form (e.g. demo mode).
	Note string
}

// Sign-in choices as shown.
const (
	signInPassword = "Username and password"
	signInSession  = "Cookies from a signed-in browser"
)

// Minimum level choices as shown, lowest first.
var levelChoices = []struct {
	label string
	level wsclient.Level
}{
	{"Info and above (everything)", wsclient.LevelInfo},
	{"Success and above", wsclient.LevelSuccess},
	{"Warnings and errors", wsclient.LevelWarning},
	{"Errors only", wsclient.LevelError},
}

// firstRunText is the one sentence a new user sees.
const firstRunText = "Welcome! Fill in your site's address, its WebSocket URL and how you sign in, then press Save (Test connection checks them first)."

// SettingsForm is the settings window's content. Its widgets are fields so
// tests can type into and tap them.
type SettingsForm struct {
	deps SettingsDeps

	intro                        *widget.Label
	siteURL, wsURL, tokenPath    *widget.Entry
	loginPath, channel, routeKey *widget.Entry
	signIn                       *widget.RadioGroup
	username, password           *widget.Entry
	remember                     *widget.Check
	sessionID, csrfToken         *widget.Entry
	keepalive, catchup           *widget.Entry
	minLevel                     *widget.Select
	sound, autostart             *widget.Check
	testBtn, saveBtn, forgetBtn  *widget.Button
	passwordBox, sessionBox      *fyne.Container
	secretLabel                  *widget.Label
	steps                        *fyne.Container
	message                      *widget.Label
	reasons                      map[string]*canvas.Text
	reasonBoxes                  []reasonBox
	form                         *fyne.Container
	touched                      map[string]bool   // fields the user edited: their reasons show
	showAll                      bool              // Save or Test pressed: every reason shows
	filling                      bool              // fill is setting the fields, not the user
	loaded                       settings.Settings // what Load returned: Save replaces it whole or not at all
	content                      fyne.CanvasObject
	startAtLogin                 bool // as loaded
	busy                         sync.WaitGroup
	ctx                          context.Context
	cancel                       context.CancelFunc
	hooks                        formHooks
}

// NewSettingsForm builds the form and starts loading the settings and
// saved credentials in the background. Call Close when the window closes:
// it cancels a running check and waits for background work.
func NewSettingsForm(deps SettingsDeps) *SettingsForm {
	return newSettingsForm(deps, formHooks{})
}

// formHooks tell tests that a background job's result is on screen.
type formHooks struct {
	loaded, saved, checked func()
}

func newSettingsForm(deps SettingsDeps, hooks formHooks) *SettingsForm {
	f := &SettingsForm{deps: deps, hooks: hooks, reasons: map[string]*canvas.Text{},
		touched: map[string]bool{}}
	f.ctx, f.cancel = context.WithCancel(context.Background())

	changed := func(field string) func(string) {
		return func(string) {
			if !f.filling {
				f.touched[field] = true
			}
			f.validate()
		}
	}
	entry := func(field, placeholder string) *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder(placeholder)
		e.OnChanged = changed(field)
		return e
	}
	secret := func(field, placeholder string) *widget.Entry {
		e := widget.NewPasswordEntry()
		e.SetPlaceHolder(placeholder)
		e.OnChanged = changed(field)
		return e
	}
	f.intro = widget.NewLabel("")
	f.intro.Wrapping = fyne.TextWrapWord
	f.intro.Hide()
	f.siteURL = entry(settings.FieldSiteURL, "https://www.example.com")
	f.wsURL = entry(settings.FieldWSURL, "wss://ws.example.com/prod")
	f.tokenPath = entry(settings.FieldTokenPath, settings.DefaultTokenPath)
	f.loginPath = entry(settings.FieldLoginPath, settings.DefaultLoginPath)
	f.channel = entry(settings.FieldChannel, "empty: the site's default channel")
	f.routeKey = entry(settings.FieldRouteKey, settings.DefaultRouteKey)
	f.username = entry(settings.FieldUsername, "your login name")
	f.password = secret("password", "password")
	f.remember = widget.NewCheck("Remember password in the system keyring", func(bool) { f.validate() })
	f.sessionID = secret("cookies", "value of the sessionid cookie")
	f.csrfToken = secret("cookies", "value of the csrftoken cookie")
	f.keepalive = entry(settings.FieldKeepaliveHandler, "empty: no keepalive messages")
	f.catchup = entry(settings.FieldCatchupHandler, "empty: missed notifications are not fetched")
	labels := make([]string, len(levelChoices))
	for i, c := range levelChoices {
		labels[i] = c.label
	}
	f.minLevel = widget.NewSelect(labels, nil)
	f.sound = widget.NewCheck("Play a sound for errors", nil)
	f.autostart = widget.NewCheck("Start ToastTray when I log in", nil)
	if deps.SetAutostart == nil {
		f.autostart.Disable()
	}

	f.passwordBox = container.NewVBox(f.password, f.reason(""), f.remember)
	f.sessionBox = container.NewVBox(
		f.sessionID, f.csrfToken, f.reason("cookies"),
		small("Copy them from your browser's developer tools while signed in to the site."))
	f.signIn = widget.NewRadioGroup([]string{signInPassword, signInSession}, func(string) { f.showSignIn() })
	f.signIn.Horizontal = true
	f.signIn.Required = true

	f.testBtn = widget.NewButtonWithIcon("Test connection", theme.MediaPlayIcon(), f.test)
	f.forgetBtn = widget.NewButtonWithIcon("Forget credentials", theme.DeleteIcon(), f.forget)
	if f.deps.Forget == nil {
		f.forgetBtn.Hide()
	}
	f.saveBtn = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), f.save)
	f.saveBtn.Importance = widget.HighImportance
	f.steps = container.New(layout.NewCustomPaddedVBoxLayout(-2 * theme.InnerPadding()))
	f.message = widget.NewLabel("")
	f.message.Wrapping = fyne.TextWrapWord
	f.message.Hide()

	row := func(label string, field string, obj fyne.CanvasObject) []fyne.CanvasObject {
		return []fyne.CanvasObject{widget.NewLabel(label), container.NewVBox(obj, f.reason(field))}
	}
	var cells []fyne.CanvasObject
	cells = append(cells, row("Site URL", settings.FieldSiteURL, f.siteURL)...)
	cells = append(cells, row("WebSocket URL", settings.FieldWSURL, f.wsURL)...)
	cells = append(cells, row("Token path", settings.FieldTokenPath, f.tokenPath)...)
	cells = append(cells, row("Login path", settings.FieldLoginPath, f.loginPath)...)
	cells = append(cells, row("Channel", settings.FieldChannel, f.channel)...)
	cells = append(cells, row("Route key", settings.FieldRouteKey, f.routeKey)...)
	cells = append(cells, row("Sign in with", settings.FieldAuth, f.signIn)...)
	cells = append(cells, row("Username", settings.FieldUsername, f.username)...)
	f.secretLabel = widget.NewLabel("Password")
	cells = append(cells, f.secretLabel, container.NewVBox(f.passwordBox, f.sessionBox))
	cells = append(cells, row("Keepalive handler", settings.FieldKeepaliveHandler, f.keepalive)...)
	cells = append(cells, row("Catch-up handler", settings.FieldCatchupHandler, f.catchup)...)
	cells = append(cells, row("Show", settings.FieldMinLevel, f.minLevel)...)
	cells = append(cells, widget.NewLabel(""), container.NewVBox(f.sound, f.autostart))
	form := container.New(layout.NewFormLayout(), cells...)
	f.form = form

	buttons := container.NewHBox(f.testBtn, f.forgetBtn, layout.NewSpacer(), f.saveBtn)
	top := container.NewVBox(f.intro)
	if deps.Note != "" {
		top.Add(small(deps.Note))
	}
	bottom := container.NewVBox(widget.NewSeparator(), f.steps, f.message, buttons)
	f.content = container.NewBorder(top, bottom, nil, nil, container.NewVScroll(container.NewPadded(form)))

	f.setEnabled(false) // until the settings are loaded
	f.busy.Add(1)
	go f.load()
	return f
}

// Content is the form's root object.
func (f *SettingsForm) Content() fyne.CanvasObject { return f.content }

// Close cancels a running check and waits for background work to finish.
func (f *SettingsForm) Close() {
	f.cancel()
	f.busy.Wait()
}

func small(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.SizeName = theme.SizeNameCaptionText
	return l
}

// reason returns the (hidden until needed) text that shows why field is
// invalid, right under it, indented like the entry's text.
func (f *SettingsForm) reason(field string) fyne.CanvasObject {
	t := canvas.NewText("", theme.Color(theme.ColorNameError))
	t.TextSize = theme.CaptionTextSize()
	if field == "" {
		field = "password"
	}
	f.reasons[field] = t
	box := container.New(layout.NewCustomPaddedLayout(0, 0, theme.InnerPadding(), 0), t)
	box.Hide()
	f.reasonBoxes = append(f.reasonBoxes, reasonBox{field: field, box: box})
	return box
}

type reasonBox struct {
	field string
	box   *fyne.Container
}

// Reason returns the reason shown for field ("" when none is shown); field
// is a settings.Field* key, "password" or "cookies".
func (f *SettingsForm) Reason(field string) string {
	for _, rb := range f.reasonBoxes {
		if rb.field == field && rb.box.Visible() {
			return f.reasons[field].Text
		}
	}
	return ""
}

// load runs off the UI thread: settings file, then saved credentials.
func (f *SettingsForm) load() {
	defer f.busy.Done()
	s, exists, err := f.deps.Load()
	var c wsclient.Credentials
	var cerr error
	if s.SiteURL != "" && (s.Username != "" || s.Auth == settings.AuthSession) {
		c, cerr = f.deps.LoadCreds(s.SiteURL, s.Username)
	}
	fyne.Do(func() {
		f.fill(s, c)
		// Saved settings were submitted once: say at once what is wrong
		// with them. A first run starts quiet.
		f.showAll = exists
		if !exists {
			f.intro.SetText(firstRunText)
			f.intro.Show()
			f.relayout()
		}
		switch {
		case err != nil:
			f.say("Could not read the saved settings, showing defaults: " + err.Error())
		case cerr != nil && !isNotFound(cerr):
			f.say("Could not read the saved credentials: " + cerr.Error())
		}
		f.setEnabled(true)
		f.validate()
		f.signal(f.hooks.loaded)
	})
}

// isNotFound tells "nothing saved" (normal) from a keyring failure.
func isNotFound(err error) bool { return errors.Is(err, creds.ErrNotFound) }

func (f *SettingsForm) fill(s settings.Settings, c wsclient.Credentials) {
	f.filling = true
	defer func() { f.filling = false }()
	f.loaded = s
	f.startAtLogin = s.StartAtLogin
	f.siteURL.SetText(s.SiteURL)
	f.wsURL.SetText(s.WSURL)
	f.tokenPath.SetText(s.TokenPath)
	f.loginPath.SetText(s.LoginPath)
	f.channel.SetText(s.Channel)
	f.routeKey.SetText(s.RouteKey)
	f.username.SetText(s.Username)
	f.password.SetText(c.Password)
	f.remember.SetChecked(s.RememberPassword)
	f.sessionID.SetText(c.SessionID)
	f.csrfToken.SetText(c.CSRFToken)
	f.keepalive.SetText(s.KeepaliveHandler)
	f.catchup.SetText(s.CatchupHandler)
	f.sound.SetChecked(s.SoundOnError)
	f.autostart.SetChecked(s.StartAtLogin)
	f.minLevel.SetSelectedIndex(0)
	for i, lc := range levelChoices {
		if lc.level == s.MinLevel {
			f.minLevel.SetSelectedIndex(i)
		}
	}
	if s.Auth == settings.AuthSession {
		f.signIn.SetSelected(signInSession)
	} else {
		f.signIn.SetSelected(signInPassword)
	}
	f.showSignIn()
}

// collect reads the form into Settings and Credentials. What the form does
// not show (e.g. CAFile) is kept from the loaded settings.
func (f *SettingsForm) collect() (settings.Settings, wsclient.Credentials) {
	s := f.loaded
	s.SiteURL = f.siteURL.Text
	s.WSURL = f.wsURL.Text
	s.TokenPath = f.tokenPath.Text
	s.LoginPath = f.loginPath.Text
	s.Channel = f.channel.Text
	s.RouteKey = f.routeKey.Text
	s.Username = f.username.Text
	s.RememberPassword = f.remember.Checked
	s.KeepaliveHandler = f.keepalive.Text
	s.CatchupHandler = f.catchup.Text
	s.SoundOnError = f.sound.Checked
	s.StartAtLogin = f.autostart.Checked
	s.MinLevel = wsclient.LevelInfo
	if i := f.minLevel.SelectedIndex(); i >= 0 {
		s.MinLevel = levelChoices[i].level
	}
	c := wsclient.Credentials{Username: strings.TrimSpace(f.username.Text)}
	if f.signIn.Selected == signInSession {
		s.Auth = settings.AuthSession
		c.SessionID = strings.TrimSpace(f.sessionID.Text)
		c.CSRFToken = strings.TrimSpace(f.csrfToken.Text)
	} else {
		s.Auth = settings.AuthPassword
		c.Password = f.password.Text
	}
	return s.Normalized(), c
}

// problems returns the reason per invalid field: the settings' own rules
// plus what the credentials need.
func (f *SettingsForm) problems() map[string]string {
	s, c := f.collect()
	out := s.Validate()
	switch s.Auth {
	case settings.AuthSession:
		if c.SessionID == "" || c.CSRFToken == "" {
			out["cookies"] = "both cookies are required"
		}
	default:
		if c.Password == "" && s.RememberPassword {
			out["password"] = "required"
		}
	}
	return out
}

// validate shows the reason next to each invalid field the user has
// edited (every field once Save or Test was pressed), and returns all.
func (f *SettingsForm) validate() map[string]string {
	p := f.problems()
	relayout := false
	for _, rb := range f.reasonBoxes {
		r := p[rb.field]
		show := r != "" && (f.showAll || f.touched[rb.field])
		if show != rb.box.Visible() {
			relayout = true
		}
		if show {
			f.reasons[rb.field].Text = r
			f.reasons[rb.field].Refresh()
			rb.box.Show()
		} else {
			rb.box.Hide()
		}
	}
	if relayout {
		f.relayout()
	}
	return p
}

// relayout lays the form out again: showing or hiding an object does not
// make its containers recompute their layout.
func (f *SettingsForm) relayout() {
	if f.content != nil {
		f.content.Refresh()
	}
}

func (f *SettingsForm) showSignIn() {
	if f.signIn.Selected == signInSession {
		f.secretLabel.SetText("Cookies")
		f.passwordBox.Hide()
		f.sessionBox.Show()
	} else {
		f.secretLabel.SetText("Password")
		f.sessionBox.Hide()
		f.passwordBox.Show()
	}
	f.validate()
	f.relayout()
}

func (f *SettingsForm) setEnabled(on bool) {
	for _, b := range []*widget.Button{f.testBtn, f.saveBtn, f.forgetBtn} {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

// say shows a message under the form; "" hides it.
func (f *SettingsForm) say(msg string) {
	f.message.SetText(msg)
	f.message.Importance = widget.MediumImportance
	if msg == "" {
		f.message.Hide()
	} else {
		f.message.Show()
	}
	f.relayout()
}

func (f *SettingsForm) sayError(msg string) {
	f.say(msg)
	f.message.Importance = widget.DangerImportance
	f.message.Refresh()
}

// save validates, then writes keyring and settings on a goroutine (keyring
// calls may block on an unlock prompt) and shows the outcome.
func (f *SettingsForm) save() {
	f.showAll = true
	if p := f.validate(); len(p) > 0 {
		f.sayError(fmt.Sprintf("Not saved: %d field(s) need attention.", len(p)))
		f.signal(f.hooks.saved)
		return
	}
	s, c := f.collect()
	if s.Auth == settings.AuthPassword && !s.RememberPassword {
		c.Password = "" // not remembered: delete what was saved
	}
	autostartChanged := s.StartAtLogin != f.startAtLogin
	f.setEnabled(false)
	f.say("Saving…")
	f.busy.Add(1)
	go func() {
		defer f.busy.Done()
		err := f.deps.Save(s, c)
		var aerr error
		if err == nil && autostartChanged && f.deps.SetAutostart != nil {
			aerr = f.deps.SetAutostart(s.StartAtLogin)
		}
		fyne.Do(func() {
			defer f.signal(f.hooks.saved)
			f.setEnabled(true)
			if err != nil {
				f.sayError("Not saved; your previous settings are unchanged. " + err.Error())
				return
			}
			f.loaded = s
			if aerr != nil {
				f.sayError("Saved, but start at login could not be changed: " + aerr.Error())
				return
			}
			f.startAtLogin = s.StartAtLogin
			f.say("Saved.")
			if f.deps.OnSaved != nil {
				f.deps.OnSaved()
			}
		})
	}()
}

// forget deletes the saved secrets for the site and user in the form.
func (f *SettingsForm) forget() {
	s, _ := f.collect()
	f.setEnabled(false)
	f.busy.Add(1)
	go func() {
		defer f.busy.Done()
		err := f.deps.Forget(s.SiteURL, s.Username)
		fyne.Do(func() {
			defer f.signal(f.hooks.saved)
			f.setEnabled(true)
			if err != nil {
				f.sayError("Could not forget the credentials: " + err.Error())
				return
			}
			f.password.SetText("")
			f.sessionID.SetText("")
			f.csrfToken.SetText("")
			f.say("Saved credentials deleted from the keyring.")
		})
	}()
}

// test runs the connection check with the form's values (saved or not) and
// lists each step as it completes.
func (f *SettingsForm) test() {
	s, c := f.collect()
	f.steps.RemoveAll()
	f.showAll = true
	if p := f.validate(); len(p) > 0 {
		f.sayError("Fix the fields marked in red first.")
		f.signal(f.hooks.checked)
		return
	}
	f.say("")
	f.testBtn.Disable()
	f.steps.Add(widget.NewLabel("Testing…"))
	cfg := s.Config(f.deps.Version)
	ctx, cancel := context.WithTimeout(f.ctx, 2*time.Minute)
	f.busy.Add(1)
	go func() {
		defer f.busy.Done()
		defer cancel()
		first := true
		err := f.deps.Check(ctx, cfg, c, func(st wsclient.Step) {
			fyne.Do(func() {
				if first {
					f.steps.RemoveAll()
					first = false
				}
				f.steps.Add(stepRow(st))
			})
		})
		fyne.Do(func() {
			defer f.signal(f.hooks.checked)
			f.testBtn.Enable()
			if first {
				f.steps.RemoveAll()
			}
			switch {
			case err == nil:
				f.say("Connection works.")
			case errors.Is(err, context.Canceled):
			default:
				f.sayError("Connection failed: " + err.Error())
			}
		})
	}()
}

// stepRow is one line of the check's result: ✓/✗, name, detail, fix.
func stepRow(st wsclient.Step) fyne.CanvasObject {
	icon := widget.NewIcon(theme.ConfirmIcon())
	if !st.OK {
		icon = widget.NewIcon(theme.NewErrorThemedResource(theme.CancelIcon()))
	}
	text := st.Name
	if st.Detail != "" {
		text += ": " + st.Detail
	}
	if ms := st.Elapsed.Milliseconds(); ms > 0 {
		text += fmt.Sprintf(" (%d ms)", ms)
	}
	if !st.OK && st.Fix != "" {
		text += "\n→ " + st.Fix
	}
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	if !st.OK {
		l.Importance = widget.DangerImportance
	}
	return container.NewBorder(nil, nil, icon, nil, l)
}

func (f *SettingsForm) signal(hook func()) {
	if hook != nil {
		hook()
	}
}
