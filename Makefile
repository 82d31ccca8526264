# One Makefile for the whole workspace: every target loops over the modules.
# `make test` is the command that runs every test (see README.md).

MODULES := limiter storage/memory storage/redis storage/memcached conformance chilimit examples bench reliability
GO      ?= go
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/staticcheck)
BENCHTIME ?= 1s
FUZZTIME  ?= 30s

.PHONY: test test-go check fmt vet staticcheck tidy gowork-off bench bench-all fuzz example images

## test: start what the tests need, then run every module's tests with -race;
## then the exact allocation tests once more without it (they skip under
## -race, whose sync.Pool drops items at random)
test:
	./scripts/test.sh
	@echo "==> go test -run Alloc chilimit bench (without -race)"
	$(GO) test -count=1 -run 'Alloc' ./chilimit/ ./bench/

## test-go: run every module's tests with -race, assuming servers are available
test-go:
	@set -e; for m in $(MODULES); do \
		echo "==> go test -race $$m"; \
		(cd $$m && $(GO) test -race -count=1 -timeout 10m ./...); \
	done

## check: gofmt, go vet, staticcheck, go mod tidy drift, GOWORK=off build+test per module
check: fmt vet staticcheck tidy gowork-off

fmt:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	@set -e; for m in $(MODULES); do echo "==> go vet $$m"; (cd $$m && $(GO) vet ./...); done

staticcheck:
	@set -e; for m in $(MODULES); do echo "==> staticcheck $$m"; (cd $$m && $(STATICCHECK) ./...); done

tidy:
	@set -e; for m in $(MODULES); do \
		echo "==> go mod tidy -diff $$m"; \
		(cd $$m && GOWORK=off GOFLAGS=-mod=mod $(GO) mod tidy -diff) || { echo "go.mod/go.sum of $$m are not tidy: run 'cd $$m && GOWORK=off go mod tidy'"; exit 1; }; \
	done

gowork-off:
	@set -e; for m in $(MODULES); do \
		echo "==> GOWORK=off go test -short $$m"; \
		(cd $$m && GOWORK=off $(GO) test -short -count=1 ./...); \
	done

## bench: the side-by-side comparison with the Go peers: writes
## bench/results.txt, bench/RESULTS.md and bench/results.svg (see bench/README.md)
bench:
	$(MAKE) -C bench results

## bench-all: run the benchmarks of every module
bench-all:
	@set -e; for m in $(MODULES); do \
		echo "==> go test -bench $$m"; \
		(cd $$m && $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...); \
	done

## fuzz: run every fuzz target for FUZZTIME
fuzz:
	@set -e; for m in $(MODULES); do \
		for pkg in $$(cd $$m && $(GO) list ./...); do \
			for f in $$(cd $$m && $(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
				echo "==> fuzz $$pkg $$f"; \
				(cd $$m && $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg); \
			done; \
		done; \
	done

## example: run the main example on the in-memory default
example:
	cd examples && $(GO) run ./quickstart

## images: build the local Docker images the testcontainers path uses
images:
	./scripts/build-test-images.sh
