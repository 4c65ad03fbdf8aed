package cli

import (
	"context"
	"errors"
)

// Check diagnoses the connection step by step.
func Check(ctx context.Context, args []string, env Env) error {
	return errors.New("check: not implemented yet")
}
