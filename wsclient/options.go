package wsclient

import (
	"log/slog"

	"github.com/toasttray/toasttray/wsclient/clock"
)

// Options are the client's collaborators; all optional.
type Options struct {
	Clock     clock.Clock    // default clock.Real
	Logger    *slog.Logger   // default: discard
	OnStatus  func(Status)   // called on every change; must not block
	OnMessage func(Message)  // called in order, once per message (duplicates from rotation removed); hand off quickly
	Rand      func() float64 // in [0,1); default math/rand/v2
}
