//go:build integration

package integration_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

const keyringService = "org.toasttray.ToastTray.integration-test"

func TestIntegrationKeyringRoundTrip(t *testing.T) {
	requireDesktop(t)
	big := make([]byte, 1280)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, user, secret string }{
		{"short", "alice@https://example.test", "hunter2 ✓ with unicode"},
		{"2560 bytes", "bob@https://example.test", hex.EncodeToString(big)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := keyring.Set(keyringService, c.user, c.secret); err != nil {
				t.Fatalf("Set: %v", err)
			}
			t.Cleanup(func() { _ = keyring.Delete(keyringService, c.user) })
			got, err := keyring.Get(keyringService, c.user)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got != c.secret {
				t.Fatalf("Get returned %d bytes, want the %d stored", len(got), len(c.secret))
			}

			// The secret is in the real Secret Service, not a mock:
			// libsecret's own tool finds it by go-keyring's attributes.
			out, err := exec.Command("secret-tool", "lookup", "service", keyringService, "username", c.user).Output()
			if err != nil {
				t.Fatalf("secret-tool lookup: %v", err)
			}
			if strings.TrimSuffix(string(out), "\n") != c.secret {
				t.Fatalf("secret-tool sees %d bytes, want %d", len(out), len(c.secret))
			}

			if err := keyring.Delete(keyringService, c.user); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := keyring.Get(keyringService, c.user); !errors.Is(err, keyring.ErrNotFound) {
				t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestIntegrationKeyringMissingEntry(t *testing.T) {
	requireDesktop(t)
	if _, err := keyring.Get(keyringService, "nobody"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get of a missing entry: err = %v, want ErrNotFound", err)
	}
	if err := keyring.Delete(keyringService, "nobody"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Delete of a missing entry: err = %v, want ErrNotFound", err)
	}
}
