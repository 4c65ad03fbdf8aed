//go:build darwin

package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"

	"howett.net/plist"
)

// Managed preferences (a configuration profile from an MDM, or a plist an
// administrator installs) for the app's domain, org.toasttray.ToastTray:
// the dictionaries Defaults and Enforced hold one key per setting.
const (
	managedPrefsDir = "/Library/Managed Preferences"
	managedPrefs    = "org.toasttray.ToastTray.plist"
)

// platformLocations: the user's managed preferences, then the computer's;
// the user's win per key, as macOS looks them up.
func platformLocations() []string {
	var paths []string
	if u, err := user.Current(); err == nil && u.Username != "" {
		paths = append(paths, filepath.Join(managedPrefsDir, u.Username, managedPrefs))
	}
	return append(paths, filepath.Join(managedPrefsDir, managedPrefs))
}

// platformLayers reads the managed preferences at platformLocations.
func platformLayers() (defaults, enforced []rawLayer) {
	for _, p := range platformLocations() {
		d, e, ok := readPlistLayers(p)
		if ok {
			defaults, enforced = append(defaults, d), append(enforced, e)
		}
	}
	return defaults, enforced
}

// readPlistLayers reads one managed preferences file (XML or binary); ok
// is false when there is none.
func readPlistLayers(path string) (defaults, enforced rawLayer, ok bool) {
	defaults.origin, enforced.origin = path+" Defaults", path+" Enforced"
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return defaults, enforced, false
	}
	var doc struct {
		Defaults map[string]any `plist:"Defaults"`
		Enforced map[string]any `plist:"Enforced"`
	}
	if err == nil {
		_, err = plist.Unmarshal(data, &doc)
	}
	if err != nil {
		defaults.problems = []string{fmt.Sprintf("%s could not be read (%v), so none of its settings apply.", path, err)}
		return defaults, enforced, true
	}
	defaults.values, defaults.problems = plistValues(defaults.origin, doc.Defaults)
	enforced.values, enforced.problems = plistValues(enforced.origin, doc.Enforced)
	return defaults, enforced, true
}

// plistValues turns plist values (strings, booleans, numbers) into JSON.
func plistValues(origin string, values map[string]any) (map[string]json.RawMessage, []string) {
	out := map[string]json.RawMessage{}
	var problems []string
	for k, v := range values {
		raw, err := json.Marshal(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q has a value of type %T; it is ignored.", origin, k, v))
			continue
		}
		out[k] = raw
	}
	return out, problems
}
