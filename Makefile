# enrp — plain GNU make.  `make`, `make test`, `make install`, `make check-asan`.
PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
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

LIB    := $(BUILD)/libenrp.a
ENRPFS := $(BUILD)/enrpfs
ENRPCTL:= $(BUILD)/enrpctl

.PHONY: all test unit integration check check-layering check-asan check-valgrind \
        install uninstall clean demo
all: $(ENRPFS) $(ENRPCTL) $(UNIT_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(ENRPFS): $(FS_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(FS_OBJ) $(LIB) $(LDLIBS)

$(ENRPCTL): $(TOOLS_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(TOOLS_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/tap.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DENRP_INTERNAL -Icore -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# fs/ and tools/ reach LMDB, zstd and OpenSSL only through core (DESIGN §1).
check-layering:
	@! grep -nE '#include *<(lmdb|zstd|openssl/[a-z_]+)\.h>|"[a-z_]+_int\.h"' fs/*.[ch] tools/*.[ch] \
	  || { echo "layering: fs/ and tools/ must include only <enrp/*.h>"; exit 1; }

test: all check-layering
	BUILD=$(BUILD) tests/run

unit: all
	BUILD=$(BUILD) tests/run --unit

integration: all
	BUILD=$(BUILD) tests/run --integration

check: test

check-asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test

check-valgrind: all
	BUILD=$(BUILD) VALGRIND=1 tests/run --unit

install: $(ENRPFS) $(ENRPCTL)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(ENRPFS) $(ENRPCTL) $(DESTDIR)$(SBINDIR)/
	install -m 0644 fs/enrpfs.8 tools/enrpctl.8 $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/enrpfs $(DESTDIR)$(SBINDIR)/enrpctl \
	      $(DESTDIR)$(MANDIR)/man8/enrpfs.8 $(DESTDIR)$(MANDIR)/man8/enrpctl.8

demo: all
	tools/demo.sh

clean:
	rm -rf build build-asan

-include $(CORE_OBJ:.o=.d) $(FS_OBJ:.o=.d) $(TOOLS_OBJ:.o=.d)
