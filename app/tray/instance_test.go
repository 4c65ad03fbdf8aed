package tray

import (
	"errors"
	"io"
	"log/slog"
	"runtime"
	"testing"

	"github.com/toasttray/toasttray/app/instance"
)

// A second start at login (two login entries) finds the tray running and
// asks nothing of it; a second launch by the user asks for Settings.
func TestSecondStartAtLoginIsQuiet(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the instance folder is the config folder on Windows")
	}
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const id = "org.toasttray.Test"
	requests := make(chan Action, 1)
	release, err := acquireInstance(id, false, true, requests, log)
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	if _, err := acquireInstance(id, false, true, make(chan Action, 1), log); !errors.Is(err, instance.ErrAlreadyRunning) {
		t.Fatalf("second start at login: %v", err)
	}
	// The primary handles one request at a time: the next request's action
	// comes after whatever the login start's was.
	if err := instance.Notify(instance.Options{Name: id, Logger: log}, instance.RequestShowHistory); err != nil {
		t.Fatal(err)
	}
	if a := <-requests; a != ActHistory {
		t.Fatalf("first action %v, want the History request's (the login start asks nothing)", a)
	}

	if _, err := acquireInstance(id, false, false, make(chan Action, 1), log); !errors.Is(err, instance.ErrAlreadyRunning) {
		t.Fatalf("second launch: %v", err)
	}
	if a := <-requests; a != ActSettings {
		t.Fatalf("second launch: %v, want Settings", a)
	}
}
