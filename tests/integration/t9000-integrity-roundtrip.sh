#!/bin/bash
# t9000: files of every interesting size, written with cp, dd and rsync -aW,
# are sealed (DESIGN §5): each becomes verified, reads back byte for byte,
# its enrp.sha256 equals sha256sum of the source, and .enrp/SHA256SUMS passes
# `sha256sum -c` both inside the EIR and copied out against the source tree.
# A sealed file rewritten in the middle, appended to or truncated is sealed
# again with the new checksum.  In a write-only EIR the owner reads the
# checksums but not the data.
. "$(dirname "$0")/lib.sh"
setup

G=$LIB_DIR/integ9.py
MiB=1048576

state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
xsha() { getfattr --absolute-names --only-values -n enrp.sha256 "$1" 2>/dev/null; }
is_verified() { [ "$(state "$1")" = verified ]; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }

mk_eir e --owner root
mk_eir c --owner root
mk_eir w --owner "$ALICE" --mode wo
mount_fs
# The EIR directory's own mode belongs to the registry (docs), so the tree
# goes one level down: $E is the EIR's "src" directory, the SHA256SUMS
# paths read "src/...", checkable from $T, the parent of the source tree.
mkdir "$MNT/e/src" || die "mkdir e/src"
E=$MNT/e/src
C=$MNT/c
W=$MNT/w

# ---- the source tree -------------------------------------------------------------------
SRC=$T/src
mkdir "$SRC"
SIZES="0 1 65535 65536 65537 262144 $((2 * MiB - 1)) $((2 * MiB)) $((2 * MiB + 1)) $((10 * MiB + 12345))"
seed=1
for n in $SIZES; do
	"$PY" "$G" gen "$seed" "$n" >"$SRC/s$n" || die "gen s$n"
	seed=$((seed + 1))
done
# A file of low entropy too (compresses, many equal chunks).
yes 'the same line, again and again, for the compressor' | head -c $((3 * MiB + 7)) >"$SRC/repetitive"
"$PY" "$G" gen 9000 $((300 * MiB)) >"$SRC/big300" || die "gen big300"
truncate -s 100M "$SRC/sparse"
printf 'start' | dd of="$SRC/sparse" conv=notrunc status=none
"$PY" "$G" gen 77 8192 | dd of="$SRC/sparse" bs=4096 seek=$((30 * 256)) conv=notrunc status=none
printf 'end' | dd of="$SRC/sparse" bs=1 seek=$(((100 << 20) - 3)) conv=notrunc status=none
ALL="$(for n in $SIZES; do printf 's%s ' "$n"; done)repetitive big300 sparse"

# ---- the transfer: rsync -aW for the sizes, dd for the big one, cp for the sparse one ---
expect_ok rsync -aW --exclude big300 --exclude sparse "$SRC/" "$E/"
start=$SECONDS
expect_ok dd if="$SRC/big300" of="$E/big300" bs=1M status=none
expect_ok cp --sparse=always "$SRC/sparse" "$E/sparse"
# The same sizes with cp (into another EIR) and dd with an odd block size.
for n in $SIZES; do
	cp "$SRC/s$n" "$C/cp-s$n" || fail "cp s$n"
	dd if="$SRC/s$n" of="$C/dd-s$n" bs=12345 status=none || fail "dd s$n"
done

if poll_until 240 pending_empty e; then
	pass "e: .enrp/pending empty after the transfer ($((SECONDS - start)) s after dd began)"
else
	fail "e: still pending after 240 s: $(head -n 5 "$MNT/e/.enrp/pending" | tr '\n' ' ')"
fi
poll_until 120 pending_empty c || fail "c: still pending after 120 s: $(head -n 5 "$C/.enrp/pending" | tr '\n' ' ')"
log "sealed 300 MiB + the rest in about $((SECONDS - start)) s"

for f in $ALL; do
	assert_eq verified "$(state "$E/$f")" "e/$f: enrp.state verified"
	assert_eq "$(sha "$SRC/$f")" "$(xsha "$E/$f")" "e/$f: enrp.sha256 equals sha256sum of the source"
	expect_ok cmp "$SRC/$f" "$E/$f"
done
for n in $SIZES; do
	for how in cp dd; do
		assert_eq "verified $(sha "$SRC/s$n")" "$(state "$C/$how-s$n") $(xsha "$C/$how-s$n")" \
			"c/$how-s$n: verified with the source's SHA-256"
	done
	expect_ok cmp "$SRC/s$n" "$C/dd-s$n"
