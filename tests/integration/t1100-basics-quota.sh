#!/bin/bash
# t1100: the EIR quota counts the logical bytes of live files; a write past
# it fails with EDQUOT, deleting frees it, df shows it (DESIGN §3).  A file
# past the largest size the store's filesystem takes is EFBIG in every EIR,
# with a quota or without, before the quota is looked at (truncate(2),
# ftruncate, fallocate, a write at the limit; a write across it is short).
. "$(dirname "$0")/lib.sh"
setup

mk_eir q --owner "$ALICE" --quota 10M
mk_eir other --owner "$ALICE" --quota 1M
mk_eir nq --owner "$ALICE"
mount_fs
Q=$MNT/q
MiB=1048576

df_size() { df -B1 --output="$2" "$MNT/$1" | tail -n1 | tr -d ' '; }

assert_eq $((10 * MiB)) "$(df_size q size)" "df size is the 10M quota"
assert_eq $((1 * MiB)) "$(df_size other size)" "df size of another EIR is its own quota"
assert_eq $((10 * MiB)) "$(df_size q avail)" "empty EIR: df avail is the whole quota"

expect_ok as "$ALICE" dd if=/dev/urandom of="$Q/big" bs=1M count=8 conv=fsync status=none
assert_eq $((8 * MiB)) "$(stat -c %s "$Q/big")" "8 MiB file written"
assert_eq $((8 * MiB)) "$(status_field q usage_bytes)" ".enrp/status usage_bytes is 8 MiB"
assert_eq $((8 * MiB)) "$(df_size q used)" "df used is 8 MiB"
assert_eq $((2 * MiB)) "$(df_size q avail)" "df avail is 2 MiB"

# 4 MiB more would reach 12 MiB > 10 MiB.
expect_fail EDQUOT as "$ALICE" dd if=/dev/zero of="$Q/more" bs=1M count=4 conv=fsync status=none
size_more=$(stat -c %s "$Q/more" 2>/dev/null || echo 0)
if [ "$size_more" -le $((2 * MiB)) ]; then
	pass "the refused file holds at most the 2 MiB left ($size_more)"
else
	fail "file written past the quota holds $size_more bytes"
fi
used=$(status_field q usage_bytes)
if [ "$used" -le $((10 * MiB)) ]; then
	pass "usage stays within quota after EDQUOT ($used)"
else
	fail "usage $used exceeds the 10 MiB quota"
fi
expect_ok as "$ALICE" rm -f "$Q/more"

expect_fail EDQUOT as "$ALICE" truncate -s 20M "$Q/sparse"
expect_fail EDQUOT as "$ALICE" fallocate -l 20M "$Q/falloc"
expect_fail EDQUOT as "$ALICE" truncate -s 11M "$Q/big"
assert_eq $((8 * MiB)) "$(stat -c %s "$Q/big")" "refused truncate left the size alone"
expect_fail EDQUOT as "$ALICE" bash -c 'head -c 3145728 /dev/zero >> "$1"' _ "$Q/big"
expect_ok as "$ALICE" truncate -s 8M "$Q/big"

# The largest file: the spool lives on the store's filesystem, like $T.
MAX=$("$PY" "$PYH" size-max "$T") || die "size-max $T"
log "largest file on the store's filesystem: $MAX bytes"
for e in q nq; do
	f=$MNT/$e/huge
	expect_ok as "$ALICE" touch "$f"
	if [ "$MAX" -lt 9223372036854775807 ]; then
		expect_fail EFBIG as "$ALICE" "$PY" "$PYH" truncate "$f" $((MAX + 1))
		expect_fail EFBIG as "$ALICE" "$PY" "$PYH" ftruncate "$f" $((MAX + 1))
		expect_fail EFBIG as "$ALICE" truncate -s $((MAX + 1)) "$f"
		expect_fail EFBIG as "$ALICE" "$PY" "$PYH" fallocate "$f" "$MAX" 4096
		expect_fail EFBIG as "$ALICE" "$PY" "$PYH" fallocate "$f" "$((MAX - 10))" 4096 keep
	else
		log "the filesystem takes files up to the kernel's bound: no size past it to try"
	fi
	expect_fail EFBIG as "$ALICE" "$PY" "$PYH" pwrite "$f" "$MAX" x
	assert_eq 0 "$(stat -c %s "$f")" "$e: refused calls left the size alone"
done
assert_eq $((8 * MiB)) "$(status_field q usage_bytes)" "refused calls charged nothing"
expect_fail EDQUOT as "$ALICE" "$PY" "$PYH" truncate "$Q/huge" "$MAX"
expect_ok as "$ALICE" "$PY" "$PYH" truncate "$MNT/nq/huge" "$MAX"
assert_eq 1 "$(as "$ALICE" "$PY" "$PYH" pwrite "$MNT/nq/huge" $((MAX - 1)) xyz)" \
	"a write across the largest size is cut short there"
expect_ok as "$ALICE" rm "$Q/huge" "$MNT/nq/huge"

# A hard link adds no logical bytes.
expect_ok as "$ALICE" ln "$Q/big" "$Q/big-link"
assert_eq $((8 * MiB)) "$(status_field q usage_bytes)" "a hard link does not count twice"

# Deleting frees the space at once.
expect_ok as "$ALICE" rm "$Q/big" "$Q/big-link"
assert_eq 0 "$(status_field q usage_bytes)" "usage_bytes back to 0 after rm"
assert_eq $((10 * MiB)) "$(df_size q avail)" "df avail back to the whole quota"
expect_ok as "$ALICE" dd if=/dev/urandom of="$Q/again" bs=1M count=9 conv=fsync status=none
assert_eq $((9 * MiB)) "$(stat -c %s "$Q/again")" "9 MiB fits after the delete"

# Overwriting in place does not grow usage.
expect_ok as "$ALICE" dd if=/dev/zero of="$Q/again" bs=1M count=9 conv=notrunc,fsync status=none
assert_eq $((9 * MiB)) "$(status_field q usage_bytes)" "overwrite in place keeps usage at 9 MiB"

# Raising the quota takes effect at once; the other EIR is unaffected.
expect_ok ctl eir set q --quota 20M
assert_eq $((20 * MiB)) "$(df_size q size)" "df size follows eir set --quota"
expect_ok as "$ALICE" dd if=/dev/zero of="$Q/fits-now" bs=1M count=5 conv=fsync status=none
expect_fail EDQUOT as "$ALICE" dd if=/dev/zero of="$MNT/other/x" bs=1M count=2 conv=fsync status=none

# Lowering below usage: nothing is removed, new writes are refused.
expect_ok ctl eir set q --quota 1M --force
expect_fail EDQUOT as "$ALICE" bash -c 'echo x > "$1"' _ "$Q/one-more"
expect_ok as "$ALICE" rm "$Q/fits-now"
assert_eq $((9 * MiB)) "$(stat -c %s "$Q/again")" "existing data kept when the quota is lowered"

# Usage survives a remount.
umount_fs
mount_fs
assert_eq $((9 * MiB)) "$(status_field q usage_bytes)" "usage_bytes survives a remount"

finish
