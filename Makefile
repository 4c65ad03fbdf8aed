# ToastTray: `make run` and `make test` work on a fresh Debian/Ubuntu
# machine, as root or with sudo: each installs what it needs first
# (scripts/install-deps, idempotent). See docs/DEVELOPING.md.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

GO ?= go
GOBIN := $(shell $(GO) env GOBIN)
ifeq ($(GOBIN),)
GOBIN := $(shell $(GO) env GOPATH)/bin
endif
STATICCHECK := $(GOBIN)/staticcheck
BIN := toasttray
OUT := out
# Integration tests live in files named *_integration_test.go with the
# "integration" build tag, are named TestIntegration*, and run inside
# scripts/desktop-session. Only packages that have such files are built.
INTEGRATION_RUN ?= ^TestIntegration
INTEGRATION_PKGS ?= $(sort $(patsubst %/,%,$(dir $(shell find . -path ./out -prune -o -name '*_integration_test.go' -print))))
# RUN_ARGS: flags for `make run`; by default -demo until Settings have been
# saved (settings.json exists), then none, so the app talks to your site.
SETTINGS_FILE := $(or $(TOASTTRAY_CONFIG_DIR),$(or $(XDG_CONFIG_HOME),$(HOME)/.config)/toasttray)/settings.json
RUN_ARGS ?= $(if $(wildcard $(SETTINGS_FILE)),,-demo)

SHELL_SCRIPTS := .ci/run scripts/install-deps scripts/desktop-session scripts/smoke scripts/screenshot \
	scripts/package scripts/vet-cross scripts/measure-idle scripts/wine/run scripts/wine/policy-test scripts/wine/msi-test scripts/wine/proxy-test

.PHONY: all deps-build deps-test build run test lint fmt-check vet staticcheck shellcheck \
	unit integration smoke screenshot measure generate clean django-test tlsbed realpeer-catchup

all: test

deps-build:
	scripts/install-deps build

deps-test:
	scripts/install-deps test

## build: compile ./toasttray (the first cgo build of Fyne takes ~3 min on 2 cores)
build: deps-build
	$(GO) build -o $(BIN) .

## run: build and start the tray app (with -demo until settings are saved)
run: build
	./$(BIN) $(RUN_ARGS)

## test: every gate CI runs: lint, unit tests with -race, integration tests,
## the smoke run under a throwaway desktop, the short reliability suite, the
## real-package suite, the Linux package check, the Django catch-up app's
## tests, the TLS/proxy test bed and the Windows build under Wine
test: deps-test
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory smoke
	@$(MAKE) --no-print-directory reliability
	@$(MAKE) --no-print-directory realpeer
	@$(MAKE) --no-print-directory package-check
	@$(MAKE) --no-print-directory django-test
	@$(MAKE) --no-print-directory tlsbed
	@$(MAKE) --no-print-directory realpeer-catchup
	@$(MAKE) --no-print-directory wine-test

## lint: gofmt, go vet and staticcheck (with and without the integration
## tag), shellcheck on the scripts, go vet for windows and darwin
lint: fmt-check vet staticcheck shellcheck vet-cross

fmt-check:
	@files=$$(gofmt -l .); if [[ -n $$files ]]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi
	@echo "gofmt: clean"

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration,scenario,realpeer,tlsbed ./...

staticcheck:
	@test -x $(STATICCHECK) || scripts/install-deps test
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags integration,scenario,realpeer,tlsbed ./...

shellcheck:
	@command -v shellcheck >/dev/null || scripts/install-deps test
	shellcheck $(SHELL_SCRIPTS)

## unit: unit tests, race detector on (needs cgo, so the build deps)
unit: deps-build
	$(GO) test -race ./...
	@# Skipped under -race for a data race inside fyne.io/systray itself (systray_test.go).
	$(GO) test -count=1 -run '^TestSysTrayOverDBus$$' ./app/tray

## integration: tests against real desktop services (keyring, notifications, tray)
integration: deps-test
	scripts/desktop-session $(GO) test -tags integration -count=1 -run '$(INTEGRATION_RUN)' $(INTEGRATION_PKGS)

