package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"net/url"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
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
	// Load returns the current settings merged with the organisation's
	// policy, where each value came from and the policy's problems;
	// exists=false on first run (the user has saved nothing yet).
	Load func() (eff settings.Effective, exists bool, err error)
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
	// OnSaved is called on the UI thread once a Save is written and the
	// site accepted the sign-in (the window process closes its window then).
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

// signInOnlyText is what a new user sees when the organisation has set the
// site and WebSocket URLs: only the sign-in is left to them.
const signInOnlyText = "Welcome! Your organisation has set up ToastTray for %s. Sign in, then press Save."

// orgSet is the line under a field the organisation enforces.
const orgSet = "Set by your organisation"

// policyProblemText heads the policy's problems (details behind a toggle).
const policyProblemText = "Your organisation's settings have a problem; some were ignored."

// cookieHelp says where a browser shows the two cookies.
const cookieHelp = "Sign in to the site in your browser, open its developer tools (F12), then " +
	"Storage (Firefox) or Application (Chrome, Edge) → Cookies → the site's address, " +
	"and copy the values of sessionid and csrftoken."

// advancedFields are the fields on the Advanced tab: Save switches to it
// when only they need attention.
var advancedFields = map[string]bool{
	settings.FieldTokenPath: true, settings.FieldLoginPath: true, settings.FieldRouteKey: true,
	settings.FieldKeepaliveHandler: true, settings.FieldCatchupHandler: true, settings.FieldCAFile: true,
	settings.FieldProxy: true,
}

