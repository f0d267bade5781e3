# kvmmu: one non-recursive GNU Makefile.
#
#   make              build/libkvmmu.a, build/kvmmu, build/tests/...
#   make check        tests through prove, plus the gcc -Werror, ASan+UBSan,
#                     TSan, -Wthread-safety and clang-format gates
#   make demo         the main job on the shipped default
#   make bench        benchmarks from a release build (build/release)
#   O=dir             out-of-tree build directory (default: build)
#   V=1               show the commands
#   CC=clang SAN=address,undefined | SAN=thread   sanitizer builds
#   DEBUG=0           release: lockdep and the scheduling hook compile away
#   WERROR=1          warnings are errors (CI)
#   TSA=1             clang -Wthread-safety (compile-only gate)

O ?= build
CC ?= gcc
DEBUG ?= 1
WERROR ?= 0
SAN ?=
TSA ?= 0
V ?= 0

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

override CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE -DKVMMU_VERSION='"$(VERSION)"'
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -pthread -MMD -MP -fno-strict-aliasing
override CFLAGS += -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	  -Wno-unused-parameter -Wno-missing-field-initializers
override LDFLAGS += -pthread
override LDLIBS += -lm

ifeq ($(DEBUG),1)
override CPPFLAGS += -DKVMMU_DEBUG=1
endif
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif
ifneq ($(SAN),)
override CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SAN)
override CPPFLAGS += -DKVMMU_SAN=1
endif
ifeq ($(TSA),1)
override CFLAGS += -Wthread-safety -Werror
override CPPFLAGS += -DKVMMU_TSA=1
endif