## smoke: start the built app under a throwaway desktop, check its tray item
## and menu, screenshot to out/smoke.png, quit it and check a clean exit
smoke: build deps-test
	@mkdir -p $(OUT)
	scripts/desktop-session scripts/smoke ./$(BIN)

## screenshot: open the settings window under Xvfb and save out/screenshot.png,
## then the window alone under a test policy (scripts/fixtures/NAME) as
## out/NAME.png: settings-enforced, settings-sign-in-only (docs/screenshots/)
SCREENSHOT_FIXTURES := settings-enforced settings-sign-in-only
screenshot: build deps-test
	@mkdir -p $(OUT)
	scripts/desktop-session scripts/screenshot ./$(BIN)
	for shot in $(SCREENSHOT_FIXTURES); do \
		SCREENSHOT_FIXTURE=scripts/fixtures/$$shot SCREENSHOT_OUT=$(OUT)/$$shot.png \
			scripts/desktop-session scripts/screenshot ./$(BIN) || exit 1; \
	done

## measure: idle CPU and memory of `toasttray listen` and of the tray app,
## connected to the emulator, checked against the targets (about 5 min;
## docs/PERFORMANCE.md). Not part of `make test`. MEASURE_ARGS: e.g.
## --only listen, --duration 120
measure: build deps-test
	scripts/measure-idle $(MEASURE_ARGS)

## django-test: the site-side catch-up app (contrib/django/toasttray_catchup)
## against the real package in ../shared/realpeer, with real WebSocket clients
## (about 1-2 min; skips where ../shared/realpeer is absent, fails then with CI set)
django-test: deps-test
	cd contrib/django && PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m unittest discover -s tests -v

## tlsbed: listen and check against the real package behind nginx (TLS,
## h2 and HTTP/1.1 offered, two private CAs: one as the CA file, one in the
## stand-in system store) and squid (basic auth), names from /etc/hosts
## (added when missing; needs root). About 1-2 min.
tlsbed:
	scripts/install-deps tlsbed
	$(GO) test -tags tlsbed -count=1 -v -timeout 10m ./scripts/testbed/tlsbed

## realpeer-catchup: catch-up's acceptance tests (docs/CATCHUP.md): the
## tray's service against the real package with toasttray_catchup, through
## drops, a 2-minute refusing gateway, an app restart and 1001 closes
## (about 6 min; skips where ../shared/realpeer is absent, fails then with CI set)
realpeer-catchup: deps-test
	$(GO) test -tags realpeer -count=1 -v -timeout 20m ./scripts/testbed/catchup

## generate: redraw the icons in assets/
generate:
	$(GO) generate ./assets

clean:
	rm -rf $(BIN) $(OUT)

# --- Packaging (scripts/package, docs/INSTALL.md). Artifacts go to dist/
# (gitignored), each with a .sha256 file; the version is FyneApp.toml's.
.PHONY: deps-package deps-windows package package-linux deb package-windows \
	package-check vet-cross wine-test deps-wine

deps-package:
	scripts/install-deps package

deps-windows:
	scripts/install-deps windows

## package: the Linux release artifacts in dist/: the fyne tarball and the .deb
package: deb

## package-linux: dist/toasttray-VERSION-linux-ARCH.tar.xz via `fyne package -os linux --release`
package-linux: deps-package
	scripts/package linux

## deb: dist/toasttray_VERSION_ARCH.deb (dpkg-deb) from a fresh Linux tarball
deb: package-linux
	scripts/package deb

## package-windows: dist/toasttray-VERSION-windows-amd64.exe, cross-compiled
## with mingw-w64 (toolchain ~540 MB; cold build ~6 min on 2 cores), and
## the .msi beside it (wixl, packaging/windows), checked with msiinfo
package-windows: deps-windows
	scripts/package windows

## package-check: CI-sized: build the Linux tarball and .deb, validate their
## .desktop files (also as installed), check `toasttray -version` and the .deb
package-check: deps-package
	scripts/package check

