# gitgate — run `make help` for the targets.

GO                 ?= go
BIN                := bin/gitgate
VERSION            ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS            := -X gitgate.dev/gitgate/cmd/gitgate/internal/cli.version=$(VERSION)
GOLANGCI_LINT_VER  := v2.15.0
GOLANGCI_LINT      := $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VER)
CONTROLLER_GEN_VER := v0.23.0
CONTROLLER_GEN     := $(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VER)
FUZZTIME           ?= 30s
BENCHTIME          ?= 1x
TEST_FLAGS         ?=
DEMO_FLAGS         ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/gitgate
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gitgate

.PHONY: test
test: envtest helm ## Run unit, fuzz-seed and e2e tests (the command CI runs)
	KUBEBUILDER_ASSETS="$$(./test/envtest/build.sh)" HELM="$$(./test/helm/build.sh)" $(GO) test $(TEST_FLAGS) ./...

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd and kubectl from source into the user cache (once)
	@./test/envtest/build.sh

.PHONY: demo
demo: build ## Run gitgate dev: local control plane, signed demo repo, walkthrough (DEMO_FLAGS=--keep to explore after)
	@assets="$$(./test/envtest/build.sh)" && $(BIN) dev --assets "$$assets" $(DEMO_FLAGS)

.PHONY: helm
helm: ## Build helm from source into the user cache, with the CRDs the chart test installs (once)
	@./test/helm/build.sh

.PHONY: verify
verify: fmt-check vet lint tidy-check generate-check ## gofmt, go vet, golangci-lint, a tidy go.mod, generated code current

.PHONY: fmt-check
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet:
	$(GO) vet ./...

.PHONY: lint
lint: ## Run golangci-lint (pinned, through go run)
	$(GOLANGCI_LINT) run --allow-parallel-runners ./...

.PHONY: generate
generate: ## Regenerate the GitSource deepcopy code and CRD (controller-gen, pinned)
	$(CONTROLLER_GEN) object paths=./api/... crd:crdVersions=v1 output:crd:artifacts:config=charts/gitgate/crds
	cp charts/gitgate/crds/gitgate.dev_gitsources.yaml cmd/gitgate/internal/devenv/gitsource-crd.yaml

.PHONY: generate-check
generate-check:
	@$(MAKE) --no-print-directory generate >/dev/null; \
	if [ -n "$$(git status --porcelain -- api charts/gitgate/crds cmd/gitgate/internal/devenv/gitsource-crd.yaml)" ]; then echo "generated code is stale; run make generate and commit:"; git status --short -- api charts/gitgate/crds cmd/gitgate/internal/devenv/gitsource-crd.yaml; exit 1; fi

.PHONY: tidy-check
tidy-check:
	@cp go.mod /tmp/gitgate-go.mod.bak; cp go.sum /tmp/gitgate-go.sum.bak; \
	$(GO) mod tidy; \
	if ! git diff --quiet -- go.mod go.sum; then echo "go.mod/go.sum are not tidy:"; git --no-pager diff -- go.mod go.sum; \
	  cp /tmp/gitgate-go.mod.bak go.mod; cp /tmp/gitgate-go.sum.bak go.sum; exit 1; fi

.PHONY: bench
bench: ## Run the Go benchmarks (BENCHTIME=1x by default; see test/bench/README.md)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

.PHONY: fuzz
fuzz: ## Run every native fuzz test for FUZZTIME each (default 30s)
	./test/fuzz.sh $(FUZZTIME)

.PHONY: bench-check
bench-check: ## gitgate check vs conftest v0.71.1 on 2,000 and 20,000 files (test/bench/README.md)
	./test/bench/check.sh

.PHONY: bench-verify
bench-verify: ## gitgate verify vs git log --show-signature on 10,000 signed commits (test/bench/README.md)
	./test/bench/verify.sh

.PHONY: bench-webhook
bench-webhook: ## HTTPS load on loopback against the admission webhook, issue 4 benchmark b (test/bench/README.md)
	$(GO) run ./test/bench/webhookload -c 16 -d 20s

.PHONY: conftest-golden
conftest-golden: ## Re-record conftest's outputs for the check compatibility cases
	./policy/testdata/conftest/regen.sh

.PHONY: clean
clean: ## Remove build output
	rm -rf bin dist
