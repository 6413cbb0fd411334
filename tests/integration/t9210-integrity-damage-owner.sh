#!/bin/bash
# t9210: damage the owner sees, and the nightly rsync that heals it (issue 10,
# docs/design.md "Damage the owner sees").  A sealed file with one damaged
# chunk, found by scrub, in an rw, a wo and an active EIR:
#
#   - .enrp/corrupt lists it (path relative to the EIR), .enrp/status counts
#     it (corrupt_files; files = pending + verified + corrupt), .enrp/pending
#     does not;
#   - SHA256SUMS keeps its line with 64 zeros, so `sha256sum -c` against the
#     source files fails on exactly that file (and in the rw mount too);
#   - it shows mtime 0, so rsync's quick check cannot match it;
#   - rsync --inplace cannot rewrite it (the bytes it lost cannot be the base
#     of a change: EIO, exit 23, it stays corrupt);
#   - a plain `rsync -aW src/ EIR/` (no --checksum) sends it again, as the
#     owner (the agent in active mode), exit 0: it is verified with the
#     source's SHA-256 and mtime, leaves .enrp/corrupt, and the corrupt copy
#     is not kept as trash.
. "$(dirname "$0")/lib.sh"
setup

G=$LIB_DIR/integ9.py
MiB=1048576
EIRS="rw wo act"
ZEROS=0000000000000000000000000000000000000000000000000000000000000000

