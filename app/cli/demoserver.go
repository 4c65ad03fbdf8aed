package cli

import (
	"context"
	"errors"
)

// DemoServer runs the backend emulator standalone.
func DemoServer(ctx context.Context, args []string, env Env) error {
	return errors.New("demo-server: not implemented yet")
}
