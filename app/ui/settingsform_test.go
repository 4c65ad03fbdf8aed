package ui

import (
	"context"
	"errors"
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
	t       *testing.T
	f       *SettingsForm
	store   settings.Store
	keys    creds.Store
	saved   int
	loaded  chan struct{}
	done    chan struct{} // save or forget finished
	checked chan struct{}
	check   func(ctx context.Context, cfg wsclient.Config, c wsclient.Credentials, report func(wsclient.Step)) error
}

func newFormEnv(t *testing.T, prepare func(settings.Store, creds.Store)) *formEnv {
	t.Helper()
	test.NewTempApp(t)
	e := &formEnv{
		t:       t,
		store:   settings.Store{Path: filepath.Join(t.TempDir(), "settings.json")},
		keys:    creds.Store{Service: appID},
		loaded:  make(chan struct{}, 1),
		done:    make(chan struct{}, 1),
		checked: make(chan struct{}, 1),
	}
	if prepare != nil {
		prepare(e.store, e.keys)
	}
	// The test driver runs fyne.Do on the calling goroutine, so loading
	// must not start before the window exists.
	windowReady := make(chan struct{})
	deps := SettingsDeps{
		Version: "test",
		Load: func() (settings.Settings, bool, error) {
			<-windowReady
			return e.store.Load()
		},
		LoadCreds: e.keys.Load,
		Save: func(s settings.Settings, c wsclient.Credentials) error {
			return e.keys.SaveAll(e.store, s, c)
		},
		Forget: e.keys.Delete,
		Check: func(ctx context.Context, cfg wsclient.Config, c wsclient.Credentials, report func(wsclient.Step)) error {
			return e.check(ctx, cfg, c, report)
		},
		OnSaved: func() { e.saved++ },
	}
	e.f = newSettingsForm(deps, formHooks{
		loaded:  func() { e.loaded <- struct{}{} },
		saved:   func() { e.done <- struct{}{} },
		checked: func() { e.checked <- struct{}{} },
	})
	t.Cleanup(e.f.Close)
	w := test.NewTempWindow(t, e.f.Content())
	w.Resize(fyne.NewSize(640, 720))
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

// set replaces an entry's text the way a user does: select all, type.
func set(e *widget.Entry, text string) {
	e.SetText("")
	test.Type(e, text)
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
	if r := e.f.Reason(settings.FieldSiteURL); r != "" {
		t.Errorf("untouched empty site URL already shows %q", r)
	}
	set(e.f.wsURL, "wss://ws.example.com/prod")
	set(e.f.wsURL, "")
	if e.f.Reason(settings.FieldWSURL) == "" {
		t.Error("edited, now empty WebSocket URL shows no reason")
	}
	if e.f.Reason(settings.FieldSiteURL) != "" {
		t.Error("untouched site URL shows a reason")
	}
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.f.Reason(settings.FieldSiteURL) == "" || e.f.Reason(settings.FieldUsername) == "" {
		t.Error("after Save, empty required fields show no reason")
	}
}

func TestSettingsInvalidInputShowsReason(t *testing.T) {
	keyring.MockInit()
	e := newFormEnv(t, nil)
	e.fillValid()
	for _, field := range []string{settings.FieldSiteURL, settings.FieldWSURL, settings.FieldTokenPath,
		settings.FieldChannel, settings.FieldUsername, "password"} {
		if r := e.f.Reason(field); r != "" {
			t.Errorf("valid form: %s shows %q", field, r)
		}
	}

	cases := []struct {
		entry *widget.Entry
		text  string
		field string
	}{
		{e.f.siteURL, "http://www.example.com", settings.FieldSiteURL}, // not https, not loopback
		{e.f.wsURL, "ws://ws.example.com/prod", settings.FieldWSURL},
		{e.f.tokenPath, "api/ws-token/", settings.FieldTokenPath},
		{e.f.channel, "no spaces allowed", settings.FieldChannel},
		{e.f.username, "", settings.FieldUsername},
		{e.f.password, "", "password"},
	}
	for _, c := range cases {
		old := c.entry.Text
		set(c.entry, c.text)
		if r := e.f.Reason(c.field); r == "" {
			t.Errorf("%s = %q shows no reason", c.field, c.text)
		}
		set(c.entry, old)
		if r := e.f.Reason(c.field); r != "" {
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
	if e.f.message.Text != "Saved." || e.saved != 1 {
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
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.f.Reason("cookies") == "" {
		t.Error("missing cookies show no reason")
	}
	if _, exists, _ := e.store.Load(); exists {
		t.Fatal("saved without cookies")
	}
	set(e.f.sessionID, "abc123")
	set(e.f.csrfToken, "tok456")
	if r := e.f.Reason("cookies"); r != "" {
		t.Errorf("cookies given, reason %q", r)
	}
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	c, err := e.keys.Load("https://www.example.com", "alice")
	if err != nil || c.SessionID != "abc123" || c.CSRFToken != "tok456" || c.Password != "" {
		t.Errorf("keyring = %+v, %v", c, err)
	}

	test.Tap(e.f.forgetBtn)
	wait(t, e.done, "forget")
	if _, err := e.keys.Load("https://www.example.com", "alice"); !errors.Is(err, creds.ErrNotFound) {
		t.Errorf("after Forget: %v", err)
	}
	if e.f.sessionID.Text != "" {
		t.Error("forgotten cookie still in the form")
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
	var texts []string
	for _, o := range e.f.steps.Objects {
		texts = append(texts, labelsIn(o)...)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"Site reachable: 200 OK (12 ms)", "Sign in: login form returned again", "→ check the password"} {
		if !strings.Contains(all, want) {
			t.Errorf("steps %q lack %q", all, want)
		}
	}
	if !strings.Contains(e.f.message.Text, "sign-in failed") {
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
	}
	return nil
}

// Saved settings that are invalid show every reason at once, laid out
// under their fields (showing an object does not lay out its container).
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
		if e.f.Reason(field) == "" {
			t.Errorf("%s: no reason shown for saved invalid settings", field)
		}
	}
	for _, rb := range e.f.reasonBoxes {
		if !rb.box.Visible() {
			continue
		}
		text := e.f.reasons[rb.field]
		if rb.box.Size().Height < text.MinSize().Height || text.Size().Width <= 0 {
			t.Errorf("%s: reason shown but not laid out: box %v, text %v", rb.field, rb.box.Size(), text.Size())
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
		Load:    func() (settings.Settings, bool, error) { return settings.Default(), false, nil },
	}, formHooks{})
	t.Cleanup(f.Close)
	if f.forgetBtn.Visible() {
		t.Error("Forget credentials shown without a keyring")
	}
}
