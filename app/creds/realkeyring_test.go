package creds

import (
	"errors"
	"testing"

	"github.com/toasttray/toasttray/wsclient"
)

// roundTrip saves, loads and deletes credentials in the real keyring (the
// OS tests run it in a child process: go-keyring has no way back from
// MockInit, which other tests call).
func roundTrip(t *testing.T) {
	s := Store{Service: "org.toasttray.ToastTray.test"}
	want := wsclient.Credentials{Username: "alice", Password: "p@ss \"w0rd\" <&>"}
	if err := s.Save("https://www.example.com", want); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := s.Load("https://www.example.com", "alice")
	if err != nil || got != want {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if err := s.Delete("https://www.example.com", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("https://www.example.com", "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}
