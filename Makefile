# The two commands of the README, plus helpers. Everything missing is installed by scripts/setup.sh.
BUILD ?= build
JOBS ?= $(shell nproc)
XRAYLIFT := $(BUILD)/bin/xraylift

.PHONY: all setup build demo test bench fuzz clean

all: build

# Configure once (setup is idempotent; it re-runs when the build folder is missing).
$(BUILD)/build.ninja:
	./scripts/setup.sh

setup:
	./scripts/setup.sh

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(XRAYLIFT) demo --out demo-out

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	cmake --build $(BUILD) -j $(JOBS) --target benches
	./scripts/bench.sh

# libFuzzer (clang) on the file parsers: FUZZ_RUNS executions per harness (docs/RELIABILITY.md).
FUZZ_RUNS ?= 1000000
fuzz:
	./scripts/fuzz.sh $(FUZZ_RUNS)

clean:
	rm -rf $(BUILD) build-fuzz demo-out
