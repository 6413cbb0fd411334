#!/bin/bash
# t3100: the other ways data arrives (DESIGN §3): tar in and out, cp -a both
# ways, dd, shell redirection; byte for byte, including a 64 MiB random file
# and sparse files, and again after a remount.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner "$ALICE"
mount_fs
E=$MNT/e
SRC=$T/src
mkdir "$SRC"
"$PY" "$LIB_DIR/mktree.py" "$SRC" 120 5 || die "mktree failed"
head -c $((64 << 20)) /dev/urandom >"$SRC/random64M"
truncate -s 100M "$SRC/sparse"
printf 'start' | dd of="$SRC/sparse" conv=notrunc status=none
printf 'middle' | dd of="$SRC/sparse" bs=1 seek=$((50 << 20)) conv=notrunc status=none
printf 'end' | dd of="$SRC/sparse" bs=1 seek=$(((100 << 20) - 3)) conv=notrunc status=none
truncate -s 10M "$SRC/hole-at-end"
printf 'head' | dd of="$SRC/hole-at-end" conv=notrunc status=none

sums() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }
meta() { (cd "$1" && find . ! -type d -printf '%P|%y|%m|%s|%T@|%l\n' | LC_ALL=C sort); }
WANT_SUMS=$(sums "$SRC")

# ---- tar in, tar out ---------------------------------------------------------------
expect_ok as root bash -c 'mkdir "$2/tar-in" && tar -C "$1" --format=posix -cf - . | tar -C "$2/tar-in" -xpf -' _ "$SRC" "$E"
assert_text_eq "$WANT_SUMS" "$(sums "$E/tar-in")" "tar c | tar x into the mount: same bytes"
assert_text_eq "$(meta "$SRC")" "$(meta "$E/tar-in")" "tar c | tar x into the mount: same metadata"
mkdir "$T/tar-out"
expect_ok bash -c 'tar -C "$1" -cf - . | tar -C "$2" -xpf -' _ "$E/tar-in" "$T/tar-out"
assert_text_eq "$WANT_SUMS" "$(sums "$T/tar-out")" "tar back out of the mount: same bytes"
expect_ok tar -C "$SRC" --sparse -cf "$E/archive.tar" .
expect_ok bash -c 'cd "$1" && tar -df "$2"' _ "$SRC" "$E/archive.tar"
expect_ok bash -c 'mkdir "$1" && tar -C "$1" -xf "$2"' _ "$T/from-archive" "$E/archive.tar"
assert_text_eq "$WANT_SUMS" "$(sums "$T/from-archive")" "tar archive stored in the mount extracts identically"

# ---- cp -a round trip ---------------------------------------------------------------------
expect_ok cp -a "$SRC" "$E/cp-in"
assert_text_eq "$WANT_SUMS" "$(sums "$E/cp-in")" "cp -a into the mount: same bytes"
assert_text_eq "$(meta "$SRC")" "$(meta "$E/cp-in")" "cp -a into the mount: same metadata"
expect_ok cp -a "$E/cp-in" "$T/cp-out"
assert_text_eq "$WANT_SUMS" "$(sums "$T/cp-out")" "cp -a back out: same bytes"
assert_text_eq "$(meta "$SRC")" "$(meta "$T/cp-out")" "cp -a back out: same metadata"
expect_ok cmp "$SRC/random64M" "$E/cp-in/random64M"
expect_ok cp --sparse=always "$SRC/sparse" "$E/sparse-copy"
expect_ok cmp "$SRC/sparse" "$E/sparse-copy"
assert_eq $((100 << 20)) "$(stat -c %s "$E/sparse-copy")" "sparse copy has the full size"
assert_eq "startmiddleend" "$(tr -d '\0' <"$E/sparse-copy")" "sparse copy: data at 0, 50 MiB and the end, zeros between"

# ---- dd -------------------------------------------------------------------------------------
expect_ok dd if="$SRC/random64M" of="$E/dd-64M" bs=1M status=none
expect_ok cmp "$SRC/random64M" "$E/dd-64M"
expect_ok dd if="$SRC/random64M" of="$E/dd-odd" bs=12345 status=none
expect_ok cmp "$SRC/random64M" "$E/dd-odd"
expect_ok dd if=/dev/zero of="$E/dd-64M" bs=4096 count=3 seek=1000 conv=notrunc status=none
expect_ok bash -c 'cp "$1" "$2" && dd if=/dev/zero of="$2" bs=4096 count=3 seek=1000 conv=notrunc status=none && cmp "$2" "$3"' \
	_ "$SRC/random64M" "$T/dd-expected" "$E/dd-64M"
expect_ok dd if="$SRC/random64M" of="$E/dd-direct" bs=1M count=8 iflag=fullblock oflag=direct status=none
expect_ok cmp -n $((8 << 20)) "$SRC/random64M" "$E/dd-direct"
expect_ok dd if="$E/dd-odd" of="$T/dd-back" bs=65536 status=none
expect_ok cmp "$SRC/random64M" "$T/dd-back"

# ---- shell redirection ------------------------------------------------------------------------
expect_ok as "$ALICE" bash -c 'cat "$1" > "$2/redir"' _ "$SRC/random64M" "$E"
expect_ok cmp "$SRC/random64M" "$E/redir"
expect_ok as "$ALICE" bash -c 'for i in $(seq 1 1000); do echo "line $i"; done >> "$1/lines"' _ "$E"
assert_eq "$(seq 1 1000 | sed 's/^/line /' | sha256sum | cut -d' ' -f1)" "$(sha "$E/lines")" ">> appends 1000 lines in order"
expect_ok as "$ALICE" bash -c 'for i in $(seq 1 200); do echo "append $i" >> "$1/opened-each-time"; done' _ "$E"
assert_eq 200 "$(wc -l <"$E/opened-each-time")" "200 separate appends"
expect_ok as "$ALICE" bash -c 'echo short > "$1/redir"' _ "$E"
assert_eq short "$(cat "$E/redir")" "> truncates a 64 MiB file"
assert_eq 6 "$(stat -c %s "$E/redir")" "size after truncating redirect"

# ---- everything still identical after a remount --------------------------------------------
before=$(sums "$E")
umount_fs
mount_fs
assert_text_eq "$before" "$(sums "$E")" "all contents identical after a remount"
expect_ok cmp "$SRC/sparse" "$E/sparse-copy"

finish
