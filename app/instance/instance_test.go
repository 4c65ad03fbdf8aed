package instance

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func opts(t *testing.T, dir string, tcp bool, got chan string) Options {
	return Options{Name: "org.toasttray.ToastTray", Dir: dir, tcp: tcp, OnRequest: func(r string) { got <- r }}
}

func testSecondLaunch(t *testing.T, tcp bool) {
	dir := t.TempDir()
	got := make(chan string, 4)
	p, err := Acquire(opts(t, dir, tcp, got), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(opts(t, dir, tcp, nil), RequestShowSettings)
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second launch: %v", err)
	}
	// send returned after the primary answered "ok", which it does before
	// calling OnRequest; wait for the call.
	select {
	case r := <-got:
		if r != RequestShowSettings {
			t.Fatalf("request %q", r)
		}
	case <-time.After(5 * time.Second): // hang guard
		t.Fatal("primary never got the request")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// After the primary exits, the next launch becomes primary.
	p2, err := Acquire(opts(t, dir, tcp, got), "")
	if err != nil {
		t.Fatalf("after close: %v", err)
	}
	p2.Close()
	p2.Close()
}

func TestSecondLaunchUnix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip()
	}
	testSecondLaunch(t, false)
}

func TestSecondLaunchTCP(t *testing.T) { testSecondLaunch(t, true) }

// A crashed primary leaves its socket file; the next launch takes over.
func TestStaleUnixSocket(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip()
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "org.toasttray.ToastTray.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatal("stale socket not left behind")
	}
	p, err := Acquire(opts(t, dir, false, make(chan string, 1)), "")
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	p.Close()
}

// A port file naming a dead port, or a port owned by someone without the
// token, does not stop the launch.
func TestTCPStaleAndWrongToken(t *testing.T) {
	dir := t.TempDir()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	os.WriteFile(filepath.Join(dir, "org.toasttray.ToastTray.port"), []byte(strconv.Itoa(port)+" deadbeef\n"), 0o600)
	got := make(chan string, 1)
	p, err := Acquire(opts(t, dir, true, got), "")
	if err != nil {
		t.Fatalf("stale port file: %v", err)
	}
	defer p.Close()
	// A request with the wrong token is refused and not delivered.
	conn, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := send(conn, "wrong", RequestShowSettings); err == nil {
		t.Fatal("wrong token accepted")
	}
	select {
	case r := <-got:
		t.Fatalf("delivered %q", r)
	default:
	}
}

// Notify reaches the running primary, and without one it says so and does
// not become the primary itself (a window must not take the tray's place).
func TestNotify(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		if !tcp && runtime.GOOS == "windows" {
			continue
		}
		dir := t.TempDir()
		if err := Notify(opts(t, dir, tcp, nil), RequestSignOut); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("tcp=%v: Notify with no primary = %v, want ErrNotRunning", tcp, err)
		}
		got := make(chan string, 1)
		p, err := Acquire(opts(t, dir, tcp, got), "")
		if err != nil {
			t.Fatalf("tcp=%v: after Notify, Acquire = %v: Notify took the primary's place", tcp, err)
		}
		if err := Notify(opts(t, dir, tcp, nil), RequestSignOut); err != nil {
			t.Fatalf("tcp=%v: Notify: %v", tcp, err)
		}
		select {
		case r := <-got:
			if r != RequestSignOut {
				t.Fatalf("tcp=%v: request %q", tcp, r)
			}
		case <-time.After(5 * time.Second): // hang guard
			t.Fatalf("tcp=%v: the primary never got the request", tcp)
		}
		p.Close()
	}
}
