package creds

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRealCredentialManager round-trips credentials through Windows
// Credential Manager, not the mock. Opt-in (TOASTTRAY_REAL_KEYRING=1): it
// writes to the user's store, under a test service name, and deletes it
// again. scripts/wine/run runs it under Wine. The round trip runs in a
// child process, as on Linux.
func TestRealCredentialManager(t *testing.T) {
	if os.Getenv("TOASTTRAY_REAL_KEYRING_CHILD") == "1" {
		roundTrip(t)
		return
	}
	if os.Getenv("TOASTTRAY_REAL_KEYRING") != "1" {
		t.Skip("set TOASTTRAY_REAL_KEYRING=1 to write to the real Credential Manager")
	}
	child := exec.Command(os.Args[0], "-test.run=^TestRealCredentialManager$", "-test.v")
	child.Env = append(os.Environ(), "TOASTTRAY_REAL_KEYRING_CHILD=1")
	out, err := child.CombinedOutput()
	if err != nil {
		t.Fatalf("round trip through Credential Manager failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestRealCredentialManager") {
		t.Fatalf("child did not run the test:\n%s", out)
	}
}
