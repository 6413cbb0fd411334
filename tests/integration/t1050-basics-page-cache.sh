#!/bin/bash
# t1050: a reopened file keeps the kernel's pages of it (docs/design.md, "The
# page cache"), and those pages never show a byte the store does not hold:
#   - after a read, a fresh open finds the file's pages resident (fincore),
#     and so after a rewrite and the stat that refreshes its attributes;
#   - every change made through another open or another name (pwrite, O_TRUNC
#     replace, truncate(2), a punched hole, an append, a write through a hard
#     link) is what the next open reads, and what enrp.sha256 says;
#   - a write refused after the kernel had copied it into its pages leaves
#     none of it to the next open: a write(2) on a handle opened before a
#     switch to ro, and a shared mapping's stores whose write-back the daemon
#     refused (fsync: EROFS), both read back as the stored bytes while the
#     EIR is still ro (no switch drops the pages in between);
#   - another account's open is still refused on a file whose pages are kept.
. "$(dirname "$0")/lib.sh"
setup
ensure_users

mk_eir e --owner "$ALICE"
mount_fs
E=$MNT/e

verified() { [ "$(getfattr --only-values -n enrp.state "$1" 2>/dev/null)" = verified ]; }
resident() { fincore --bytes --noheadings --output RES "$1" | tr -d " "; }

# ---- kept -------------------------------------------------------------------
head -c 65536 /dev/urandom >"$T/f"
cp "$T/f" "$E/f" || die "write f"
poll_until 30 verified "$E/f" || die "f not verified"
cat "$E/f" >/dev/null || die "read f"
assert_eq 65536 "$(resident "$E/f")" "a fresh open after a read finds all 64 KiB of f's pages kept"
cmp -s "$T/f" "$E/f" && pass "and they hold f's bytes" || fail "f reads back other bytes"
# The pages a write fills are kept too, through the attribute refresh that
# follows it (whose new mtime must not drop them).
"$PY" -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, os.urandom(16384))
os.close(fd)
os.stat(sys.argv[1])' "$E/f" || die "rewrite f"
assert_eq 16384 "$(resident "$E/f")" "after a rewrite and a stat, its 16 KiB of written pages are kept"

# ---- coherent ---------------------------------------------------------------
# The python reads each file into the kernel's cache, changes it through
# another open or name, then reads it through a fresh open.
results=$("$PY" - "$E" "$T" <<'PYEOF' 2>&1
import hashlib, os, subprocess, sys
from driver import *
d, t = sys.argv[1], sys.argv[2]

def read(p):
    with open(p, "rb", buffering=0) as f:
        return f.read()

def check(p, want, what):
    read(p)  # the cache now holds the file as it was
    got = read(p)
    say(got == want, "%s: a fresh open reads the new bytes (%d bytes, want %d)"
        % (what, len(got), len(want)))

p = d + "/c"
data = bytearray(os.urandom(40000))
with open(p, "wb") as f:
    f.write(data)
read(p)

fd = os.open(p, os.O_WRONLY)
os.pwrite(fd, b"XYZ" * 100, 1000)
os.close(fd)
data[1000:1300] = b"XYZ" * 100
check(p, bytes(data), "pwrite through another open")

read(p)
data = bytearray(os.urandom(5000))
fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
os.write(fd, data)
os.close(fd)
check(p, bytes(data), "O_TRUNC replace, shorter")

read(p)
os.truncate(p, 3000)
data = data[:3000]
check(p, bytes(data), "truncate(2) by path")

read(p)
subprocess.run(["fallocate", "--punch-hole", "--offset", "0", "--length", "4096", p],
               check=True)
data[0:3000] = bytes(3000)
check(p, bytes(data), "a punched hole")

read(p)
more = os.urandom(7000)
with open(p, "ab") as f:
    f.write(more)
data += more
check(p, bytes(data), "an append")

os.link(p, d + "/c-link")
read(p)
fd = os.open(d + "/c-link", os.O_WRONLY)
os.pwrite(fd, b"LINK", 8000)
os.close(fd)
data[8000:8004] = b"LINK"
check(p, bytes(data), "a write through a hard link")

sha = verified_sha(p)
say(sha == hashlib.sha256(data).hexdigest(), "enrp.sha256 is the SHA-256 of those bytes")
say(read(p) == bytes(data), "and a read after the seal still gives them")
PYEOF
)
driver_results "$results"
assert_match '^ok\|' "$results" "the coherence part ran"

# ---- refused writes ---------------------------------------------------------
# Root is bound by the mode like everyone; the python switches it itself.
for f in w m; do
	head -c 8192 /dev/zero | tr '\0' . >"$E/$f" || die "write $f"
done
poll_until 30 verified "$E/m" || die "m not verified"
results=$("$PY" - "$ENRPCTL" "$STORE" "$E" <<'PYEOF' 2>&1
import errno, mmap, os, sys
from driver import *
ctl, store, d = sys.argv[1], sys.argv[2], sys.argv[3]

def mode(m):
    set_mode(ctl, store, "e", m)

def read(p):
    with open(p, "rb", buffering=0) as f:
        return f.read()

dots = b"." * 8192
mode("rw")
fw = os.open(d + "/w", os.O_RDWR)
fm = os.open(d + "/m", os.O_RDWR)
mm = mmap.mmap(fm, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
say(os.pread(fw, 8192, 0) == dots and mm[:] == dots, "both files in the cache, read through their handles")
mode("ro")

e = err_of(os.pwrite, fw, b"EVIL" * 1024, 0)
say(e == errno.EROFS, "a write(2) after the switch: EROFS (got %s)" % errname(e))
os.close(fw)
got = read(d + "/w")
say(got == dots, "w: a fresh open reads the stored bytes, none of the refused write (%r)" % got[:8])

mm[0:4096] = b"EVIL" * 1024
mm.close()
e = err_of(os.fsync, fm)
say(e == errno.EROFS, "the mapping's write-back refused: fsync EROFS (got %s)" % errname(e))
os.close(fm)
got = read(d + "/m")
say(got == dots, "m: a fresh open reads the stored bytes, none of the refused stores (%r)" % got[:8])
got = read(d + "/m")
say(got == dots, "m: and so does the open after it (%r)" % got[:8])
mode("rw")
PYEOF
)
driver_results "$results"
assert_match '^ok\|' "$results" "the refused-writes part ran"

# ---- another account --------------------------------------------------------
as "$ALICE" sh -c "umask 077; head -c 20000 /dev/urandom >'$E/private'" || die "alice writes private"
as "$ALICE" cat "$E/private" >/dev/null || die "alice reads private"
expect_fail EACCES as "$BOB" cat "$E/private" # its pages are kept: the open still asks

umount_fs
finish
