//go:build !linux

package netwatch

import (
	"context"
	"errors"
)

// subscribe has no event source here; Watch polls instead.
func subscribe(context.Context) (<-chan struct{}, func(), error) {
	return nil, nil, errors.New("no network change events on this system")
}
