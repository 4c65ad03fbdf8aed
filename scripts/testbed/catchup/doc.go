// Package catchup holds the acceptance tests of catch-up (docs/CATCHUP.md)
// on the real django-aws-api-gateway-websockets package: the tray's service
// (history, exactly-once by id, the missed-toast summary) against
// ../shared/realpeer with contrib/django's toasttray_catchup app loaded,
// through drops, a refusing gateway, an app restart and the gateway's
// 1001 closes. Build tag realpeer; run with `make realpeer-catchup`.
package catchup