// SettingsForm is the settings window's content. Its widgets are fields so
// tests can type into and tap them.
type SettingsForm struct {
	deps SettingsDeps

	intro                        *widget.Label
	policyBox                    *fyne.Container // policyProblemText and its details toggle
	policyBtn                    *widget.Button
	policyDetails                *widget.Label
	controls                     map[string]fyne.Disableable // the widget showing each settings key: disabled when enforced
	asideRows                    []fyne.CanvasObject         // Connection tab rows hidden while only the sign-in is asked for
	allRow                       []fyne.CanvasObject         // the Connection tab row of the button that shows asideRows again
	siteURL, wsURL, tokenPath    *entry
	loginPath, channel, routeKey *entry
	username, password           *entry
	sessionID, csrfToken         *entry
	keepalive, catchup, caFile   *entry
	proxy                        *entry
	signIn                       *widget.RadioGroup
	remember                     *widget.Check
	minLevel                     *widget.Select
	sound, autostart             *widget.Check
	testBtn, saveBtn, forgetBtn  *widget.Button
	passwordBox, sessionBox      *fyne.Container
	secretLabel                  *widget.Label
	tabs                         *container.AppTabs
	activity                     *widget.Activity
	message                      *widget.Label
	detailsBtn                   *widget.Button
	details                      *container.Scroll // the finished steps, shown by detailsBtn
	steps                        *fyne.Container
	reasons                      map[string]*canvas.Text // one line reserved under each field
	visited                      map[string]bool         // fields the user left (all once Save or Test was pressed): their reasons show
	authReason                   string                  // the site refused the sign-in: shown at the sign-in fields until an edit
	filling                      bool                    // fill is setting the fields, not the user
	running                      context.CancelFunc      // cancels the check in progress; nil when none
	gen                          int                     // bumped when results go stale: late reports of an older check are dropped
	loaded                       settings.Settings       // what Load returned: Save replaces it whole or not at all
	eff                          settings.Effective      // also: which values the organisation enforces
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

// entry is a widget.Entry that says when the user leaves it: the form
// checks a field then, not on every keystroke.
type entry struct {
	widget.Entry
	onLeave func()
}

func newEntry(password bool) *entry {
	e := &entry{}
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.ExtendBaseWidget(e)
	if password {
		e.Password = true
		var reveal *widget.Button
		reveal = widget.NewButtonWithIcon("", theme.VisibilityOffIcon(), func() {
			e.Password = !e.Password
			if e.Password {
				reveal.SetIcon(theme.VisibilityOffIcon())
			} else {
				reveal.SetIcon(theme.VisibilityIcon())
			}
			e.Refresh()
		})
		reveal.Importance = widget.LowImportance
		e.ActionItem = reveal
	}
	return e
}

// FocusLost checks the field the user just left.
func (e *entry) FocusLost() {
	e.Entry.FocusLost()
	if e.onLeave != nil {
		e.onLeave()
	}
}

func newSettingsForm(deps SettingsDeps, hooks formHooks) *SettingsForm {
	f := &SettingsForm{deps: deps, hooks: hooks, reasons: map[string]*canvas.Text{},
		visited: map[string]bool{}}
	f.ctx, f.cancel = context.WithCancel(context.Background())

	field := func(key, placeholder string, password bool) *entry {
		e := newEntry(password)
		e.SetPlaceHolder(placeholder)
		e.OnChanged = func(string) { f.edited(key) }
		e.onLeave = func() { f.leave(key) }
		return e
	}
	f.intro = widget.NewLabel("")
	f.intro.Wrapping = fyne.TextWrapWord
	f.intro.Hide()
	f.siteURL = field(settings.FieldSiteURL, "https://www.example.com", false)
	f.wsURL = field(settings.FieldWSURL, "wss://ws.example.com/prod", false)
	f.tokenPath = field(settings.FieldTokenPath, settings.DefaultTokenPath, false)
	f.loginPath = field(settings.FieldLoginPath, settings.DefaultLoginPath, false)
	f.channel = field(settings.FieldChannel, "empty: the site's default channel", false)
	f.routeKey = field(settings.FieldRouteKey, settings.DefaultRouteKey, false)
	f.username = field(settings.FieldUsername, "your login name", false)
	f.password = field("password", "password", true)
	f.remember = widget.NewCheck("Remember password in the system keyring", func(bool) { f.edited("password") })
	f.sessionID = field("cookies", "value of the sessionid cookie", true)
	f.csrfToken = field("cookies", "value of the csrftoken cookie", true)
	f.keepalive = field(settings.FieldKeepaliveHandler, "empty: no keepalive messages", false)
	f.catchup = field(settings.FieldCatchupHandler, "empty: missed notifications are not fetched", false)
	f.caFile = field(settings.FieldCAFile, "empty: the system's certificate authorities", false)
	f.proxy = field(settings.FieldProxy, "empty: automatic; direct: none; or http://proxy.example:3128", false)
	labels := make([]string, len(levelChoices))
	for i, c := range levelChoices {
		labels[i] = c.label
	}
	f.minLevel = widget.NewSelect(labels, func(string) { f.edited("") })
	f.sound = widget.NewCheck("Play a sound for errors", func(bool) { f.edited("") })
	f.autostart = widget.NewCheck("Start ToastTray when I log in", func(bool) { f.edited("") })
	if deps.SetAutostart == nil {
		f.autostart.Disable()
	}

	f.passwordBox = container.NewVBox(f.withReason("password", f.password), f.withReason(settings.FieldRememberPassword, f.remember))
	f.sessionBox = container.NewVBox(f.sessionID, f.csrfToken, f.reason("cookies"), small(cookieHelp))
	f.signIn = widget.NewRadioGroup([]string{signInPassword, signInSession}, func(string) { f.showSignIn() })
	f.signIn.Horizontal = true
	f.signIn.Required = true
	f.controls = map[string]fyne.Disableable{
		settings.FieldSiteURL: f.siteURL, settings.FieldWSURL: f.wsURL, settings.FieldTokenPath: f.tokenPath,
		settings.FieldLoginPath: f.loginPath, settings.FieldChannel: f.channel, settings.FieldRouteKey: f.routeKey,
		settings.FieldAuth: f.signIn, settings.FieldUsername: f.username, settings.FieldRememberPassword: f.remember,
		settings.FieldKeepaliveHandler: f.keepalive, settings.FieldCatchupHandler: f.catchup,
		settings.FieldCAFile: f.caFile, settings.FieldProxy: f.proxy, settings.FieldMinLevel: f.minLevel,
		settings.FieldSoundOnError: f.sound, settings.FieldStartAtLogin: f.autostart,
	}

	f.testBtn = widget.NewButtonWithIcon("Test connection", theme.MediaPlayIcon(), f.test)
	f.forgetBtn = widget.NewButtonWithIcon("Forget credentials", theme.DeleteIcon(), f.confirmForget)
	if f.deps.Forget == nil {
		f.forgetBtn.Hide()
	}
	f.saveBtn = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), f.save)
	f.saveBtn.Importance = widget.HighImportance

	row := func(label string, field string, obj fyne.CanvasObject) []fyne.CanvasObject {
		return []fyne.CanvasObject{widget.NewLabel(label), f.withReason(field, obj)}
	}
	var basic []fyne.CanvasObject
	aside := func(objs ...fyne.CanvasObject) {
		f.asideRows = append(f.asideRows, objs...)
		basic = append(basic, objs...)
	}
	aside(row("Site URL", settings.FieldSiteURL, f.siteURL)...)
	aside(row("WebSocket URL", settings.FieldWSURL, f.wsURL)...)
	aside(row("Channel", settings.FieldChannel, f.channel)...)
	basic = append(basic, row("Sign in with", settings.FieldAuth, f.signIn)...)
	basic = append(basic, row("Username", settings.FieldUsername, f.username)...)
	f.secretLabel = widget.NewLabel("Password")
	basic = append(basic, f.secretLabel, container.NewVBox(f.passwordBox, f.sessionBox))
	aside(row("Show", settings.FieldMinLevel, f.minLevel)...)
	aside(widget.NewLabel(""), container.NewHBox(f.withReason(settings.FieldSoundOnError, f.sound), f.withReason(settings.FieldStartAtLogin, f.autostart)))
	allBtn := widget.NewButtonWithIcon("Show all settings", theme.MoreHorizontalIcon(), f.showAside)
	allBtn.Importance = widget.LowImportance
	f.allRow = []fyne.CanvasObject{widget.NewLabel(""), container.NewHBox(allBtn)}
	for _, o := range f.allRow {
		o.Hide() // a form layout skips a row whose two cells are hidden
	}
	basic = append(basic, f.allRow...)

	var adv []fyne.CanvasObject
	adv = append(adv, row("Token path", settings.FieldTokenPath, f.tokenPath)...)
	adv = append(adv, row("Login path", settings.FieldLoginPath, f.loginPath)...)
	adv = append(adv, row("Route key", settings.FieldRouteKey, f.routeKey)...)
	adv = append(adv, row("Keepalive handler", settings.FieldKeepaliveHandler, f.keepalive)...)
	adv = append(adv, row("Catch-up handler", settings.FieldCatchupHandler, f.catchup)...)
	adv = append(adv, row("CA file", settings.FieldCAFile, f.caFile)...)
	adv = append(adv, row("Proxy", settings.FieldProxy, f.proxy)...)
	advanced := container.NewVBox(
		small("The defaults suit a standard installation of the site; change these only when the site's administrator tells you to."),
		container.New(layout.NewFormLayout(), adv...))

	f.tabs = container.NewAppTabs(
		container.NewTabItem("Connection", container.NewVScroll(container.NewPadded(container.New(layout.NewFormLayout(), basic...)))),
		container.NewTabItem("Advanced", container.NewVScroll(container.NewPadded(advanced))))

	// The status line has room for two lines whether or not it says
	// anything, so results and progress never move the form.
	f.activity = widget.NewActivity()
	f.activity.Hide()
	f.message = widget.NewLabel("")
	f.message.Wrapping = fyne.TextWrapWord
	f.detailsBtn = widget.NewButton("Show details", func() { f.toggle(f.detailsBtn, f.details) })
	f.detailsBtn.Importance = widget.LowImportance
	f.detailsBtn.Hide()
	f.steps = container.New(layout.NewCustomPaddedVBoxLayout(-2 * theme.InnerPadding()))
	f.details = container.NewVScroll(f.steps)
	f.details.SetMinSize(fyne.NewSize(0, 160))
	f.details.Hide()
	reserve := canvas.NewRectangle(color.Transparent)
	reserve.SetMinSize(fyne.NewSize(0, widget.NewLabel("1\n2").MinSize().Height))
	status := container.NewStack(reserve, container.NewBorder(nil, nil, f.activity, f.detailsBtn, f.message))

	buttons := container.NewHBox(f.testBtn, f.forgetBtn, layout.NewSpacer(), f.saveBtn)
	warning := widget.NewLabel(policyProblemText)
	warning.Wrapping = fyne.TextWrapWord
	warning.Importance = widget.WarningImportance
	f.policyDetails = small("")
	f.policyDetails.Hide()
	f.policyBtn = widget.NewButton("Show details", func() { f.toggle(f.policyBtn, f.policyDetails) })
	f.policyBtn.Importance = widget.LowImportance
	f.policyBox = container.NewVBox(container.NewBorder(nil, nil, nil, f.policyBtn, warning), f.policyDetails)
	f.policyBox.Hide()
	top := container.NewVBox(f.intro, f.policyBox)
	if deps.Note != "" {
		note := widget.NewLabel(deps.Note)
		note.Wrapping = fyne.TextWrapWord
		note.Importance = widget.WarningImportance
		top.Add(note)
	}
	bottom := container.NewVBox(widget.NewSeparator(), f.details, status, buttons)
	f.content = container.NewBorder(top, bottom, nil, nil, f.tabs)

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

