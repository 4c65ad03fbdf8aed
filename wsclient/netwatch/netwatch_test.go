package netwatch

import (
	"context"
	"testing"
	"time"
)

func TestFingerprintStable(t *testing.T) {
	if a, b := Fingerprint(), Fingerprint(); a != b {
		t.Fatalf("fingerprint changes by itself: %q vs %q", a, b)
	}
}

// TestWatchEndsWithContext: the watcher and its helper goroutine end
// when the context does.
func TestWatchEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	watch := Start(ctx)
	go func() { done <- watch(func(string) {}) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return")
	}
}

func TestDescribe(t *testing.T) {
	if got := describe("eth0=10.0.0.2", "wlan0=192.168.1.5"); got == "" {
		t.Fatal("empty reason")
	}
}
