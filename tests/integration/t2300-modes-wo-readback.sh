#!/bin/bash
# t2300: write-only means no byte comes back, by any path (DESIGN §4).  With
# a handle created O_RDWR in wo, or opened (O_RDWR, O_RDONLY) in rw before a
# switch to wo; after a write, a setattr (futimens, fchmod, same-size
# ftruncate), or another writer (root) writing later: read, pread, readv,
# preadv2, fadvise+pread, mmap shared and private, sendfile, splice,
# copy_file_range and FICLONE(RANGE) — into the owner's own rw EIR or /tmp —
# return nothing, and every fresh open for reading is refused.  The driver
# is tests/integration/woleak.py; the reads the daemon refused are journalled.
. "$(dirname "$0")/lib.sh"
setup

mk_eir wo --owner "$ALICE"
mk_eir mine --owner "$ALICE"
mount_fs

before=$(audit_count --event denied)
results=$("$PY" "$LIB_DIR/woleak.py" readback "$ENRPCTL" "$STORE" "$MNT/wo" "$MNT/mine" "$ALICE" 2>&1)
rc=$?
driver_results "$results"
[ "$rc" -eq 0 ] || fail "woleak.py readback exited $rc"

# Nothing was read behind the daemon's back: it refused (and journalled)
# what it was asked.
umount_fs
after=$(audit_count --event denied)
assert_true "the refused reads are in the journal ($before -> $after denied records)" \
	test "$after" -gt "$before"
denied_reads=$(ctl audit show --json --event denied | "$PY" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["details"].get("op") == "read"))')
assert_true "denied reads of the wo EIR are recorded ($denied_reads records)" \
	test "$denied_reads" -gt 0
mount_fs
finish
