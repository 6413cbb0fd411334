#!/bin/bash
# t1110: every byte an owner can make the platform hold counts against its
# quota (DESIGN §3): space reserved with fallocate past the end of a file
# (FALLOC_FL_KEEP_SIZE), xattr names and values; the number of inodes is
# bounded by --max-files; and an EIR at its limits never stops another.
# Each way around the quota is tried and must fail with EDQUOT, with the
# usage (.enrp/status, df) telling the truth before and after.
. "$(dirname "$0")/lib.sh"
setup

MiB=1048576
mk_eir q --owner "$ALICE" --quota 8M
mk_eir n --owner "$ALICE" --max-files 20
mk_eir free --owner "$BOB"
mount_fs
Q=$MNT/q
N=$MNT/n
usage() { status_field "$1" usage_bytes; }

# ---- fallocate past the end -----------------------------------------------------------
# A reservation lives in the file's spool file, while the file is open or
# waiting to be sealed: hold each file open the way a writer would.
FA='fa() { local f=${*: -1}; : >>"$f" && fallocate "$@"; }; fa "$@"'
hold() {
	setpriv --reuid="$ALICE" --regid="$(id -g "$ALICE")" --init-groups -- \
		bash -c 'exec 3<>"$1"; exec sleep 600' _ "$1" &
	HOLDERS+=("$!")
	CLEANUP_PIDS+=("$!")
	sleep 0.3
}
HOLDERS=()
for f in keep keep2 keep3 grow cut; do : >"$Q/$f"; chown "$ALICE:" "$Q/$f"; hold "$Q/$f"; done
expect_fail EDQUOT as "$ALICE" bash -c "$FA" _ -n -l 2G "$Q/keep"
expect_fail EDQUOT as "$ALICE" bash -c "$FA" _ -n -o 4M -l 5M "$Q/keep2"
expect_fail EDQUOT as "$ALICE" bash -c "$FA" _ -l 9M "$Q/grow"
assert_eq 0 "$(usage q)" "refused reservations charge nothing"
expect_ok as "$ALICE" bash -c "$FA" _ -n -l 6M "$Q/keep"
assert_eq 0 "$(stat -c %s "$Q/keep")" "fallocate -n keeps the size at 0"
assert_eq $((6 * MiB)) "$(usage q)" "but its 6 MiB are charged"
assert_eq $((6 * MiB)) "$(df -B1 --output=used "$Q" | tail -n1 | tr -d ' ')" "and df shows them used"
expect_fail EDQUOT as "$ALICE" bash -c "$FA" _ -n -l 3M "$Q/keep3"
expect_fail EDQUOT as "$ALICE" dd if=/dev/zero of="$Q/more" bs=1M count=3 status=none
expect_ok as "$ALICE" rm -f "$Q/more"
expect_ok as "$ALICE" bash -c "$FA" _ -n -l 6M "$Q/keep"
assert_eq $((6 * MiB)) "$(usage q)" "reserving the same range again charges nothing more"
expect_ok as "$ALICE" dd if=/dev/urandom of="$Q/keep" bs=1M count=1 conv=notrunc status=none
assert_eq $((6 * MiB)) "$(usage q)" "writing inside the reservation costs nothing more"
# A shrinking truncate frees the reservation at once.
expect_ok as "$ALICE" dd if=/dev/urandom of="$Q/cut" bs=1k count=1 status=none
expect_ok as "$ALICE" bash -c "$FA" _ -n -l 1M "$Q/cut"
assert_eq $((7 * MiB)) "$(usage q)" "a second reservation of 1 MiB"
expect_ok as "$ALICE" truncate -s 1 "$Q/cut"
assert_eq $((6 * MiB + 1)) "$(usage q)" "cutting the file frees its reservation"
# Closing lets the file be sealed: its spool file, and the space reserved
# past its end, are gone; only its bytes stay charged.
for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
HOLDERS=()
poll_until 60 sh -c "[ \"\$(getfattr --only-values -n enrp.state '$Q/keep' 2>/dev/null)\" = verified ]" ||
	fail "keep not verified"
