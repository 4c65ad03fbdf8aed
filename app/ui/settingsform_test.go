package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/zalando/go-keyring"

	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

const appID = "org.toasttray.ToastTray.test"

// formEnv is a settings form over a temp settings file and the mock
// keyring, the same wiring as the real window.
type formEnv struct {
	t          *testing.T
	f          *SettingsForm
	store      settings.Store
	keys       creds.Store
	saved      int
	written    settings.Settings // the last settings handed to Save
	checkedCfg wsclient.Config
	loaded     chan struct{}
	done       chan struct{} // save or forget finished
	checked    chan struct{}
	w          fyne.Window
	check      func(ctx context.Context, cfg wsclient.Config, c wsclient.Credentials, report func(wsclient.Step)) error
}

func newFormEnv(t *testing.T, prepare func(settings.Store, creds.Store)) *formEnv {
	t.Helper()
	return newPolicyFormEnv(t, settings.Policy{}, prepare)
}

// newPolicyFormEnv is newFormEnv under the organisation's policy pol.
func newPolicyFormEnv(t *testing.T, pol settings.Policy, prepare func(settings.Store, creds.Store), wire ...func(*SettingsDeps)) *formEnv {
	t.Helper()
	test.NewTempApp(t)
	e := &formEnv{
		t:       t,
		store:   settings.Store{Path: filepath.Join(t.TempDir(), "settings.json"), Policy: pol},
		keys:    creds.Store{Service: appID},
		loaded:  make(chan struct{}, 1),
		done:    make(chan struct{}, 1),
		checked: make(chan struct{}, 1),
		check:   okCheck,
	}
	if prepare != nil {
		prepare(e.store, e.keys)
	}
	// The test driver runs fyne.Do on the calling goroutine, so loading
	// must not start before the window exists.
	windowReady := make(chan struct{})
	deps := SettingsDeps{
		Version: "test",
		Load: func() (settings.Effective, bool, error) {
			<-windowReady
			return e.store.LoadEffective()
		},
		LoadCreds: e.keys.Load,
		Save: func(s settings.Settings, c wsclient.Credentials) error {
			e.written = s
			return e.keys.SaveAll(e.store, s, c)
		},
		Forget: e.keys.Delete,
		Check: func(ctx context.Context, cfg wsclient.Config, c wsclient.Credentials, report func(wsclient.Step)) error {
			e.checkedCfg = cfg
			return e.check(ctx, cfg, c, report)
		},
		OnSaved: func() { e.saved++ },
	}
	for _, w := range wire {
		w(&deps)
	}
	e.f = newSettingsForm(deps, formHooks{
		loaded:  func() { e.loaded <- struct{}{} },
		saved:   func() { e.done <- struct{}{} },
		checked: func() { e.checked <- struct{}{} },
	})
	t.Cleanup(e.f.Close)
	e.w = test.NewTempWindow(t, e.f.Content())
	e.w.Resize(fyne.NewSize(640, 720))
	close(windowReady)
	wait(t, e.loaded, "settings to load")
	return e
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// okCheck is a check whose every step works; like wsclient.Check it
// stops when ctx ends.
func okCheck(ctx context.Context, _ wsclient.Config, _ wsclient.Credentials, report func(wsclient.Step)) error {
	for _, name := range []string{"Settings", "DNS", "TCP", "TLS", "Sign in", "Token", "WebSocket handshake", "First message"} {
		if err := ctx.Err(); err != nil {
			return err
		}
		report(wsclient.Step{Name: name, OK: true})
	}
	return nil
}

// set replaces an entry's text the way a user does: select all, type.
func set(e *entry, text string) {
	e.SetText("")
	test.Type(e, text)
}

// typeIn focuses en, replaces its text by typing, and stays there.
func (e *formEnv) typeIn(en *entry, text string) {
	e.w.Canvas().Focus(en)
	set(en, text)
}

// leave moves the focus away from the focused field.
func (e *formEnv) leave() { e.w.Canvas().Unfocus() }

// dialogButton finds the button labelled text in the dialog on top.
func (e *formEnv) dialogButton(text string) *widget.Button {
	top := e.w.Canvas().Overlays().Top()
	if top == nil {
		return nil
	}
	var find func(o fyne.CanvasObject) *widget.Button
	find = func(o fyne.CanvasObject) *widget.Button {
		switch v := o.(type) {
		case *widget.Button:
			if v.Text == text {
				return v
			}
		case *fyne.Container:
			for _, c := range v.Objects {
				if b := find(c); b != nil {
					return b
				}
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(v).Objects() {
				if b := find(c); b != nil {
					return b
				}
			}
		}
		return nil
	}
	return find(top)
}

func (e *formEnv) fillValid() {
	set(e.f.siteURL, "https://www.example.com")
	set(e.f.wsURL, "wss://ws.example.com/prod")
	set(e.f.channel, "ops")
	set(e.f.username, "alice")
	set(e.f.password, "s3cret")
}

func TestSettingsFirstRunExplains(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	if !e.f.intro.Visible() || !strings.Contains(e.f.intro.Text, "Fill in") {
		t.Errorf("first run: intro %q visible=%v", e.f.intro.Text, e.f.intro.Visible())
	}
	if e.f.tokenPath.Text != settings.DefaultTokenPath || e.f.loginPath.Text != settings.DefaultLoginPath {
		t.Errorf("defaults not filled in: %q %q", e.f.tokenPath.Text, e.f.loginPath.Text)
	}
	// A new user is not greeted with red: reasons show for edited fields,
	// and for all once Save is pressed.
	if r := e.f.reasonText(settings.FieldSiteURL); r != "" {
		t.Errorf("untouched empty site URL already shows %q", r)
	}
	e.typeIn(e.f.wsURL, "wss://ws.example.com/prod")
	set(e.f.wsURL, "")
	e.leave()
	if e.f.reasonText(settings.FieldWSURL) == "" {
		t.Error("left empty WebSocket URL shows no reason")
	}
	if e.f.reasonText(settings.FieldSiteURL) != "" {
		t.Error("untouched site URL shows a reason")
	}
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.f.reasonText(settings.FieldSiteURL) == "" || e.f.reasonText(settings.FieldUsername) == "" {
		t.Error("after Save, empty required fields show no reason")
	}
}

func TestSettingsInvalidInputShowsReason(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	e.fillValid()
	for _, field := range []string{settings.FieldSiteURL, settings.FieldWSURL, settings.FieldTokenPath,
		settings.FieldChannel, settings.FieldUsername, "password"} {
		if r := e.f.reasonText(field); r != "" {
			t.Errorf("valid form: %s shows %q", field, r)
		}
	}

	cases := []struct {
		entry *entry
		text  string
		field string
	}{
		{e.f.siteURL, "http://www.example.com", settings.FieldSiteURL}, // not https, not loopback
		{e.f.wsURL, "ws://ws.example.com/prod", settings.FieldWSURL},
		{e.f.tokenPath, "api/ws-token/", settings.FieldTokenPath},
		{e.f.channel, "no spaces allowed", settings.FieldChannel},
		{e.f.username, "", settings.FieldUsername},
		{e.f.password, "", "password"},
		{e.f.proxy, "proxy.example:3128", settings.FieldProxy}, // no scheme
	}
	for _, c := range cases {
		old := c.entry.Text
		e.f.tabs.SelectIndex(map[bool]int{false: 0, true: 1}[advancedFields[c.field]])
		e.typeIn(c.entry, c.text)
		e.leave()
		if r := e.f.reasonText(c.field); r == "" {
			t.Errorf("%s = %q shows no reason", c.field, c.text)
		}
		set(c.entry, old)
		if r := e.f.reasonText(c.field); r != "" {
			t.Errorf("%s restored to %q still shows %q", c.field, old, r)
		}
	}

	// Save with an invalid field writes nothing.
	set(e.f.channel, "bad channel")
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if _, exists, _ := e.store.Load(); exists {
		t.Error("invalid form was saved")
	}
	if !strings.Contains(e.f.message.Text, "Not saved") {
		t.Errorf("message = %q", e.f.message.Text)
	}
}

func TestSettingsSaveWritesFileAndKeyring(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	e.fillValid()
	e.f.minLevel.SetSelectedIndex(2)
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.f.message.Text != "Saved and connected." || e.saved != 1 {
		t.Fatalf("message %q, OnSaved calls %d", e.f.message.Text, e.saved)
	}
	s, exists, err := e.store.Load()
	if err != nil || !exists {
		t.Fatalf("load: exists=%v err=%v", exists, err)
	}
	if s.SiteURL != "https://www.example.com" || s.Channel != "ops" || s.Username != "alice" ||
		s.MinLevel != wsclient.LevelWarning || s.Auth != settings.AuthPassword {
		t.Errorf("saved settings = %+v", s)
	}
	c, err := e.keys.Load(s.SiteURL, "alice")
	if err != nil || c.Password != "s3cret" {
		t.Errorf("keyring: %+v, %v", c, err)
	}
}

func TestSettingsKeyringFailureKeepsOldSettings(t *testing.T) {
	keyring.MockInit()
	var old settings.Settings
	e := newFormEnv(t, func(st settings.Store, ks creds.Store) {
		old = settings.Default()
		old.SiteURL, old.WSURL, old.Username, old.Channel = "https://old.example.com", "wss://ws.old.example.com/prod", "bob", "old"
		if err := ks.SaveAll(st, old, wsclient.Credentials{Password: "oldpw"}); err != nil {
			t.Fatal(err)
		}
	})
	if e.f.siteURL.Text != old.SiteURL || e.f.password.Text != "oldpw" {
		t.Fatalf("form not filled from saved settings: %q %q", e.f.siteURL.Text, e.f.password.Text)
	}
	if e.f.intro.Visible() {
		t.Error("intro shown although settings exist")
	}

	keyring.MockInitWithError(errors.New("secret service is locked"))
	e.fillValid()
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if !strings.Contains(e.f.message.Text, "previous settings are unchanged") ||
		!strings.Contains(e.f.message.Text, "locked") {
		t.Errorf("message = %q", e.f.message.Text)
	}
	if e.saved != 0 {
		t.Error("OnSaved called after a failed save")
	}
	got, _, err := e.store.Load()
	if err != nil || got != old {
		t.Errorf("settings after failed save = %+v, %v; want the old %+v", got, err, old)
	}
	keyring.MockInit()
}

func TestSettingsSessionCookies(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	e.fillValid()
	e.f.signIn.SetSelected(signInSession)
	if e.f.passwordBox.Visible() || !e.f.sessionBox.Visible() {
		t.Fatal("cookie fields not shown for cookie sign-in")
	}
	if !strings.Contains(strings.Join(labelsIn(e.f.sessionBox), "\n"), "developer tools") {
		t.Error("cookie sign-in does not say where to find the cookies")
	}
	if r := e.f.reasonText("cookies"); r != "" {
		t.Errorf("cookie sign-in just chosen already shows %q", r)
	}
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.f.reasonText("cookies") == "" {
		t.Error("missing cookies show no reason")
	}
	if _, exists, _ := e.store.Load(); exists {
		t.Fatal("saved without cookies")
	}
	set(e.f.sessionID, "abc123")
	set(e.f.csrfToken, "tok456")
	if r := e.f.reasonText("cookies"); r != "" {
		t.Errorf("cookies given, reason %q", r)
	}
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	c, err := e.keys.Load("https://www.example.com", "alice")
	if err != nil || c.SessionID != "abc123" || c.CSRFToken != "tok456" || c.Password != "" {
		t.Errorf("keyring = %+v, %v", c, err)
	}
}

// Forget credentials asks first, says what it does, and Cancel keeps them.
func TestSettingsForgetAsksFirst(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	e.fillValid()
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")

	test.Tap(e.f.forgetBtn)
	if e.dialogButton("Forget") == nil || e.dialogButton("Cancel") == nil {
		t.Fatal("Forget credentials acted without asking")
	}
	if !strings.Contains(strings.Join(labelsIn(e.w.Canvas().Overlays().Top()), "\n"), "keyring") {
		t.Errorf("the question does not say what Forget does: %q", labelsIn(e.w.Canvas().Overlays().Top()))
	}
	test.Tap(e.dialogButton("Cancel"))
	if _, err := e.keys.Load("https://www.example.com", "alice"); err != nil {
		t.Fatalf("after Cancel: %v", err)
	}

	test.Tap(e.f.forgetBtn)
	test.Tap(e.dialogButton("Forget"))
	wait(t, e.done, "forget")
	if _, err := e.keys.Load("https://www.example.com", "alice"); !errors.Is(err, creds.ErrNotFound) {
		t.Errorf("after Forget: %v", err)
	}
	if e.f.password.Text != "" || !strings.Contains(e.f.message.Text, "signed out") {
		t.Errorf("after Forget: password %q, message %q", e.f.password.Text, e.f.message.Text)
	}
}

// signedOut fails at sign-in the way wsclient.Check does for a wrong
// password.
func signedOut(ctx context.Context, cfg wsclient.Config, c wsclient.Credentials, report func(wsclient.Step)) error {
	for _, name := range []string{"Settings", "DNS", "TCP", "TLS"} {
		report(wsclient.Step{Name: name, OK: true})
	}
	err := &wsclient.TokenError{Op: "sign-in", Fix: "check the username and password",
		Err: fmt.Errorf("%w: the site did not accept the username and password", wsclient.ErrSignedOut)}
	report(wsclient.Step{Name: "Sign in", Detail: "sign-in: " + err.Err.Error(), Fix: err.Fix})
	return fmt.Errorf("Sign in: %w", err)
}

// A wrong password on Save keeps the window open and says so at the
// password, in one sentence without doubled prefixes; editing clears it.
func TestSettingsWrongPasswordOnSaveStaysOpen(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	e.fillValid()
	e.check = signedOut
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.saved != 0 {
		t.Error("window closed although the site refused the password")
	}
	if r := e.f.reasonText("password"); !strings.Contains(r, "did not accept") {
		t.Errorf("password reason = %q", r)
	}
	want := "Saved, but not connected. The site did not accept the username and password."
	if e.f.message.Text != want {
		t.Errorf("message = %q, want %q", e.f.message.Text, want)
	}
	all := strings.Join(labelsIn(e.f.steps), "\n")
	if strings.Contains(all, "sign-in:") || strings.Contains(all, "signed out:") ||
		!strings.Contains(all, "Sign in: the site did not accept the username and password") {
		t.Errorf("details = %q", all)
	}
	if !e.f.detailsBtn.Visible() || e.f.details.Visible() {
		t.Error("details are not behind the toggle")
	}

	e.check = okCheck
	e.typeIn(e.f.password, "right")
	if r := e.f.reasonText("password"); r != "" || e.f.message.Text != "" {
		t.Errorf("after editing the password: reason %q, message %q", r, e.f.message.Text)
	}
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.saved != 1 {
		t.Errorf("accepted password: OnSaved calls %d (message %q)", e.saved, e.f.message.Text)
	}
}

// Results go when anything is edited: a "Connection works." no longer
// applies to changed fields, nor "fix the fields" to fixed ones.
func TestSettingsEditClearsStaleResults(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	e.fillValid()
	test.Tap(e.f.testBtn)
	wait(t, e.checked, "check")
	if e.f.message.Text != "Connection works." {
		t.Fatalf("message = %q", e.f.message.Text)
	}
	e.typeIn(e.f.channel, "other")
	if e.f.message.Text != "" || e.f.detailsBtn.Visible() || len(e.f.steps.Objects) != 0 {
		t.Errorf("after an edit: message %q, details %v", e.f.message.Text, e.f.detailsBtn.Visible())
	}

	set(e.f.channel, "bad channel")
	test.Tap(e.f.testBtn)
	wait(t, e.checked, "check")
	if !strings.Contains(e.f.message.Text, "Fix the fields") {
		t.Fatalf("message = %q", e.f.message.Text)
	}
	set(e.f.channel, "ops")
	if e.f.message.Text != "" {
		t.Errorf("fixed field, message still %q", e.f.message.Text)
	}
}

// A field is checked when the user leaves it, not while they type, and
// the reason appearing moves nothing.
func TestSettingsValidatesOnLeavingField(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	pos := func() fyne.Position { return fyne.CurrentApp().Driver().AbsolutePositionForObject(e.f.wsURL) }
	e.f.relayout()
	before := pos()
	e.typeIn(e.f.siteURL, "http://www.example.com")
	if r := e.f.reasonText(settings.FieldSiteURL); r != "" {
		t.Errorf("while typing: reason %q", r)
	}
	e.w.Canvas().Focus(e.f.wsURL)
	if r := e.f.reasonText(settings.FieldSiteURL); r == "" {
		t.Error("left an invalid site URL: no reason")
	}
	e.f.relayout()
	if after := pos(); after != before {
		t.Errorf("the reason moved the next field from %v to %v", before, after)
	}
}

// The status line says which step runs while it runs, the first-message
// wait too, and results do not resize the form.
func TestSettingsTestShowsProgress(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	e.fillValid()
	e.f.relayout()
	size := e.f.tabs.Size()
	var seen []string
	e.check = func(ctx context.Context, cfg wsclient.Config, c wsclient.Credentials, report func(wsclient.Step)) error {
		for _, name := range []string{"Settings", "DNS", "TCP", "TLS", "Sign in", "Token", "WebSocket handshake"} {
			seen = append(seen, e.f.message.Text)
			report(wsclient.Step{Name: name, OK: true})
		}
		seen = append(seen, e.f.message.Text)
		return nil
	}
	test.Tap(e.f.testBtn)
	wait(t, e.checked, "check")
	want := []string{"Checking the settings", "Checking DNS", "Connecting", "TLS", "Signing in", "token", "WebSocket", "first message"}
	if len(seen) != len(want) {
		t.Fatalf("progress %q", seen)
	}
	for i, w := range want {
		if !strings.Contains(seen[i], w) {
			t.Errorf("progress %d = %q, want it to mention %q", i, seen[i], w)
		}
	}
	if e.f.tabs.Size() != size {
		t.Errorf("the result resized the form from %v to %v", size, e.f.tabs.Size())
	}
}

func TestSettingsTestConnectionShowsSteps(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	e.fillValid()
	var gotCfg wsclient.Config
	var gotCreds wsclient.Credentials
	e.check = func(ctx context.Context, cfg wsclient.Config, c wsclient.Credentials, report func(wsclient.Step)) error {
		gotCfg, gotCreds = cfg, c
		report(wsclient.Step{Name: "Site reachable", OK: true, Detail: "200 OK", Elapsed: 12 * time.Millisecond})
		report(wsclient.Step{Name: "Sign in", OK: false, Detail: "login form returned again", Fix: "check the password"})
		return errors.New("sign-in failed")
	}
	test.Tap(e.f.testBtn)
	wait(t, e.checked, "check")
	if gotCfg.SiteURL != "https://www.example.com" || gotCfg.Channel != "ops" || gotCreds.Password != "s3cret" {
		t.Errorf("check got %+v / user %q", gotCfg, gotCreds.Username)
	}
	all := strings.Join(labelsIn(e.f.steps), "\n")
	for _, want := range []string{"Site reachable: 200 OK (12 ms)", "Sign in: login form returned again", "→ check the password"} {
		if !strings.Contains(all, want) {
			t.Errorf("steps %q lack %q", all, want)
		}
	}
	if e.f.message.Text != "Could not sign in to the site." {
		t.Errorf("message = %q", e.f.message.Text)
	}
	if e.f.testBtn.Disabled() {
		t.Error("Test button still disabled")
	}
}

func labelsIn(o fyne.CanvasObject) []string {
	switch v := o.(type) {
	case *widget.Label:
		return []string{v.Text}
	case *fyne.Container:
		var out []string
		for _, c := range v.Objects {
			out = append(out, labelsIn(c)...)
		}
		return out
	case fyne.Widget:
		var out []string
		for _, c := range test.WidgetRenderer(v).Objects() {
			out = append(out, labelsIn(c)...)
		}
		return out
	}
	return nil
}

// Saved settings that are invalid show every reason at once, laid out
// under their fields.
func TestSettingsSavedInvalidShowsReasonsLaidOut(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, func(st settings.Store, _ creds.Store) {
		s := settings.Default()
		s.SiteURL, s.WSURL, s.Username, s.Channel = "http://intranet.example.com", "wss://ws.example.com/prod", "alice", "ops team"
		if err := st.Save(s); err != nil {
			t.Fatal(err)
		}
	})
	for _, field := range []string{settings.FieldSiteURL, settings.FieldChannel, "password"} {
		if e.f.reasonText(field) == "" {
			t.Errorf("%s: no reason shown for saved invalid settings", field)
		}
		if text := e.f.reasons[field]; text.Size().Width <= 0 || text.Size().Height < text.MinSize().Height {
			t.Errorf("%s: reason shown but not laid out: %v", field, text.Size())
		}
	}
}

// Without a Forget dependency (demo mode keeps no secrets) the button is
// not offered; with one it is.
func TestSettingsForgetButtonOnlyWithKeyring(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	if !e.f.forgetBtn.Visible() {
		t.Error("Forget credentials hidden although the keyring is used")
	}
	f := newSettingsForm(SettingsDeps{
		Version: "test",
		Load: func() (settings.Effective, bool, error) {
			return settings.Effective{Settings: settings.Default()}, false, nil
		},
	}, formHooks{})
	t.Cleanup(f.Close)
	if f.forgetBtn.Visible() {
		t.Error("Forget credentials shown without a keyring")
	}
}
