# omnipack: `make demo` builds the example agent's release and publishes it
# into a repository; `make test` runs every test tier. Both install their
# prerequisites on Debian 12 first.

export PATH := /usr/local/go/bin:$(PATH)

GO       ?= go
BIN      := bin/omnipack
EXAMPLE  := examples/crashwatch
EXAMPLES := examples/crashwatch examples/net_probe
DIST     ?= dist
# Throw-away demo keys, made on the first `make demo` and never committed.
DEMO_KEYS ?= .demo-keys
DEMO_PASSWORD ?= omnipack-demo-only
# The demo's package repository, which `omnipack serve` serves.
DEMO_REPO ?= demo-repo
DEMO_REPO_URL ?= http://127.0.0.1:8080
UNIT_PKGS = $(shell $(GO) list ./... | grep -v /e2e)
# Fuzzing time per target: `make fuzz` for developers, TEST_FUZZTIME in `make test`.
FUZZTIME ?= 30s
TEST_FUZZTIME ?= 10s

.PHONY: all prereqs omnipack demo test test-unit test-fuzz test-example test-e2e fuzz lint clean

all: omnipack

prereqs:
	@if [ "$$(id -u)" -eq 0 ]; then .ci/prereqs; \
	else echo "make: not root, so prerequisites are not installed; run 'sudo .ci/prereqs' once" >&2; fi

omnipack:
	$(GO) build -ldflags "-X main.version=$$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o $(BIN) ./cmd/omnipack

demo: prereqs omnipack
	@if [ ! -f $(DEMO_KEYS)/release.key ]; then \
		echo "make demo: generating throw-away demo keys in $(DEMO_KEYS)/"; \
		OMNIPACK_KEY_PASSWORD=$(DEMO_PASSWORD) $(BIN) keygen --dir $(DEMO_KEYS); fi
	OMNIPACK_KEY_PASSWORD=$(DEMO_PASSWORD) $(BIN) --config $(EXAMPLE)/omnipack.toml build --keys $(DEMO_KEYS) --dist $(DIST)
	$(BIN) verify --key $(DEMO_KEYS)/release.pub $(DIST)
	@# Each run builds the same version anew, with new signatures, which an
	@# existing repository refuses: a published package never changes.
	rm -rf $(DEMO_REPO)
	OMNIPACK_KEY_PASSWORD=$(DEMO_PASSWORD) $(BIN) publish --repo $(DEMO_REPO) --dist $(DIST) --keys $(DEMO_KEYS) --url $(DEMO_REPO_URL)
	@echo "signed, verified demo release in $(DIST)/; public keys in $(DIST)/keys/, installer $(DIST)/install.sh"
	@echo "apt, dnf/zypper, pacman and apk repository in $(DEMO_REPO)/; serve it with: $(BIN) serve $(DEMO_REPO)"

test: prereqs test-unit test-fuzz test-example test-e2e

test-unit:
	$(GO) vet ./...
	# go test's default 10 minutes per package is too short for the
	# reproducibility builds on a loaded 2-core machine.
	$(GO) test -count=1 -timeout 30m $(UNIT_PKGS)

# Every fuzz target, one at a time (.ci/fuzz finds them with go test -list).
# `go test` in test-unit already runs their committed corpora as tests.
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) .ci/fuzz $(UNIT_PKGS)

test-fuzz:
	GO=$(GO) FUZZTIME=$(TEST_FUZZTIME) .ci/fuzz $(UNIT_PKGS)

test-example:
	for e in $(EXAMPLES); do (cd $$e && $(GO) vet ./... && $(GO) test -count=1 ./...) || exit 1; done

# The real-host tier boots containers: it needs root and fails loudly without.
test-e2e:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make test-e2e: the real-host tier boots systemd-nspawn containers and needs root; run 'sudo make test'" >&2; exit 1; fi
	$(GO) test -count=1 -timeout 40m ./e2e/...

clean:
	rm -rf bin $(DIST) $(DEMO_KEYS) $(DEMO_REPO)
