# enrp — plain GNU make.  `make`, `make test`, `make install`, `make check-asan`.
PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# systemd reads units below /usr/local/lib too, so PREFIX applies as is.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
LOCALEDIR ?= $(PREFIX)/share/locale
BUILD   ?= build

PKGS    := fuse3 lmdb libzstd libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

CC      ?= cc
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wvla -Wwrite-strings -Wformat=2 -Wundef
CFLAGS  ?=
CFLAGS  += -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -pthread $(OPT) $(WARN) \
           -Iinclude $(PKG_CFLAGS) $(SAN)
LDFLAGS += -pthread $(SAN)
LDLIBS  += $(PKG_LIBS)

CORE_SRC  := $(sort $(wildcard core/*.c))
FS_SRC    := $(sort $(wildcard fs/*.c))
TOOLS_SRC := $(sort $(wildcard tools/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))

CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
FS_OBJ    := $(FS_SRC:%.c=$(BUILD)/%.o)
TOOLS_OBJ := $(TOOLS_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# Message catalogues (include/enrp/i18n.h): tools/po/LANG.po, built into
# BUILD/locale, where a program run from BUILD finds them.
LINGUAS := ru kk
MO      := $(LINGUAS:%=$(BUILD)/locale/%/LC_MESSAGES/enrp.mo)

LIB    := $(BUILD)/libenrp.a
ENRPFS := $(BUILD)/enrpfs
ENRPCTL:= $(BUILD)/enrpctl

.PHONY: all test unit integration check check-deps check-layering check-asan check-tsan check-valgrind \
        install uninstall clean demo crash bench bench-quick
all: $(ENRPFS) $(ENRPCTL) $(UNIT_BIN) $(MO)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/core/i18n.o: CFLAGS += -DENRP_LOCALEDIR='"$(LOCALEDIR)"'

$(BUILD)/locale/%/LC_MESSAGES/enrp.mo: tools/po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

# Every string the printing functions and N_() take goes to the template;
# `make pot` rewrites tools/po/enrp.pot and merges it into each LANG.po, and
# tests/integration/t0200-i18n-catalogues.sh fails while any message lacks a
# translation.
XGETTEXT_KEYWORDS := --keyword=_ --keyword=N_ \
  --keyword=ctl_err --flag=ctl_err:1:c-format \
  --keyword=ctl_hint --flag=ctl_hint:1:c-format \
  --keyword=ctl_warn --flag=ctl_warn:1:c-format \
  --keyword=ctl_line:2 --flag=ctl_line:2:c-format \
  --keyword=ctl_usage_error:3 --flag=ctl_usage_error:3:c-format \
  --keyword=ctl_confirm:3 --flag=ctl_confirm:3:c-format \
  --keyword=ctl_eir_error:1 --keyword=ctl_store_not_roots:1 \
  --keyword=enrp_log:2 --flag=enrp_log:2:c-format \
  --keyword=say --flag=say:1:c-format \
  --keyword=problem:4 --flag=problem:4:c-format
POT_OUT ?= tools/po/enrp.pot
.PHONY: pot
pot:
	xgettext --from-code=UTF-8 --language=C --add-comments=TRANSLATORS: --sort-by-file --add-location=file \
	  --package-name=enrp --msgid-bugs-address=enrp@localhost $(XGETTEXT_KEYWORDS) \
	  -o $(POT_OUT) $(CORE_SRC) $(FS_SRC) $(TOOLS_SRC)
	@if [ "$(POT_OUT)" = tools/po/enrp.pot ]; then \
	  for l in $(LINGUAS); do msgmerge --quiet --update --backup=none --no-fuzzy-matching --add-location=file tools/po/$$l.po $(POT_OUT); done; fi

$(LIB): $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# sd_notify (fs/service.c): enrpfs alone links libsystemd.
FS_LIBS := $(shell pkg-config --libs libsystemd)
$(ENRPFS): $(FS_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(FS_OBJ) $(LIB) $(LDLIBS) $(FS_LIBS)

# TOTP (core/mfa.c): liboath, linked only where mfa.o is (enrpctl, tests).
MFA_CFLAGS := $(shell pkg-config --cflags liboath)
MFA_LIBS   := $(shell pkg-config --libs liboath)
$(BUILD)/core/mfa.o: CFLAGS += $(MFA_CFLAGS)

$(ENRPCTL): $(TOOLS_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(TOOLS_OBJ) $(LIB) $(LDLIBS) $(MFA_LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/tap.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DENRP_INTERNAL -Icore -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) $(MFA_LIBS)

$(filter $(BUILD)/tests/test_ingest%,$(UNIT_BIN)): tests/unit/ingest_fixture.h

# fs/ and tools/ reach LMDB, zstd, OpenSSL and liboath only through core (DESIGN §1).
check-layering:
	@! grep -nE '#include *<(lmdb|zstd|openssl/[a-z_]+|liboath/oath)\.h>|"[a-z_]+_int\.h"' fs/*.[ch] tools/*.[ch] \
	  || { echo "layering: fs/ and tools/ must include only <enrp/*.h>"; exit 1; }

# The quick loop: unit tests and the integration tests on real mounts.
check: all check-layering
	BUILD=$(BUILD) tests/run

unit: all
	BUILD=$(BUILD) tests/run --unit

integration: all
	BUILD=$(BUILD) tests/run --integration

# Every program and Python module the suites and the bench use comes from
# tools/packages.txt or Debian's base system (tools/depcheck.py).
check-deps:
	tools/deps.sh --check

# Everything CI runs (and the README's test command): check-deps, the suite,
# then again under AddressSanitizer+UBSan, the threaded code under ThreadSanitizer, the
# unit tests under valgrind, the crash harness (CRASH_RUNS, 20 here), each fuzzer
# for FUZZ_SECONDS (15 here) after its regression inputs, and the benchmarks on
# small data (so none of these harnesses rots).  The suites run 3 tests at
# once (ENRP_TEST_JOBS): most of a mount test's time is spent waiting, so on
# 2 CPUs a third one fills it; the whole stays under 40 minutes.  Each value
# given on the command line or in the environment wins.
test: export ENRP_TEST_JOBS ?= 3
test: export CRASH_RUNS ?= 20
test: FUZZ_SECONDS = 15
test: check-deps check check-asan check-tsan check-valgrind crash fuzz-run bench-quick

bench-quick: all
	BUILD=$(BUILD) BENCH_QUICK=1 tests/bench/run

# Reports go to files, so those of a daemonised enrpfs (whose stderr is
# /dev/null) are seen too; any report fails the target.  Sanitized code runs
# 2-5 times slower (t8510 took 56 s plain and past 300 s here on a busy
# host): each test gets up to 10 minutes (a memory check, not a timing one).
SANLOG := $(CURDIR)/build-asan/sanitizer-logs
check-asan:
	rm -rf $(SANLOG) && mkdir -p $(SANLOG)
	ENRP_TEST_TIMEOUT=$${ENRP_TEST_TIMEOUT:-600} \
	ASAN_OPTIONS=log_path=$(SANLOG)/asan:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(SANLOG)/ubsan:print_stacktrace=1 \
	  $(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" check
	@if [ -n "$$(ls -A $(SANLOG))" ]; then \
	  echo "check-asan: sanitizer reports:"; cat $(SANLOG)/*; exit 1; fi

# The threaded code (group commit, seal workers, denial aggregation, the
# journal mirror's hooks, the control socket) under ThreadSanitizer.
TSAN_TESTS := test_store test_ingest test_ingest_pool test_ingest_rewrites test_journal test_journal_mirror test_rundir
check-tsan:
	$(MAKE) BUILD=build-tsan OPT="-O1 -g -fno-omit-frame-pointer" SAN="-fsanitize=thread" all
	BUILD=build-tsan TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  tests/run --unit $(TSAN_TESTS)

# Valgrind runs code 20-50 times slower, and its three tests at once share
# two CPUs: the seal tests took 143-309 s on a busy day, so each gets up to
# 15 minutes here (a leak and memory-error check, not a timing one).
check-valgrind: all
	BUILD=$(BUILD) VALGRIND=1 ENRP_TEST_TIMEOUT=$${ENRP_TEST_TIMEOUT:-900} tests/run --unit

# SIGKILL enrpfs under random workloads, recover, check (CRASH_RUNS, CRASH_SEED).
crash: all
	BUILD=$(BUILD) tests/crash/run

bench: all
	BUILD=$(BUILD) tests/bench/run

install: $(ENRPFS) $(ENRPCTL) $(MO)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(ENRPFS) $(ENRPCTL) $(DESTDIR)$(SBINDIR)/
	install -m 0644 fs/enrpfs.8 tools/enrpctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 tools/enrpctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/enrpctl
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' fs/enrpfs@.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/enrpfs@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/enrpfs@.service
	sed 's|@SBINDIR@|$(SBINDIR)|g' tools/enrp-notify@.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/enrp-notify@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/enrp-notify@.service
	install -m 0644 tools/enrp-notify@.timer $(DESTDIR)$(SYSTEMDUNITDIR)/
	for l in $(LINGUAS); do \
	  install -d $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES && \
	  install -m 0644 $(BUILD)/locale/$$l/LC_MESSAGES/enrp.mo $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/ || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/enrpfs $(DESTDIR)$(SBINDIR)/enrpctl \
	      $(DESTDIR)$(MANDIR)/man8/enrpfs.8 $(DESTDIR)$(MANDIR)/man8/enrpctl.8 \
	      $(DESTDIR)$(BASHCOMPDIR)/enrpctl $(DESTDIR)$(SYSTEMDUNITDIR)/enrpfs@.service \
	      $(DESTDIR)$(SYSTEMDUNITDIR)/enrp-notify@.service $(DESTDIR)$(SYSTEMDUNITDIR)/enrp-notify@.timer \
	      $(LINGUAS:%=$(DESTDIR)$(LOCALEDIR)/%/LC_MESSAGES/enrp.mo)

demo: all
	tools/demo.sh

clean:
	rm -rf build build-asan build-tsan

-include $(CORE_OBJ:.o=.d) $(FS_OBJ:.o=.d) $(TOOLS_OBJ:.o=.d)

# ---- fuzzing (tests/fuzz/README.md) ----
# libFuzzer targets built with clang, ASan and UBSan; the core sources each
# target needs are compiled again, instrumented, under $(FUZZ_BUILD)/.
# `fuzz` builds them, `fuzz-regress` replays the saved crashes, `fuzz-run`
# does that and then fuzzes each target for FUZZ_SECONDS from its committed
# seed corpus (new inputs go to $(FUZZ_BUILD)/work, never into the tree).
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_SEED    ?= 1
FUZZ_TARGETS := records frame units anchor retention csv schedule
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
                -DENRP_INTERNAL -Iinclude -Icore $(shell pkg-config --cflags fuse3 lmdb libzstd libcrypto liboath) \
                -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
FUZZ_LIBS    := $(shell pkg-config --libs lmdb libzstd libcrypto liboath) -pthread
FUZZ_ENV     := ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-run fuzz-regress fuzz-seeds fuzz-clean
fuzz: $(FUZZ_BIN)

$(FUZZ_BUILD)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%.o: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%.o)
# The core sources each target links.
# record.c and units.c use the calendar, which keeps holidays in the store.
$(FUZZ_BUILD)/fuzz_records: $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o)
$(FUZZ_BUILD)/fuzz_frame: $(FUZZ_BUILD)/core/codec.o $(FUZZ_BUILD)/core/log.o
$(FUZZ_BUILD)/fuzz_units: $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o)
# retention.c keeps policies in the store too: the whole of core links in.
$(FUZZ_BUILD)/fuzz_retention: $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o)
$(FUZZ_BUILD)/fuzz_anchor: $(FUZZ_BUILD)/core/journal_syslog.o
$(FUZZ_BUILD)/fuzz_csv: $(FUZZ_BUILD)/core/csv.o $(FUZZ_BUILD)/core/schedule.o $(FUZZ_BUILD)/core/text.o
$(FUZZ_BUILD)/fuzz_schedule: $(FUZZ_BUILD)/core/schedule.o $(FUZZ_BUILD)/core/slots.o \
	$(FUZZ_BUILD)/core/tz.o $(FUZZ_BUILD)/core/i18n.o $(FUZZ_BUILD)/core/log.o
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz_%.o
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

# Each saved crash input, run once; fails if any still crashes (all are run,
# and each failure is named).
fuzz-regress: fuzz
	@fail=0; n=0; for t in $(FUZZ_TARGETS); do \
	  for f in $$(find tests/fuzz/regress/$$t -type f ! -name '.*' 2>/dev/null | sort); do \
	    n=$$((n + 1)); \
	    if ! $(FUZZ_ENV) $(FUZZ_BUILD)/fuzz_$$t $$f >$(FUZZ_BUILD)/regress.log 2>&1; then \
	      fail=$$((fail + 1)); echo "fuzz-regress: FAIL $$f"; \
	      grep -m1 -E 'property failed|runtime error|ERROR: [A-Za-z]+Sanitizer' \
	        $(FUZZ_BUILD)/regress.log | sed 's/^/    /'; \
	    fi; \
	  done; \
	done; echo "fuzz-regress: $$((n - fail)) passed, $$fail failed"; [ $$fail -eq 0 ]

# Deterministic for a given FUZZ_SEED (one job, one worker).
fuzz-run: fuzz-regress
	@set -e; for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_BUILD)/work/$$t; mkdir -p $(FUZZ_BUILD)/work/$$t $(FUZZ_BUILD)/artifacts/$$t; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  echo "fuzz-run: $$t for $(FUZZ_SECONDS)s (seed $(FUZZ_SEED))"; \
	  $(FUZZ_ENV) $(FUZZ_BUILD)/fuzz_$$t -seed=$(FUZZ_SEED) -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 $$dict \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ \
	    $(FUZZ_BUILD)/work/$$t tests/fuzz/corpus/$$t >$(FUZZ_BUILD)/run-$$t.log 2>&1 \
	    || { tail -n 60 $(FUZZ_BUILD)/run-$$t.log; \
	         echo "fuzz-run: $$t: crash saved in $(FUZZ_BUILD)/artifacts/$$t/"; exit 1; }; \
	  grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec' \
	    $(FUZZ_BUILD)/run-$$t.log || true; \
	done; echo "fuzz-run: ok"

# Regenerates tests/fuzz/corpus/ from real encodings (plain cc, the core
# sources it needs linked in).
fuzz-seeds:
	@mkdir -p $(FUZZ_BUILD)
	$(CC) -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -O1 -g $(WARN) -DENRP_INTERNAL -Iinclude -Icore \
	  $(PKG_CFLAGS) -o $(FUZZ_BUILD)/make_seeds tests/fuzz/make_seeds.c core/record.c \
	  core/codec.c core/log.c core/journal_syslog.c $(FUZZ_LIBS)
	$(FUZZ_BUILD)/make_seeds tests/fuzz/corpus

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

-include $(wildcard $(FUZZ_BUILD)/*.d $(FUZZ_BUILD)/core/*.d)
