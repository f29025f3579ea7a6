# heapviz — `make demo` sets up and runs the demo; `make test` sets up and runs every test.
VENV     := .venv
PY       := $(VENV)/bin/python
CC       ?= cc
CORE_SRC := $(sort $(wildcard csrc/core/*.c))
CORE_HDR := $(wildcard include/heapviz/*.h csrc/core/*.h)
CTEST_SRC:= $(sort $(wildcard tests/c/*.c))
CFLAGS_COMMON := -std=c11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
                 -D_GNU_SOURCE -Iinclude -Icsrc/core -Itests/c
BUILD    := tests/c/build
PYSRC    := $(wildcard csrc/py/*.c csrc/py/*.h viz/*.c viz/*.h)
RTSRC    := $(wildcard csrc/rt/*.c csrc/rt/*.h csrc/rt/cc/*.c csrc/rt/cc/*.h)

.PHONY: all setup build demo test ctest ctest-plain ctest-asan ctest-valgrind pytest pytest-asan lint \
        format bench clean

all: build

setup: $(VENV)/.heapviz-installed
$(VENV)/.heapviz-installed: pyproject.toml setup.py scripts/setup.sh
	./scripts/setup.sh

# Rebuild the extension in place whenever a C file changed (pip install -e built it once).
build: setup heapviz/.build-stamp
heapviz/.build-stamp: $(CORE_SRC) $(CORE_HDR) $(PYSRC) $(RTSRC) setup.py
	HEAPVIZ_WERROR=1 $(PY) setup.py -q build_ext --inplace
	@touch $@

demo: build
	$(PY) -m heapviz demo

# --- C unit tests of the core: plain, ASan+UBSan, valgrind -------------------------------
$(BUILD)/test_core: $(CTEST_SRC) $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_COMMON) -O2 -g -o $@ $(CTEST_SRC) $(CORE_SRC)
$(BUILD)/test_core_asan: $(CTEST_SRC) $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_COMMON) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=undefined -o $@ $(CTEST_SRC) $(CORE_SRC)
$(BUILD)/test_core_dbg: $(CTEST_SRC) $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_COMMON) -O0 -g -DHV_DEBUG=1 -o $@ $(CTEST_SRC) $(CORE_SRC)

ctest-plain: $(BUILD)/test_core
	$(BUILD)/test_core
ctest-asan: $(BUILD)/test_core_asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(BUILD)/test_core_asan
ctest-valgrind: $(BUILD)/test_core_dbg
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  $(BUILD)/test_core_dbg --quick
ctest: ctest-plain ctest-asan ctest-valgrind

# --- Python ----------------------------------------------------------------------------
pytest: build
	$(PY) -m pytest -q tests

# The extensions built with ASan+UBSan, and the tests of the binding, the errors, the
# renderer, replays and recordings run against them.
ASAN_TESTS := tests/test_api.py tests/test_wrong_calls.py tests/test_policies.py \
              tests/test_stateful.py tests/test_refs.py $(wildcard tests/test_errors*.py) \
              tests/test_binding.py tests/test_records.py \
              tests/test_leaks.py tests/test_frames.py tests/test_viz_layout.py \
              tests/test_viz_replay.py tests/test_recording.py tests/test_scenario.py \
              tests/test_display.py tests/test_differential.py
PY_SUBPACKAGES := scenario cli native
pytest-asan: setup
	rm -rf build/asan build/asan-tmp
	HEAPVIZ_SANITIZE=1 $(PY) setup.py -q build_ext -b build/asan -t build/asan-tmp
	cp heapviz/*.py heapviz/*.js heapviz/*.css build/asan/heapviz/
	for d in $(PY_SUBPACKAGES); do mkdir -p build/asan/heapviz/$$d && cp heapviz/$$d/*.py build/asan/heapviz/$$d/; done
	cd build/asan && LD_PRELOAD=$$(gcc -print-file-name=libasan.so) \
	  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ../../$(PY) -m pytest -q -p no:cacheprovider $(addprefix ../../,$(ASAN_TESTS))

lint: setup
	$(VENV)/bin/ruff check heapviz tests bench
	clang-format --dry-run -Werror $(CORE_SRC) $(wildcard include/heapviz/*.h csrc/core/*.h) \
	  $(wildcard csrc/py/*.c csrc/py/*.h) $(RTSRC)

format: setup
	$(VENV)/bin/ruff format heapviz tests bench
	clang-format -i $(CORE_SRC) $(wildcard include/heapviz/*.h csrc/core/*.h) \
	  $(wildcard csrc/py/*.c csrc/py/*.h) $(RTSRC)

test: setup build lint ctest pytest pytest-asan

bench: build
	$(PY) bench/run.py

# The C trace benchmark (bench/build/trace_bench); bench/run.py builds it too.
.PHONY: bench-c
bench-c:
	$(MAKE) -C bench

clean:
	rm -rf build $(BUILD) heapviz/*.so heapviz/.build-stamp *.egg-info