// withReason stacks obj over the line where field's reason, or orgSet,
// shows.
func (f *SettingsForm) withReason(field string, obj fyne.CanvasObject) fyne.CanvasObject {
	return container.New(layout.NewCustomPaddedVBoxLayout(0), obj, f.reason(field))
}

// reason returns the line under field where its reason shows, indented
// like the entry's text. The line keeps its height when empty, so a reason
// appearing never pushes the fields below it.
func (f *SettingsForm) reason(field string) fyne.CanvasObject {
	t := canvas.NewText("", theme.Color(theme.ColorNameError))
	t.TextSize = theme.CaptionTextSize()
	f.reasons[field] = t // an empty Text keeps its line's height
	return container.New(layout.NewCustomPaddedLayout(0, 0, theme.InnerPadding(), 0), t)
}

// reasonText returns the line shown under field ("" when none is shown): its
// reason, or orgSet when the organisation enforces it; field is a
// settings.json key, "password" or "cookies".
func (f *SettingsForm) reasonText(field string) string {
	if t := f.reasons[field]; t != nil {
		return t.Text
	}
	return ""
}

// load runs off the UI thread: settings file, then saved credentials.
func (f *SettingsForm) load() {
	defer f.busy.Done()
	eff, exists, err := f.deps.Load()
	s := eff.Settings
	var c wsclient.Credentials
	var cerr error
	if s.SiteURL != "" && (s.Username != "" || s.Auth == settings.AuthSession) {
		c, cerr = f.deps.LoadCreds(s.SiteURL, s.Username)
	}
	fyne.Do(func() {
		f.fill(eff, c)
		// Saved settings were submitted once: say at once what is wrong
		// with them. A first run starts quiet.
		switch {
		case exists:
			f.visitAll()
		case eff.Enforced(settings.FieldSiteURL) && eff.Enforced(settings.FieldWSURL):
			f.intro.SetText(fmt.Sprintf(signInOnlyText, siteName(s.SiteURL)))
			f.intro.Show()
			f.setAside(false)
		default:
			f.intro.SetText(firstRunText)
			f.intro.Show()
		}
		if len(eff.Problems) > 0 {
			f.policyDetails.SetText(strings.Join(eff.Problems, "\n"))
			f.policyBox.Show()
		}
		f.relayout()
		switch {
		case err != nil:
			f.setStatus("Could not read the saved settings, showing defaults: "+err.Error(), widget.DangerImportance)
		case cerr != nil && !isNotFound(cerr):
			f.setStatus("Could not read the saved credentials: "+cerr.Error(), widget.DangerImportance)
		}
		f.setEnabled(true)
		f.refresh()
		f.signal(f.hooks.loaded)
	})
}

