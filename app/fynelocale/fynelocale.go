// Package fynelocale keeps Fyne from logging "Error parsing user locale C"
// at start-up when the locale is C.UTF-8 (the default of Debian and Docker
// images, so of many a headless `toasttray listen`).
//
// Fyne's lang package reads the locale in its package init through
// go-locale, which recognises "C" and "POSIX" but passes "C.UTF-8" on as a
// language tag. This package's init runs first: Go initialises packages in
// import-path order once their imports are ready, and this one, importing
// only os, is ready long before fyne.io/fyne/v2/lang, which waits for
// golang.org/x/text. main imports it for that side effect.
package fynelocale

import "os"

func init() { Fix(os.Getenv, os.Setenv) }

// Fix sets LC_MESSAGES=C when the message locale go-locale would read is a
// C or POSIX locale with an encoding ("C.UTF-8"): the same meaning, in a
// form go-locale understands. LC_CTYPE (the UTF-8 part) is left alone, and
// nothing changes when LC_ALL is set, since it overrides LC_MESSAGES.
func Fix(getenv func(string) string, setenv func(string, string) error) {
	if getenv("LC_ALL") != "" {
		return
	}
	loc := getenv("LC_MESSAGES")
	if loc == "" {
		loc = getenv("LANG")
	}
	if isCWithEncoding(loc) {
		_ = setenv("LC_MESSAGES", "C") // cannot fail for this name and value
	}
}

func isCWithEncoding(loc string) bool {
	for _, base := range []string{"C.", "POSIX."} {
		if len(loc) > len(base) && loc[:len(base)] == base {
			return true
		}
	}
	return false
}
