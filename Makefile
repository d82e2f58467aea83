# firedrill: see README.md. `make demo` and `make test` are the two commands
# a newcomer needs; everything else is here for the people working on it.

GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The commit `firedrill version` shows: the short hash, -dirty when tracked files
# changed; empty outside a git checkout. Stamped here because Go's own VCS stamp
# is off wherever GOFLAGS has -buildvcs=false.
COMMIT    ?= $(shell c=$$(git rev-parse --short HEAD 2>/dev/null) && { git diff --quiet HEAD -- 2>/dev/null && echo $$c || echo $$c-dirty; })
LDFLAGS   := -X github.com/firedrill-dev/firedrill/internal/version.Version=$(VERSION) \
             -X github.com/firedrill-dev/firedrill/internal/version.Commit=$(COMMIT)
LAB       := $(BIN)/firedrill-lab
# The images' archives and names (empty: ghcr.io/firedrill-dev/firedrill[-runner]:$(VERSION)).
IMAGE_OUT         ?= $(BIN)/firedrill-image.tar
IMAGE_NAME        ?=
RUNNER_IMAGE_OUT  ?= $(BIN)/firedrill-runner-image.tar
RUNNER_IMAGE_NAME ?=
# The runner image's shell: a static busybox (Debian's busybox-static, installed when missing).
BUSYBOX   ?= /bin/busybox
FUZZTIME  ?= 60s

.PHONY: all build image image-runner test unit e2e lint fuzz demo demo-schedule report-screenshot report-screenshots lab-bins lab-up lab-down lab-status lab-env clean

all: build

## build: the firedrill binary, in bin/
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/firedrill ./cmd/firedrill

## image: the firedrill container image as an OCI layout archive, bin/firedrill-image.tar (no Docker needed; IMAGE_OUT, IMAGE_NAME)
image:
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) $(GO) run ./cmd/firedrill-image \
		-o $(IMAGE_OUT) -version $(VERSION) -commit '$(COMMIT)' -revision $$(git rev-parse HEAD 2>/dev/null) $(if $(IMAGE_NAME),-name $(IMAGE_NAME))

## image-runner: the runner image, bin/firedrill-runner-image.tar: firedrill with sh (busybox), kubectl and velero for runbook steps and command checks (RUNNER_IMAGE_OUT, RUNNER_IMAGE_NAME)
# kubectl and velero are the lab's static builds, from its cache (built once, reused by every clone).
image-runner:
	@if [ "$(BUSYBOX)" = /bin/busybox ] && ! dpkg -s busybox-static >/dev/null 2>&1; then \
		echo "image-runner: installing busybox-static (the image's shell)" >&2; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq busybox-static >&2 || { apt-get update -qq >&2 && apt-get install -y -qq busybox-static >&2; }; \
	fi
	eval "$$(bash e2e/lab/build-bins.sh kubectl velero)" && \
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) $(GO) run ./cmd/firedrill-image \
		-o $(RUNNER_IMAGE_OUT) -version $(VERSION) -commit '$(COMMIT)' -revision $$(git rev-parse HEAD 2>/dev/null) $(if $(RUNNER_IMAGE_NAME),-name $(RUNNER_IMAGE_NAME)) \
		-busybox $(BUSYBOX) -add kubectl=$$KUBECTL_DIR/kubectl -add velero=$$VELERO_DIR/velero

## test: unit tests, then the e2e suite against the real lab (started if needed)
test: unit e2e

unit:
	$(GO) test ./...
	cd e2e/lab && $(GO) test ./...

# The lab program is its own module (e2e/lab) so its test-only dependencies
# stay out of firedrill's go.mod.
$(LAB): FORCE
	@cd e2e/lab && $(GO) build -o ../../$(LAB) ./cmd/firedrill-lab

## e2e: the e2e suite; FIREDRILL_E2E=require makes a missing lab a failure, not a skip
e2e: lab-up build
	@eval "$$($(LAB) env)" && FIREDRILL_E2E=require FIREDRILL_BIN=$(CURDIR)/$(BIN)/firedrill \
		$(GO) test -tags e2e -count=1 -timeout 75m ./e2e/...

## lint: go vet over the project and the lab
lint:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...
	cd e2e/lab && $(GO) vet ./...

## fuzz: fuzz the scenario loader, evidence bundle verification and the runbook parser, FUZZTIME each (not part of make test)
fuzz:
	$(GO) test ./scenarios -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME)
	$(GO) test ./internal/evidence -run '^$$' -fuzz FuzzVerify -fuzztime $(FUZZTIME)
	$(GO) test ./runbooks -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)

## demo: build, start the lab, run a real drill against it, print where the report is
demo: lab-up build
	@eval "$$($(LAB) env)" && ./e2e/lab/demo.sh $(BIN)/firedrill

## demo-schedule: after make lab-up: the lab's scenario as a scheduled drill: rendered, its Secrets created, applied, and run once as a pod on the scratch cluster's real node
demo-schedule: build $(LAB)
	@$(MAKE) -s image-runner RUNNER_IMAGE_OUT=$(BIN)/firedrill-runner-lab.tar RUNNER_IMAGE_NAME=localhost/firedrill/runner:lab
	@eval "$$($(LAB) env)" && ./e2e/lab/demo-schedule.sh $(BIN)/firedrill $(BIN)/firedrill-runner-lab.tar localhost/firedrill/runner:lab

## report-screenshot: render a report in headless Chromium (REPORT=path, default the golden sample)
REPORT ?= drill/testdata/report.html.golden
report-screenshot:
	@bash e2e/lab/screenshot.sh $(REPORT) $(BIN)/report.png

## report-screenshots: the sample report and the newest lab drill's (LAB_REPORT=path to choose) at desktop and phone width and printed to PDF, in bin/report-screenshots/ (not part of make test)
STATE_DIR  ?= $(or $(FIREDRILL_STATE_DIR),$(HOME)/.local/share/firedrill)
LAB_REPORT ?= $(shell ls -t $(STATE_DIR)/drills/*/report.html 2>/dev/null | head -1)
report-screenshots:
	@bash e2e/lab/report-screenshots.sh $(BIN)/report-screenshots drill/testdata/report.html.golden $(LAB_REPORT)

## lab-bins: install the Debian packages the lab's nodes need, then build (or reuse from the cache) every binary the lab runs
lab-bins:
	@bash e2e/lab/host-packages.sh
	@bash e2e/lab/build-bins.sh >/dev/null

## lab-up: build what is missing, start the lab, seed it; quick when already up
lab-up: lab-bins $(LAB)
	@$(LAB) up

## lab-down: stop every lab process, wait for exit, remove lab state
lab-down: $(LAB)
	@$(LAB) down

## lab-status: exit 0 when every lab component is up
lab-status: $(LAB)
	@$(LAB) status

## lab-env: export lines for the running lab (eval "$$(make -s lab-env)")
lab-env: $(LAB)
	@$(LAB) env

clean:
	rm -rf $(BIN)

FORCE:
