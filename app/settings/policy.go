package settings

// Managed settings: an organisation presets (defaults) and locks
// (enforced) settings for its users, keyed by settings.json's JSON keys.
// The sources are the platform's own (policy_*.go): /etc/toasttray on
// Linux and BSD, the Policies registry keys on Windows, managed
// preferences on macOS; TOASTTRAY_POLICY_DIR replaces them all.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Source is where an effective setting's value came from.
type Source string

// The sources, lowest priority first.
const (
	SourceBuiltIn    Source = "built-in"
	SourceOrgDefault Source = "organisation default"
	SourceUser       Source = "user"
	SourceEnforced   Source = "organisation (enforced)"
)

// Policy is the organisation's two layers under the user's settings file.
// Only valid values are in the maps: what was wrong is in Problems.
type Policy struct {
	// Defaults pre-fill settings the user may change; Enforced lock them.
	// By JSON key.
	Defaults, Enforced map[string]json.RawMessage
	// Origin lists where the policy was read: files or registry keys.
	Origin []string
	// Problems holds one plain sentence per bad file, unknown key, wrong
	// type or invalid value.
	Problems []string
	// DefaultsFrom and EnforcedFrom name, by JSON key, the Origin entry
	// each value came from.
	DefaultsFrom, EnforcedFrom map[string]string
}

// PolicyDirEnv names a folder whose defaults.json and enforced.json
// replace the platform's policy source (tests, portable installs).
const PolicyDirEnv = "TOASTTRAY_POLICY_DIR"

// Names of the policy files in a policy folder.
const (
	DefaultsFileName = "defaults.json"
	EnforcedFileName = "enforced.json"
)

// LoadPolicy reads the platform's policy sources. It never fails: problems
// are logged and listed in Problems, and the valid keys still apply.
func LoadPolicy() Policy {
	var defaults, enforced []rawLayer
	if dir := os.Getenv(PolicyDirEnv); dir != "" {
		defaults, enforced = dirLayers(dir)
	} else {
		defaults, enforced = platformLayers()
	}
	p := checkLayers(defaults, enforced)
	for _, problem := range p.Problems {
		slog.Warn("policy: ignoring what is wrong, the rest applies", "problem", problem)
	}
	if len(p.Origin) > 0 {
		slog.Debug("policy loaded", "origin", p.Origin, "defaults", len(p.Defaults), "enforced", len(p.Enforced))
	}
	return p
}

// PolicyLocations lists where LoadPolicy looks, defaults first, for the
// messages that say where no policy was found.
func PolicyLocations() []string {
	if dir := os.Getenv(PolicyDirEnv); dir != "" {
		return dirLocations(dir)
	}
	return platformLocations()
}

func dirLocations(dir string) []string {
	return []string{filepath.Join(dir, DefaultsFileName), filepath.Join(dir, EnforcedFileName)}
}

// rawLayer is one source's values as read, before they are checked.
type rawLayer struct {
	origin   string // file path or registry key
	values   map[string]json.RawMessage
	problems []string // what could not be read at all
}

// dirLayers reads a policy folder: defaults.json and enforced.json.
func dirLayers(dir string) (defaults, enforced []rawLayer) {
	read := func(path string) []rawLayer {
		l, ok := readJSONLayer(path)
		if !ok {
			return nil
		}
		return []rawLayer{l}
	}
	paths := dirLocations(dir)
	return read(paths[0]), read(paths[1])
}

// readJSONLayer reads one policy file, a JSON object of settings; ok is
// false when there is no file.
func readJSONLayer(path string) (l rawLayer, ok bool) {
	l.origin = path
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, false
	}
	if err != nil {
		l.problems = append(l.problems, fmt.Sprintf("%s could not be read (%v), so none of its settings apply.", path, err))
		return l, true
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &l.values); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			err = fmt.Errorf("%v at byte %d", se, se.Offset)
		}
		l.values = nil
		l.problems = append(l.problems, fmt.Sprintf("%s is not a JSON object of settings (%v), so none of its settings apply.", path, err))
	}
	return l, true
}

// checkLayers makes the Policy from each layer's sources, highest
// priority first: per key the first valid value wins; unknown keys, wrong
// types and values Validate refuses become Problems.
func checkLayers(defaults, enforced []rawLayer) Policy {
	var p Policy
	p.Defaults, p.DefaultsFrom = checkLayer(&p, defaults)
	p.Enforced, p.EnforcedFrom = checkLayer(&p, enforced)
	return p
}

func checkLayer(p *Policy, sources []rawLayer) (map[string]json.RawMessage, map[string]string) {
	values, from := map[string]json.RawMessage{}, map[string]string{}
	for _, l := range sources {
		p.Origin = append(p.Origin, l.origin)
		p.Problems = append(p.Problems, l.problems...)
		for _, key := range slices.Sorted(maps.Keys(l.values)) {
			if err := checkValue(key, l.values[key]); err != nil {
				p.Problems = append(p.Problems, fmt.Sprintf("%s: %v; it is ignored.", l.origin, err))
				continue
			}
			if _, taken := values[key]; !taken {
				values[key], from[key] = l.values[key], l.origin
			}
		}
	}
	return values, from
}

// checkValue says what is wrong with a policy value: an unknown key, a
// wrong type, or a value Validate refuses (on otherwise valid settings,
// so that only this key is judged).
func checkValue(key string, raw json.RawMessage) error {
	f, ok := fieldByKey(key)
	if !ok {
		return fmt.Errorf("%q is not a ToastTray setting", key)
	}
	probe := Default()
	probe.SiteURL, probe.WSURL, probe.Username = "https://www.example.com", "wss://ws.example.com", "user"
	if err := f.set(&probe, raw); err != nil {
		return err
	}
	if reason := probe.Validate()[key]; reason != "" {
		return fmt.Errorf("%q is not valid (%s)", key, reason)
	}
	return nil
}

// field is one Settings field, found by its JSON key.
type field struct {
	key   string
	index int
	typ   reflect.Type
}

// fields lists Settings' fields in declaration order.
var fields = sync.OnceValue(func() []field {
	typ := reflect.TypeFor[Settings]()
	out := make([]field, 0, typ.NumField())
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, field{key: name, index: i, typ: typ.Field(i).Type})
		}
	}
	return out
})

// Keys returns the JSON keys of Settings in the order of the file.
func Keys() []string {
	var keys []string
	for _, f := range fields() {
		keys = append(keys, f.key)
	}
	return keys
}

// fieldByKey finds the field of a JSON key, exactly as spelled.
func fieldByKey(key string) (field, bool) {
	i := slices.IndexFunc(fields(), func(f field) bool { return f.key == key })
	if i < 0 {
		return field{}, false
	}
	return fields()[i], true
}

// fieldFold finds the field of a key as encoding/json matches it (exact
// spelling first, then case-insensitively), as the settings file always
// has been read.
func fieldFold(key string) (field, bool) {
	if f, ok := fieldByKey(key); ok {
		return f, true
	}
	i := slices.IndexFunc(fields(), func(f field) bool { return strings.EqualFold(f.key, key) })
	if i < 0 {
		return field{}, false
	}
	return fields()[i], true
}

// set decodes raw into the field of s; s is unchanged on error. JSON null
// is a wrong type too: a layer either sets a value or leaves the key out.
func (f field) set(s *Settings, raw json.RawMessage) error {
	v := reflect.New(f.typ)
	if isNull(raw) {
		return fmt.Errorf("%q must be %s, not null", f.key, kindName(f.typ))
	}
	if err := json.Unmarshal(raw, v.Interface()); err != nil {
		return fmt.Errorf("%q must be %s", f.key, kindName(f.typ))
	}
	reflect.ValueOf(s).Elem().Field(f.index).Set(v.Elem())
	return nil
}

// isNull reports whether raw is JSON null, which no layer's value may be.
func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// value returns the field of s as JSON.
func (f field) value(s Settings) json.RawMessage {
	b, err := json.Marshal(reflect.ValueOf(s).Field(f.index).Interface())
	if err != nil {
		panic(fmt.Sprintf("settings: field %s does not marshal: %v", f.key, err)) // plain data: cannot happen
	}
	return b
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a JSON " + t.Kind().String()
}

// Effective is the merged settings with where each value came from.
type Effective struct {
	// Settings: built-in < organisation defaults < user file < enforced.
	Settings Settings
	// Sources says, for every JSON key, which layer set the value.
	Sources map[string]Source
	// Origins names, by JSON key, the file or registry key a value came
	// from (the settings file for a user value); absent for built-ins.
	Origins map[string]string
	// Problems are the policy's.
	Problems []string
}

// Enforced reports whether the organisation locks key.
func (e Effective) Enforced(key string) bool { return e.Sources[key] == SourceEnforced }

// Value returns the setting of a JSON key as JSON, as the file holds it;
// nil for an unknown key.
func (e Effective) Value(key string) json.RawMessage {
	f, ok := fieldByKey(key)
	if !ok {
		return nil
	}
	return f.value(e.Settings)
}

// Enforce returns s with e's enforced values in place of its own: what
// the settings window hands to Save, whatever its (disabled) widgets hold.
func (e Effective) Enforce(s Settings) Settings {
	for _, f := range fields() {
		if e.Enforced(f.key) {
			reflect.ValueOf(&s).Elem().Field(f.index).Set(reflect.ValueOf(e.Settings).Field(f.index))
		}
	}
	return s
}

// baseline is what the user's file is laid over: built-in values and the
// organisation's defaults.
func (st Store) baseline() Effective {
	e := Effective{Settings: Default(), Sources: map[string]Source{}, Origins: map[string]string{},
		Problems: st.Policy.Problems}
	for _, f := range fields() {
		e.Sources[f.key] = SourceBuiltIn
		if raw, ok := st.Policy.Defaults[f.key]; ok && f.set(&e.Settings, raw) == nil {
			e.Sources[f.key], e.Origins[f.key] = SourceOrgDefault, st.Policy.DefaultsFrom[f.key]
		}
	}
	return e
}

// enforce lays the enforced values over e.
func (st Store) enforce(e *Effective) {
	for _, f := range fields() {
		if raw, ok := st.Policy.Enforced[f.key]; ok && f.set(&e.Settings, raw) == nil {
			e.Sources[f.key], e.Origins[f.key] = SourceEnforced, st.Policy.EnforcedFrom[f.key]
		}
	}
}