LIB_SRCS := $(sort $(wildcard src/*/*.c))
CLI_SRCS := $(sort $(wildcard tools/kvmmu/*.c) $(wildcard bench/*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/*.c) $(wildcard tests/stress/*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(O)/%.o) $(O)/gen/scenarios.o
SCENARIOS := $(sort $(wildcard scenarios/*.kvs))
TEST_BINS := $(TEST_SRCS:%.c=$(O)/%)
LIB := $(O)/libkvmmu.a
CLI := $(O)/kvmmu

all: $(LIB) $(CLI) $(TEST_BINS)

# Rebuild everything in $(O) when the compiler or its flags change, so a
# DEBUG=0 or SAN= build never links objects left from another setting.
FLAGS_SIG := $(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(LDLIBS)
$(O)/.flags: FORCE
	@mkdir -p $(O)
	@echo '$(FLAGS_SIG)' | cmp -s - $@ || echo '$(FLAGS_SIG)' > $@

$(O)/%.o: %.c $(O)/.flags
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# kvmmu demo's default suite: the shipped scenarios, embedded.
$(O)/gen/scenarios.c: $(SCENARIOS) scripts/embed-scenarios.sh
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q)scripts/embed-scenarios.sh $(SCENARIOS) > $@.tmp && mv $@.tmp $@

$(O)/gen/scenarios.o: $(O)/gen/scenarios.c $(O)/.flags
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Itools/kvmmu $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_OBJS) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(O)/tests/%: tests/%.c tests/harness.h $(LIB) $(O)/.flags
	$(call msg,TEST,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_BINS:=.d)

# ---------------------------------------------------------------------------
# Tests.  KVMMU_STRESS_SECONDS shortens the stress tests in sanitizer runs.

PROVE ?= prove
PROVE_FLAGS ?= -j2 --timer
# Each test program runs through tests/tap-exec, which turns exit status 4
# (KSFT_SKIP: every test of the program skipped) into 0 for prove.
TAP_EXEC := tests/tap-exec
RUN_PROVE = $(PROVE) $(PROVE_FLAGS) --exec $(TAP_EXEC)

# $(call prove_run,binaries): prove them, or say so if there are none yet
# (prove without arguments would look for a t/ directory instead).
prove_run = $(if $(strip $(1)),$(RUN_PROVE) $(1),echo "  PROVE  (no tests)")

# Command-line tests: scripts that drive $(CLI) (KVMMU_CLI).
CLI_TESTS := $(sort $(wildcard tests/cli/*.sh))

test: all
	$(Q)KVMMU_CLI=$(CLI) $(call prove_run,$(TEST_BINS) $(CLI_TESTS))

# Concurrency tests: all of them.  Threads appear in unit tests too (e.g.
# unregister racing a callback), and TSan over the lot costs seconds.
CONC_TESTS := $(TEST_BINS)

tsan-test: all
	$(Q)TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	 KVMMU_STRESS_SECONDS=2 $(call prove_run,$(CONC_TESTS))

asan-test: all
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 KVMMU_STRESS_SECONDS=2 KVMMU_CLI=$(CLI) \
	 $(call prove_run,$(TEST_BINS) $(CLI_TESTS))

# Tracked and new (not ignored) C files; without a usable git (no checkout,
# or a checkout owned by another user) every C file under the source folders.
# $(wildcard) drops files deleted but still in the index.  An empty list must
# not reach clang-format, which would then read stdin.
FORMAT_FILES = $(wildcard $(shell git ls-files --cached --others \
	--exclude-standard '*.c' '*.h' 2>/dev/null || \
	find include src tools bench tests -name '*.[ch]' 2>/dev/null))

format-check:
	$(call msg,FORMAT,check)
	$(Q)$(if $(FORMAT_FILES),clang-format --dry-run --Werror $(FORMAT_FILES),true)

format:
	$(Q)$(if $(FORMAT_FILES),clang-format -i $(FORMAT_FILES),true)

# The full gate.  Each stage is its own out-of-tree build so they never mix
# objects; every stage must pass.
check:
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(MAKE) --no-print-directory O=$(O)/werror CC=gcc WERROR=1 all
	$(Q)$(MAKE) --no-print-directory O=$(O)/tsa CC=clang TSA=1 $(O)/tsa/libkvmmu.a $(O)/tsa/kvmmu
	$(Q)$(MAKE) --no-print-directory O=$(O) all
	$(Q)$(MAKE) --no-print-directory O=$(O) test
	$(Q)$(MAKE) --no-print-directory O=$(O)/asan CC=clang SAN=address,undefined asan-test
	$(Q)$(MAKE) --no-print-directory O=$(O)/tsan CC=clang SAN=thread tsan-test
	@echo "make check: all stages passed"

# ---------------------------------------------------------------------------
# The main job and the benchmarks.

demo: $(CLI)
	$(Q)$(CLI) demo

BENCHES ?= host_fault populate memslot zap s2pt rwlock

bench:
	$(Q)$(MAKE) --no-print-directory O=$(O)/release DEBUG=0 $(O)/release/kvmmu
	$(Q)for b in $(BENCHES); do $(O)/release/kvmmu bench $$b || exit 1; done

# ---------------------------------------------------------------------------
# Fuzzing the scenario parser with libFuzzer, ASan and UBSan (not part of
# check).  Only the parser's objects are built, in their own $(O)/fuzz; new
# inputs go to $(O)/fuzz/corpus, crashes to $(O)/fuzz/crash-*.
#   make fuzz                      60 seconds
#   make fuzz FUZZ_SECONDS=600

FUZZ_SECONDS ?= 60
FUZZ_OBJS := $(addprefix src/scenario/,lexer.o parse.o parse_args.o \
	     parse_expect.o parse_host.o parse_vm.o)
FUZZ_SEEDS = $(wildcard tests/scenario/good tests/scenario/bad scenarios)

fuzz:
	$(Q)$(MAKE) --no-print-directory O=$(O)/fuzz CC=clang \
	 SAN=fuzzer-no-link,address,undefined $(O)/fuzz/scenario_fuzz
	@mkdir -p $(O)/fuzz/corpus
	$(Q)UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 $(O)/fuzz/scenario_fuzz -max_total_time=$(FUZZ_SECONDS) \
	 -max_len=8192 -timeout=10 -dict=tests/fuzz/scenario.dict \
	 -artifact_prefix=$(O)/fuzz/ $(O)/fuzz/corpus $(FUZZ_SEEDS)

$(O)/scenario_fuzz: tests/fuzz/scenario_fuzz.c $(FUZZ_OBJS:%=$(O)/%) $(O)/.flags
	$(call msg,LD,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
	 $(FUZZ_OBJS:%=$(O)/%) $(LDLIBS)

clean:
	$(Q)rm -rf $(O)

FORCE:

.PHONY: FORCE all test tsan-test asan-test format-check format check demo bench \
	fuzz clean
.DELETE_ON_ERROR:
