// Package scenario holds ToastTray's reliability suite: fault-injection
// scenarios, a fleet simulation and a time-scaled soak that run the real
// wsclient.Client (and the app's settings, history and credential stores)
// against the wstest backend emulator, assert each outcome, and write the
// figures to out/scenarios.json and out/scenarios.md.
//
// The tests are behind the "scenario" build tag so `go test ./...` stays
// fast:
//
//	make scenarios        # short version (CI), a few minutes
//	make scenarios-long   # 60 s outages, 1,000-client fleet, ≥5 min soak
//	go test -tags scenario -run 'TestScenario/S08' -v ./wsclient/scenario
//
// See docs/RELIABILITY.md for what each scenario measures and the figures.
package scenario
