package wsclient

import (
	"context"
	"errors"
	"time"
)

// Step is one stage of Check: what was tried, whether it worked, and if
// not, the likely fix.
type Step struct {
	Name    string
	OK      bool
	Detail  string
	Fix     string
	Elapsed time.Duration
}

// Check diagnoses a configuration step by step.
func Check(ctx context.Context, cfg Config, creds Credentials, opts Options, report func(Step)) error {
	return errors.New("wsclient: check not implemented yet")
}
