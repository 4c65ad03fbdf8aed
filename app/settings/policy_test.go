package settings

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// policyDir writes a policy folder (file name → content; "" = no file)
// and points LoadPolicy at it.
func policyDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(PolicyDirEnv, dir)
	return dir
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Per key: built-in < organisation default < user file < enforced.
func TestPolicyMergeOrder(t *testing.T) {
	dir := policyDir(t, map[string]string{
		DefaultsFileName: `{"site_url":"https://default.example","channel":"default-ch","min_level":"warning","start_at_login":true}`,
		EnforcedFileName: `{"site_url":"https://enforced.example","sound_on_error":false}`,
	})
	pol := LoadPolicy()
	if len(pol.Problems) != 0 {
		t.Fatalf("problems: %v", pol.Problems)
	}
	defaultsPath, enforcedPath := filepath.Join(dir, DefaultsFileName), filepath.Join(dir, EnforcedFileName)
	if !slices.Equal(pol.Origin, []string{defaultsPath, enforcedPath}) {
		t.Fatalf("origin %v", pol.Origin)
	}
	st := Store{Path: filepath.Join(t.TempDir(), FileName), Policy: pol}
	writeFile(t, st.Path, `{"site_url":"https://user.example","channel":"user-ch","sound_on_error":true,"route_key":"r"}`)
	e, exists, err := st.LoadEffective()
	if err != nil || !exists {
		t.Fatalf("%v %v", exists, err)
	}
	want := Default()
	want.SiteURL, want.SoundOnError = "https://enforced.example", false // enforced over the user's
	want.Channel, want.RouteKey = "user-ch", "r"                        // the user's over the default
	want.MinLevel, want.StartAtLogin = "warning", true                  // organisation defaults
	if e.Settings != want {
		t.Fatalf("merged\n got %+v\nwant %+v", e.Settings, want)
	}
	wantSources := map[string]Source{}
	for _, k := range Keys() {
		wantSources[k] = SourceBuiltIn
	}
	maps.Copy(wantSources, map[string]Source{
		FieldSiteURL: SourceEnforced, "sound_on_error": SourceEnforced,
		FieldChannel: SourceUser, FieldRouteKey: SourceUser,
		FieldMinLevel: SourceOrgDefault, "start_at_login": SourceOrgDefault,
	})
	if !maps.Equal(e.Sources, wantSources) {
		t.Fatalf("sources\n got %v\nwant %v", e.Sources, wantSources)
	}
	wantOrigins := map[string]string{FieldSiteURL: enforcedPath, "sound_on_error": enforcedPath,
		FieldChannel: st.Path, FieldRouteKey: st.Path, FieldMinLevel: defaultsPath, "start_at_login": defaultsPath}
	if !maps.Equal(e.Origins, wantOrigins) {
		t.Fatalf("origins\n got %v\nwant %v", e.Origins, wantOrigins)
	}
	if !e.Enforced(FieldSiteURL) || e.Enforced(FieldChannel) || e.Enforced(FieldMinLevel) {
		t.Fatal("Enforced disagrees with Sources")
	}
	if v, b, none := e.Value(FieldSiteURL), e.Value("sound_on_error"), e.Value("nope"); string(v) != `"https://enforced.example"` || string(b) != "false" || none != nil {
		t.Fatalf("Value: %s %s %s", v, b, none)
	}
	if s, _, _ := st.Load(); s != want {
		t.Fatalf("Load is not the merged result: %+v", s)
	}

	// No user file: the baseline and the enforced values.
	st.Path = filepath.Join(t.TempDir(), FileName)
	e, exists, err = st.LoadEffective()
	want.Channel, want.RouteKey = "default-ch", DefaultRouteKey
	if err != nil || exists || e.Settings != want || e.Sources[FieldChannel] != SourceOrgDefault {
		t.Fatalf("first run: %+v %v %v %v", e.Settings, e.Sources, exists, err)
	}
}

