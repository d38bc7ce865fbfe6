# Vantage — BGP route collector and looking glass.
# `make help` lists the targets.

SHELL := /bin/bash
GO ?= go
BIN := bin
FUZZTIME ?= 20s
# Debian packages: what `make run` needs, and what the tests use as real peers.
RUN_PKGS := clickhouse-server libbz2-dev
TEST_PKGS := clickhouse-server libbz2-dev bird2 frr gobgpd exabgp bgpdump bzip2 nats-server chromium chromium-driver fonts-dejavu-core
# With libbz2's headers (libbz2-dev) the MRT reader decodes bzip2 with libbz2,
# about twice as fast as Go's compress/bzip2 (used otherwise). Expanded when a
# recipe runs, so after `deps` has installed it.
TAGS = $(shell [ -f /usr/include/bzlib.h ] && echo libbz2)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help deps deps-test build run test test-race bench fuzz lint fmt clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## install what `make run` needs (Debian/Ubuntu packages), if missing
	@./scripts/apt-install.sh $(RUN_PKGS)

deps-test: ## install what the tests need: ClickHouse, BIRD, FRR, gobgpd, ExaBGP, bgpdump, nats-server, headless chromium; chDB and ws (npm)
	@./scripts/apt-install.sh $(TEST_PKGS)
	@./scripts/chdb/install.sh
	@./scripts/rislive/install.sh

build: ## build bin/collector and bin/lg
	$(GO) build -tags '$(TAGS)' -o $(BIN)/ ./cmd/collector ./cmd/lg

run: deps build ## start collector and looking glass with the defaults (Ctrl-C stops both)
	@./scripts/run.sh $(BIN)

# Every test run goes through internal/testsummary, which ends with one line:
# packages, tests passed, failed and skipped, with the skips' reasons grouped.
# VANTAGE_NO_SKIP=1 turns every skip into a failure (CI sets it).
test: deps-test ## run every test against real ClickHouse, NATS and BGP daemons; ends with a summary line
	@$(GO) build -o $(BIN)/testsummary ./internal/testsummary
	@set -o pipefail; { \
	  $(GO) test -json -tags '$(TAGS)' -count=1 -timeout 20m ./...; \
	  $(GO) test -json -count=1 -run 'Bzip2' ./bgpwire/; \
	} 2>&1 | $(BIN)/testsummary

test-race: deps-test ## run the tests with the race detector
	$(GO) test -tags '$(TAGS)' -count=1 -race -timeout 30m ./...

bench: ## run the benchmarks: Vantage beside gobgp in-process, then beside bgpdump and bzip2 as whole processes
	$(GO) test -tags '$(TAGS)' -run '^$$' -bench . -benchmem ./...
	./scripts/bench-mrt.sh
	./scripts/bench-ingest.sh -rounds 5

fuzz: ## run every fuzz target for FUZZTIME (default 20s) each
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

lint: ## gofmt and go vet; fails on findings
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt wants to change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags libbz2 ./bgpwire/

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

clean: ## remove built binaries (not the data directory vantage-data/)
	rm -rf $(BIN)
