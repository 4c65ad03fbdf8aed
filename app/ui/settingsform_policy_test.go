package ui

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/zalando/go-keyring"

	"github.com/toasttray/toasttray/app/autostart"
	"github.com/toasttray/toasttray/app/creds"
	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

// layer is a policy layer from Go values.
func layer(t *testing.T, kv map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, v := range kv {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

const (
	orgSite = "https://intranet.example.org"
	orgWS   = "wss://ws.example.org/prod"
)

// enforcedPolicy locks fields of both tabs and every kind of widget.
func enforcedPolicy(t *testing.T) settings.Policy {
	return settings.Policy{Enforced: layer(t, map[string]any{
		settings.FieldSiteURL:          orgSite,
		settings.FieldWSURL:            orgWS,
		settings.FieldMinLevel:         "warning",
		settings.FieldTokenPath:        "/org/ws-token/",
		settings.FieldSoundOnError:     true,
		settings.FieldStartAtLogin:     true,
		settings.FieldRememberPassword: false,
	})}
}

// saveUser writes the user's own settings file.
func saveUser(t *testing.T, st settings.Store, mod func(*settings.Settings)) {
	t.Helper()
	s := settings.Default()
	s.SiteURL, s.WSURL, s.Username, s.Channel = "https://mine.example.com", "wss://ws.mine.example.com/prod", "alice", "ops"
	mod(&s)
	if err := (settings.Store{Path: st.Path}).Save(s); err != nil {
		t.Fatal(err)
	}
}

// An enforced field shows the organisation's value in a disabled widget,
// with "Set by your organisation" on its reason line, on both tabs and for
// entries, selects and checkboxes; the others stay the user's.
func TestSettingsEnforcedFieldsAreReadOnly(t *testing.T) {
	keyring.MockInit()
	e := newPolicyFormEnv(t, enforcedPolicy(t), func(st settings.Store, _ creds.Store) {
		saveUser(t, st, func(s *settings.Settings) { s.MinLevel, s.SoundOnError = wsclient.LevelError, false })
	})
	locked := map[string]fyne.Disableable{
		settings.FieldSiteURL: e.f.siteURL, settings.FieldWSURL: e.f.wsURL, settings.FieldTokenPath: e.f.tokenPath,
		settings.FieldMinLevel: e.f.minLevel, settings.FieldSoundOnError: e.f.sound, settings.FieldStartAtLogin: e.f.autostart, settings.FieldRememberPassword: e.f.remember,
	}
	for key, w := range locked {
		if !w.Disabled() {
			t.Errorf("%s: enforced but editable", key)
		}
		if r := e.f.reasonText(key); r != orgSet {
			t.Errorf("%s: line %q, want %q", key, r, orgSet)
		}
	}
	if e.f.siteURL.Text != orgSite || e.f.wsURL.Text != orgWS || e.f.tokenPath.Text != "/org/ws-token/" ||
		e.f.minLevel.SelectedIndex() != 2 || !e.f.sound.Checked || !e.f.autostart.Checked || e.f.remember.Checked {
		t.Errorf("enforced values not shown: %q %q %q level %d sound %v autostart %v remember %v", e.f.siteURL.Text,
			e.f.wsURL.Text, e.f.tokenPath.Text, e.f.minLevel.SelectedIndex(), e.f.sound.Checked, e.f.autostart.Checked, e.f.remember.Checked)
	}
	for key, w := range map[string]fyne.Disableable{settings.FieldChannel: e.f.channel, settings.FieldUsername: e.f.username,
		settings.FieldLoginPath: e.f.loginPath, settings.FieldAuth: e.f.signIn} {
		if w.Disabled() || e.f.reasonText(key) != "" {
			t.Errorf("%s: not enforced, but disabled=%v line %q", key, w.Disabled(), e.f.reasonText(key))
		}
	}
	if e.f.channel.Text != "ops" || e.f.username.Text != "alice" {
		t.Errorf("the user's values lost: %q %q", e.f.channel.Text, e.f.username.Text)
	}
	// The line is laid out like a reason, and is not one (not red).
	if l := e.f.reasons[settings.FieldSiteURL]; l.Size().Height < l.MinSize().Height || l.Color == e.f.reasons[settings.FieldChannel].Color {
		t.Errorf("organisation line: size %v, colour %v", l.Size(), l.Color)
	}
}

// Every key of settings.json has a widget, and enforcing every key locks
// them all: a key added later cannot be left editable under a policy.
func TestSettingsEveryKeyLocks(t *testing.T) {
	keyring.MockInit()
	all := settings.Default()
	all.SiteURL, all.WSURL, all.Username, all.Proxy = orgSite, orgWS, "alice", "http://proxy.corp.example:3128"
	data, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	var pol settings.Policy
	if err := json.Unmarshal(data, &pol.Enforced); err != nil {
		t.Fatal(err)
	}
	e := newPolicyFormEnv(t, pol, nil)
	for _, key := range settings.Keys() {
		w, ok := e.f.controls[key]
		switch {
		case !ok:
			t.Errorf("%s: no widget", key)
		case !w.Disabled() || e.f.reasonText(key) != orgSet:
			t.Errorf("%s: enforced, but disabled=%v line %q", key, w.Disabled(), e.f.reasonText(key))
		}
	}
}

// Save keeps the enforced values whatever their widgets hold: in what is
// saved, in the file and in the connection it makes.
func TestSettingsSaveKeepsEnforcedValues(t *testing.T) {
	keyring.MockInit()
	e := newPolicyFormEnv(t, enforcedPolicy(t), func(st settings.Store, _ creds.Store) {
		saveUser(t, st, func(*settings.Settings) {})
	})
	// What a disabled widget cannot get from a user, but code could.
	e.f.siteURL.SetText("https://elsewhere.example.com")
	e.f.tokenPath.SetText("/mine/")
	e.f.minLevel.SetSelectedIndex(0)
	e.f.sound.SetChecked(false)
	set(e.f.channel, "news")
	set(e.f.password, "pw")
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.saved != 1 {
		t.Fatalf("not saved: %q", e.f.message.Text)
	}
	w := e.written
	if w.SiteURL != orgSite || w.TokenPath != "/org/ws-token/" || w.MinLevel != wsclient.LevelWarning || !w.SoundOnError || w.Channel != "news" {
		t.Errorf("handed to Save: %+v", w)
	}
	if e.checkedCfg.SiteURL != orgSite || e.checkedCfg.TokenPath != "/org/ws-token/" {
		t.Errorf("connected with %+v", e.checkedCfg)
	}
	data, err := os.ReadFile(e.store.Path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "elsewhere") || strings.Contains(string(data), "/mine/") {
		t.Errorf("the file took a widget's value over the policy: %s", data)
	}
	got, _, err := e.store.Load()
	if err != nil || got.SiteURL != orgSite || got.MinLevel != wsclient.LevelWarning || got.Channel != "news" {
		t.Errorf("loaded after save: %+v, %v", got, err)
	}
}

// The organisation's defaults pre-fill a first run and stay editable.
func TestSettingsPolicyDefaultsPrefill(t *testing.T) {
	keyring.MockInit()
	pol := settings.Policy{Defaults: layer(t, map[string]any{
		settings.FieldSiteURL:        orgSite,
		settings.FieldChannel:        "staff",
		settings.FieldCatchupHandler: "catchup",
	})}
	e := newPolicyFormEnv(t, pol, nil)
	if e.f.siteURL.Text != orgSite || e.f.channel.Text != "staff" || e.f.catchup.Text != "catchup" {
		t.Errorf("not pre-filled: %q %q %q", e.f.siteURL.Text, e.f.channel.Text, e.f.catchup.Text)
	}
	if e.f.siteURL.Disabled() || e.f.reasonText(settings.FieldSiteURL) != "" || !e.f.asideRows[0].Visible() {
		t.Error("a default is shown like an enforced value")
	}
	if !strings.Contains(e.f.intro.Text, "Fill in") {
		t.Errorf("intro %q", e.f.intro.Text)
	}
}

// A malformed policy file is one warning above the form, its details
// behind a toggle, and the window still saves.
func TestSettingsMalformedPolicyWarns(t *testing.T) {
	keyring.MockInit()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, settings.EnforcedFileName), []byte(`{"site_url": "https://x.example.org",`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(settings.PolicyDirEnv, dir)
	pol := settings.LoadPolicy()
	if len(pol.Problems) == 0 {
		t.Fatal("LoadPolicy reports no problem with a malformed file")
	}
	e := newPolicyFormEnv(t, pol, nil)
	if !e.f.policyBox.Visible() || !strings.Contains(strings.Join(labelsIn(e.f.policyBox), "\n"), policyProblemText) {
		t.Fatalf("no warning: visible=%v %q", e.f.policyBox.Visible(), labelsIn(e.f.policyBox))
	}
	if e.f.policyDetails.Visible() {
		t.Error("details shown before asking")
	}
	test.Tap(e.f.policyBtn)
	if !e.f.policyDetails.Visible() || !strings.Contains(e.f.policyDetails.Text, pol.Problems[0]) {
		t.Errorf("details: visible=%v %q, want %q", e.f.policyDetails.Visible(), e.f.policyDetails.Text, pol.Problems[0])
	}
	e.fillValid()
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.saved != 1 {
		t.Errorf("not saved under a malformed policy: %q", e.f.message.Text)
	}
	if !e.f.policyBox.Visible() {
		t.Error("the warning went with the save")
	}
}

// A first run with the site and WebSocket URLs enforced asks only for the
// sign-in; the other rows are one button away, and Save connects.
func TestSettingsFirstRunSignInOnly(t *testing.T) {
	keyring.MockInit()
	pol := settings.Policy{Enforced: layer(t, map[string]any{settings.FieldSiteURL: orgSite, settings.FieldWSURL: orgWS})}
	e := newPolicyFormEnv(t, pol, nil)
	for _, o := range e.f.asideRows {
		if o.Visible() {
			t.Fatalf("first run with the URLs enforced shows %T", o)
		}
	}
	if !e.f.allRow[1].Visible() {
		t.Error("no way to the other settings")
	}
	if !strings.Contains(e.f.intro.Text, "intranet.example.org") || !strings.Contains(e.f.intro.Text, "Sign in") {
		t.Errorf("intro %q", e.f.intro.Text)
	}
	if e.f.reasonText(settings.FieldUsername) != "" || e.f.reasonText("password") != "" {
		t.Error("a first run starts with reasons shown")
	}
	set(e.f.username, "bob")
	set(e.f.password, "pw")
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.saved != 1 || e.checkedCfg.SiteURL != orgSite || e.checkedCfg.WSURL != orgWS {
		t.Fatalf("save: %d, connected with %+v (%q)", e.saved, e.checkedCfg, e.f.message.Text)
	}
	if c, err := e.keys.Load(orgSite, "bob"); err != nil || c.Password != "pw" {
		t.Errorf("keyring: %v", err)
	}
	test.Tap(e.f.allRow[1].(*fyne.Container).Objects[0].(fyne.Tappable))
	for _, o := range e.f.asideRows {
		if !o.Visible() {
			t.Errorf("Show all settings left %T hidden", o)
		}
	}
}

// With the URLs enforced and settings saved before, the window is the
// usual one.
func TestSettingsSignInOnlyOnlyOnFirstRun(t *testing.T) {
	keyring.MockInit()
	pol := settings.Policy{Enforced: layer(t, map[string]any{settings.FieldSiteURL: orgSite, settings.FieldWSURL: orgWS})}
	e := newPolicyFormEnv(t, pol, func(st settings.Store, _ creds.Store) { saveUser(t, st, func(*settings.Settings) {}) })
	if !e.f.asideRows[0].Visible() || e.f.allRow[1].Visible() || e.f.intro.Visible() {
		t.Error("saved settings, but the sign-in-only view")
	}
}

// A machine-wide login entry shows as the switch on, locked, "Set by your
// organisation", whatever the user saved; Save writes no user entry, and
// keeps the user's own off in settings.json for when the entry goes.
func TestSettingsMachineWideAutostart(t *testing.T) {
	keyring.MockInit()
	home, system := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("XDG_CONFIG_DIRS", system)
	entry := autostart.Tray(appID)
	if err := os.MkdirAll(filepath.Join(system, "autostart"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(system, "autostart", appID+".desktop"), []byte("[Desktop Entry]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := 0
	e := newPolicyFormEnv(t, withMachineAutostart(settings.Policy{}, entry, slog.Default()), func(st settings.Store, _ creds.Store) {
		saveUser(t, st, func(s *settings.Settings) { s.StartAtLogin = false })
	}, func(d *SettingsDeps) {
		d.SetAutostart = func(on bool) error { calls++; return entry.Set(on) }
	})
	if !e.f.autostart.Checked || !e.f.autostart.Disabled() || e.f.reasonText(settings.FieldStartAtLogin) != orgSet {
		t.Fatalf("switch: on %v, disabled %v, line %q", e.f.autostart.Checked, e.f.autostart.Disabled(), e.f.reasonText(settings.FieldStartAtLogin))
	}
	set(e.f.password, "pw")
	test.Tap(e.f.saveBtn)
	wait(t, e.done, "save")
	if e.saved != 1 || calls != 0 {
		t.Fatalf("saved %d (%q), switch set %d times", e.saved, e.f.message.Text, calls)
	}
	if _, err := os.Stat(filepath.Join(home, "autostart", appID+".desktop")); !os.IsNotExist(err) {
		t.Errorf("a user entry beside the machine-wide one: %v", err)
	}
	// The admin removes the machine-wide entry: the switch is the user's
	// off again, as their (absent) login entry is.
	if s, _, err := (settings.Store{Path: e.store.Path}).Load(); err != nil || s.StartAtLogin {
		data, _ := os.ReadFile(e.store.Path)
		t.Errorf("settings.json took the machine-wide on: %v\n%s", err, data)
	}
}
