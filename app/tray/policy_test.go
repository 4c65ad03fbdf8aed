package tray

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/toasttray/toasttray/app/settings"
)

// Demo mode runs against the built-in server whatever the organisation
// enforces; otherwise the tray runs under the policy.
func TestTrayPolicyIgnoredInDemo(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, settings.EnforcedFileName), []byte(`{"site_url":"https://intranet.example.com"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(settings.PolicyDirEnv, dir)
	if p := trayPolicy(true); len(p.Enforced)+len(p.Origin) != 0 {
		t.Fatalf("demo mode under a policy: %+v", p)
	}
	if p := trayPolicy(false); len(p.Enforced) != 1 {
		t.Fatalf("policy not read: %+v", p)
	}
}
