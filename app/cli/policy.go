package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

// errPolicyProblems: the policy (or the settings file) has problems,
// already printed.
var errPolicyProblems = errors.New("the policy has problems")

// Policy prints the effective settings, one line per key with its value
// and where it came from, then what is wrong with the policy. It fails
// (exit status 1) when something is wrong, so a deployment script can
// check a machine's policy.
func Policy(_ context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("policy", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: toasttray policy\n\n"+
			"Prints the effective settings, each with where its value came from (built-in, organisation\n"+
			"default, user, organisation (enforced)), where the organisation's policy was read, and\n"+
			"what is wrong with it. Exits with status 1 when something is wrong.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "policy: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return ErrUsage
	}
	st, err := settings.DefaultStore()
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	e, exists, loadErr := st.LoadEffective()
	// Values and origins are file or registry text: printed safe for a
	// terminal.
	safe := wsclient.SafeLine
	var table bytes.Buffer
	w := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	for _, key := range settings.Keys() {
		value := e.Value(key)
		if key == settings.FieldProxy { // never its password
			value, _ = json.Marshal(wsclient.ProxyName(e.Settings.Proxy)) // a string: cannot fail
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", key, safe(string(value)), e.Sources[key], safe(e.Origins[key]))
	}
	w.Flush()
	fmt.Fprintln(env.Stdout, "Effective settings (each from the highest of: built-in, organisation default, user, organisation (enforced)):")
	for line := range strings.Lines(table.String()) {
		fmt.Fprintln(env.Stdout, strings.TrimRight(line, " \n")) // no padding after a built-in value's source
	}
	user := safe(st.Path)
	if !exists {
		user += " (not saved yet)"
	}
	w = tabwriter.NewWriter(env.Stdout, 0, 4, 1, ' ', 0)
	fmt.Fprintf(w, "User settings:\t%s\n", user)
	if len(st.Policy.Origin) > 0 {
		fmt.Fprintf(w, "Policy read from:\t%s\n", safe(strings.Join(st.Policy.Origin, ", ")))
	} else {
		fmt.Fprintf(w, "Policy:\tnone found (looked in %s)\n", safe(strings.Join(settings.PolicyLocations(), ", ")))
	}
	w.Flush()
	problems := e.Problems
	if loadErr != nil {
		problems = append(problems, "The user settings file: "+loadErr.Error()+".")
	}
	if len(problems) == 0 {
		return nil
	}
	fmt.Fprintln(env.Stdout, "Problems (the rest applies):")
	for _, p := range problems {
		fmt.Fprintln(env.Stdout, "  "+wsclient.SafeLine(p))
	}
	return fmt.Errorf("policy: %w", errPolicyProblems)
}

// savedSettings are the settings the tray runs with: the user's file
// under the organisation's policy. A damaged file is logged and what is
// valid is used.
func savedSettings(env Env) settings.Settings {
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	st, err := settings.DefaultStore()
	if err != nil {
		log.Warn("finding the saved settings", "err", err)
	}
	s, _, err := st.Load()
	if err != nil {
		log.Warn("reading the saved settings", "err", err)
	}
	return s
}