// isNotFound tells "nothing saved" (normal) from a keyring failure.
func isNotFound(err error) bool { return errors.Is(err, creds.ErrNotFound) }

// siteName is the site's host for a sentence, or the URL as it is.
func siteName(siteURL string) string {
	if u, err := url.Parse(siteURL); err == nil && u.Host != "" {
		return u.Host
	}
	return siteURL
}

// setAside shows or hides the Connection tab's rows besides the sign-in,
// and the button that shows them again.
func (f *SettingsForm) setAside(show bool) {
	for _, o := range f.asideRows {
		setShown(o, show)
	}
	for _, o := range f.allRow {
		setShown(o, !show)
	}
	f.relayout()
}

func setShown(o fyne.CanvasObject, show bool) {
	if show {
		o.Show()
	} else {
		o.Hide()
	}
}

// showAside is the "Show all settings" button.
func (f *SettingsForm) showAside() { f.setAside(true) }

// fill shows eff's settings and disables the widgets of enforced keys.
func (f *SettingsForm) fill(eff settings.Effective, c wsclient.Credentials) {
	f.filling = true
	defer func() { f.filling = false }()
	s := eff.Settings
	f.eff = eff
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
	f.caFile.SetText(s.CAFile)
	f.proxy.SetText(s.Proxy)
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
	for key, w := range f.controls {
		if eff.Enforced(key) {
			w.Disable()
		}
	}
}

