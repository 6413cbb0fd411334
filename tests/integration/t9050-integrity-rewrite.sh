#!/bin/bash
# t9050: rewrites of sealed files copy on write at chunk granularity (issue
# 9 item 9).  Through the real mount, on sealed files of several chunks:
# one byte written with dd conv=notrunc, rsync --inplace of a changed copy,
# an append (a log reopened), a shared mmap written in place, a punched
# hole, a cut and a regrowth, two writers at once — each reads back exactly
# the bytes a plain file would hold, while being written (other readers) and
# after its reseal, whose enrp.sha256 is the SHA-256 of those bytes.  The
# spool file holds only the chunks touched.  A snapshot taken before still
# shows the old bytes, and trash keeps the verified copy of before.
. "$(dirname "$0")/lib.sh"
setup

state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
xsha() { getfattr --absolute-names --only-values -n enrp.sha256 "$1" 2>/dev/null; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 120 pending_empty "$1" || fail "$1: still pending after 120 s"; }
# same NAME DESC: the file on the mount holds what the reference copy does,
# and once sealed, its checksum is theirs.
same() {
	local f=$1 desc=$2
	cmp -s "$T/ref/$f" "$E/$f" && pass "$desc: reads back as a plain file would" ||
		fail "$desc: differs from the reference ($(cmp "$T/ref/$f" "$E/$f" 2>&1 | head -1))"
	settle e
	assert_eq "verified $(sha "$T/ref/$f")" "$(state "$E/$f") $(xsha "$E/$f")" "$desc: verified, with its SHA-256"
	cmp -s "$T/ref/$f" "$E/$f" && pass "$desc: and reads back sealed" || fail "$desc: differs once sealed"
}
spool_kib() { du -k "$STORE/spool/$(printf '%016x' "$(stat -c %i "$E/$1")")" 2>/dev/null | cut -f1; }

mk_eir e --owner root
mount_fs
E=$MNT/e
mkdir "$T/ref"
for f in a b c d m p t w; do
	head -c $((12 * 1024 * 1024 + RANDOM)) /dev/urandom >"$T/ref/$f"
	cp "$T/ref/$f" "$E/$f"
done
settle e
expect_ok ctl snapshot create e before
trash0=$(ctl trash list e --json | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')

# ---- one byte, in place ----------------------------------------------------------------------
printf 'X' | dd of="$T/ref/a" bs=1 seek=6000000 conv=notrunc status=none
printf 'X' | dd of="$E/a" bs=1 seek=6000000 conv=notrunc status=none || fail "dd 1 byte"
kib=$(spool_kib a)
assert_true "the spool file holds about one chunk, not 12 MiB (${kib:-?} KiB)" [ "${kib:-99999}" -lt 4096 ]
cmp -s "$T/ref/a" "$E/a" && pass "a: a second reader sees the byte at once" || fail "a: not seen"
same a "1 byte with dd conv=notrunc"

# ---- rsync --inplace of a changed copy ----------------------------------------------------------
"$PY" - "$T/ref/b" <<'EOF' || die "change b"
import sys
with open(sys.argv[1], "r+b") as fh:
    for off in (100, 3_000_000, 9_000_000):
        fh.seek(off)
        fh.write(b"changed by t9050" * 100)
EOF
expect_ok rsync --inplace --no-whole-file "$T/ref/b" "$E/b"
same b "rsync --inplace"

# ---- an append: a log reopened ------------------------------------------------------------------
head -c 300000 /dev/urandom >"$T/tail"
cat "$T/tail" >>"$T/ref/c"
cat "$T/tail" >>"$E/c" || fail "append"
same c "an append (>>)"

# ---- a shared mmap written in place ---------------------------------------------------------------
mm() {
	"$PY" - "$1" <<'EOF'
import mmap, sys
with open(sys.argv[1], "r+b") as fh:
    m = mmap.mmap(fh.fileno(), 0)
    for off in range(5, len(m), 1_000_003):
        m[off:off + 7] = b"mmapped"
    m.flush()
    m.close()
EOF
}
mm "$T/ref/m"
mm "$E/m" || fail "mmap write"
same m "a shared mmap written in place"

# ---- a punched hole ---------------------------------------------------------------------------
fallocate -p -o 1000000 -l 3000000 "$T/ref/p"
fallocate -p -o 1000000 -l 3000000 "$E/p" || fail "punch"
same p "a hole punched (fallocate -p)"

# ---- cut, then grown again: what was cut off reads as zeros ------------------------------------
truncate -s 5000000 "$T/ref/t" && truncate -s 9000000 "$T/ref/t"
truncate -s 5000000 "$E/t" || fail "truncate down"
truncate -s 9000000 "$E/t" || fail "truncate up"
printf 'Y' | dd of="$T/ref/t" bs=1 seek=7000000 conv=notrunc status=none
printf 'Y' | dd of="$E/t" bs=1 seek=7000000 conv=notrunc status=none || fail "dd past the cut"
same t "cut to 5 MB, grown to 9 MB, a byte past the cut"

# ---- two writers at once, each its own stripes -----------------------------------------------------
writer() {
	"$PY" - "$1" "$2" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
k = int(sys.argv[2])
for i in range(k, 200, 2):
    os.pwrite(fd, bytes([65 + k]) * 4096, i * 61_001)
os.close(fd)
EOF
}
writer "$T/ref/w" 0 && writer "$T/ref/w" 1
writer "$E/w" 0 & p0=$!
writer "$E/w" 1 & p1=$!
wait "$p0" && wait "$p1" || fail "two writers"
same w "two writers at once"

# ---- what was before is kept ---------------------------------------------------------------------
for f in a b c m p t w; do
	[ "$(sha "$MNT/e/.snapshots/before/$f")" = "$(sha "$T/ref/$f")" ] &&
		fail "the snapshot shows the new $f" || true
done
pass "the snapshot taken before shows none of the changes"
(cd "$MNT/e/.snapshots/before" && sha256sum --quiet -c ../../.enrp/SHA256SUMS >/dev/null 2>&1) &&
	fail "the live list matches the snapshot" || pass "the live SHA256SUMS is the new files'"
# Each file's copy of before is in the trash, by its SHA-256.  A file whose
# change took several commands (cut, grow, write) may also have been
# verified in between, and that copy is kept too: 7 at least.
trash=$(ctl trash list e --json | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')
assert_true "trash keeps a copy for each of the 7 changed files ($((trash - trash0)) new)" \
	test $((trash - trash0)) -ge 7
before_shas=$(for f in a b c m p t w; do sha "$MNT/e/.snapshots/before/$f"; done)
missing=$(ctl trash list e --json | "$PY" -c '
import json, sys
have = {e["sha256"] for e in json.load(sys.stdin)}
print(" ".join(s for s in sys.argv[1].split() if s not in have))' "$before_shas")
assert_eq "" "$missing" "trash keeps each verified copy of before (every SHA-256 of the snapshot)"
umount_fs
out=$(ctl fsck --json)
assert_eq 0 "$?" "fsck exits 0"
assert_match '"problems": 0' "$out" "and finds nothing"
mount_fs
for f in a b c m p t w; do
	cmp -s "$T/ref/$f" "$E/$f" || fail "$f differs after a remount"
done
pass "every file reads back after a remount"
finish