## wine-test: cross-build the .exe and run it under Wine in Xvfb: check,
## listen, Credential Manager, the tray icon and toasts, the Settings
## window; then the .msi made from that .exe (checked with msiinfo)
## installs, upgrades and uninstalls silently per user and per machine
## (~1 min warm plus ~1 min for the .msi; docs/COMPATIBILITY.md; the first
## run boots a Wine prefix in out/wine). The native build runs the test bed.
wine-test: build deps-wine
	scripts/wine/run ./$(BIN)

deps-wine:
	scripts/install-deps wine

## vet-cross: go vet for windows (with cgo when mingw-w64 is installed) and
## darwin (packages without cgo dependencies; the rest needs a Mac)
vet-cross:
	scripts/vet-cross

# Reliability suite (docs/RELIABILITY.md). Added targets only.
.PHONY: reliability scenarios scenarios-long fuzz

## reliability: what `make test` runs of the suite: the fault scenarios,
## fleet and soak (~5 min) and each fuzz target briefly (~40 s)
reliability:
	@$(MAKE) --no-print-directory scenarios
	@$(MAKE) --no-print-directory fuzz FUZZTIME=20000x

SCENARIO_PKG := ./wsclient/scenario
# An execution count, not a duration: Go 1.26's fuzz coordinator can fail a
# duration-bounded run with a bare "context deadline exceeded" at the end
# (golang/go#75804, fixed in Go 1.27). 20000x took 47 s for the nine targets of then
# here (FuzzHistoryFile 22 s: it writes files); 100000x is five times that.
FUZZTIME ?= 100000x
FUZZ_TARGETS := ./wsclient:FuzzDecodeMessage ./wsclient:FuzzToastFields ./wsclient:FuzzBuildURL \
	./wsclient:FuzzValidateChannel ./wsclient:FuzzConfigValidate ./app/settings:FuzzValidate \
	./app/settings:FuzzLoad ./app/history:FuzzHistoryFile

## scenarios: the 15 fault scenarios, a 200-client fleet and a 1-minute soak
## against wstest (a few minutes); figures in out/scenarios.{json,md}
scenarios:
	@mkdir -p $(OUT)
	$(GO) test -tags scenario -count=1 -parallel 4 -timeout 20m -v $(SCENARIO_PKG) 2>&1 | tee $(OUT)/scenarios.log

## scenarios-long: 60 s outages, the 1,000-client fleet, a 6-minute soak;
## figures in out/scenarios-long.{json,md}
scenarios-long:
	@mkdir -p $(OUT)
	$(GO) test -tags scenario -count=1 -timeout 60m -v $(SCENARIO_PKG) -args -scenario.long 2>&1 | tee $(OUT)/scenarios-long.log

## fuzz: every fuzz target for FUZZTIME executions (default 100000x) each
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# The real Django package (../shared/realpeer, scripts/testbed/realpeer):
# build tag realpeer. Each test starts its own peer; the suite skips where
# the folder is absent and fails under CI.
.PHONY: realpeer realpeer-bench
REALPEER_PKG := ./scripts/testbed/realpeer/...

## realpeer: listen, check and the tray's service against the real package
## (drops, outages, black hole, expired sessions, rate limits, two users;
## ~5 min), with the built ./toasttray as listen and check
realpeer: build deps-test
	TOASTTRAY_BIN=$(CURDIR)/$(BIN) $(GO) test -tags realpeer -race -count=1 -v -parallel 3 -timeout 20m -skip '^TestBench$$' $(REALPEER_PKG)

## realpeer-bench: reconnect delays, lost toasts and tokens of listen beside a
## fixed-3 s client on the real package (~4 min; docs/PERFORMANCE.md)
realpeer-bench: build deps-test
	@mkdir -p $(OUT)
	TOASTTRAY_BIN=$(CURDIR)/$(BIN) $(GO) test -tags realpeer -count=1 -v -timeout 20m -run '^TestBench$$' ./scripts/testbed/realpeer/suite 2>&1 | tee $(OUT)/realpeer-bench.log
