package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/toasttray/toasttray/app/settings"
	"github.com/toasttray/toasttray/wsclient"
)

// errCheckFailed: a step of check failed (already printed).
var errCheckFailed = errors.New("check failed")

// Check diagnoses the connection step by step: one line per step with a
// verdict and, on failure, the likely fix. It fails when a step fails.
// What its flags leave unset comes from the saved settings under the
// organisation's policy, as the tray would run.
func Check(ctx context.Context, args []string, env Env) error {
	f := connFlags{saved: func() settings.Settings { return savedSettings(env) }}
	creds, err := f.parse("check", "Tests the connection step by step: DNS, TCP, TLS, sign-in, token, handshake, first message,\nand with --catchup-handler whether the site answers catch-up. Flags win; what they leave\nunset comes from your saved settings and the organisation's policy (see toasttray policy).", args, env, stdin, nil)
	if err != nil {
		return err
	}
	failed := false
	err = wsclient.Check(ctx, f.cfg, creds, wsclient.Options{Logger: env.Logger}, func(st wsclient.Step) {
		verdict := "ok  "
		if !st.OK {
			verdict, failed = "FAIL", true
		}
		// Details quote the site's and the gateway's answers: sanitise
		// them, or a server could retitle or clear the terminal.
		fmt.Fprintf(env.Stdout, "%s %-20s %s (%s)\n", verdict, st.Name, wsclient.SafeLine(st.Detail), st.Elapsed.Round(1e6))
		if !st.OK && st.Fix != "" {
			fmt.Fprintf(env.Stdout, "     %-20s fix: %s\n", "", wsclient.SafeLine(st.Fix))
		}
	})
	if err != nil || failed {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("check: %w", errCheckFailed)
	}
	fmt.Fprintln(env.Stdout, "All steps passed.")
	return nil
}
