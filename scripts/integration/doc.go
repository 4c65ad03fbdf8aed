// Package integration holds tests against real desktop services: the
// Secret Service (gnome-keyring), a notification server and a tray host.
// They are built with the "integration" tag, named TestIntegration*, and
// run inside scripts/desktop-session (`make integration`).
package integration