poll_until 30 sh -c "[ \"\$(sed -n 's/^usage_bytes: //p' '$Q/.enrp/status')\" = $((1 * MiB + 1)) ]"
assert_eq $((1 * MiB + 1)) "$(usage q)" "once sealed, only the bytes are charged"
expect_ok as "$ALICE" rm "$Q/keep" "$Q/cut" "$Q/keep2" "$Q/keep3" "$Q/grow"
assert_eq 0 "$(usage q)" "rm frees everything"

# ---- xattrs ------------------------------------------------------------------------------
expect_ok as "$ALICE" touch "$Q/x"
big=$(head -c 60000 /dev/zero | tr '\0' 'v')
fill=0
for i in $(seq 1 200); do
	if ! as "$ALICE" setfattr -n "user.k$i" -v "$big" "$Q/x" 2>"$T/xerr"; then
		break
	fi
	fill=$i
done
assert_match "Disk quota exceeded" "$(cat "$T/xerr")" "xattrs past the quota: EDQUOT (after $fill values)"
used=$(usage q)
assert_true "the xattrs are charged ($used bytes) and never past the quota" \
	test "$used" -le $((8 * MiB)) -a "$used" -ge $((fill * 60000))
expect_ok as "$ALICE" setfattr -x user.k1 "$Q/x"
assert_eq $((used - 60000 - 7)) "$(usage q)" "removing one frees its name and value"
expect_ok as "$ALICE" rm "$Q/x"
assert_eq 0 "$(usage q)" "removing the file frees its xattrs"

# ---- inodes ------------------------------------------------------------------------------
expect_ok as "$ALICE" bash -c 'for i in $(seq 1 20); do : > "$1/f$i" || exit 1; done' _ "$N"
expect_fail EDQUOT as "$ALICE" touch "$N/one-more"
expect_fail EDQUOT as "$ALICE" mkdir "$N/dir"
expect_fail EDQUOT as "$ALICE" ln -s f1 "$N/sym"
expect_fail EDQUOT as "$ALICE" mkfifo "$N/fifo"
expect_ok as "$ALICE" ln "$N/f1" "$N/hardlink"
expect_ok as "$ALICE" mv "$N/f2" "$N/renamed"
assert_eq 20 "$(status_field n inodes)" "20 inodes, as the limit says"
expect_ok as "$ALICE" rm "$N/f3"
expect_ok as "$ALICE" mkdir "$N/dir"
expect_fail EDQUOT as "$ALICE" touch "$N/one-more"
expect_ok ctl eir set n --max-files none
expect_ok as "$ALICE" touch "$N/one-more"
expect_ok ctl eir set n --max-files 5 --force
expect_fail EDQUOT as "$ALICE" touch "$N/over"
assert_match "max-files: 5" "$(ctl eir show n)" "eir show prints the limit"
expect_exit 2 ctl eir set n --max-files 0
expect_exit 2 ctl eir set n --max-files -3
expect_exit 2 ctl eir set n --max-files lots

# ---- one EIR at its limits never stops another ---------------------------------------------
: >"$Q/full"; chown "$ALICE:" "$Q/full"; hold "$Q/full"
expect_ok as "$ALICE" bash -c "$FA" _ -n -l 8M "$Q/full"
expect_fail EDQUOT as "$ALICE" dd if=/dev/zero of="$Q/x2" bs=4k count=1 status=none
expect_ok as "$BOB" dd if=/dev/urandom of="$MNT/free/data" bs=1M count=4 conv=fsync status=none
expect_ok as "$BOB" mkdir "$MNT/free/d"
expect_ok as "$BOB" rm -r "$MNT/free/d" "$MNT/free/data"

# fsck agrees with every count above.
for p in "${HOLDERS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
umount_fs
out=$(ctl fsck 2>&1)
assert_match ' 0 problems' "$out" "fsck finds nothing wrong with the charges"
finish
