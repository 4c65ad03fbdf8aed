// Package suite runs ToastTray's real client code against the real Django
// package (scripts/testbed/realpeer): `toasttray listen` and `check` as
// processes, and the tray's service in-process, through drops, outages,
// expired sessions and rate limits; and a reconnect benchmark beside a
// fixed-3-second client. The tests carry the build tag realpeer (`make
// realpeer`, `make realpeer-bench`), so `go test ./...` stays fast.
package suite