// collect reads the form into Settings and Credentials. Enforced values
// come from the policy, not from their (disabled) widgets.
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
	s.CAFile = f.caFile.Text
	s.Proxy = f.proxy.Text
	s.SoundOnError = f.sound.Checked
	s.StartAtLogin = f.autostart.Checked
	s.MinLevel = wsclient.LevelInfo
	if i := f.minLevel.SelectedIndex(); i >= 0 {
		s.MinLevel = levelChoices[i].level
	}
	s.Auth = settings.AuthPassword
	if f.signIn.Selected == signInSession {
		s.Auth = settings.AuthSession
	}
	s = f.eff.Enforce(s).Normalized()
	c := wsclient.Credentials{Username: s.Username}
	if s.Auth == settings.AuthSession {
		c.SessionID = strings.TrimSpace(f.sessionID.Text)
		c.CSRFToken = strings.TrimSpace(f.csrfToken.Text)
	} else {
		c.Password = f.password.Text
	}
	return s, c
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

// secretField is the reason key of the sign-in fields in use.
func (f *SettingsForm) secretField() string {
	if f.signIn.Selected == signInSession {
		return "cookies"
	}
	return "password"
}

// refresh shows the reason of every visited invalid field (and the site's
// refusal at the sign-in fields), hides the others, and returns all
// problems. An enforced field says so, with its reason if the
// organisation's value is invalid (no edit can fix that).
func (f *SettingsForm) refresh() map[string]string {
	p := f.problems()
	for key, t := range f.reasons {
		r, c := "", theme.ColorNameError
		if f.visited[key] {
			r = p[key]
		}
		if r == "" && key == f.secretField() {
			r = f.authReason
		}
		if f.eff.Enforced(key) {
			r, c = orgSet, theme.ColorNamePlaceHolder
			if p[key] != "" {
				r, c = orgSet+": "+p[key], theme.ColorNameError
			}
		}
		if col := theme.Color(c); t.Text != r || t.Color != col {
			t.Text, t.Color = r, col
			t.Refresh()
		}
	}
	return p
}

// visitAll makes every field's reason show (Save or Test was pressed, or
// the settings were saved before).
func (f *SettingsForm) visitAll() {
	for key := range f.reasons {
		f.visited[key] = true
	}
}

// leave checks the field the user just left.
func (f *SettingsForm) leave(key string) {
	if f.filling {
		return
	}
	f.visited[key] = true
	f.refresh()
}

// edited is the user changing anything: earlier results no longer apply
// (a running check is stopped), and a field's reason goes once the field
// is fixed; new reasons wait until the user leaves the field.
func (f *SettingsForm) edited(key string) {
	if f.filling {
		return
	}
	f.clearResults()
	f.authReason = ""
	if t := f.reasons[key]; t != nil && t.Text != "" && f.problems()[key] == "" {
		t.Text = ""
		t.Refresh()
	}
	if key == "password" || key == "cookies" {
		f.refresh() // the site's refusal shown there is gone
	}
}

// clearResults removes the status line and check details and stops a
// running check.
func (f *SettingsForm) clearResults() {
	f.gen++
	if f.running != nil {
		f.running()
		f.running = nil
		f.setEnabled(true)
	}
	if f.message.Text == "" && !f.detailsBtn.Visible() {
		return
	}
	f.setStatus("", widget.MediumImportance)
	f.steps.RemoveAll()
	f.detailsBtn.Hide()
	f.details.Hide()
	f.relayout()
}

// relayout lays the form out again: showing or hiding an object does not
// make its containers recompute their layout.
func (f *SettingsForm) relayout() {
	if f.content != nil {
		f.content.Refresh()
	}
}

