package fynelocale_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	_ "fyne.io/fyne/v2/lang" // its init reads the locale: the thing under test

	"github.com/toasttray/toasttray/app/fynelocale"
)

func TestFix(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // LC_MESSAGES afterwards
	}{
		{"LANG=C.UTF-8", map[string]string{"LANG": "C.UTF-8"}, "C"},
		{"LANG=POSIX.utf8", map[string]string{"LANG": "POSIX.utf8"}, "C"},
		{"LC_MESSAGES=C.UTF-8", map[string]string{"LANG": "de_DE.UTF-8", "LC_MESSAGES": "C.UTF-8"}, "C"},
		{"LANG=C", map[string]string{"LANG": "C"}, ""},
		{"LANG=en_US.UTF-8", map[string]string{"LANG": "en_US.UTF-8"}, ""},
		{"LC_MESSAGES wins over LANG", map[string]string{"LANG": "C.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "fr_FR.UTF-8"},
		{"LC_ALL overrides everything", map[string]string{"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}, ""},
		{"nothing set", map[string]string{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = v
			}
			fynelocale.Fix(func(k string) string { return env[k] },
				func(k, v string) error { env[k] = v; return nil })
			if got := env["LC_MESSAGES"]; got != tc.want {
				t.Errorf("LC_MESSAGES = %q, want %q", got, tc.want)
			}
			if env["LANG"] != tc.env["LANG"] {
				t.Errorf("LANG changed to %q", env["LANG"])
			}
		})
	}
}

// The fix must run before Fyne's lang package reads the locale: start this
// test binary again with LANG=C.UTF-8 and no tests, and look at what the
// package inits printed.
func TestRunsBeforeFyneReadsTheLocale(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(withoutLocale(os.Environ()), "LANG=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("re-running the test binary: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "locale") {
		t.Fatalf("Fyne complained about the locale:\n%s", out)
	}
}

func withoutLocale(env []string) []string {
	var kept []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANGUAGE=") {
			kept = append(kept, kv)
		}
	}
	return kept
}