done
assert_eq e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 "$(xsha "$E/s0")" \
	"the empty file has the SHA-256 of nothing"
assert_eq $((100 * MiB)) "$(stat -c %s "$E/sparse")" "sparse file keeps its size"

# ---- .enrp/status counters --------------------------------------------------------------
nfiles=$(echo $ALL | wc -w)
assert_eq "$nfiles" "$(status_field e verified_files)" "status: verified_files counts every file"
assert_eq 0 "$(status_field e pending_files)" "status: pending_files 0"
assert_eq 0 "$(status_field e corrupt_files)" "status: corrupt_files 0"
assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}' "$(status_field e last_verified_transfer)" \
	"status: last_verified_transfer is a time"
want_usage=$(cd "$SRC" && stat -c %s $ALL | awk '{ s += $1 } END { print s }')
assert_eq "$want_usage" "$(status_field e usage_bytes)" "status: usage_bytes is the sum of the sizes"

# ---- SHA256SUMS, inside and copied out -------------------------------------------------------
assert_eq "$nfiles" "$(grep -c . "$MNT/e/.enrp/SHA256SUMS")" "SHA256SUMS has one line per verified file"
assert_true "sha256sum -c .enrp/SHA256SUMS inside the EIR" \
	bash -c 'cd "$1" && sha256sum --quiet --strict -c .enrp/SHA256SUMS' _ "$MNT/e"
cp "$MNT/e/.enrp/SHA256SUMS" "$T/SHA256SUMS" || fail "copy SHA256SUMS out"
assert_true "SHA256SUMS copied out passes sha256sum -c against the source tree" \
	bash -c 'cd "$1" && sha256sum --quiet --strict -c "$2"' _ "$T" "$T/SHA256SUMS"
# And it can fail: a source that differs is reported.
cp -a "$SRC/s65537" "$T/s65537.bak"
printf 'X' | dd of="$SRC/s65537" bs=1 seek=100 conv=notrunc status=none
expect_exit 1 bash -c 'cd "$1" && sha256sum --quiet -c "$2"' _ "$T" "$T/SHA256SUMS"
mv "$T/s65537.bak" "$SRC/s65537"

# ---- the virtual attributes are hidden and read-only -----------------------------------------
out=$(getfattr -d -m - "$E/s65536" 2>&1)
case $out in
*enrp.*) fail "getfattr -d -m - lists the virtual attributes: $out" ;;
*) pass "getfattr -d -m - does not list enrp.* attributes" ;;
esac
expect_fail EPERM setfattr -n enrp.sha256 -v x "$E/s65536"
expect_fail EPERM setfattr -n enrp.state -v verified "$E/s65536"
assert_eq "$(sha "$SRC/s65536")" "$(xsha "$E/s65536")" "enrp.sha256 unchanged after the refused setfattr"

