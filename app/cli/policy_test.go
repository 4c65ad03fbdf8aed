package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient/wstest"
)

// TestMain keeps the developer's own settings and the machine's policy out
// of the tests: empty folders unless a test points elsewhere.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "toasttray-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("TOASTTRAY_CONFIG_DIR", filepath.Join(dir, "config"))
	os.Setenv(settings.PolicyDirEnv, filepath.Join(dir, "policy"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// savedSetup writes a user settings file and a policy folder (nil: none)
// for one test and returns the two folders.
func savedSetup(t *testing.T, user string, policy map[string]string) (configDir, policyDir string) {
	t.Helper()
	configDir, policyDir = t.TempDir(), t.TempDir()
	t.Setenv("TOASTTRAY_CONFIG_DIR", configDir)
	t.Setenv(settings.PolicyDirEnv, policyDir)
	files := map[string]string{filepath.Join(configDir, settings.FileName): user}
	for name, content := range policy {
		files[filepath.Join(policyDir, name)] = content
	}
	for p, content := range files {
		if content == "" {
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return configDir, policyDir
}

// `toasttray policy` prints every setting with its value, its source and
// where that was read, then the policy's problems, and fails with them.
func TestPolicyCommand(t *testing.T) {
	configDir, policyDir := savedSetup(t, `{"site_url":"https://user.example.com","channel":"mine"}`, map[string]string{
		settings.DefaultsFileName: `{"ws_url":"wss://ws.example.com/prod","channel":"ops","sight_url":"x"}`,
		settings.EnforcedFileName: `{"site_url":"https://intranet.example.com","sound_on_error":false}`,
	})
	var out, errOut bytes.Buffer
	err := Policy(context.Background(), nil, testEnv(&out, &errOut))
	if !errors.Is(err, errPolicyProblems) {
		t.Fatalf("Policy = %v, want the problems reported\n%s", err, out.String())
	}
	text := out.String()
	defaults, enforced := filepath.Join(policyDir, settings.DefaultsFileName), filepath.Join(policyDir, settings.EnforcedFileName)
	userFile := filepath.Join(configDir, settings.FileName)
	for _, want := range []string{
		`site_url +"https://intranet\.example\.com" +organisation \(enforced\) +` + regexp.QuoteMeta(enforced) + `\n`,
		`sound_on_error +false +organisation \(enforced\) +` + regexp.QuoteMeta(enforced) + `\n`,
		`ws_url +"wss://ws\.example\.com/prod" +organisation default +` + regexp.QuoteMeta(defaults) + `\n`,
		`channel +"mine" +user +` + regexp.QuoteMeta(userFile) + `\n`,
		`token_path +"/api/ws-token/" +built-in\n`,
		`User settings: +` + regexp.QuoteMeta(userFile) + `\n`,
		`Policy read from: +` + regexp.QuoteMeta(defaults+", "+enforced) + `\n`,
		`Problems \(the rest applies\):\n  ` + regexp.QuoteMeta(defaults) + `: "sight_url" is not a ToastTray setting; it is ignored\.\n$`,
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("no match for %s in:\n%s", want, text)
		}
	}
	for _, key := range settings.Keys() {
		if !strings.Contains(text, "\n  "+key+" ") {
			t.Errorf("no line for %s:\n%s", key, text)
		}
	}

	// Nothing wrong: exit 0, and without a policy it says where it looked.
	savedSetup(t, "", nil)
	out.Reset()
	if err := Policy(context.Background(), nil, testEnv(&out, &errOut)); err != nil {
		t.Fatalf("Policy = %v\n%s", err, out.String())
	}
	if !regexp.MustCompile(`\nPolicy: +none found \(looked in `).MatchString(out.String()) || !strings.Contains(out.String(), "(not saved yet)") ||
		strings.Contains(out.String(), "Problems") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// check tests what the tray would run: the saved settings under the
// policy fill what the flags leave unset, and flags win.
func TestCheckUsesSavedSettings(t *testing.T) {
	s := wstest.NewServer(wstest.Options{})
	defer s.Close()
	t.Setenv(envPassword, "demo")
	savedSetup(t, `{"site_url":"https://user.example.com","username":"demo"}`, map[string]string{
		settings.DefaultsFileName: fmt.Sprintf(`{"ws_url":%q}`, s.WSURL),
		settings.EnforcedFileName: fmt.Sprintf(`{"site_url":%q,"token_path":"/api/nope/"}`, s.URL),
	})
	// The site from the policy (over the user's), the WebSocket URL from
	// the organisation's default, the user from the file, the token path
	// from the flag (over the enforced one).
	out := newLineWriter("WebSocket handshake")
	done := make(chan error, 1)
	go func() {
		done <- Check(context.Background(), []string{"--token-path", s.TokenPath()}, testEnv(out, &bytes.Buffer{}))
	}()
	waitSeen(t, out, done)
	s.Push("", map[string]any{"type": "toast", "message": "hi"})
	if err := <-done; err != nil || !strings.Contains(out.String(), "All steps passed") {
		t.Fatalf("Check = %v\n%s", err, out.String())
	}
	// The enforced token path applies where no flag sets one.
	var failed bytes.Buffer
	if err := Check(context.Background(), nil, testEnv(&failed, &bytes.Buffer{})); !errors.Is(err, errCheckFailed) ||
		!strings.Contains(failed.String(), "FAIL Token") {
		t.Fatalf("Check = %v\n%s", err, failed.String())
	}
}

// policy shows the proxy setting without its password.
func TestPolicyHidesProxyPassword(t *testing.T) {
	_, policyDir := savedSetup(t, "", map[string]string{
		settings.EnforcedFileName: `{"proxy":"http://bob:s3cret@proxy.example:3128"}`,
	})
	var out bytes.Buffer
	if err := Policy(context.Background(), nil, testEnv(&out, &bytes.Buffer{})); err != nil {
		t.Fatalf("Policy = %v\n%s", err, out.String())
	}
	want := `\n  proxy +"http://bob:xxxxx@proxy\.example:3128" +organisation \(enforced\) +` +
		regexp.QuoteMeta(filepath.Join(policyDir, settings.EnforcedFileName)) + `\n`
	if strings.Contains(out.String(), "s3cret") || !regexp.MustCompile(want).MatchString(out.String()) {
		t.Errorf("output:\n%s", out.String())
	}
}

// check goes through the proxy the saved settings under the policy name,
// not the environment's or the system's, and never shows its password.
func TestCheckUsesSavedProxy(t *testing.T) {
	t.Setenv(envPassword, "demo")
	t.Setenv("HTTPS_PROXY", "")
	t.Setenv("HTTP_PROXY", "")
	// A proxy that is not there: check fails at TCP, after its DNS step
	// has named the proxy (a .invalid name would fail DNS without it).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxyAddr := l.Addr().String()
	l.Close()
	savedSetup(t, `{"username":"demo"}`, map[string]string{
		settings.EnforcedFileName: fmt.Sprintf(`{"site_url":"https://site.invalid","ws_url":"wss://ws.invalid/prod","proxy":"http://bob:s3cret@%s"}`, proxyAddr),
	})
	var out bytes.Buffer
	if err := Check(context.Background(), nil, testEnv(&out, &bytes.Buffer{})); !errors.Is(err, errCheckFailed) {
		t.Fatalf("Check = %v, want it failed\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "site.invalid (resolved by the proxy "+proxyAddr+")") || strings.Contains(out.String(), "s3cret") {
		t.Errorf("output:\n%s", out.String())
	}
}
