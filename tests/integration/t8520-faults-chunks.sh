#!/bin/bash
# t8520: a chunk file replaced by another *valid* chunk file of the same EIR
# (DESIGN §5: chunks are named by their SHA-256 and checked on every read;
# docs/design.md "Verification on read").  t9200 covers flipped, truncated
# and deleted chunks, all of which fail zstd's own checks; a well-formed
# frame of another chunk passes them, so only the name check can catch it.
#
#   swap-len:  a middle chunk of a 3 MiB file overwritten with a chunk of
#              another file in the EIR (lengths differ);
#   swap-same: two files of the same size under the minimum chunk size (one
#              chunk each, same length): one's chunk file copied over the
#              other's, so zstd's checksum and the length both check out.
#
# With the daemon down, then mounted (nothing cached): reading the victim
# fails with EIO, it becomes corrupt, chunk-damaged is journalled, the donor
# stays readable and verified; scrub exits 1 and counts both; the journal
# verifies; repeating the transfer heals the file; fsck at the end.
. "$(dirname "$0")/lib.sh"
setup

G=$LIB_DIR/integ9.py
MiB=1048576

state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
is_state() { [ "$(state "$2")" = "$1" ]; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
# chunk_of EIR SHA: the chunk file named SHA (unencrypted: a single-chunk
# file's chunk is named by the file's SHA-256).
chunk_of() { printf '%s/chunks/%s/%s/%s/%s' "$STORE" "$(eir_id "$1")" "${2:0:2}" "${2:2:2}" "$2"; }
damaged() { audit_count --event chunk-damaged --eir "$1"; }
has_damage_record() { [ "$(damaged "$1")" -gt 0 ]; }

mk_eir swap --owner "$ALICE"
"$PY" "$G" gen 8520 $((3 * MiB + 111)) >"$T/big1" || die "gen"
"$PY" "$G" gen 8521 $((3 * MiB + 222)) >"$T/big2" || die "gen"
"$PY" "$G" gen 8522 5000 >"$T/small1" || die "gen"
"$PY" "$G" gen 8523 5000 >"$T/small2" || die "gen"
mount_fs
for f in big1 big2 small1 small2; do
	as "$ALICE" cp "$T/$f" "$MNT/swap/$f" || fail "cp $f"
done
poll_until 120 pending_empty swap || fail "still pending after 120 s"
assert_eq "verified verified verified verified" \
	"$(state "$MNT/swap/big1") $(state "$MNT/swap/big2") $(state "$MNT/swap/small1") $(state "$MNT/swap/small2")" \
	"four files verified"
expect_exit 0 ctl scrub swap
umount_fs

# ---- the damage, daemon down -----------------------------------------------------------------------
c1=$(chunk_of swap "$(sha "$T/small1")")
c2=$(chunk_of swap "$(sha "$T/small2")")
[ -f "$c1" ] && [ -f "$c2" ] || die "single-chunk files' chunks not found at $c1 / $c2"
# The chunks of big1 and big2: every chunk file but the two small ones, and
# which file uses which is told by content: big1's chunks are in big1.
mapfile -t all < <(find "$STORE/chunks/$(eir_id swap)" -mindepth 3 -type f -name '????????????????????????????????????????????????????????????????' | sort)
log "${#all[@]} chunk files in the EIR"
[ "${#all[@]}" -ge 6 ] || die "expected several chunks per big file"
# Without the chunk list at hand, tell big1's chunks apart by decoding them
# (zstd) and looking the bytes up in big1.
owner_of() { # CHUNKFILE -> big1|big2|?
	"$PY" - "$1" "$T/big1" "$T/big2" <<'EOF'
import subprocess, sys
frame = open(sys.argv[1], "rb").read()
plain = subprocess.run(["zstd", "-d", "-q", "-c"], input=frame[16:], capture_output=True).stdout
for p in sys.argv[2:]:
    if plain and plain in open(p, "rb").read():
        print(p.rsplit("/", 1)[1]); sys.exit(0)
print("?")
EOF
}
victim=
donor=
for c in "${all[@]}"; do
	[ "$c" = "$c1" ] || [ "$c" = "$c2" ] && continue
	o=$(owner_of "$c")
	[ "$o" = big1 ] && [ -z "$victim" ] && [ "$c" != "${all[0]}" ] && victim=$c
	[ "$o" = big2 ] && [ -z "$donor" ] && donor=$c
done
[ -n "$victim" ] && [ -n "$donor" ] || die "could not tell big1's and big2's chunks apart (victim '$victim', donor '$donor')"
[ "$(stat -c %s "$victim")" != "$(stat -c %s "$donor")" ] || log "note: victim and donor have the same stored size"
cp "$donor" "$victim" || die "cp donor over victim"
cp "$c2" "$c1" || die "cp small2's chunk over small1's"
assert_true "the swapped-in chunk files are valid zstd frames (only the name check can catch them)" \
	bash -c 'tail -c +17 "$1" | zstd -t -q && tail -c +17 "$2" | zstd -t -q' _ "$victim" "$c1"
log "swap-len: $(basename "$donor") copied over $(basename "$victim"); swap-same: small2's chunk copied over small1's"
mount_fs

# ---- reading fails with EIO, the file becomes corrupt -------------------------------------------------
for f in big1 small1; do
	expect_fail EIO cat "$MNT/swap/$f"
	expect_fail EIO as "$ALICE" cmp "$T/$f" "$MNT/swap/$f"
	if poll_until 10 is_state corrupt "$MNT/swap/$f"; then
		pass "$f: enrp.state corrupt after the failed read"
	else
		fail "$f: enrp.state '$(state "$MNT/swap/$f")' after reading a swapped chunk, expected corrupt"
	fi
done
out=$(as "$ALICE" cat "$MNT/swap/small1" 2>/dev/null | head -c 5000 | sha256sum | cut -d' ' -f1)
if [ "$out" = "$(sha "$T/small2")" ]; then
	fail "reading small1 returned small2's bytes (the swapped chunk was served)"
else
	pass "small1 never returns small2's bytes"
fi
poll_until 10 has_damage_record swap
n=$(damaged swap)
if [ "$n" -ge 2 ]; then pass "chunk-damaged journalled for both files ($n)"; else fail "chunk-damaged records: $n, expected 2"; fi
# The donors are untouched.
for f in big2 small2; do
	expect_ok as "$ALICE" cmp "$T/$f" "$MNT/swap/$f"
	assert_eq verified "$(state "$MNT/swap/$f")" "$f (the donor) stays verified"
done
assert_eq 2 "$(status_field swap corrupt_files)" ".enrp/status corrupt_files 2"

# ---- scrub ------------------------------------------------------------------------------------------
out=$(ctl scrub swap 2>&1)
rc=$?
assert_eq 1 "$rc" "scrub exits 1 with two swapped chunks ($(printf '%s' "$out" | tail -n1))"
assert_match '; 2 damaged files, 2 damaged chunks' "$(printf '%s' "$out" | tail -n1)" "scrub counts 2 damaged files and 2 damaged chunks"
expect_ok ctl audit verify

# ---- a fresh daemon never serves it either (scrub found it while unmounted too) ------------------------
umount_fs
out=$(ctl scrub swap 2>&1)
assert_eq 1 "$?" "scrub without a daemon exits 1 ($(printf '%s' "$out" | tail -n1))"
mount_fs
expect_fail EIO cat "$MNT/swap/small1"
assert_eq corrupt "$(state "$MNT/swap/big1")" "big1 still corrupt after a remount"

# ---- repeating the transfer heals both -------------------------------------------------------------------
for f in big1 small1; do
	expect_ok as "$ALICE" cp "$T/$f" "$MNT/swap/$f"
done
poll_until 120 pending_empty swap || fail "still pending after the repeated transfer"
for f in big1 small1 big2 small2; do
	assert_eq verified "$(state "$MNT/swap/$f")" "$f verified after the repeated transfer"
done
umount_fs
mount_fs
for f in big1 small1 big2 small2; do
	expect_ok cmp "$T/$f" "$MNT/swap/$f"
done
expect_exit 0 ctl scrub swap
umount_fs
out=$(ctl fsck 2>&1)
assert_eq 0 "$?" "fsck after healing ($(printf '%s' "$out" | tail -n 2 | tr '\n' ' '))"
expect_ok ctl audit verify

finish
