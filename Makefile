# polc - policy compiler and on-device runtime for temporary admin elevation.
#
# One non-recursive Makefile. Quiet by default; V=1 shows full commands.
#   make                  build build/polc
#   make demo             install missing packages, build, compile the Jamf example
#   make check            install missing packages, build, run every test
#   make fuzz             build libFuzzer targets (clang) and fuzz for FUZZ_SECONDS
#   make install          install to $(DESTDIR)$(PREFIX)
# SANITIZE=address,undefined builds everything with sanitizers; WERROR=1 adds -Werror.
# User CFLAGS, CPPFLAGS and LDFLAGS are appended, never replaced.

.DELETE_ON_ERROR:
.SUFFIXES:

CC       ?= cc
CFLAGS   ?= -O2 -g
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
BUILD    ?= build
LEMON    ?= lemon
LEMPAR   ?= /usr/share/lemon/lempar.c
RE2C     ?= re2c
PKG_CONFIG ?= pkg-config
PYTHON   ?= python3
FUZZ_CC  ?= clang
FUZZ_SECONDS ?= 60

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

PKGS        := libplist-2.0 libcrypto
PKG_CFLAGS   = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS     = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
XML_CFLAGS   = $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null)
XML_LIBS     = $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null)
CMOCKA_LIBS  = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wundef -Wvla -Wno-format-nonliteral
GEN_WARN := -Wall -Wno-unused-parameter -Wno-unused-variable -Wno-unused-but-set-variable \
            -Wno-unused-function
ifeq ($(WERROR),1)
WARN += -Werror
endif
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

