# The two commands of the README, plus helpers. Everything missing is installed by scripts/setup.sh.
BUILD ?= build
JOBS ?= $(shell nproc)
XRAYLIFT := $(BUILD)/bin/xraylift

.PHONY: all setup build demo test bench clean

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
	./scripts/bench.sh

clean:
	rm -rf $(BUILD) demo-out
