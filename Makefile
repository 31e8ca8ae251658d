# stallmig — build, test, bench. Objects in build/, flags from pkg-config.
PKGS      := lua5.4 libpq inih libcrypto libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC       ?= cc
OPT      ?= -O2
CFLAGS   += -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror \
            -Wshadow -Wstrict-prototypes -Wmissing-prototypes $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lm -pthread
BUILD    ?= build
# libpg_query is opened when the first file is parsed (src/sqlparse.c), by
# the soname of the library the headers belong to.
PG_QUERY_SONAME := $(shell objdump -p "$$($(CC) -print-file-name=libpg_query.so)" 2>/dev/null | \
                     awk '$$1 == "SONAME" { print $$2 }')

SRC       := $(wildcard src/*.c)
OBJ       := $(SRC:src/%.c=$(BUILD)/%.o)
# Plain-C modules (no Lua in them, directly or through the host's Lua-facing
# headers): what the cmocka unit tests and the fuzzers link against.
LUA_FACING := $(shell grep -lE '^\#include [<"](lua|lauxlib|lualib|lconn|lerror|lstate|lsignal|lconfig|lapi[a-z_]*|modules|gate|ledger|host)\.h[>"]' src/*.c)
PLAIN_OBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(filter-out $(LUA_FACING),$(SRC)))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test test-builds unit unit-bins integration check-asan asan-build asan-unit check-valgrind \
        valgrind-build bench bench-lint bench-json bench-studio bench-reports bench-backfill bench-fleet \
        fuzz fuzz-smoke demo install clean

all: stallrun

stallrun: $(BUILD)/stallrun
	@cp $< $@

# Quiet by default (one line per file); make V=1 shows the commands.
Q := $(if $(V),,@)

$(BUILD)/stallrun: $(OBJ) $(BUILD)/lua_chunks.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# The library's Lua files and the workflows, compiled when one changes and
# linked into the binary (src/lchunks.h: loaded when the file on disk is
# the text that was compiled).
LUA_FILES := $(sort $(shell find lua workflows -name '*.lua'))

$(BUILD)/embed_lua: tools/embed_lua.c $(BUILD)/readfile.o src/lchunks.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -Isrc -o $@ $< $(BUILD)/readfile.o $(LDFLAGS) $(PKG_LIBS)

$(BUILD)/lua_chunks.c: $(BUILD)/embed_lua $(LUA_FILES)
	@$(if $(Q),echo "  LUAC    $@")
	$(Q)$(BUILD)/embed_lua $@ . $(LUA_FILES)

$(BUILD)/lua_chunks.o: $(BUILD)/lua_chunks.c src/lchunks.h
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -O0 -Isrc -c -o $@ $<

$(BUILD)/sqlparse.o: CFLAGS += -DPG_QUERY_SONAME='"$(PG_QUERY_SONAME)"'

$(BUILD)/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(PLAIN_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -Isrc -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka

# Installs the Debian packages that are missing (idempotent; root or sudo).
deps:
	@scripts/deps.sh

# Each suite prints one summary line, and a failure with its output (V=1:
# a line per test).
unit-bins: $(UNIT_BIN)

unit: $(UNIT_BIN)
	@tests/run-unit.sh unit $(UNIT_BIN)

# The integration and fault-injection tests, on parallel workers (JOBS=N,
# TESTS=pattern: tests/run-integration.sh).
integration: stallrun
	@tests/run-integration.sh $(CURDIR)/stallrun

# Everything, as CI runs it (.ci/run): every build first (quiet unless it
# fails), then the suites two at a time — unit, integration, both under
# ASan+UBSan; beside them valgrind, then the fuzzers — and the total with
# its duration (tests/run-all.sh).
test: deps
	@tests/run-all.sh

# The whole suite again with AddressSanitizer + UndefinedBehaviorSanitizer.
ASAN_BUILD := BUILD=build/asan OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
              LDFLAGS="-fsanitize=address,undefined"
asan-build:
	@$(MAKE) -s --no-print-directory $(ASAN_BUILD) build/asan/stallrun unit-bins

check-asan: asan-build
	@$(MAKE) -s --no-print-directory $(ASAN_BUILD) asan-unit
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    SUITE="integration (asan)" tests/run-integration.sh $(CURDIR)/build/asan/stallrun

# A representative deploy under valgrind (no ASan: the two do not mix):
# example migrations, generated ones, a failure, status, drift, wrong API calls.
valgrind-build:
	@$(MAKE) -s --no-print-directory BUILD=build/valgrind OPT="-O1" build/valgrind/stallrun

check-valgrind: valgrind-build
	@tests/valgrind/run.sh $(CURDIR)/build/valgrind/stallrun

asan-unit: $(UNIT_BIN)
	@tests/run-unit.sh "unit (asan)" $(UNIT_BIN)

bench: stallrun
	@bench/run.sh $(CURDIR)/stallrun

# squawk from npm (scripts/squawk.sh) beside the lint, when npm can fetch it
bench-lint: stallrun
	@SQUAWK="$$(scripts/squawk.sh $(CURDIR)/$(BUILD)/npm || true)" bench/lint.sh $(CURDIR)/stallrun

# The studio's first page of a 10-million-row table beside a plain SELECT,
# 50 concurrent requests, its memory (ROWS=N for a smaller table).
bench-studio: stallrun
	@bench/studio.sh $(CURDIR)/stallrun

# verify's and status's reports rendered beside the text form (no server).
bench-reports: stallrun
	@bench/reports.sh $(CURDIR)/stallrun

# A backfill of 10 million rows beside one UPDATE of them (ROWS=N; docs/zero-downtime.md).
bench-backfill: stallrun
	@bench/backfill.sh $(CURDIR)/stallrun

# A fleet of 1000 databases x 20 migrations beside xargs -P8 of psql (bench/fleet.sh).
bench-fleet: stallrun
	@bench/fleet.sh $(CURDIR)/stallrun

# src/json.c against cJSON and lua-cjson on libpg_query's trees (README, Decisions).
JSON_BENCH_PKGS := lua5.4 libcjson lua5.4-cjson
$(BUILD)/json_bench: bench/json_bench.c $(BUILD)/json.o $(BUILD)/ljson.o $(BUILD)/sqlparse.o $(BUILD)/utf8.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -Isrc $(shell pkg-config --cflags $(JSON_BENCH_PKGS)) -o $@ $^ \
	    $(shell pkg-config --libs $(JSON_BENCH_PKGS)) -lpg_query -lm

bench-json: $(BUILD)/json_bench
	@bench/json.sh $(CURDIR)/$(BUILD)/json_bench

# libFuzzer targets (fuzz/fuzz_*.c) over the plain-C modules, built with clang.
FUZZ_CC     ?= clang
FUZZ_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BUILD  := build/fuzz
FUZZ_BIN    := $(patsubst fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard fuzz/fuzz_*.c))
FUZZ_OBJ    := $(patsubst $(BUILD)/%,$(FUZZ_BUILD)/obj/%,$(PLAIN_OBJ))
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
.SECONDARY: $(FUZZ_OBJ)

$(FUZZ_BUILD)/obj/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(CFLAGS) -O1 $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) $(CFLAGS) -O1 $(FUZZ_FLAGS) -fsanitize=fuzzer -Isrc -o $@ $^ $(LDLIBS)

# FUZZ_SECONDS per target; new corpus entries stay in build/fuzz/corpus.
fuzz: $(FUZZ_BIN)
	@fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# What make test runs: every regression input once, then 10 s per target.
fuzz-smoke: $(FUZZ_BIN)
	@fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_BIN)

# Everything make test runs, built before any suite starts (make -j).
test-builds: stallrun unit-bins asan-build valgrind-build $(FUZZ_BIN)

# Installs stallrun (PREFIX, default /usr/local: on PATH, so the README's
# commands work as written), sets up the local database and runs the main
# job against it (README, command 1).
demo: deps
	@$(MAKE) --no-print-directory install
	@scripts/demo.sh "$(PREFIX)"

# stallrun in PREFIX/bin; lua/ and workflows/ in PREFIX/share/stallmig, where
# the installed binary finds them, replacing the copy a last install left
# (sudo when PREFIX is not writable; scripts/install.sh).
PREFIX ?= /usr/local
install: stallrun
	@DESTDIR="$(DESTDIR)" scripts/install.sh "$(PREFIX)"

clean:
	rm -rf build stallrun
