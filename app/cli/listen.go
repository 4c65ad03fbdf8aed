package cli

import (
	"context"
	"errors"
)

// Listen runs the client headless and prints every message as a JSON line.
func Listen(ctx context.Context, args []string, env Env) error {
	return errors.New("listen: not implemented yet")
}
