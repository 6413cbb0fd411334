#!/bin/bash
# t9500: one EIR's huge seal never holds another's checksums (DESIGN §5,
# issue 8 item 10), on a real mount with ONE seal worker: while EIR big seals
# a 1 TiB sparse file (all holes: ~15 CPU-minutes of SHA-256 over its
# zeros), a 2-byte file of EIR small and a file of the class 1 EIR urgent
# are verified; deleting the 1 TiB file abandons its seal, so the file of
# big queued behind it (its own EIR goes oldest first) is verified next; a
# sparse 2 GiB file seals with the SHA-256 of its bytes, stores only its
# data, and reads back byte for byte.  The time limits only tell "seconds"
# from "a quarter of an hour" apart.
. "$(dirname "$0")/lib.sh"
setup

MiB=1048576
GiB=$((1024 * MiB))
state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
xsha() { getfattr --absolute-names --only-values -n enrp.sha256 "$1" 2>/dev/null; }
is_state() { [ "$(state "$1")" = "$2" ]; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
# The daemon's CPU time so far, in clock ticks (utime + stime).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$(daemon_pid)/stat"; }

mk_eir big --owner root --class 3
mk_eir small --owner root --class 3
mk_eir urgent --owner root --class 1
mount_fs -o workers=1

# ---- a 1 TiB sparse file keeps the only worker busy -------------------------------------------
expect_ok truncate -s 1T "$MNT/big/sparse"
poll_until 20 is_state "$MNT/big/sparse" pending || fail "the 1 TiB file is not pending: $(state "$MNT/big/sparse")"
c0=$(cpu_ticks)
sleep 2
c1=$(cpu_ticks)
log "daemon CPU over two seconds of the 1 TiB seal: $((c1 - c0)) ticks"
assert_true "the worker is sealing the 1 TiB file" [ $((c1 - c0)) -gt 10 ]

# ---- another EIR's file, and a class 1 EIR's, do not wait for it -------------------------------
printf ab >"$MNT/small/two"
if poll_until 60 is_state "$MNT/small/two" verified; then
	pass "a 2-byte file of another EIR is verified while the 1 TiB seal runs"
else
	fail "the 2-byte file of EIR small: $(state "$MNT/small/two") after 60 s"
fi
assert_eq "$(printf ab | sha256sum | cut -d' ' -f1)" "$(xsha "$MNT/small/two")" "with its SHA-256"
printf x >"$MNT/urgent/one"
if poll_until 60 is_state "$MNT/urgent/one" verified; then
	pass "a file of a class 1 EIR is verified while the 1 TiB seal runs"
else
	fail "the file of the class 1 EIR: $(state "$MNT/urgent/one") after 60 s"
fi
assert_eq "pending" "$(state "$MNT/big/sparse")" "the 1 TiB file is still being sealed (it was parked, not finished)"

# ---- deleting it abandons its seal -----------------------------------------------------------------
printf y >"$MNT/big/after"
assert_eq "pending" "$(state "$MNT/big/after")" "a file of big queued behind the 1 TiB one is pending"
expect_ok rm "$MNT/big/sparse"
if poll_until 60 is_state "$MNT/big/after" verified; then
	pass "after the 1 TiB file is deleted, the next file of its EIR is verified (its seal was abandoned)"
else
	fail "big/after: $(state "$MNT/big/after") 60 s after the 1 TiB file was deleted"
fi
sleep 1
c0=$(cpu_ticks)
sleep 2
c1=$(cpu_ticks)
log "daemon CPU over two idle seconds after the delete: $((c1 - c0)) ticks"
assert_true "the worker stopped hashing the deleted file's holes" [ $((c1 - c0)) -lt 60 ]

# ---- a sparse 2 GiB file: holes hashed, not stored, read back as zeros ------------------------------
"$PY" - "$T/src" <<'EOF' || die "cannot write the local sparse file"
import os, random, sys
r = random.Random(9500)
with open(sys.argv[1], "wb") as f:
    f.write(r.randbytes(1 << 20))
    f.seek(1536 << 20)
    f.write(r.randbytes((1 << 20) + 123))
    f.truncate(2 << 30)
EOF
id=$(eir_id small)
du0=$(du -sb "$STORE/chunks/$id" | cut -f1)
expect_ok cp --sparse=always "$T/src" "$MNT/small/sparse2g"
if poll_until 120 is_state "$MNT/small/sparse2g" verified; then
	pass "a 2 GiB sparse file is verified"
else
	fail "small/sparse2g: $(state "$MNT/small/sparse2g") after 120 s"
fi
assert_eq "$(sha "$T/src")" "$(xsha "$MNT/small/sparse2g")" "with the SHA-256 of all its bytes, zeros included"
du1=$(du -sb "$STORE/chunks/$id" | cut -f1)
log "chunk files of EIR small grew by $((du1 - du0)) bytes for 2 GiB (2 MiB of data)"
assert_true "only its data is stored (< 8 MiB of chunk files)" [ $((du1 - du0)) -lt $((8 * MiB)) ]
expect_ok cmp "$T/src" "$MNT/small/sparse2g"
assert_eq "$(dd if="$T/src" bs=1M skip=1000 count=1 status=none | sha256sum)" \
	"$(dd if="$MNT/small/sparse2g" bs=1M skip=1000 count=1 status=none | sha256sum)" \
	"a read in the middle of the hole returns zeros"
assert_eq "$((2 * GiB))" "$(stat -c %s "$MNT/small/sparse2g")" "its size is 2 GiB"

umount_fs
r=$(ctl fsck --json)
assert_match '"findings": \[\]' "$r" "fsck finds nothing after the sparse seals"
finish
