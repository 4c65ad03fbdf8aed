package text

import "testing"

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"plain":                 "plain",
		"  two\n\nlines\t end ": "two lines end",
		"a\r\nExec=evil":        "a Exec=evil",
		"é\u00a0ü":              "é ü", // no-break space is whitespace too
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