# ---- while open for writing: state open, no checksum ----------------------------------------
exec 7>>"$E/s1"
assert_eq open "$(state "$E/s1")" "a sealed file opened for append is open"
out=$(getfattr -n enrp.sha256 "$E/s1" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && grep -Eq 'No such attribute|No data available' <<<"$out"; then
	pass "enrp.sha256 of an open file -> ENODATA"
else
	fail "enrp.sha256 of an open file: exit $rc, '$out' (expected ENODATA)"
fi
if grep -qx 'src/s1' "$MNT/e/.enrp/pending"; then
	pass ".enrp/pending lists the open file"
else
	fail ".enrp/pending does not list the open file: $(cat "$MNT/e/.enrp/pending")"
fi
printf 'Z' >&7
exec 7>&-
printf 'Z' >>"$SRC/s1"
poll_until 60 is_verified "$E/s1" || fail "s1 not verified again 60 s after close"
assert_eq "$(sha "$SRC/s1")" "$(xsha "$E/s1")" "s1 appended through a held handle: new checksum"

# ---- changing sealed files: rewrite in the middle, append, truncate -------------------------
EXP=$T/expected
mkdir "$EXP"
cp "$SRC/s$((10 * MiB + 12345))" "$EXP/r10"
cp "$SRC/s$((2 * MiB + 1))" "$EXP/r2"
cp "$SRC/s65537" "$EXP/app"
cp "$SRC/big300" "$EXP/big300"
"$PY" "$G" gen 4242 10000 >"$T/patch"
for tgt in "$E/s$((10 * MiB + 12345))" "$EXP/r10"; do
	dd if="$T/patch" of="$tgt" bs=1 seek=$((5 * MiB + 3)) conv=notrunc status=none || fail "dd patch into $tgt"
done
for tgt in "$E/s$((2 * MiB + 1))" "$EXP/r2"; do
	truncate -s 1000001 "$tgt" || fail "truncate $tgt"
done
for tgt in "$E/s65537" "$EXP/app"; do
	cat "$T/patch" >>"$tgt" || fail "append to $tgt"
done
# 4 KiB in the middle of the 300 MiB file (copy back of a big file).
for tgt in "$E/big300" "$EXP/big300"; do
	dd if="$T/patch" of="$tgt" bs=4096 count=1 seek=$((150 * 256 + 1)) conv=notrunc status=none ||
		fail "dd patch into $tgt"
done
poll_until 180 pending_empty e || fail "changed files not sealed again in 180 s: $(head -n 5 "$MNT/e/.enrp/pending" | tr '\n' ' ')"
for pair in "s$((10 * MiB + 12345)):r10" "s$((2 * MiB + 1)):r2" "s65537:app" "big300:big300"; do
	f=${pair%%:*}
	x=${pair#*:}
	assert_eq "verified $(sha "$EXP/$x")" "$(state "$E/$f") $(xsha "$E/$f")" \
		"$f changed after sealing: verified again with the new SHA-256"
	expect_ok cmp "$EXP/$x" "$E/$f"
	assert_eq "$(sha "$EXP/$x")  src/$f" "$(grep "  src/$f\$" "$MNT/e/.enrp/SHA256SUMS")" "SHA256SUMS line of $f updated"
done
assert_eq 1000001 "$(stat -c %s "$E/s$((2 * MiB + 1))")" "truncated file has the new size"
assert_true "sha256sum -c .enrp/SHA256SUMS after the changes" \
	bash -c 'cd "$1" && sha256sum --quiet --strict -c .enrp/SHA256SUMS' _ "$MNT/e"

# ---- after a remount (nothing from the cache) -------------------------------------------------
umount_fs
mount_fs
assert_eq "$(sha "$EXP/r10")" "$(sha "$E/s$((10 * MiB + 12345))")" "after remount: rewritten file reads back right"
expect_ok cmp "$SRC/sparse" "$E/sparse"
expect_ok cmp "$EXP/big300" "$E/big300"
assert_eq "$(sha "$EXP/big300")" "$(xsha "$E/big300")" "after remount: enrp.sha256 of big300 kept"

# ---- write-only EIR: checksums yes, data no -----------------------------------------------------
cp "$SRC/s$((2 * MiB))" "$T/wo-src" && chmod 644 "$T/wo-src"
expect_ok as "$ALICE" cp "$T/wo-src" "$W/dump"
expect_ok as "$ALICE" dd if="$T/wo-src" of="$W/dump-dd" bs=1M status=none
poll_until 60 pending_empty w || fail "w: still pending after 60 s"
want=$(sha "$T/wo-src")
assert_eq "$want" "$(as "$ALICE" getfattr --absolute-names --only-values -n enrp.sha256 "$W/dump")" \
	"wo: the owner reads enrp.sha256"
assert_eq verified "$(as "$ALICE" getfattr --absolute-names --only-values -n enrp.state "$W/dump-dd")" "wo: the owner reads enrp.state"
assert_eq "$want  dump" "$(as "$ALICE" grep '  dump$' "$W/.enrp/SHA256SUMS")" "wo: the owner reads .enrp/SHA256SUMS"
expect_ok as "$ALICE" cat "$W/.enrp/status" "$W/.enrp/pending"
expect_fail EACCES as "$ALICE" cat "$W/dump"
expect_fail EACCES as "$ALICE" cmp "$T/wo-src" "$W/dump-dd"
expect_fail EACCES cat "$W/dump"
# The owner's check, the way the platform asks for it: sums copied out, run at the source.
mkdir "$T/wo-check" && cp "$T/wo-src" "$T/wo-check/dump" && cp "$T/wo-src" "$T/wo-check/dump-dd"
as "$ALICE" cat "$W/.enrp/SHA256SUMS" >"$T/wo-sums"
assert_true "wo: SHA256SUMS checks out against the owner's source" \
	bash -c 'cd "$1" && sha256sum --quiet --strict -c "$2"' _ "$T/wo-check" "$T/wo-sums"

finish