// showSignIn shows the fields of the chosen sign-in. A newly chosen method
// starts quiet: its fields are empty because the user has not got to them
// yet, not because they made a mistake.
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
	if !f.filling {
		delete(f.visited, "cookies")
		delete(f.visited, "password")
		f.edited(settings.FieldAuth)
	}
	f.refresh()
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

// setStatus shows msg on the status line ("" clears it); High importance
// means work in progress and shows the spinner.
func (f *SettingsForm) setStatus(msg string, imp widget.Importance) {
	f.message.Importance = imp
	f.message.SetText(msg)
	if imp == widget.HighImportance {
		f.message.Importance = widget.MediumImportance
		f.message.Refresh()
		f.activity.Show()
		f.activity.Start()
	} else {
		f.activity.Stop()
		f.activity.Hide()
	}
}

// toggle shows or hides details, and says on btn what it does next.
func (f *SettingsForm) toggle(btn *widget.Button, details fyne.CanvasObject) {
	if details.Visible() {
		details.Hide()
		btn.SetText("Show details")
	} else {
		details.Show()
		btn.SetText("Hide details")
	}
	f.relayout()
}

// blocked says why nothing was saved or tested, and brings the tab with
// the first field to fix to the front.
func (f *SettingsForm) blocked(p map[string]string, msg string) {
	f.clearResults()
	f.setStatus(msg, widget.DangerImportance)
	onlyAdvanced, onlySignIn := true, true
	for key := range p {
		onlyAdvanced = onlyAdvanced && advancedFields[key]
		onlySignIn = onlySignIn && signInFields[key]
	}
	if !onlySignIn && !onlyAdvanced {
		f.setAside(true) // a field to fix may be among them
	}
	f.tabs.SelectIndex(map[bool]int{false: 0, true: 1}[onlyAdvanced])
}

// signInFields are the reason keys of the Connection tab's rows that stay
// when only the sign-in is asked for.
var signInFields = map[string]bool{settings.FieldAuth: true, settings.FieldUsername: true, "password": true, "cookies": true}

// save writes the settings and keyring on a goroutine (keyring calls may
// block on an unlock prompt), then connects once with them: the window
// closes only when the site let us in, and stays open with the reason
// when it did not.
func (f *SettingsForm) save() {
	f.visitAll()
	if p := f.refresh(); len(p) > 0 {
		f.blocked(p, fmt.Sprintf("Not saved: %d field(s) need attention (marked in red).", len(p)))
		f.signal(f.hooks.saved)
		return
	}
	f.clearResults()
	s, c := f.collect()
	stored := c
	if s.Auth == settings.AuthPassword && !s.RememberPassword {
		stored.Password = "" // not remembered: delete what was saved
	}
	autostartChanged := s.StartAtLogin != f.startAtLogin
	f.setEnabled(false)
	f.setStatus("Saving…", widget.HighImportance)
	f.busy.Add(1)
	go func() {
		defer f.busy.Done()
		err := f.deps.Save(s, stored)
		var aerr error
		if err == nil && autostartChanged && f.deps.SetAutostart != nil {
			aerr = f.deps.SetAutostart(s.StartAtLogin)
		}
		fyne.Do(func() {
			if err != nil {
				f.setEnabled(true)
				f.setStatus("Not saved; your previous settings are unchanged. "+err.Error(), widget.DangerImportance)
				f.signal(f.hooks.saved)
				return
			}
			f.loaded = s
			if aerr != nil {
				f.setEnabled(true)
				f.setStatus("Saved, but start at login could not be changed: "+aerr.Error(), widget.DangerImportance)
				f.signal(f.hooks.saved)
				return
			}
			f.startAtLogin = s.StartAtLogin
			f.runCheck(s, c, true, f.hooks.saved, func(failed *wsclient.Step, err error) {
				switch {
				case err == nil:
					f.setStatus("Saved and connected.", widget.SuccessImportance)
					if f.deps.OnSaved != nil {
						f.deps.OnSaved()
					}
				case errors.Is(err, context.Canceled) && failed == nil:
					f.setStatus("Saved.", widget.MediumImportance)
				default:
					f.failed(failed, err, "Saved, but not connected. ")
				}
			})
		})
	}()
}

