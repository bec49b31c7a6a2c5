# omnipack: `make demo` builds the example agent's release; `make test` runs
# every test tier. Both install their prerequisites on Debian 12 first.

export PATH := /usr/local/go/bin:$(PATH)

GO       ?= go
BIN      := bin/omnipack
EXAMPLE  := examples/crashwatch
DIST     ?= dist
UNIT_PKGS = $(shell $(GO) list ./... | grep -v /e2e)

.PHONY: all prereqs omnipack demo test test-unit test-example test-e2e lint clean

all: omnipack

prereqs:
	@if [ "$$(id -u)" -eq 0 ]; then .ci/prereqs; \
	else echo "make: not root, so prerequisites are not installed; run 'sudo .ci/prereqs' once" >&2; fi

omnipack:
	$(GO) build -o $(BIN) ./cmd/omnipack

demo: prereqs omnipack
	$(BIN) --config $(EXAMPLE)/omnipack.toml build --dist $(DIST)
	@echo "demo release in $(DIST)/:"; ls -l $(DIST)

test: prereqs test-unit test-example test-e2e

test-unit:
	$(GO) vet ./...
	$(GO) test -count=1 $(UNIT_PKGS)

test-example:
	cd $(EXAMPLE) && $(GO) vet ./... && $(GO) test -count=1 ./...

# The real-host tier boots containers: it needs root and fails loudly without.
test-e2e:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make test-e2e: the real-host tier boots systemd-nspawn containers and needs root; run 'sudo make test'" >&2; exit 1; fi
	$(GO) test -count=1 -timeout 40m ./e2e/...

clean:
	rm -rf bin $(DIST)
