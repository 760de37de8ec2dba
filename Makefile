# Trellis developer loop. `make run` and `make test` are the two commands the
# README promises; keep them working on a fresh clone.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := bin/trellis
# make run starts the demo (simulated orgs, a sample project); TRELLIS_DEMO=0 make run does not.
TRELLIS_DEMO ?= 1
TEST_FLAGS ?= -timeout 12m

.PHONY: all build run test test-only generate check-generated lint vulncheck bench compare interop clean check-browser seed-large load snapbench promobench databench objbench

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/trellis

## run: start Trellis on http://localhost:8080 with its private PostgreSQL
run: build
	TRELLIS_DEMO=$(TRELLIS_DEMO) ./$(BIN) serve

## test: every test, browser journeys included, on one throwaway PostgreSQL
test: check-generated check-browser
	$(GO) vet ./...
	$(GO) run ./internal/testdb/withdb -- $(GO) test $(TEST_FLAGS) ./...

## test-only: the tests without the generated-code and vet checks
test-only:
	$(GO) run ./internal/testdb/withdb -- $(GO) test $(TEST_FLAGS) ./...

## generate: regenerate templ components (commit the *_templ.go files)
generate:
	$(GO) tool templ generate -path web

# Fails when a *.templ file changed without regenerating; the files are
# regenerated as a side effect, ready to commit.
check-generated:
	@before=$$(find web -name '*_templ.go' | sort | xargs cat | sha256sum); \
	$(GO) tool templ generate -path web >/dev/null 2>&1 || { echo "templ generate failed"; exit 1; }; \
	after=$$(find web -name '*_templ.go' | sort | xargs cat | sha256sum); \
	if [ "$$before" != "$$after" ]; then \
		echo "The generated templ files were out of date. They are regenerated now; commit them."; exit 1; \
	fi

check-browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || [ -n "$$CHROME_PATH" ] || { \
		echo "The browser tests need Chromium: sudo apt-get install chromium (or set CHROME_PATH)."; exit 1; }

## lint: formatting, vet, generated files up to date, known vulnerabilities
lint: check-generated
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(MAKE) --no-print-directory vulncheck

## vulncheck: govulncheck against the Go vulnerability database (GOVULNDB,
## default https://vuln.go.dev); skipped with a message when unreachable
vulncheck:
	@db=$${GOVULNDB:-https://vuln.go.dev}; out=$$($(GO) tool govulncheck -db "$$db" ./... 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ] && echo "$$out" | grep -q "fetching vulnerabilities"; then \
		echo "govulncheck skipped: its database ($$db) cannot be reached from here"; \
	else echo "$$out"; exit $$rc; fi

## bench: the benchmarks (figures, not pass/fail), then the metadata engine
## side by side with sfdx-git-delta, source-deploy-retrieve and git
bench: build
	$(GO) run ./internal/testdb/withdb -- $(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...
	$(GO) run ./bench/metaperf -trellis $(BIN)

## seed-large: a PERF project with 10,000 requirements and 50,000 work items
## in the database make run uses
seed-large: build
	./$(BIN) seed-large

## load: 200 concurrent clients on the board, a requirement, the matrix and
## search of a seeded project, against /healthz as the baseline
load: build
	$(GO) run ./bench/load

## objbench: snapbench and a 1M-record data backup with the content in an
## S3 object store (a SeaweedFS server started for the run; the weed binary
## from TRELLIS_TEST_WEED, else the one .ci/run builds into ~/.cache)
objbench:
	TRELLIS_TEST_WEED=$${TRELLIS_TEST_WEED:-$$(ls $$HOME/.cache/trellis-ci/weed-*/weed 2>/dev/null | head -1)} $(GO) run ./bench/snapstore -store weed
	TRELLIS_TEST_WEED=$${TRELLIS_TEST_WEED:-$$(ls $$HOME/.cache/trellis-ci/weed-*/weed 2>/dev/null | head -1)} $(GO) run ./bench/databench -records 1000000 -store weed

## snapbench: 30 daily snapshots of a 50,000-component org (1% daily
## change): storage against one snapshot, and the time to compare two
snapbench:
	$(GO) run ./bench/snapstore

## promobench: 100 concurrent promotions across 10 simulated orgs through
## the deploy job: every deployment recorded, throughput, Trellis overhead
promobench:
	$(GO) run ./bench/promobench

## databench: data backups of 250k, 500k and 1M records over 20 objects from
## the simulator (its own process): throughput and peak heap growth
databench:
	$(GO) run ./bench/databench

## compare: trellis meta against sfdx-git-delta and source-deploy-retrieve on
## real projects (clones given as REPOS="dir1 dir2")
compare: build
	$(GO) run ./bench/metacompare -trellis $(BIN) $(REPOS)

## interop: real Salesforce clients against trellis orgsim: jsforce, then the
## Salesforce CLI (sf, from npm) through every everyday command, with a table
interop: build
	$(GO) run ./bench/interop -trellis $(BIN)
	TRELLIS_TEST_SF_REQUIRED=1 $(GO) run ./internal/testdb/withdb -- $(GO) test ./cmd/trellis -run '^TestSalesforceCLI$$' -count=1 -v

clean:
	rm -rf bin test-artifacts