// confirmForget asks before deleting the saved secrets.
func (f *SettingsForm) confirmForget() {
	s, _ := f.collect()
	who := s.Username
	if who == "" {
		who = "you"
	}
	msg := fmt.Sprintf("This deletes the saved password and cookies of %s at %s from the system keyring.\n"+
		"ToastTray signs out at once and stays signed out until you enter them again.", who, s.SiteURL)
	w := windowOf(f.content)
	if w == nil {
		return
	}
	d := dialog.NewConfirm("Forget saved credentials?", msg, func(ok bool) {
		if ok {
			f.forget()
		}
	}, w)
	d.SetConfirmText("Forget")
	d.SetDismissText("Cancel")
	d.Show()
}

// windowOf is the window showing obj (dialogs need one).
func windowOf(obj fyne.CanvasObject) fyne.Window {
	d := fyne.CurrentApp().Driver()
	c := d.CanvasForObject(obj)
	for _, w := range d.AllWindows() {
		if w.Canvas() == c {
			return w
		}
	}
	return nil
}

// forget deletes the saved secrets for the site and user in the form. The
// Forget dependency also tells a running tray to sign out at once.
func (f *SettingsForm) forget() {
	s, _ := f.collect()
	f.clearResults()
	f.setEnabled(false)
	f.busy.Add(1)
	go func() {
		defer f.busy.Done()
		err := f.deps.Forget(s.SiteURL, s.Username)
		fyne.Do(func() {
			defer f.signal(f.hooks.saved)
			f.setEnabled(true)
			if err != nil {
				f.setStatus("Could not forget the credentials: "+err.Error(), widget.DangerImportance)
				return
			}
			f.filling = true // not the user's edit: keep the message below
			f.password.SetText("")
			f.sessionID.SetText("")
			f.csrfToken.SetText("")
			f.filling = false
			f.refresh()
			f.setStatus("Saved credentials deleted from the keyring. ToastTray has signed out.", widget.MediumImportance)
		})
	}()
}

// test runs the connection check with the form's values (saved or not).
func (f *SettingsForm) test() {
	f.visitAll()
	if p := f.refresh(); len(p) > 0 {
		f.blocked(p, "Fix the fields marked in red, then test again.")
		f.signal(f.hooks.checked)
		return
	}
	f.clearResults()
	s, c := f.collect()
	f.setEnabled(false)
	f.runCheck(s, c, false, f.hooks.checked, func(failed *wsclient.Step, err error) {
		switch {
		case err == nil:
			f.setStatus("Connection works.", widget.SuccessImportance)
		case errors.Is(err, context.Canceled) && failed == nil:
			f.setStatus("", widget.MediumImportance)
		default:
			f.failed(failed, err, "")
		}
	})
}

// progress is what the status line says while a step runs, keyed by the
// step before it ("" = the first).
var progress = map[string]string{
	"":                    "Checking the settings…",
	"Settings":            "Checking DNS (looking up the site and the gateway)…",
	"DNS":                 "Connecting to the site and the gateway…",
	"TCP":                 "Setting up secure connections (TLS)…",
	"TLS":                 "Signing in…",
	"Sign in":             "Getting a connection token…",
	"Token":               "Opening the WebSocket connection…",
	"WebSocket handshake": "Waiting up to 5 s for a first message (a quiet site sends none)…",
	"First message":       "Asking the site for missed notifications (catch-up)…",
}

// runCheck runs deps.Check, saying on the status line which step is
// running and keeping the finished ones for the details. For Save it
// stops once the WebSocket handshake worked (the rest only takes time).
// done runs on the UI thread with the failed step (if any) and the error
// (nil when it worked), unless an edit made the check stale; hook runs
// after it either way.
func (f *SettingsForm) runCheck(s settings.Settings, c wsclient.Credentials, saving bool, hook func(), done func(failed *wsclient.Step, err error)) {
	say := func(text string) {
		if saving {
			text = "Saved — connecting: " + strings.ToLower(text[:1]) + text[1:]
		}
		f.setStatus(text, widget.HighImportance)
	}
	cfg := s.Config(f.deps.Version)
	ctx, cancel := context.WithTimeout(f.ctx, 2*time.Minute)
	f.running = cancel
	gen := f.gen
	if saving {
		f.setStatus("Saved — connecting…", widget.HighImportance)
	} else {
		say(progress[""])
	}
	f.busy.Add(1)
	go func() {
		defer f.busy.Done()
		defer cancel()
		var failed *wsclient.Step
		connected := false
		err := f.deps.Check(ctx, cfg, c, func(st wsclient.Step) {
			if connected {
				return // Save stopped the check; this step only says so
			}
			if !st.OK {
				failed = &st
			}
			if saving && st.OK && st.Name == "WebSocket handshake" {
				connected = true
				cancel()
			}
			next := progress[st.Name]
			if connected || st.Name == "First message" && cfg.CatchupHandler == "" {
				next = ""
			}
			fyne.Do(func() {
				if gen != f.gen {
					return
				}
				f.steps.Add(stepRow(st))
				if st.OK && next != "" {
					say(next)
				}
			})
		})
		if connected {
			err = nil
		}
		fyne.Do(func() {
			defer f.signal(hook)
			if gen != f.gen { // an edit stopped it and cleared its results
				return
			}
			f.running = nil
			f.setEnabled(true)
			if len(f.steps.Objects) > 0 {
				f.detailsBtn.Show()
			}
			if err != nil && failed == nil && !errors.Is(err, context.Canceled) {
				f.steps.Add(small(err.Error()))
				f.detailsBtn.Show()
			}
			done(failed, err)
			f.relayout()
		})
	}()
}

