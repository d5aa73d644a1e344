# kubebuilder-style verbs. `make help` lists them.
SHELL := /bin/bash
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CTEST_ARGS ?=
ARGS ?=

# kubectl and helm fetched by scripts/install-helm.sh (when the machine has none) live here.
export PATH := $(CURDIR)/tools/bin:$(PATH)

CMAKE_CONFIGURE = cmake -S . -B $(1) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(2) >/dev/null

.PHONY: help deps build test demo bench bench-testenv manifests docker-build test-asan test-tsan fuzz format clean

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-14s %s\n", $$1, $$2}'

deps: ## Install build and test dependencies (Debian packages; no-op when present)
	@scripts/install-deps.sh
	@command -v kubectl >/dev/null || scripts/install-helm.sh

build: deps ## Build the operator, kube-testenv and the tests
	@$(call CMAKE_CONFIGURE,$(BUILD_DIR),)
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build ## Build and run every test through CTest
	@ctest --test-dir $(BUILD_DIR) --no-tests=error --output-on-failure -j $(JOBS) $(CTEST_ARGS)

demo: build ## Run the operator against embedded local clusters (ARGS=--once to exit after Ready)
	@scripts/demo.sh $(ARGS)

bench: build ## Run the benchmarks and rewrite BENCHMARKS.md
	@BUILD_DIR=$(BUILD_DIR) scripts/bench.sh $(ARGS)

bench-testenv: deps ## Run only the kube-testenv benchmark (1,000 clusters) and rewrite its section
	@$(call CMAKE_CONFIGURE,$(BUILD_DIR),)
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target testenv-bench
	@BUILD_DIR=$(BUILD_DIR) scripts/bench.sh testenv

manifests: ## Check CRDs, samples and deploy manifests render
	@scripts/manifests.sh

docker-build: ## Build the container image (needs a Docker engine)
	docker build -t remote-istio-operator:dev .

# LeakSanitizer is on (LSAN=0 turns it off); undefined behaviour aborts the test
# (-fno-sanitize-recover=all). A failed test runs once more: under the sanitizers' 2-3x slowdown
# a timing wait can run out on a busy machine (seen once in about ten runs). CTest still prints
# the failed attempt, and a real sanitizer finding almost always repeats.
test-asan: deps ## All tests under AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer
	@$(call CMAKE_CONFIGURE,build-asan,-DRIO_SANITIZE='address;undefined' -DCMAKE_BUILD_TYPE=Debug)
	@cmake --build build-asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=$(or $(LSAN),1) UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build-asan --no-tests=error --output-on-failure --repeat until-pass:2 \
	  -j $(JOBS) $(CTEST_ARGS)

test-tsan: deps ## Runtime and reconciler tests under ThreadSanitizer
	@$(call CMAKE_CONFIGURE,build-tsan,-DRIO_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug)
	@cmake --build build-tsan -j $(JOBS)
	@TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --no-tests=error --output-on-failure \
	  -j $(JOBS) -L 'controller|reconcilers' $(CTEST_ARGS)

fuzz: deps ## libFuzzer (clang, ASan + UBSan): each target of test/fuzz for FUZZ_SECONDS (default 60)
	@CC=clang-14 CXX=clang++-14 $(call CMAKE_CONFIGURE,build-fuzz,-DRIO_FUZZ=ON -DRIO_SANITIZE='address;undefined' -DRIO_FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60))
	@cmake --build build-fuzz -j $(JOBS) --target fuzz-targets
	@ctest --test-dir build-fuzz --no-tests=error --output-on-failure -j $(JOBS) -L fuzz

format: ## Reformat the sources with clang-format
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean: ## Remove build directories
	rm -rf build build-asan build-tsan build-fuzz
