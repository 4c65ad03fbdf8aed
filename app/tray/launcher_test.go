package tray

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// fakeWindowEnv, when set, makes this test binary a fake window process
// (launcher.run starts os.Executable): it dials the address, reports its
// arguments, reports each line of stdin as "got LINE", then "eof" at its
// end and exits 0. Killed or signalled, it never reports "eof".
const fakeWindowEnv = "TOASTTRAY_TEST_FAKE_WINDOW"

func TestMain(m *testing.M) {
	if addr := os.Getenv(fakeWindowEnv); addr != "" {
		os.Exit(fakeWindow(addr))
	}
	os.Exit(m.Run())
}

func fakeWindow(addr string) int {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake window:", err)
		return 1
	}
	defer conn.Close()
	fmt.Fprintln(conn, "ready", strings.Join(os.Args[1:], " "))
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fmt.Fprintln(conn, "got", sc.Text())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "fake window: reading stdin:", err)
		return 1
	}
	fmt.Fprintln(conn, "eof")
	return 0
}

// The tray sends requests down a window process's stdin. When it quits,
// it asks each window process to close by closing its stdin (Windows has
// no SIGTERM), not with a signal, and the window exits by itself within
// the grace period.
func TestLauncherQuitClosesStdin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(time.Minute)) // hang guard
	l := &launcher{
		env: append(os.Environ(), fakeWindowEnv+"="+ln.Addr().String()),
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- l.run(ctx, WindowHistory) }()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("the window process did not start: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute)) // hang guard
	r := bufio.NewReader(conn)
	if got, _ := r.ReadString('\n'); got != "ready history -raise-on-stdin\n" {
		t.Fatalf("window process reported %q", got)
	}
	// Requests reach the window they are for, one a line, in order;
	// a window that is not open gets none.
	l.send(WindowSettings, requestRaise)
	l.send(WindowHistory, requestReload)
	l.send(WindowHistory, requestRaise)
	for _, want := range []string{"got reload\n", "got raise\n"} {
		if got, _ := r.ReadString('\n'); got != want {
			t.Fatalf("window process reported %q, want %q", got, want)
		}
	}
	cancel() // the tray quits
	got, _ := r.ReadString('\n')
	err = <-ran
	if got != "eof\n" {
		t.Fatalf("window process did not see its stdin end (reported %q); run: %v", got, err)
	}
	// Cancelled, so run reports the context even though the window exited 0.
	var exit *exec.ExitError
	if errors.As(err, &exit) || !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want the window to exit 0 after the quit", err)
	}
}