// failed says in one plain sentence what went wrong (the steps are behind
// Show details), and puts a refused sign-in next to the sign-in fields.
func (f *SettingsForm) failed(step *wsclient.Step, err error, prefix string) {
	cookies := f.signIn.Selected == signInSession
	if errors.Is(err, wsclient.ErrSignedOut) {
		f.authReason = "the site did not accept this username and password"
		if cookies {
			f.authReason = "the site did not accept these cookies: copy them again from a signed-in browser"
		}
		f.refresh()
	}
	f.setStatus(prefix+plainFailure(step, err, cookies), widget.DangerImportance)
}

// plainFailure is the one sentence for a failed check: which step, in
// words a user knows. The technical detail is in the step rows.
func plainFailure(step *wsclient.Step, err error, cookies bool) string {
	switch {
	case errors.Is(err, wsclient.ErrSignedOut) && cookies:
		return "The site did not accept the cookies; they may have expired."
	case errors.Is(err, wsclient.ErrSignedOut):
		return "The site did not accept the username and password."
	case errors.Is(err, wsclient.ErrRateLimited):
		return "The site is limiting connections right now; try again in a minute."
	case errors.Is(err, context.DeadlineExceeded) && step == nil:
		return "The check took too long and was stopped."
	case step == nil:
		return "The check could not run."
	}
	switch step.Name {
	case "Settings":
		return "Some settings are not valid."
	case "Proxy":
		return "The proxy settings (HTTPS_PROXY or the system's) are not valid."
	case "DNS":
		return "The site's or the gateway's address could not be found."
	case "TCP":
		return "Could not connect to the site or the gateway."
	case "TLS":
		return "The secure connection (TLS) could not be set up."
	case "Sign in":
		return "Could not sign in to the site."
	case "Token":
		return "The site did not hand out a connection token."
	case "WebSocket handshake":
		return "The WebSocket gateway refused the connection."
	case "First message":
		return "The gateway closed the connection at once."
	case "Catch-up":
		return "The site does not answer catch-up requests."
	}
	return step.Name + " failed."
}

// stepRow is one line of the check's details: ✓/✗, name, detail, fix.
func stepRow(st wsclient.Step) fyne.CanvasObject {
	icon := widget.NewIcon(theme.ConfirmIcon())
	if !st.OK {
		icon = widget.NewIcon(theme.NewErrorThemedResource(theme.CancelIcon()))
	}
	text := st.Name
	if d := plainDetail(st); d != "" {
		text += ": " + d
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

// plainDetail drops what the row already says from a step's detail: the
// step's own name ("Sign in: sign-in: …") and wsclient's error classes
// ("signed out: …").
func plainDetail(st wsclient.Step) string {
	d := st.Detail
	d = strings.TrimPrefix(d, strings.ToLower(strings.ReplaceAll(st.Name, " ", "-"))+": ")
	for _, class := range []error{wsclient.ErrSignedOut, wsclient.ErrRateLimited, wsclient.ErrRejected} {
		d = strings.TrimPrefix(d, class.Error()+": ")
	}
	return d
}

func (f *SettingsForm) signal(hook func()) {
	if hook != nil {
		hook()
	}
}