state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
xsha() { getfattr --absolute-names --only-values -n enrp.sha256 "$1" 2>/dev/null; }
is_state() { [ "$(state "$2")" = "$1" ]; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
# who EIR: the account that sends into it.
who() { if [ "$1" = act ]; then echo "$AGENT"; else echo "$ALICE"; fi; }
# sums_check EIR: `sha256sum -c` of the EIR's SHA256SUMS against the sources.
sums_check() {
	cp "$MNT/$1/.enrp/SHA256SUMS" "$T/sums-$1" && (cd "$SRC" && sha256sum -c "$T/sums-$1" 2>&1)
}
# trash_of EIR PATH: how many trash entries EIR has for PATH.
trash_of() {
	ctl trash list "$1" --json |
		"$PY" -c "import json, sys; print(len([e for e in json.load(sys.stdin) if e['path'] == '$2']))"
}
mtime() { stat -c %Y "$1"; }

mk_eir rw --owner "$ALICE"
mk_eir wo --owner "$ALICE" --mode wo
mk_eir act --owner "$ALICE" --mode active --agent "$AGENT"
SRC=$T/src
mkdir -p "$SRC/sub"
"$PY" "$G" gen 9210 $((3 * MiB + 111)) >"$SRC/sub/big" || die "gen"
"$PY" "$G" gen 9211 5000 >"$SRC/small" || die "gen"
touch -d '2026-01-02 03:04:05' "$SRC/sub/big" "$SRC/small"
chmod -R a+rX "$SRC"
mount_fs
for e in $EIRS; do
	expect_ok as "$(who $e)" rsync -aW "$SRC/" "$MNT/$e/"
done
for e in $EIRS; do
	poll_until 120 pending_empty "$e" || fail "$e: still pending after 120 s"
	assert_eq "verified verified" "$(state "$MNT/$e/sub/big") $(state "$MNT/$e/small")" \
		"$e: both files verified"
done
umount_fs

# ---- one chunk of sub/big damaged in each EIR, daemon down ----------------------------------
for e in $EIRS; do
	# Every chunk file but the small file's (named by its SHA-256) is big's.
	v=$(find "$STORE/chunks/$(eir_id "$e")" -type f ! -name "$(sha "$SRC/small")" | sort | sed -n 2p)
	[ -n "$v" ] || die "$e: no chunk of sub/big to damage"
	"$PY" "$G" flipbyte "$v" || die "flipbyte"
done
mount_fs
for e in $EIRS; do
	expect_exit 1 ctl scrub "$e"
	# scrub is another process: the kernel's attributes last one second.
	poll_until 10 is_state corrupt "$MNT/$e/sub/big" || fail "$e: sub/big not corrupt after scrub"
done

# ---- what the owner sees ---------------------------------------------------------------------
for e in $EIRS; do
	u=$(who "$e")
	assert_eq "sub/big" "$(as "$u" cat "$MNT/$e/.enrp/corrupt")" "$e: .enrp/corrupt lists sub/big"
	assert_eq "$(as "$u" cat "$MNT/$e/.enrp/corrupt" | wc -c)" "$(stat -c %s "$MNT/$e/.enrp/corrupt")" \
		"$e: .enrp/corrupt's size is its length"
	assert_true "$e: .enrp/pending is empty" pending_empty "$e"
	assert_eq "1 1 0" "$(status_field "$e" corrupt_files) $(status_field "$e" verified_files) $(status_field "$e" pending_files)" \
		"$e: status corrupt_files 1, verified_files 1, pending_files 0"
	assert_eq "$ZEROS  sub/big" "$(grep '  sub/big$' "$MNT/$e/.enrp/SHA256SUMS")" \
		"$e: SHA256SUMS keeps sub/big with 64 zeros"
	out=$(sums_check "$e")
	rc=$?
	assert_eq 1 "$rc" "$e: sha256sum -c against the sources fails"
	assert_match 'sub/big: FAILED' "$out" "$e: ... on sub/big"
	assert_match 'small: OK' "$out" "$e: ... and passes small"
	assert_eq 0 "$(mtime "$MNT/$e/sub/big")" "$e: sub/big shows mtime 0"
	assert_eq "$(mtime "$SRC/small")" "$(mtime "$MNT/$e/small")" "$e: small shows its own mtime"
	assert_eq "$(xsha "$MNT/$e/sub/big")" "$(sha "$SRC/sub/big")" "$e: enrp.sha256 keeps the recorded digest"
done
out=$(cd "$MNT/rw" && sha256sum -c .enrp/SHA256SUMS 2>&1)
rc=$?
assert_eq 1 "$rc" "rw: sha256sum -c in the mount fails"
assert_match 'sub/big: FAILED' "$out" "rw: ... on sub/big"

# ---- rsync --inplace cannot rewrite what it cannot read --------------------------------------
as "$ALICE" rsync -aW --inplace "$SRC/" "$MNT/rw/" >"$T/inplace.out" 2>&1
rc=$?
assert_eq 23 "$rc" "rw: rsync --inplace onto the corrupt file exits 23 ($(tr '\n' ' ' <"$T/inplace.out"))"
assert_match 'Input/output error' "$(cat "$T/inplace.out")" "rw: ... with EIO"
assert_eq corrupt "$(state "$MNT/rw/sub/big")" "rw: sub/big stays corrupt"
assert_eq "sub/big" "$(cat "$MNT/rw/.enrp/corrupt")" "rw: and listed in .enrp/corrupt"

# ---- the nightly rsync heals it --------------------------------------------------------------
small_ino=$(stat -c %i "$MNT/rw/small")
for e in $EIRS; do
	expect_ok as "$(who $e)" rsync -aW "$SRC/" "$MNT/$e/"
done
for e in $EIRS; do
	poll_until 120 pending_empty "$e" || fail "$e: still pending after the nightly rsync"
	assert_eq "verified $(sha "$SRC/sub/big")" "$(state "$MNT/$e/sub/big") $(xsha "$MNT/$e/sub/big")" \
		"$e: sub/big verified again with the source's SHA-256"
	assert_eq "" "$(cat "$MNT/$e/.enrp/corrupt")" "$e: .enrp/corrupt is empty"
	assert_eq 0 "$(stat -c %s "$MNT/$e/.enrp/corrupt")" "$e: ... and its size 0"
	assert_eq "0 2 0" "$(status_field "$e" corrupt_files) $(status_field "$e" verified_files) $(status_field "$e" pending_files)" \
		"$e: status corrupt_files 0, verified_files 2, pending_files 0"
	out=$(sums_check "$e")
	assert_eq 0 "$?" "$e: sha256sum -c against the sources passes ($out)"
	assert_eq "$(mtime "$SRC/sub/big")" "$(mtime "$MNT/$e/sub/big")" "$e: sub/big has the source's mtime"
	assert_eq 0 "$(trash_of "$e" sub/big)" "$e: the corrupt copy is not kept as trash"
done
assert_eq "$small_ino" "$(stat -c %i "$MNT/rw/small")" "rw: the undamaged file was not sent again"
expect_ok cmp "$SRC/sub/big" "$MNT/rw/sub/big"
expect_ok cmp "$SRC/sub/big" "$MNT/act/sub/big"
out=$(as "$ALICE" rsync -aWi "$SRC/" "$MNT/rw/")
assert_eq "" "$(grep -v '^\.d' <<<"$out")" "rw: a second rsync finds nothing to send"
expect_exit 0 ctl scrub
umount_fs
mount_fs
expect_ok cmp "$SRC/sub/big" "$MNT/rw/sub/big"

finish
