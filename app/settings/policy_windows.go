//go:build windows

package settings

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// PolicyKey is the policy's key under HKLM (the machine's) and HKCU (the
// user's), where Group Policy puts application policy: its subkeys
// Defaults and Enforced hold one value per setting.
const PolicyKey = `Software\Policies\ToastTray`

// policyRoots are the machine's policy and the user's, in that order: the
// first wins per key.
var policyRoots = []struct {
	key  registry.Key
	name string
}{{registry.LOCAL_MACHINE, "HKLM"}, {registry.CURRENT_USER, "HKCU"}}

func platformLocations() []string {
	var out []string
	for _, layer := range []string{"Defaults", "Enforced"} {
		for _, root := range policyRoots {
			out = append(out, root.name+`\`+PolicyKey+`\`+layer)
		}
	}
	return out
}

// platformLayers reads the machine's and the user's policy; the machine's
// wins per key, as in Group Policy.
func platformLayers() (defaults, enforced []rawLayer) {
	read := func(layer string) []rawLayer {
		var out []rawLayer
		for _, root := range policyRoots {
			path := PolicyKey + `\` + layer
			if l, ok := readRegistryLayer(root.key, path, root.name+`\`+path); ok {
				out = append(out, l)
			}
		}
		return out
	}
	return read("Defaults"), read("Enforced")
}

// readRegistryLayer reads one policy key; ok is false when there is none.
func readRegistryLayer(root registry.Key, path, origin string) (l rawLayer, ok bool) {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return l, false
	}
	unreadable := func(what string, err error) string {
		return fmt.Sprintf("%s could not be read (%s: %v), so none of its settings apply.", origin, what, err)
	}
	if err != nil {
		l.origin, l.problems = origin, []string{unreadable("opening the key", err)}
		return l, true
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		l.origin, l.problems = origin, []string{unreadable("listing its values", err)}
		return l, true
	}
	var values []regValue
	var problems []string
	for _, name := range names {
		v := regValue{name: name}
		_, v.typ, err = k.GetValue(name, nil)
		if err == nil {
			switch v.typ {
			case registry.SZ:
				v.str, _, err = k.GetStringValue(name)
			case registry.EXPAND_SZ:
				if v.str, _, err = k.GetStringValue(name); err == nil {
					v.str, err = registry.ExpandString(v.str)
				}
			case registry.DWORD, registry.QWORD:
				v.num, _, err = k.GetIntegerValue(name)
			}
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q could not be read (%v); it is ignored.", origin, name, err))
			continue
		}
		values = append(values, v)
	}
	l = registryLayer(origin, values)
	l.problems = append(problems, l.problems...)
	return l, true
}
