package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/toasttray/toasttray"

// mayImport is the package table of docs/ARCHITECTURE.md: for each package
// of the module (path below the module, "" = main), what it may import
// besides the standard library: packages of the module, and external
// modules by path prefix. "*" allows anything. Keep both in step.
var mayImport = map[string][]string{
	"":                        {"app/cli", "app/console", "app/fynelocale", "app/tray", "app/ui"},
	"wsclient/clock":          {},
	"wsclient/netwatch":       {},
	"wsclient":                {"github.com/gorilla/websocket", "github.com/mattn/go-ieproxy", "golang.org/x/net", "wsclient/clock", "wsclient/netwatch"},
	"wsclient/wstest":         {"github.com/gorilla/websocket", "wsclient/clock"}, // not wsclient: its tests import wstest
	"wsclient/scenario":       {},                                                 // tests only
	"app/settings/atomicfile": {"wsclient/clock"},
	"app/text":                {},
	"app/settings":            {"app/settings/atomicfile", "wsclient", "golang.org/x/sys", "howett.net/plist"},
	"app/creds":               {"github.com/zalando/go-keyring", "app/settings", "wsclient"},
	"app/notify": {"github.com/godbus/dbus/v5", "git.sr.ht/~jackmordaunt/go-toast", "github.com/gen2brain/beeep",
		"golang.org/x/sys", "assets", "app/settings/atomicfile", "wsclient", "wsclient/clock"},
	"app/history":    {"golang.org/x/sys", "app/settings", "app/settings/atomicfile", "wsclient", "wsclient/clock"},
	"app/instance":   {"app/settings", "app/settings/atomicfile"},
	"app/autostart":  {"golang.org/x/sys", "app/settings/atomicfile", "app/text"},
	"app/console":    {"golang.org/x/sys"},
	"app/fynelocale": {},
	"app/service":    {"app/history", "app/notify", "app/settings", "app/settings/atomicfile", "wsclient", "wsclient/clock"},
	"app/tray": {"fyne.io/systray", "github.com/godbus/dbus/v5", "app/autostart", "app/creds", "app/history", "app/instance",
		"app/notify", "app/service", "app/settings", "app/text", "assets", "wsclient", "wsclient/clock", "wsclient/wstest"},
	"app/ui": {"fyne.io/fyne/v2", "app/autostart", "app/cli", "app/creds", "app/history", "app/instance", "app/settings", "app/text", "assets", "wsclient",
		"wsclient/wstest"}, // the demo user's password; app/cli links it anyway
	"app/cli":    {"app/notify", "app/service", "app/settings", "wsclient", "wsclient/wstest"},
	"assets":     {},
	"assets/gen": {"golang.org/x/image"}, // go:generate tool
	"scripts/*":  {"*"},                  // test beds and tools; nothing imports them
}

// noFyne are packages that must not link Fyne even indirectly: the tray
// process idles at a few MB because it never loads Fyne's GL driver.
var noFyne = []string{"app/tray", "app/service", "app/cli", "wsclient"}

// TestImportGraph checks every package's imports, for each OS the app
// ships on, against mayImport.
func TestImportGraph(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			for _, p := range listPackages(t, goos) {
				rel, ok := relPath(p.ImportPath)
				if !ok {
					continue
				}
				allowed, known := rules(rel)
				if !known {
					t.Errorf("%s is not in the package table: add it to docs/ARCHITECTURE.md and mayImport", p.ImportPath)
					continue
				}
				for _, imp := range p.Imports {
					if !permitted(imp, allowed) {
						t.Errorf("%s imports %s: not allowed by docs/ARCHITECTURE.md's package table", p.ImportPath, imp)
					}
				}
				if slices.Contains(noFyne, rel) {
					for _, d := range p.Deps {
						if strings.HasPrefix(d, "fyne.io/fyne/") {
							t.Errorf("%s links Fyne (through %s); the tray process must not", p.ImportPath, d)
							break
						}
					}
				}
			}
		})
	}
}

type goPackage struct {
	ImportPath    string
	Imports, Deps []string
}

// listPackages runs go list for goos. CGO_ENABLED=1 keeps the cgo-only
// files (Fyne's drivers) in the cross-OS listing; nothing is compiled.
func listPackages(t *testing.T, goos string) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < len(mayImport) {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// relPath is path below the module, and whether it is the module's.
func relPath(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

func rules(rel string) ([]string, bool) {
	if allowed, ok := mayImport[rel]; ok {
		return allowed, true
	}
	for pattern, allowed := range mayImport {
		if prefix, ok := strings.CutSuffix(pattern, "*"); ok && strings.HasPrefix(rel, prefix) {
			return allowed, true
		}
	}
	return nil, false
}

func permitted(imp string, allowed []string) bool {
	if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
		return true // standard library
	}
	rel, internal := relPath(imp)
	for _, a := range allowed {
		switch {
		case a == "*":
			return true
		case internal && rel == a:
			return true
		case !internal && (imp == a || strings.HasPrefix(imp, a+"/")):
			return true
		}
	}
	return false
}
