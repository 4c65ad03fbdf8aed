//go:build !windows && !darwin

package settings

import "path/filepath"

// PolicyDir is where Linux and the BSDs read the policy: defaults.json and
// enforced.json, written by the administrator (or a package's preseeding).
const PolicyDir = "/etc/toasttray"

func platformLayers() (defaults, enforced []rawLayer) {
	return dirLayers(filepath.FromSlash(PolicyDir))
}

func platformLocations() []string { return dirLocations(filepath.FromSlash(PolicyDir)) }
