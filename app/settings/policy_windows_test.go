//go:build windows

package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegistryPolicy reads the policy scripts/wine/policy-test writes
// into the registry (a Wine prefix; never a real machine's):
//
//	TOASTTRAY_WINE_POLICY=1 settings.test.exe -test.run TestRegistryPolicy
func TestRegistryPolicy(t *testing.T) {
	if os.Getenv("TOASTTRAY_WINE_POLICY") != "1" {
		t.Skip("set TOASTTRAY_WINE_POLICY=1 after scripts/wine/policy-test's registry keys are in place")
	}
	t.Setenv(PolicyDirEnv, "")
	pol := LoadPolicy()
	const hklm, hkcu = `HKLM\` + PolicyKey, `HKCU\` + PolicyKey
	// Not t.TempDir: its RemoveAll fails under Wine ("Invalid function").
	dir, err := os.MkdirTemp("", "toasttray-policy-")
	if err != nil {
		t.Fatal(err)
	}
	st := Store{Path: filepath.Join(dir, FileName), Policy: pol}
	t.Cleanup(func() { os.Remove(st.Path); os.Remove(dir) })
	writeFile(t, st.Path, `{"channel":"mine","min_level":"success"}`)
	e, _, err := st.LoadEffective()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		key, value string
		source     Source
		origin     string
	}{
		{FieldSiteURL, `"https://machine.example.com"`, SourceEnforced, hklm + `\Enforced`}, // HKLM over HKCU
		{"sound_on_error", "false", SourceEnforced, hklm + `\Enforced`},                     // REG_DWORD 0
		{FieldChannel, `"user-channel"`, SourceEnforced, hkcu + `\Enforced`},                // HKCU where HKLM is silent
		{FieldMinLevel, `"success"`, SourceUser, st.Path},                                   // the user's over a default
		{"start_at_login", "true", SourceOrgDefault, hklm + `\Defaults`},                    // REG_SZ "true"
		{FieldRouteKey, `"r"`, SourceOrgDefault, hkcu + `\Defaults`},
		{"remember_password", "true", SourceBuiltIn, ""}, // REG_DWORD 2: a problem
	} {
		f, _ := fieldByKey(w.key)
		if got := string(f.value(e.Settings)); got != w.value || e.Sources[w.key] != w.source || e.Origins[w.key] != w.origin {
			t.Errorf("%s = %s from %s (%s), want %s from %s (%s)", w.key, got, e.Sources[w.key], e.Origins[w.key], w.value, w.source, w.origin)
		}
	}
	if len(e.Problems) != 1 || !strings.HasPrefix(e.Problems[0], hkcu+`\Defaults: "remember_password"`) {
		t.Errorf("problems %q", e.Problems)
	}
	t.Logf("origin %q", pol.Origin)
}
