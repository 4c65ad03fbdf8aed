package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesUpToDate fails when the committed PNGs differ from what
// the generator draws now: run `go generate ./assets`.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1+5+5+4 {
		t.Errorf("Render made %d files, want 15", len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./assets)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./assets", name)
		}
	}
}
