//go:build integration

package integration_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// requireDesktop fails the test unless it runs inside scripts/desktop-session:
// outside one, go-keyring and beeep would talk to the developer's own
// desktop, or godbus would start a stray dbus-daemon.
func requireDesktop(t *testing.T) {
	t.Helper()
	for _, v := range []string{"DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "TESTDESK_DIR"} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s is not set: run integration tests inside scripts/desktop-session (make integration)", v)
		}
	}
}

// sessionBus returns a private connection to the session bus, closed when
// the test ends.
func sessionBus(t *testing.T) *dbus.Conn {
	t.Helper()
	requireDesktop(t)
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatalf("connect to the session bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// testContext ends with the test or after d, whichever is first.
func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
