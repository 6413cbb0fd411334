#!/bin/bash
# t2150: a writable shared mapping across a switch to ro (DESIGN §4).  The
# kernel cannot take write permission back from a mapping, and FUSE has no
# request per store, so stores into it keep succeeding; what enrp can do is
# refuse their write-back.  This test pins exactly what a writer sees, as
# documented in enrpfs(8) and docs/design.md:
#   - stores made and msync'ed before the switch are kept;
#   - stores after it are accepted by the CPU (no signal) but never reach the
#     file: the daemon refuses their write-back with EROFS and journals it;
#   - msync(MS_SYNC) and fsync report EROFS, close of a descriptor whose
#     mapping is still there reports EIO;
#   - munmap then close report nothing: only a writer that msyncs or fsyncs
#     learns of the loss;
#   - a new writable open (so a new writable mapping) fails with EROFS.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner "$ALICE"
mount_fs
E=$MNT/e
for f in a b c; do
	head -c 8192 /dev/zero | tr '\0' . >"$E/$f" || die "write $f"
done
poll_until 30 bash -c '[ "$(getfattr --only-values -n enrp.state "$1/a" 2>/dev/null)" = verified ]' _ "$E" ||
	die "a not verified"
N=$(audit_count --event denied)

# Each line of the python is "ok|description" or "fail|description".  It
# runs as root, bound by the mode like everyone, and switches it with
# enrpctl between its steps.
results=$("$PY" - "$ENRPCTL" "$STORE" "$E" <<'PYEOF' 2>&1
import errno, mmap, os, sys
from driver import *
ctl, store, d = sys.argv[1], sys.argv[2], sys.argv[3]

def mode(m):
    set_mode(ctl, store, "e", m)

def mapped(path):
    fd = os.open(path, os.O_RDWR)
    return fd, mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

mode("rw")
fa, ma = mapped(d + "/a")
fb, mb = mapped(d + "/b")
fc, mc = mapped(d + "/c")
ma[0:5] = b"AAAAA"
say(err_of(ma.flush) == 0, "msync before the switch: 0")
mode("ro")

# a: msync, then more stores, munmap, fsync, close.
ma[10:15] = b"BBBBB"
say(True, "a store into the mapping after the switch: accepted, no signal")
e = err_of(ma.flush)
say(e == errno.EROFS, "msync(MS_SYNC) after the switch: EROFS (got %s)" % errname(e))
ma[20:25] = b"CCCCC"
ma.close()
say(True, "munmap: no error")
e = err_of(os.fsync, fa)
say(e == errno.EROFS, "fsync after munmap: EROFS (got %s)" % errname(e))
e = err_of(os.close, fa)
say(e == 0, "close after that: 0 (got %s)" % errname(e))

# b: stores, munmap, close: nothing reports the loss.
mb[0:5] = b"DDDDD"
mb.close()
e = err_of(os.close, fb)
say(e == 0, "munmap then close without msync/fsync: 0, the loss is silent (got %s)" % errname(e))

# c: close while still mapped: the flush at close writes back and fails.
mc[0:5] = b"EEEEE"
e = err_of(os.close, fc)
say(e == errno.EIO, "close with the mapping still there: EIO (got %s)" % errname(e))
mc.close()

# What the files hold, read afresh.
mode("rw")
with open(d + "/a", "rb") as f:
    got = f.read(30)
say(got == b"AAAAA" + b"." * 25, "a: the msync'ed store kept, the later ones not (%r)" % got)
with open(d + "/b", "rb") as f:
    got = f.read(10)
say(got == b"." * 10, "b: the store after the switch is not in the file (%r)" % got)
with open(d + "/c", "rb") as f:
    got = f.read(10)
say(got == b"." * 10, "c: the store after the switch is not in the file (%r)" % got)

# No new writable mapping while ro.
mode("ro")
e = err_of(os.open, d + "/a", os.O_RDWR)
say(e == errno.EROFS, "open(O_RDWR) for a new mapping in ro: EROFS (got %s)" % errname(e))
fd = os.open(d + "/a", os.O_RDONLY)
e = err_of(mmap.mmap, fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
say(e == errno.EACCES, "a writable shared mapping of a read-only descriptor: EACCES (got %s)" % errname(e))
os.close(fd)
mode("rw")
PYEOF
)
driver_results "$results"
assert_match '^ok\|' "$results" "the python part ran"

# The refused write-backs are journalled as denied writes.
umount_fs
n=$(audit_count --event denied)
assert_true "refused write-backs journalled as denials ($N -> $n)" test "$n" -gt "$N"
assert_match 'op=write errno=EROFS' "$(ctl audit show --event denied)" "... op=write errno=EROFS"

finish
