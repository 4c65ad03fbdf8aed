package creds

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealSecretService round-trips credentials through gnome-keyring on
// a private session bus: the real Secret Service, not the mock.
//
// go-keyring has no way back from MockInit, which other tests call, so the
// round trip runs in a child process of this test binary.
func TestRealSecretService(t *testing.T) {
	if os.Getenv("TOASTTRAY_REAL_KEYRING_CHILD") == "1" {
		roundTrip(t)
		return
	}
	bus, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed")
	}
	gk, err := exec.LookPath("gnome-keyring-daemon")
	if err != nil {
		t.Skip("gnome-keyring-daemon not installed")
	}
	dir := t.TempDir()
	d := exec.Command(bus, "--session", "--nofork", "--print-address=1", "--address=unix:path="+filepath.Join(dir, "bus"))
	out, _ := d.StdoutPipe()
	if err := d.Start(); err != nil {
		t.Skipf("dbus-daemon: %v", err)
	}
	t.Cleanup(func() { d.Process.Kill(); d.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr = strings.TrimSpace(addr)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("HOME", dir)

	// --unlock reads the login password from stdin and creates an
	// unlocked "login" keyring; --foreground keeps it our child.
	k := exec.Command(gk, "--foreground", "--unlock", "--components=secrets")
	k.Env = append(k.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr)
	k.Stdin = strings.NewReader("test-login-password")
	kout, _ := k.StdoutPipe()
	if err := k.Start(); err != nil {
		t.Skipf("gnome-keyring-daemon: %v", err)
	}
	t.Cleanup(func() { k.Process.Kill(); k.Wait() })
	// It prints its environment once it has registered on the bus.
	if _, err := bufio.NewReader(kout).ReadString('\n'); err != nil {
		t.Skipf("gnome-keyring-daemon did not start: %v", err)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestRealSecretService$", "-test.v")
	child.Env = append(os.Environ(), "TOASTTRAY_REAL_KEYRING_CHILD=1")
	outb, err := child.CombinedOutput()
	if err != nil {
		t.Fatalf("round trip through gnome-keyring failed: %v\n%s", err, outb)
	}
	if !strings.Contains(string(outb), "--- PASS: TestRealSecretService") {
		t.Fatalf("child did not run the test:\n%s", outb)
	}
}