// Save writes the user's layer only: never an enforced key, and not the
// values equal to the baseline, so a later change of an organisation
// default reaches the users who never changed it.
func TestPolicySaveUserLayerOnly(t *testing.T) {
	policyDir(t, map[string]string{
		DefaultsFileName: `{"channel":"ops","min_level":"warning"}`,
		EnforcedFileName: `{"site_url":"https://enforced.example","ws_url":"wss://ws.enforced.example"}`,
	})
	st := Store{Path: filepath.Join(t.TempDir(), FileName), Policy: LoadPolicy()}
	e, _, err := st.LoadEffective()
	if err != nil {
		t.Fatal(err)
	}
	s := e.Settings
	s.SiteURL = "https://user-tried.example" // the window cannot, but Save must not either
	s.Username = "alice"
	s.MinLevel = "error"
	if err := st.Save(s); err != nil {
		t.Fatal(err)
	}
	var file map[string]json.RawMessage
	data, _ := os.ReadFile(st.Path)
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(file)); !slices.Equal(got, []string{FieldMinLevel, FieldUsername}) {
		t.Fatalf("saved keys %v, want min_level and username only:\n%s", got, data)
	}
	// The organisation changes its default channel: this user never chose
	// one, so theirs changes too; their own choices stay.
	policyDir(t, map[string]string{DefaultsFileName: `{"channel":"support","min_level":"warning"}`})
	st.Policy = LoadPolicy()
	got, _, err := st.Load()
	if err != nil || got.Channel != "support" || got.MinLevel != "error" || got.Username != "alice" || got.SiteURL != "" {
		t.Fatalf("after the default changed: %+v %v", got, err)
	}
}

// A malformed policy costs only what is wrong: each problem is one
// sentence naming the file and the key, logged, and the valid keys apply.
func TestPolicyProblems(t *testing.T) {
	logged := captureLog(t)
	dir := policyDir(t, map[string]string{
		DefaultsFileName: `{"channel":"ops","sound_on_error":"yes","sight_url":"https://x.example",` +
			`"site_url":"ftp://files.example","ws_url":null,"min_level":"critical","token_path":"/t/"}`,
		EnforcedFileName: `{"route_key": "r",`, // torn
	})
	pol := LoadPolicy()
	defaults := filepath.Join(dir, DefaultsFileName)
	wantProblems := []struct{ file, key string }{
		{defaults, "min_level"}, {defaults, "sight_url"}, {defaults, "site_url"},
		{defaults, "sound_on_error"}, {defaults, "ws_url"}, {filepath.Join(dir, EnforcedFileName), "JSON"},
	}
	if len(pol.Problems) != len(wantProblems) {
		t.Fatalf("%d problems, want %d: %q", len(pol.Problems), len(wantProblems), pol.Problems)
	}
	for i, w := range wantProblems {
		p := pol.Problems[i]
		if !strings.HasPrefix(p, w.file) || !strings.Contains(p, w.key) || !strings.HasSuffix(p, ".") || strings.Contains(p, "\n") {
			t.Errorf("problem %d = %q; want one sentence about %s in %s", i, p, w.key, w.file)
		}
		if !strings.Contains(logged.String(), w.key) {
			t.Errorf("%s not logged:\n%s", w.key, logged)
		}
	}
	if !strings.Contains(logged.String(), "level=WARN") {
		t.Errorf("problems not logged as warnings:\n%s", logged)
	}
	wantDefaults := map[string]json.RawMessage{"channel": json.RawMessage(`"ops"`), "token_path": json.RawMessage(`"/t/"`)}
	if !reflect.DeepEqual(pol.Defaults, wantDefaults) || len(pol.Enforced) != 0 {
		t.Fatalf("valid keys: defaults %s, enforced %s", pol.Defaults, pol.Enforced)
	}
	e, _, err := Store{Path: filepath.Join(t.TempDir(), FileName), Policy: pol}.LoadEffective()
	if err != nil || e.Settings.Channel != "ops" || e.Settings.TokenPath != "/t/" || !slices.Equal(e.Problems, pol.Problems) {
		t.Fatalf("%+v %q %v", e.Settings, e.Problems, err)
	}
}

// An enforced value that fails validation is ignored: the user's value
// stays, and the organisation's default below it still counts.
func TestPolicyInvalidEnforcedIgnored(t *testing.T) {
	policyDir(t, map[string]string{
		DefaultsFileName: `{"route_key":"r"}`,
		EnforcedFileName: `{"site_url":"http://www.example.com","channel":"ops room","route_key":"a b","catchup_handler":"catchup"}`,
	})
	pol := LoadPolicy()
	if len(pol.Problems) != 3 {
		t.Fatalf("problems %q", pol.Problems)
	}
	st := Store{Path: filepath.Join(t.TempDir(), FileName), Policy: pol}
	writeFile(t, st.Path, `{"site_url":"https://www.example.com","channel":"mine"}`)
	e, _, err := st.LoadEffective()
	if err != nil {
		t.Fatal(err)
	}
	s := e.Settings
	if s.SiteURL != "https://www.example.com" || s.Channel != "mine" || s.RouteKey != "r" || s.CatchupHandler != "catchup" {
		t.Fatalf("%+v", s)
	}
	if e.Sources[FieldSiteURL] != SourceUser || e.Sources[FieldRouteKey] != SourceOrgDefault || !e.Enforced(FieldCatchupHandler) {
		t.Fatalf("sources %v", e.Sources)
	}
}

