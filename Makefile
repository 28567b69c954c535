# zkop — the two commands of the quick start, plus a few conveniences.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# Build output without make's "Entering directory" lines (cmake --build runs make below make).
MAKEFLAGS += --no-print-directory

.PHONY: all deps configure build test demo format clean asan

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# A failed test gets one more run (--repeat until-pass:2): integration tests drive real
# ZooKeeper JVMs on a 2-core machine; a test that fails twice fails the run.
test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600 --repeat until-pass:2

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)

asan:
	@$(MAKE) test BUILD_DIR=build-asan CMAKE_FLAGS=-DZKOP_SANITIZE=ON

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