ALL_CPPFLAGS = -Icompiler -Iruntime -I$(BUILD)/gen -D_POSIX_C_SOURCE=200809L \
               $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = -std=c11 $(CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS  = $(SAN_FLAGS) $(LDFLAGS)

# ---- sources ---------------------------------------------------------------

LIBEP_SRC    := runtime/calendar.c runtime/text.c runtime/opcodes.c runtime/load.c \
                runtime/verify.c runtime/eval.c runtime/index.c
COMPILER_SRC := compiler/arena.c compiler/source.c compiler/diag.c compiler/json.c \
                compiler/suggest.c compiler/parse.c compiler/check.c compiler/compile.c \
                compiler/uuid.c compiler/profile.c compiler/target_jamf.c compiler/output.c \
                compiler/bytes.c compiler/codegen.c compiler/target_runtime.c compiler/disasm.c compiler/cli.c compiler/emit_c.c compiler/sign_bytecode.c compiler/rule_index.c \
                compiler/eval_ref.c compiler/cli_eval.c compiler/iso_time.c \
                compiler/passphrase.c compiler/sign_profile.c compiler/cli_verify.c
GEN_SRC      := $(BUILD)/gen/lexer.c $(BUILD)/gen/parser.c
# The on-device agent's modules (runtime/agent/), unit-tested by agent-unit.
AGENT_SRC    := runtime/agent/digest.c runtime/agent/monoclock.c runtime/agent/groupdb.c runtime/agent/dsgroup.c runtime/agent/policyfile.c runtime/agent/audit.c runtime/agent/auth.c runtime/agent/reason.c runtime/agent/state.c runtime/agent/lockwait.c
# auth.c talks to PAM.
AGENT_LIBS   := -lpam
# The agent command: elevate.c (main) and its parts on top of the modules, libep and
# the signature check.
ELEVATE_PARTS := $(addprefix runtime/agent/,config.c priv.c testhook.c journal.c decide.c \
                  admins.c request.c revoke.c)
ELEVATE_SRC  := runtime/agent/elevate.c $(ELEVATE_PARTS)
ELEVATE      := $(BUILD)/elevate

# The signature check needs libcrypto; the verifier and evaluator do not.
LIBEP_SIG_SRC := runtime/sig.c
LIBEP_OBJ    := $(LIBEP_SRC:%.c=$(BUILD)/obj/%.o)
LIBEP_SIG_OBJ := $(LIBEP_SIG_SRC:%.c=$(BUILD)/obj/%.o)
LIBEP_SIG    := $(BUILD)/libep-sig.a
LIBEP        := $(BUILD)/libep.a
COMPILER_OBJ := $(COMPILER_SRC:%.c=$(BUILD)/obj/%.o)
GEN_OBJ      := $(GEN_SRC:$(BUILD)/gen/%.c=$(BUILD)/obj/gen/%.o)
MAIN_OBJ     := $(BUILD)/obj/compiler/main.o
LIBPOLC      := $(BUILD)/libpolc.a
POLC         := $(BUILD)/polc

UNIT_TESTS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
AGENT_OBJ    = $(AGENT_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_TESTS  := $(patsubst tests/agent/%.c,$(BUILD)/tests/agent/%,$(wildcard tests/agent/test_*.c))
FUZZERS      := frontend runtime agent
REPLAYERS    := $(FUZZERS:%=$(BUILD)/tests/replay_%)
# What each fuzz target's entry point links with, relative to the build
# directory (the plain one for fuzz-replay, $(FUZZ_BUILD) for libFuzzer),
# and the libraries it needs besides $(PKG_LIBS).
FUZZ_LINK_frontend := libpolc.a
FUZZ_LINK_runtime  := libpolc.a
FUZZ_LINK_agent    := $(AGENT_SRC:%.c=obj/%.o) obj/runtime/agent/config.o
FUZZ_LIBS_agent    := $(AGENT_LIBS)
TOOLS_BIN    := $(BUILD)/tests/plist_dtd_check

.PHONY: all demo check check-run deps unit golden eval-golden check-symbols fuzz-replay fuzz install uninstall clean
all: $(POLC) $(LIBEP) $(LIBEP_SIG) $(ELEVATE)

# ---- generated lexer and parser -------------------------------------------

.SECONDARY: $(BUILD)/gen/parser.c $(BUILD)/gen/parser.h $(BUILD)/gen/lexer.c

# A pattern rule, so that both outputs come from one run; lemon leaves an
# unchanged header alone, hence the touch.
$(BUILD)/gen/%.c $(BUILD)/gen/%.h: grammar/%.y
	$(call msg,LEMON,$<)
	@mkdir -p $(BUILD)/gen
	$(Q)$(LEMON) -q -T$(LEMPAR) -d$(BUILD)/gen $<
	@touch $(BUILD)/gen/$*.c $(BUILD)/gen/$*.h

$(BUILD)/gen/lexer.c: grammar/lexer.re
	$(call msg,RE2C,$<)
	@mkdir -p $(BUILD)/gen
	$(Q)$(RE2C) -W --no-generation-date --no-version $< -o $@

# ---- objects ---------------------------------------------------------------

# Rebuild everything when the compiler or its flags change.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_LINE = $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(WARN) $(ALL_LDFLAGS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(BUILD)
	@echo '$(FLAGS_LINE)' | cmp -s - $@ || echo '$(FLAGS_LINE)' > $@
.PHONY: FORCE
FORCE:

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP) | $(BUILD)/gen/parser.h
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/gen/parser.h $(FLAGS_STAMP)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(GEN_WARN) -MMD -MP -c $< -o $@

$(LIBEP): $(LIBEP_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBEP_SIG): $(LIBEP_SIG_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBPOLC): $(COMPILER_OBJ) $(GEN_OBJ) $(LIBEP_OBJ) $(LIBEP_SIG_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(POLC): $(MAIN_OBJ) $(LIBPOLC)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

# elevate links no compiler code: the agent modules, libep and its signature check.
$(ELEVATE): $(ELEVATE_SRC:%.c=$(BUILD)/obj/%.o) $(AGENT_OBJ) $(LIBEP_SIG) $(LIBEP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) $(AGENT_LIBS) -o $@

# A test-only copy for the set-user-ID end-to-end tests: its compile-time
# configuration path is in the build directory, which the tests fill, and it
# links libpam_wrapper directly, because the dynamic linker ignores LD_PRELOAD
# for set-user-ID programs (pam_wrapper stays inert unless PAM_WRAPPER=1 is
# in the environment it starts with). Never install it.
ELEVATE_SUIDTEST      := $(BUILD)/elevate-suidtest
SUIDTEST_PAM_WRAPPER  := -Wl,--no-as-needed -l:libpam_wrapper.so -Wl,--as-needed
ELEVATE_SUIDTEST_CONF := $(abspath $(BUILD))/suidtest/elevate.conf
$(ELEVATE_SUIDTEST): runtime/agent/elevate.c tests/agent/e2e/suidtest_sanitizers.c \
                     $(ELEVATE_PARTS:%.c=$(BUILD)/obj/%.o) $(AGENT_OBJ) \
                     $(LIBEP_SIG) $(LIBEP) $(FLAGS_STAMP) | $(BUILD)/gen/parser.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(WARN) \
		-DELEVATE_DEFAULT_CONFIG='"$(ELEVATE_SUIDTEST_CONF)"' runtime/agent/elevate.c \
		tests/agent/e2e/suidtest_sanitizers.c \
		$(filter %.o %.a,$^) $(ALL_LDFLAGS) $(PKG_LIBS) $(SUIDTEST_PAM_WRAPPER) $(AGENT_LIBS) -o $@

# ---- set-up and the main job -----------------------------------------------

deps:
	@tools/deps

demo: deps
	@$(MAKE) --no-print-directory $(POLC)
	$(Q)$(POLC) examples/jamf-seed.ep -o $(BUILD)/jamf-seed.mobileconfig --bytecode $(BUILD)/jamf-seed.epb
	@echo "polc: wrote $(BUILD)/jamf-seed.mobileconfig (upload it to Jamf Pro as a configuration profile)"
	@echo "polc: wrote $(BUILD)/jamf-seed.epb (the compiled policy; inspect it with: $(POLC) disasm $(BUILD)/jamf-seed.epb)"

# ---- benchmarks ---------------------------------------------------------------

# An optimised build in $(BUILD)/bench-o2; evaluation against the native
# baseline, compilation time and memory, sizes (docs/performance.md).
# Prints a table and writes the figures to $(BUILD)/bench.txt.
.PHONY: bench
bench: deps
	$(Q)MAKE='$(MAKE)' BUILD='$(BUILD)' $(PYTHON) tools/bench/run

# ---- tests ------------------------------------------------------------------

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBPOLC)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(WARN) -Wno-missing-prototypes $< $(LIBPOLC) \
		$(ALL_LDFLAGS) $(PKG_LIBS) $(CMOCKA_LIBS) -o $@

$(BUILD)/tests/plist_dtd_check: tests/tools/plist_dtd_check.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(XML_CFLAGS) $(ALL_CFLAGS) $(WARN) $< $(ALL_LDFLAGS) $(XML_LIBS) -o $@

# The fuzz targets' entry points, linked with a plain main() that replays a corpus.
$(foreach f,$(FUZZERS),$(eval $(BUILD)/tests/replay_$(f): $(addprefix $(BUILD)/,$(FUZZ_LINK_$(f)))))
$(BUILD)/tests/replay_%: tests/fuzz/replay.c tests/fuzz/fuzz_%.c
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(WARN) tests/fuzz/replay.c tests/fuzz/fuzz_$*.c \
		$(addprefix $(BUILD)/,$(FUZZ_LINK_$*)) $(ALL_LDFLAGS) $(PKG_LIBS) $(FUZZ_LIBS_$*) -o $@

check: deps
	@$(MAKE) --no-print-directory check-run

check-run: unit agent-unit agent-e2e golden eval-golden check-symbols fuzz-replay signing-tests dist-tests
	@echo "polc: all tests passed"

# libep must not allocate or do I/O: no object may even reference those functions.
check-symbols: $(LIBEP)
	$(Q)tests/tools/check-libep-symbols $(LIBEP)

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "  TEST    $$t"; $$t; done

# Agent module tests: each links with every agent object, no compiler code.
.SECONDARY: $(AGENT_OBJ)
$(BUILD)/tests/agent/test_%: tests/agent/test_%.c $(AGENT_OBJ)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(WARN) -Wno-missing-prototypes $< $(AGENT_OBJ) \
		$(ALL_LDFLAGS) $(PKG_LIBS) $(AGENT_LIBS) $(CMOCKA_LIBS) -o $@

.PHONY: agent-unit
agent-unit: $(AGENT_TESTS)
	@set -e; for t in $(AGENT_TESTS); do echo "  TEST    $$t"; $$t; done

# elevate end to end in a temporary root (root only; skipped otherwise).
.PHONY: agent-e2e
AGENT_E2E := tests/agent/e2e/run tests/agent/e2e/tamper tests/agent/e2e/macos tests/agent/e2e/tty
agent-e2e: $(ELEVATE) $(ELEVATE_SUIDTEST) $(POLC)
	$(Q)set -e; for t in $(AGENT_E2E); do \
		ELEVATE=$(ELEVATE) POLC=$(POLC) PYTHON=$(PYTHON) ELEVATE_SUIDTEST=$(ELEVATE_SUIDTEST) \
		ELEVATE_SUIDTEST_CONF=$(ELEVATE_SUIDTEST_CONF) $$t; done

golden: $(POLC) $(TOOLS_BIN)
	$(Q)POLC=$(POLC) BUILD=$(BUILD) PYTHON=$(PYTHON) tests/golden/run

eval-golden: $(POLC)
	$(Q)POLC=$(POLC) BUILD=$(BUILD) tests/eval/run

# Profile signing and polc verify, with a throwaway CA made by openssl(1) at test time.
.PHONY: signing-tests
signing-tests: $(POLC)
	$(Q)POLC=$(POLC) BUILD=$(BUILD) tests/signing/run

# runtime/dist: units, plist, PAM and config examples, and where make install puts them.
.PHONY: dist-tests
dist-tests: $(POLC) $(LIBEP) $(ELEVATE)
	$(Q)MAKE='$(MAKE)' ELEVATE=$(ELEVATE) PYTHON=$(PYTHON) tests/agent/dist/run

fuzz-replay: $(REPLAYERS)
	$(Q)set -e; for f in $(FUZZERS); do \
		$(BUILD)/tests/replay_$$f tests/fuzz/corpus/$$f tests/fuzz/regressions/$$f; done

# ---- fuzzing (clang libFuzzer) -------------------------------------------

FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_LIB    = $(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
              SANITIZE=address,undefined CFLAGS='-O1 -g -fsanitize=fuzzer-no-link' \
              $(addprefix $(FUZZ_BUILD)/,$(FUZZ_LINK_$*))

fuzz: $(FUZZERS:%=fuzz-%)

# make fuzz-NAME [FUZZ_SECONDS=600]: run one libFuzzer target; new inputs go to
# $(FUZZ_BUILD)/corpus-NAME, crashes to tests/fuzz/regressions/NAME (commit them).
fuzz-%:
	@$(FUZZ_LIB)
	$(call msg,LINK,$(FUZZ_BUILD)/fuzz_$*)
	$(Q)$(FUZZ_CC) -O1 -g -fsanitize=fuzzer,address,undefined $(ALL_CPPFLAGS) \
		tests/fuzz/fuzz_$*.c $(addprefix $(FUZZ_BUILD)/,$(FUZZ_LINK_$*)) $(PKG_LIBS) \
		$(FUZZ_LIBS_$*) -o $(FUZZ_BUILD)/fuzz_$*
	@mkdir -p $(FUZZ_BUILD)/corpus-$* tests/fuzz/regressions/$*
	$(Q)$(FUZZ_BUILD)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
		-artifact_prefix=tests/fuzz/regressions/$*/ \
		$(FUZZ_BUILD)/corpus-$* tests/fuzz/corpus/$*

# ---- install ----------------------------------------------------------------

# elevate is installed 0755: making it set-user-ID root (chmod u+s) is a
# deliberate step for the administrator (docs/agent.md).
# runtime/dist: the sweep units (with @BINDIR@ replaced) and, as examples
# only, the launchd plist, PAM services and configuration: putting them in
# /etc/pam.d, /etc/elevate or /Library/LaunchDaemons is the admin's decision.
UNITDIR    ?= $(PREFIX)/lib/systemd/system
POLC_DATADIR := $(PREFIX)/share/polc
DIST_UNITS := elevate-sweep.service elevate-sweep.timer
DIST_PAM   := pam/linux/elevate-password pam/linux/elevate-biometric \
              pam/macos/elevate-password pam/macos/elevate-biometric
install: $(POLC) $(LIBEP) $(ELEVATE)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(POLC) $(DESTDIR)$(BINDIR)/polc
	install -m 0755 $(ELEVATE) $(DESTDIR)$(BINDIR)/elevate
	install -m 0644 docs/polc.1 $(DESTDIR)$(MANDIR)/man1/polc.1
	install -m 0644 docs/elevate.8 $(DESTDIR)$(MANDIR)/man8/elevate.8
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(POLC_DATADIR)/launchd \
		$(DESTDIR)$(POLC_DATADIR)/examples/pam/linux $(DESTDIR)$(POLC_DATADIR)/examples/pam/macos
	set -e; for f in $(DIST_UNITS); do \
		sed 's|@BINDIR@|$(BINDIR)|g' runtime/dist/$$f > $(DESTDIR)$(UNITDIR)/$$f; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$f; done
	sed 's|@BINDIR@|$(BINDIR)|g' runtime/dist/org.polc.elevate.sweep.plist \
		> $(DESTDIR)$(POLC_DATADIR)/launchd/org.polc.elevate.sweep.plist
	chmod 0644 $(DESTDIR)$(POLC_DATADIR)/launchd/org.polc.elevate.sweep.plist
	set -e; for f in $(DIST_PAM) elevate.conf.example; do \
		install -m 0644 runtime/dist/$$f $(DESTDIR)$(POLC_DATADIR)/examples/$$f; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/polc $(DESTDIR)$(MANDIR)/man1/polc.1
	rm -f $(DESTDIR)$(BINDIR)/elevate $(DESTDIR)$(MANDIR)/man8/elevate.8
	rm -f $(DIST_UNITS:%=$(DESTDIR)$(UNITDIR)/%) \
		$(DESTDIR)$(POLC_DATADIR)/launchd/org.polc.elevate.sweep.plist \
		$(DIST_PAM:%=$(DESTDIR)$(POLC_DATADIR)/examples/%) $(DESTDIR)$(POLC_DATADIR)/examples/elevate.conf.example
	rmdir $(DESTDIR)$(POLC_DATADIR)/examples/pam/linux $(DESTDIR)$(POLC_DATADIR)/examples/pam/macos \
		$(DESTDIR)$(POLC_DATADIR)/examples/pam $(DESTDIR)$(POLC_DATADIR)/examples \
		$(DESTDIR)$(POLC_DATADIR)/launchd $(DESTDIR)$(POLC_DATADIR) 2>/dev/null || true

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
