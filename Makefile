# Quantor: plain GNU make. `make help` lists the targets.
# Quiet by default; `make V=1` prints every command. `make SANITIZE=address,undefined test`
# builds everything with those sanitizers (the flag set is remembered, so switching rebuilds).

PKGS     := fcgi libmariadb jansson libsodium libcurl
B        := build
CC       ?= cc
V        ?= 0
SANITIZE ?=

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat-security -Wvla -fno-common
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -Ilib
LDFLAGS  ?=
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all -DQ_SANITIZE=1
LDFLAGS  += -fsanitize=$(SANITIZE)
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS  = $(CFLAGS) $(PKG_CFLAGS)
LIBS        = $(PKG_LIBS) -lm -lpthread

LIB_SRC   := $(sort $(wildcard lib/*.c lib/exchange/*.c lib/strategy/*.c))
API_SRC   := $(sort $(wildcard cgi-bin/*.c))
CTL_SRC   := $(sort $(wildcard tools/quantorctl/*.c))
SIM_SRC   := $(sort $(wildcard tools/quantor-sim/*.c))
TRD_SRC   := $(sort $(wildcard trader/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
INTEG_SRC := $(sort $(wildcard tests/integration/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJ := $(call obj,$(LIB_SRC))
LIBQ    := $(B)/libquantor.a
PROGS   := $(if $(API_SRC),$(B)/quantor-api) $(if $(CTL_SRC),$(B)/quantorctl) \
           $(if $(SIM_SRC),$(B)/quantor-sim) $(if $(TRD_SRC),$(B)/quantor-trader)
UNITS   := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRC))
TESTS   := $(UNITS) $(if $(INTEG_SRC),$(B)/tests/integration)
BENCHES := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

SHELL   := /bin/bash
.PHONY: all deps deps-test run up down test unit integration browser lint bench clean help
.DEFAULT_GOAL := all

all: $(PROGS)

help:
	@echo 'make            build libquantor.a and the programs into build/'
	@echo 'make run        install what is missing, build, start the whole stack; Ctrl-C stops it'
	@echo 'make up / down  the same stack, detached / stopped'
	@echo 'make test       install what is missing, build, run unit + integration tests'
	@echo 'make lint       clang-format, cppcheck and clang-tidy'
	@echo 'make bench      benchmarks, each beside a baseline measured in the same run'
	@echo 'make clean      remove build/'

# Rebuild everything when the compiler flags change (plain vs SANITIZE builds).
$(B)/.flags: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' > $@
FORCE:

$(B)/obj/%.o: %.c $(B)/.flags
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBQ): $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/quantor-api: $(call obj,$(API_SRC)) $(LIBQ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(B)/quantorctl: $(call obj,$(CTL_SRC)) $(LIBQ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(B)/quantor-sim: $(call obj,$(SIM_SRC)) $(LIBQ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(B)/quantor-trader: $(call obj,$(TRD_SRC)) $(LIBQ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
# The market model is quantor-sim's, not the library's: its unit test links it as well.
$(B)/tests/unit/t_simmarket: $(B)/obj/tests/unit/t_simmarket.o \
                             $(B)/obj/tools/quantor-sim/market.o $(LIBQ)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcriterion
$(B)/tests/unit/%: $(B)/obj/tests/unit/%.o $(LIBQ)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcriterion
$(B)/tests/integration: $(call obj,$(INTEG_SRC)) $(LIBQ)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcriterion
$(B)/bench/%: $(B)/obj/bench/%.o $(LIBQ)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

deps:
	@./scripts/deps.sh

# The browser tests also need Chromium and Node.js (playwright-core comes from npm). Node
# is installed from Debian only when there is none: some images ship a nodejs that bundles npm.
deps-test:
	@./scripts/deps.sh chromium $$(command -v npm >/dev/null 2>&1 || echo nodejs npm)

# The stack: see scripts/stack.sh. QUANTOR_PORT (default 8080) and QUANTOR_VAR (default var).
run: deps all
	@QUANTOR_BUILD=$(abspath $(B)) ./scripts/stack.sh run
up: deps all
	@QUANTOR_BUILD=$(abspath $(B)) ./scripts/stack.sh up
down:
	@./scripts/stack.sh down

# Unit tests need no server; integration tests start their own stack under var/test on other
# ports and always tear it down (scripts/test-integration.sh).
test: deps-test all $(TESTS)
	@QUANTOR_BUILD=$(abspath $(B)) ./scripts/test.sh

unit: $(UNITS)
	@echo '== unit tests'
	@./scripts/run-tests.sh unit $(UNITS)

integration: all $(B)/tests/integration
	@echo '== integration tests'
	@QUANTOR_BUILD=$(abspath $(B)) ./scripts/test-integration.sh $(B)/tests/integration

LINT_SRC = $(LIB_SRC) $(wildcard lib/*.h lib/*/*.h) $(API_SRC) $(wildcard cgi-bin/*.h) \
           $(CTL_SRC) $(SIM_SRC) $(TRD_SRC) $(wildcard tools/*/*.h trader/*.h) \
           $(UNIT_SRC) $(INTEG_SRC) $(wildcard tests/*/*.h) $(BENCH_SRC) $(wildcard tests/fuzz/*.c)
lint:
	@echo '== clang-format'
	$(Q)clang-format --dry-run --Werror $(LINT_SRC)
	@echo '== cppcheck'
	$(Q)cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
		--inline-suppr --suppress=missingIncludeSystem -Ilib $(LIB_SRC) $(API_SRC) \
		$(CTL_SRC) $(SIM_SRC) $(TRD_SRC)
	@echo '== clang-tidy'
	$(Q)clang-tidy --quiet $(LIB_SRC) $(API_SRC) $(CTL_SRC) $(SIM_SRC) $(TRD_SRC) -- \
		$(ALL_CFLAGS) -Icgi-bin 2>&1 | grep -v '^[0-9]* warnings* generated' ; \
		exit $${PIPESTATUS[0]}

bench: deps all $(BENCHES)
	@QUANTOR_BUILD=$(abspath $(B)) ./scripts/bench.sh $(BENCHES)

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
