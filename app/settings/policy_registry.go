package settings

// Decoding of Windows registry policy values, kept apart from the registry
// calls (policy_windows.go) so that it is tested on every OS.

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Registry value types (winnt.h).
const (
	regSZ       = 1
	regExpandSZ = 2
	regDWORD    = 4
	regQWORD    = 11
)

// regValue is one registry value as read.
type regValue struct {
	name string
	typ  uint32
	str  string // REG_SZ; REG_EXPAND_SZ already expanded
	num  uint64 // REG_DWORD, REG_QWORD
}

// registryLayer makes a layer of one registry key's values. Value names
// are the settings' JSON keys, matched case-insensitively as the registry
// matches names; strings are REG_SZ (or REG_EXPAND_SZ), booleans REG_DWORD
// 0 or 1 or REG_SZ "true" or "false". The unnamed (Default) value is
// ignored.
func registryLayer(origin string, values []regValue) rawLayer {
	l := rawLayer{origin: origin, values: map[string]json.RawMessage{}}
	for _, v := range values {
		if v.name == "" {
			continue
		}
		f, ok := fieldFold(v.name)
		if !ok {
			l.values[v.name] = json.RawMessage(`""`) // reported as unknown by checkLayers
			continue
		}
		raw, err := registryJSON(f.typ.Kind(), v)
		if err != nil {
			l.problems = append(l.problems, fmt.Sprintf("%s: %q %v; it is ignored.", origin, f.key, err))
			continue
		}
		l.values[f.key] = raw
	}
	return l
}

// registryJSON converts a registry value to the JSON of a field of kind k.
func registryJSON(k reflect.Kind, v regValue) (json.RawMessage, error) {
	isString := v.typ == regSZ || v.typ == regExpandSZ
	isNumber := v.typ == regDWORD || v.typ == regQWORD
	switch {
	case !isString && !isNumber:
		return nil, fmt.Errorf("has registry type %d; use REG_SZ for text and REG_DWORD for true (1) or false (0)", v.typ)
	case k == reflect.String && isString:
		return json.Marshal(v.str)
	case k == reflect.String:
		return nil, fmt.Errorf("must be text (REG_SZ)")
	case k == reflect.Bool && isNumber && v.num <= 1:
		return json.RawMessage(strconv.FormatBool(v.num == 1)), nil
	case k == reflect.Bool && isString && (strings.EqualFold(v.str, "true") || strings.EqualFold(v.str, "false")):
		return json.RawMessage(strings.ToLower(v.str)), nil
	case k == reflect.Bool:
		return nil, fmt.Errorf(`must be REG_DWORD 1 or 0, or REG_SZ "true" or "false"`)
	case isNumber:
		return json.RawMessage(strconv.FormatUint(v.num, 10)), nil
	case json.Valid([]byte(v.str)):
		return json.RawMessage(v.str), nil // other types: JSON text
	}
	return nil, fmt.Errorf("must be %s", kindName(reflect.TypeOf(v.str)))
}