// No policy folder, and no policy: the settings file alone, as before.
func TestPolicyNone(t *testing.T) {
	policyDir(t, nil)
	pol := LoadPolicy()
	if len(pol.Origin)+len(pol.Problems)+len(pol.Defaults)+len(pol.Enforced) != 0 {
		t.Fatalf("%+v", pol)
	}
	st := Store{Path: filepath.Join(t.TempDir(), FileName), Policy: pol}
	want := valid()
	if err := st.Save(want); err != nil {
		t.Fatal(err)
	}
	if got, _, err := st.Load(); err != nil || got != want {
		t.Fatalf("%+v %v", got, err)
	}
}

// Windows registry values become JSON by the field's type; value names
// match case-insensitively, as the registry's do.
func TestRegistryLayer(t *testing.T) {
	l := registryLayer(`HKLM\Software\Policies\ToastTray\Enforced`, []regValue{
		{name: "Site_URL", typ: regSZ, str: "https://www.example.com"},
		{name: "sound_on_error", typ: regDWORD, num: 0},
		{name: "start_at_login", typ: regDWORD, num: 1},
		{name: "remember_password", typ: regSZ, str: "FALSE"},
		{name: "ca_file", typ: regExpandSZ, str: `C:\ProgramData\ca.pem`},
		{name: "", typ: regSZ, str: "(Default) value"},
		{name: "channel", typ: regDWORD, num: 5},   // a number for text
		{name: "min_level", typ: 3, str: "binary"}, // REG_BINARY
		{name: "auth", typ: 7, str: "x"},           // REG_MULTI_SZ
		{name: "route_key", typ: regSZ, str: "r"},
		{name: "keepalive_handler", typ: regSZ, str: ""},
	})
	want := map[string]string{"site_url": `"https://www.example.com"`, "sound_on_error": "false",
		"start_at_login": "true", "remember_password": "false", "ca_file": `"C:\\ProgramData\\ca.pem"`,
		"route_key": `"r"`, "keepalive_handler": `""`}
	got := map[string]string{}
	for k, v := range l.values {
		got[k] = string(v)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("values\n got %v\nwant %v", got, want)
	}
	if len(l.problems) != 3 {
		t.Fatalf("problems %q", l.problems)
	}
	for i, key := range []string{"channel", "min_level", "auth"} {
		if !strings.Contains(l.problems[i], `"`+key+`"`) || !strings.HasPrefix(l.problems[i], `HKLM\`) {
			t.Errorf("problem %d = %q, want one about %s", i, l.problems[i], key)
		}
	}
	bad := registryLayer("HKCU", []regValue{{name: "sound_on_error", typ: regDWORD, num: 2},
		{name: "start_at_login", typ: regSZ, str: "yes"}, {name: "proxy_typo", typ: regSZ, str: "x"}})
	if len(bad.values) != 1 || len(bad.problems) != 2 {
		t.Fatalf("bad booleans: values %v, problems %q", bad.values, bad.problems)
	}
	if pol := checkLayers(nil, []rawLayer{bad}); len(pol.Problems) != 3 || !strings.Contains(pol.Problems[2], "proxy_typo") {
		t.Fatalf("unknown name not reported: %q", pol.Problems)
	}
}

// Fields of other types (none today) take numbers from REG_DWORD and
// REG_QWORD, and JSON text from REG_SZ.
func TestRegistryJSONOtherKinds(t *testing.T) {
	for _, tt := range []struct {
		v    regValue
		want string
	}{
		{regValue{typ: regDWORD, num: 42}, "42"},
		{regValue{typ: regQWORD, num: 1 << 40}, "1099511627776"},
		{regValue{typ: regSZ, str: "[1,2]"}, "[1,2]"},
	} {
		got, err := registryJSON(reflect.Int, tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("%+v: %s %v, want %s", tt.v, got, err, tt.want)
		}
	}
	if _, err := registryJSON(reflect.Int, regValue{typ: regSZ, str: "not json"}); err == nil {
		t.Error("text that is not JSON accepted for a number")
	}
}

// The machine's policy (listed first) wins over the user's per key, as
// Group Policy does; the user's fills the keys the machine leaves out.
func TestPolicyFirstSourceWins(t *testing.T) {
	hklm := registryLayer(`HKLM\x`, []regValue{{name: "site_url", typ: regSZ, str: "https://machine.example"}})
	hkcu := registryLayer(`HKCU\x`, []regValue{{name: "site_url", typ: regSZ, str: "https://user.example"},
		{name: "channel", typ: regSZ, str: "mine"}})
	pol := checkLayers(nil, []rawLayer{hklm, hkcu})
	if string(pol.Enforced["site_url"]) != `"https://machine.example"` || string(pol.Enforced["channel"]) != `"mine"` {
		t.Fatalf("%s", pol.Enforced)
	}
	if pol.EnforcedFrom["site_url"] != `HKLM\x` || pol.EnforcedFrom["channel"] != `HKCU\x` {
		t.Fatalf("%v", pol.EnforcedFrom)
	}
}

// Save keeps the user's own value of an enforced key: the tray started
// before the organisation enforced the proxy still reads the user's after
// the window saved under the new policy, as does everything once the
// enforcement is lifted (or its value turns invalid and is ignored).
func TestPolicySaveKeepsUserValueOfEnforcedKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	mine := valid()
	mine.Proxy, mine.Channel = "direct", "mine"
	tray := Store{Path: p} // started before the policy
	if err := tray.Save(mine); err != nil {
		t.Fatal(err)
	}
	window := Store{Path: p, Policy: Policy{Enforced: map[string]json.RawMessage{
		FieldProxy: json.RawMessage(`"http://proxy.corp.example:3128"`)}}}
	e, _, err := window.LoadEffective()
	if err != nil || e.Settings.Proxy != "http://proxy.corp.example:3128" {
		t.Fatalf("under the policy: %+v %v", e.Settings, err)
	}
	s := e.Settings
	s.Channel = "other"
	if err := window.Save(s); err != nil {
		t.Fatal(err)
	}
	got, _, err := tray.Load()
	if err != nil || got.Proxy != "direct" || got.Channel != "other" {
		data, _ := os.ReadFile(p)
		t.Fatalf("the user's proxy lost: %+v %v\n%s", got, err, data)
	}
	if e, _, err := window.LoadEffective(); err != nil || e.Settings.Proxy != "http://proxy.corp.example:3128" || !e.Enforced(FieldProxy) {
		t.Fatalf("the policy no longer applies: %+v %v", e.Settings, err)
	}
}

// What Save cannot carry over of an enforced key (a file that is not a
// JSON object, a value of the wrong type) is kept aside before Save
// replaces the file, even when no Load came first; keys are matched as
// Load matches them; a null is nothing to keep.
func TestPolicySaveEnforcedKeyOddFiles(t *testing.T) {
	enforced := Policy{Enforced: map[string]json.RawMessage{FieldProxy: json.RawMessage(`"direct"`)}}
	for _, tc := range []struct {
		name, file string
		proxy      string // the user's proxy after the save, once not enforced
		kept       bool   // the file was copied aside
	}{
		{"case-folded key", `{"Proxy": "socks5://p.example:1080"}`, "socks5://p.example:1080", false},
		{"torn file", `{"proxy": "socks5://p.example:1080",`, "", true},
		{"wrong type", `{"proxy": 5, "channel": "x"}`, "", true},
		{"null", `{"proxy": null}`, "", false},
		{"empty file", "\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), FileName)
			writeFile(t, p, tc.file)
			if err := (Store{Path: p, Policy: enforced}).Save(valid()); err != nil {
				t.Fatal(err)
			}
			got, _, err := Store{Path: p}.Load()
			if err != nil || got.Proxy != tc.proxy || got.Channel != valid().Channel {
				data, _ := os.ReadFile(p)
				t.Fatalf("loaded %+v %v, want proxy %q\n%s", got, err, tc.proxy, data)
			}
			kept := backups(t, p)
			if tc.kept != (len(kept) == 1) || len(kept) > 1 {
				t.Fatalf("copies %v, want one: %v", kept, tc.kept)
			}
			if tc.kept {
				if data, _ := os.ReadFile(kept[0]); string(data) != tc.file {
					t.Fatalf("copy holds %q", data)
				}
			}
		})
	}
}
