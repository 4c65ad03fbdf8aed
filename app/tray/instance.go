package tray

import (
	"log/slog"

	"github.com/toasttray/toasttray/app/instance"
)

// acquireInstance makes this process the single tray instance (a demo has
// its own, so it can run beside the real tray). Requests from later
// launches arrive on requests as Actions; the channel has a buffer of one,
// and a request arriving while one is pending is the same request again,
// so dropping it loses nothing. A second process gets
// instance.ErrAlreadyRunning after its request was delivered: show
// Settings, or nothing for a start at login (atLogin).
func acquireInstance(appID string, demo, atLogin bool, requests chan Action, log *slog.Logger) (release func(), err error) {
	name := appID
	if demo {
		name += ".demo"
	}
	request := instance.RequestShowSettings
	if atLogin {
		request = instance.RequestLoginStart
	}
	p, err := instance.Acquire(instance.Options{
		Name:   name,
		Logger: log,
		OnRequest: func(req string) {
			a := ActSettings
			switch req {
			case instance.RequestShowHistory:
				a = ActHistory
			case instance.RequestSignOut:
				a = ActSignOut
			case instance.RequestLoginStart:
				log.Info("a second start at login found ToastTray running; nothing to do")
				return
			}
			log.Info("request from a second launch", "request", req)
			select {
			case requests <- a:
			default:
			}
		},
	}, request)
	if err != nil {
		return nil, err
	}
	return func() {
		if err := p.Close(); err != nil {
			log.Debug("closing the single-instance socket", "err", err)
		}
	}, nil
}
