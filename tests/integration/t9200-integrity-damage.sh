#!/bin/bash
# t9200: a damaged chunk is never returned (DESIGN §5): one byte flipped in a
# chunk file, a truncated chunk file, a deleted chunk file — each read fails
# with EIO, the file becomes corrupt, the journal records chunk-damaged, and
# `enrpctl scrub` finds it (exit 1) while a clean EIR scrubs clean (exit 0).
# Repeating the transfer makes the file whole again.
. "$(dirname "$0")/lib.sh"
setup

G=$LIB_DIR/integ9.py
MiB=1048576

state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
xsha() { getfattr --absolute-names --only-values -n enrp.sha256 "$1" 2>/dev/null; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
is_state() { [ "$(state "$2")" = "$1" ]; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
# victim EIR: a chunk file of the EIR's big file, from the middle of the
# sorted list, never the single chunk of the small file (named by its SHA-256).
victim() {
	find "$STORE/chunks/$(eir_id "$1")" -type f ! -name "$(sha "$T/small")" | sort | sed -n '3p'
}
audit_damaged() { audit_count --event chunk-damaged --eir "$1"; }
# The daemon's journal records may land a moment after the failing read.
audit_has() { [ "$(audit_count --event "$1" --eir "$2")" -gt "$3" ]; }
# read_fails_eio FILE: cat FILE fails with EIO.
read_fails_eio() { expect_fail EIO cat "$1"; }

EIRS="flip trunc del clean"
for e in $EIRS; do mk_eir "$e" --owner root; done
"$PY" "$G" gen 9200 $((6 * MiB + 333)) >"$T/big" || die "gen"
"$PY" "$G" gen 9201 5000 >"$T/small" || die "gen"
mount_fs
for e in $EIRS; do
	cp "$T/big" "$MNT/$e/big" || fail "cp big into $e"
	cp "$T/small" "$MNT/$e/small" || fail "cp small into $e"
done
for e in $EIRS; do
	poll_until 120 pending_empty "$e" || fail "$e: still pending after 120 s"
	assert_eq "verified verified" "$(state "$MNT/$e/big") $(state "$MNT/$e/small")" "$e: both files verified"
done
n=$(find "$STORE/chunks/$(eir_id flip)" -type f | wc -l)
log "6 MiB file + 5000-byte file: $n chunk files"
[ "$n" -ge 4 ] || die "expected several chunk files, found $n"
assert_true "a single-chunk file's chunk is named by its SHA-256 (unencrypted store)" \
	test -f "$STORE/chunks/$(eir_id flip)/$(sha "$T/small" | cut -c1-2)/$(sha "$T/small" | cut -c3-4)/$(sha "$T/small")"
expect_exit 0 ctl scrub
umount_fs

# ---- damage, with the daemon down, then mount: nothing is cached ------------------------------
v=$(victim flip)
[ -n "$v" ] || die "no chunk to damage in flip"
cp "$v" "$T/flip-chunk.orig"
"$PY" "$G" flipbyte "$v" || die "flipbyte"
cmp -s "$v" "$T/flip-chunk.orig" && die "flipbyte changed nothing"
log "flipped the middle byte of $(basename "$v") ($(stat -c %s "$v") bytes)"
v=$(victim trunc)
truncate -s $(($(stat -c %s "$v") / 2)) "$v" || die "truncate chunk"
log "truncated $(basename "$v") to half"
v=$(victim del)
rm "$v" || die "rm chunk"
log "deleted $(basename "$v")"
mount_fs

# ---- flipped byte: read first ----------------------------------------------------------------------
before=$(audit_damaged flip)
read_fails_eio "$MNT/flip/big"
poll_until 10 audit_has chunk-damaged flip "$before"
expect_fail EIO cmp "$T/big" "$MNT/flip/big"
expect_fail EIO dd if="$MNT/flip/big" of=/dev/null bs=1M status=none
poll_until 10 is_state corrupt "$MNT/flip/big"
assert_eq corrupt "$(state "$MNT/flip/big")" "flip: enrp.state corrupt after the failed read"
after=$(audit_damaged flip)
if [ "$after" -gt "$before" ]; then
	pass "flip: the journal records chunk-damaged ($after record(s))"
else
	fail "flip: no chunk-damaged record in the journal ($before -> $after)"
fi
out=$(ctl audit show --event chunk-damaged --eir flip)
assert_match 'chunk-damaged' "$out" "flip: audit show --event chunk-damaged shows it"
assert_eq 1 "$(status_field flip corrupt_files)" "flip: .enrp/status corrupt_files 1"
# Listed with a digest no content has, so `sha256sum -c` fails on it (t9210).
assert_eq "$(printf '%064d' 0)  big" "$(grep '  big$' "$MNT/flip/.enrp/SHA256SUMS")" \
	"flip: the corrupt file is in SHA256SUMS with 64 zeros"
assert_eq big "$(cat "$MNT/flip/.enrp/corrupt")" "flip: .enrp/corrupt lists it"
expect_ok cmp "$T/small" "$MNT/flip/small"
assert_eq verified "$(state "$MNT/flip/small")" "flip: the other file stays verified"

# ---- truncated chunk: scrub first -----------------------------------------------------------------
out=$(ctl scrub trunc 2>&1)
rc=$?
assert_eq 1 "$rc" "scrub trunc exits 1 ($out)"
assert_match 'scrub: [0-9]+ files, .*, [0-9]+ chunks checked; [1-9][0-9]* damaged files?, [1-9][0-9]* damaged chunks?' \
	"$out" "scrub trunc reports damaged files and chunks"
poll_until 10 is_state corrupt "$MNT/trunc/big"
assert_eq corrupt "$(state "$MNT/trunc/big")" "trunc: scrub marked the file corrupt"
read_fails_eio "$MNT/trunc/big"
assert_eq verified "$(state "$MNT/trunc/small")" "trunc: the other file stays verified"
n=$(audit_count --event scrub-damage --eir trunc)
if [ "$n" -ge 1 ]; then pass "trunc: scrub-damage journalled ($n)"; else fail "trunc: no scrub-damage record"; fi

# ---- deleted chunk ---------------------------------------------------------------------------------
read_fails_eio "$MNT/del/big"
poll_until 10 is_state corrupt "$MNT/del/big"
poll_until 10 audit_has chunk-damaged del 0
assert_eq corrupt "$(state "$MNT/del/big")" "del: enrp.state corrupt after reading a file with a missing chunk"
n=$(audit_damaged del)
if [ "$n" -ge 1 ]; then pass "del: chunk-damaged journalled ($n)"; else fail "del: no chunk-damaged record"; fi
expect_exit 1 ctl scrub del

# ---- scrub of everything, and of the clean EIR -------------------------------------------------
out=$(ctl scrub 2>&1)
rc=$?
assert_eq 1 "$rc" "scrub of the whole store exits 1"
dmg=$(printf '%s\n' "$out" | sed -n 's/.*; \([0-9]*\) damaged files\{0,1\},.*/\1/p' | tail -n1)
assert_eq 3 "$dmg" "scrub of the whole store: 3 damaged files ($out)"
# Chunks are stored per EIR (chunks/<eir>/...): four EIRs hold four copies of
# every chunk, and the flip, trunc and del EIRs each have one bad copy.
nfiles=$(find "$STORE/chunks" -type f | wc -l)
dchunks=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) damaged chunks\{0,1\}$/\1/p' | tail -n1)
assert_eq 3 "$dchunks" "scrub of the whole store: 3 damaged chunks (one per damaged EIR)"
checked=$(printf '%s\n' "$out" | sed -n 's/.*, \([0-9]*\) chunks checked;.*/\1/p' | tail -n1)
if [ "${checked:-0}" -ge "$nfiles" ]; then
	pass "scrub of the whole store checked $checked chunks (>= the $nfiles chunk files present)"
else
	fail "scrub of the whole store says '$checked chunks checked' but the store holds $nfiles chunk files (4 EIRs)"
fi
expect_exit 0 ctl scrub clean
expect_exit 1 ctl scrub flip
out=$(ctl scrub --json clean)
assert_match '"files_damaged": *0[,}]' "$out" "scrub --json of the clean EIR reports 0 damaged files"
expect_ok cmp "$T/big" "$MNT/clean/big"
assert_eq verified "$(state "$MNT/clean/big")" "clean: verified after the scrubs"
n=$(audit_count --event scrub)
if [ "$n" -ge 5 ]; then pass "every scrub journalled ($n scrub records)"; else fail "only $n scrub records"; fi
expect_ok ctl audit verify

# ---- repeating the transfer heals the file ---------------------------------------------------------------
for e in flip trunc del; do
	expect_ok cp "$T/big" "$MNT/$e/big"
done
for e in flip trunc del; do
	poll_until 120 pending_empty "$e" || fail "$e: still pending after the repeated transfer"
	assert_eq "verified $(sha "$T/big")" "$(state "$MNT/$e/big") $(xsha "$MNT/$e/big")" \
		"$e: the repeated transfer is verified"
done
umount_fs
mount_fs
for e in flip trunc del; do
	expect_ok cmp "$T/big" "$MNT/$e/big"
	assert_eq verified "$(state "$MNT/$e/big")" "$e: still verified after a remount and a full read"
done
expect_exit 0 ctl scrub

finish
