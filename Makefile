# Entry points for people and CI. Everything goes through the CMake presets (CMakePresets.json);
# the binary always lands at build/agentd.
#
#   make build        install missing packages, configure and build the release binary, and the
#                     console (ui/ -> build/ui, served by agentd at /console/)
#   make run ARGS=..  build, then run `build/agentd serve $(ARGS)`
#   make test         check that every doc command block is run or marked (tests/docs), build
#                     everything (release), run ctest (unit + contract + integration + the doc
#                     blocks), e2e, the console's browser tests, then the fuzzers for
#                     TEST_FUZZ_TIME seconds each
#   make doc-test     build everything, then run the doc command blocks only (docs/testing.md)
#   make e2e          the e2e suite only, against build/agentd (memory and SQLite storage, then
#                     three instances on PostgreSQL + Redis: tests/e2e/cluster/)
#   make console      the console only (build/ui); make console-test: its browser tests
#   make asan         ASan+UBSan build of the unit tests, and run them
#   make fuzz         clang libFuzzer build (build/fuzz/), each fuzzer for FUZZ_TIME seconds
#   make clean        remove the preset build trees and build/agentd

SHELL := /bin/bash
# Node 20 installed by scripts/setup.sh when the system's is older (Debian 12 ships 18).
export PATH := $(CURDIR)/.tools/node/bin:$(PATH)
.SHELLFLAGS := -euo pipefail -c
JOBS ?= $(shell nproc)
ARGS ?=
# Seconds each fuzzer runs under `make fuzz` (docs/testing.md, Fuzzing).
FUZZ_TIME ?= 20
# ... and under `make test`, where the clang build already costs ~13 min cold (2 cores).
TEST_FUZZ_TIME ?= 10

# Steps share one build tree and apt: never run them side by side, even under make -j.
.NOTPARALLEL:

.PHONY: all setup setup-system setup-ui configure build console run test ctest e2e console-test doc-check doc-test asan fuzz clean

all: build

setup:
	@bash scripts/setup.sh

setup-system:
	@bash scripts/setup.sh --no-npm

setup-ui:
	@bash scripts/setup.sh --ui

configure: setup-system
	cmake --preset release

# Only the server binary and the console: `make run` should not wait for every test to compile.
build: configure console
	cmake --build --preset release --target agentd -j $(JOBS)

# The console (ui/README.md): TypeScript + Vite, written to build/ui beside build/agentd.
console: setup-ui
	npm --prefix ui run build --silent

run: build
	exec build/agentd serve $(ARGS)

ctest: configure
	cmake --build --preset release -j $(JOBS)
	ctest --preset release -j $(JOBS)

e2e: setup build
	E2E_STORAGE=memory bash tests/e2e/run.sh
	E2E_STORAGE=sqlite bash tests/e2e/run.sh
	bash tests/e2e/cluster/run.sh

# Fast, needs no build: a command block that is neither run nor marked fails here, first.
doc-check:
	python3 tests/docs/doc_blocks.py --check

# The blocks use the server, the test and bench binaries of the release tree.
doc-test: setup configure
	cmake --build --preset release -j $(JOBS)
	python3 tests/docs/doc_blocks.py --run


console-test: setup build
	bash tests/console/run.sh

test: setup doc-check ctest e2e console-test
	$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(TEST_FUZZ_TIME)

# The asan tree keeps its own binary (in build/asan/apps/) so that it never replaces the release
# build/agentd that `make run` and the e2e suite use.
asan: setup-system
	cmake --preset asan -DAGENTD_BIN_DIR=$(CURDIR)/build/asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

# A separate clang tree (build/fuzz/): the libraries are instrumented for libFuzzer, ASan and
# UBSan; only the fuzzers are built. Fails on the first crash (reproducer in build/fuzz/crashes/).
fuzz: setup-system
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)
	FUZZ_TIME=$(FUZZ_TIME) bash tests/fuzz/run.sh

clean:
	rm -rf build/release build/debug build/asan build/fuzz build/agentd build/ui build/console-screenshots
