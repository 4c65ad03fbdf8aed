// Package wsclient is ToastTray's connection to a Django site that pushes
// messages through an AWS API Gateway WebSocket API (see PROTOCOL.md).
//
// It signs in (Django login form or a pasted session cookie), fetches a
// fresh single-use token before every connection attempt, keeps one
// WebSocket open for as long as the context lives (backoff with full
// jitter, liveness pings that tolerate a silent gateway, make-before-break
// rotation before the gateway's 2-hour limit, reconnect on wake or network
// change) and decodes what arrives into Messages and Toasts.
//
// It knows nothing of GUIs, keyrings or notifications: the app wires those.
package wsclient
