package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/toasttray/toasttray/app/autostart"
)

// The JSON log format passes C1 controls and bidi overrides through
// unless the logger sanitises; the text format quotes them itself.
func TestJSONLogIsTerminalSafe(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log, err := newLogger(&buf, "info", format)
		if err != nil {
			t.Fatal(err)
		}
		log.Warn("gateway said \u009b2J", "err", errors.New("refused \u202eevil\xff"), "reason", "\u2066x")
		out := buf.String()
		if strings.ContainsAny(out, "\u009b\u202e\u2066\x1b") || !strings.Contains(out, "evil") {
			t.Fatalf("%s: %q", format, out)
		}
		if format == "json" && !json.Valid(bytes.TrimSpace(buf.Bytes())) {
			t.Fatalf("not JSON: %q", out)
		}
	}
}

// The login entries' flag (autostart.Flag) is one of ours.
func TestAutostartFlagIsKnown(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{autostart.Flag, "-version"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
}
