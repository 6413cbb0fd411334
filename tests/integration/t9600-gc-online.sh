#!/bin/bash
# t9600: garbage collection (DESIGN §6, issue 9 item 10).  `enrpctl gc` frees
# the chunks of deleted and overwritten files (once their trash is purged:
# t9800 shows gc keeping trash) and the leftovers of
# interrupted seals, keeps every chunk a live file still uses (dedup across
# files included), runs online beside transfers that deduplicate onto the
# very chunks being freed, and offline holding the daemon lock; afterwards
# STORED equals what the chunk files hold, and every file still reads back.
. "$(dirname "$0")/lib.sh"
setup

G=$LIB_DIR/integ9.py
MiB=1048576

pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 120 pending_empty "$1" || fail "$1: still pending after 120 s"; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
chunk_dir() { echo "$STORE/chunks/$(eir_id "$1")"; }
nchunks() { find "$(chunk_dir "$1")" -path '*/tmp' -prune -o -type f -print 2>/dev/null | wc -l; }
chunk_bytes() { find "$(chunk_dir "$1")" -path '*/tmp' -prune -o -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
stored() { status_field "$1" stored_bytes; }
gc_json() { ctl --json gc "$@"; }
jfield() { "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

mk_eir d --owner root
mount_fs

n=0
for f in a b c; do
	n=$((n + 1))
	"$PY" "$G" gen "960$n" $((6 * MiB)) >"$T/$f" || die "gen $f"
done
expect_ok cp "$T/a" "$MNT/d/a"
expect_ok cp "$T/b" "$MNT/d/b"
expect_ok cp "$T/c" "$MNT/d/c"
expect_ok cp "$T/a" "$MNT/d/a-again" # the same chunks as a
settle d
n0=$(nchunks d)
log "3 distinct files of 6 MiB: $n0 chunk files, $(chunk_bytes d) bytes; stored_bytes $(stored d)"
assert_eq "$(chunk_bytes d)" "$(stored d)" "before any deletion STORED equals the chunk files' bytes"

# ---- nothing to free: gc removes nothing -----------------------------------------------------
out=$(gc_json) || fail "gc with nothing to free failed: $out"
assert_eq 0 "$(jfield chunks_freed <<<"$out")" "gc with nothing unreferenced frees nothing"
assert_eq "$n0" "$(nchunks d)" "and every chunk file is still there"
assert_eq True "$(jfield by_daemon <<<"$out")" "a mounted store is collected by its daemon"

# ---- a deleted file whose chunks another file shares: nothing freed -------------------------
expect_ok rm "$MNT/d/a"
out=$(gc_json) || fail "gc failed: $out"
assert_eq 0 "$(jfield chunks_freed <<<"$out")" "chunks still used by a-again are not freed"
expect_ok ctl scrub d
assert_eq "$(sha "$T/a")" "$(sha "$MNT/d/a-again")" "a-again reads back whole"

# ---- a deleted file and an overwritten one: their chunks go once trash is purged -------------
before=$(chunk_bytes d)
expect_ok rm "$MNT/d/b"
"$PY" "$G" gen 9609 $((2 * MiB)) >"$T/x" || die "gen x"
expect_ok cp "$T/x" "$MNT/d/c" # c's old content is no longer used
settle d
n_before=$(nchunks d)
# The purge asks the daemon to collect at once; the gc below waits for that run or
# makes its own, so the count comes from the chunk files.
expect_ok ctl trash purge d
out=$(gc_json) || fail "gc failed: $out"
freed=$((n_before - $(nchunks d)))
log "after rm b and overwriting c: gc freed $freed chunks, $(jfield bytes_freed <<<"$out") bytes"
assert_true "the chunks of a deleted and an overwritten file are freed ($freed)" [ $freed -gt 0 ]
assert_eq "$(chunk_bytes d)" "$(stored d)" "after gc STORED equals the chunk files' bytes again"
assert_true "about 12 MiB of chunk files went ($before -> $(chunk_bytes d))" [ $(chunk_bytes d) -lt $((before - 8 * MiB)) ]
expect_ok ctl scrub d
assert_eq "$(sha "$T/x")" "$(sha "$MNT/d/c")" "the new c reads back"
assert_eq "$(sha "$T/a")" "$(sha "$MNT/d/a-again")" "a-again still reads back"
assert_true "gc is journalled" [ $(audit_count --event gc) -ge 1 ]
grep -q "chunks_freed=$freed" <<<"$(ctl audit show --event gc)" && pass "the journal record counts what was freed" ||
	fail "no gc record with chunks_freed=$freed: $(ctl audit show --event gc | tail -n 2)"

# ---- leftovers of an interrupted seal: a chunk file no index entry names -------------------
cd_=$(chunk_dir d)
stray=$(printf 'f%.0s' $(seq 64))
mkdir -p "$cd_/ff/ff" && head -c 1000 /dev/urandom >"$cd_/ff/ff/$stray"
echo keep >"$cd_/ff/ff/not-a-chunk"
out=$(gc_json) || fail "gc failed: $out"
assert_true "a chunk file nothing references (an interrupted seal's) is removed" [ ! -e $cd_/ff/ff/$stray ]
assert_true "a file that is not named as a chunk is left alone" [ -e $cd_/ff/ff/not-a-chunk ]
rm -f "$cd_/ff/ff/not-a-chunk"

# ---- online: transfers that deduplicate onto the chunks being freed -------------------------
# Each round copies the same content under a new name and deletes the previous copy, while
# gc runs again and again: a chunk is unreferenced and wanted back all the time.
(
	for i in $(seq 1 25); do
		cp "$T/a" "$MNT/d/r$i" || exit 1
		rm -f "$MNT/d/r$((i - 1))"
		sleep 0.0$((RANDOM % 10))
	done
) &
writer=$!
gcs=0 gcfail=0
while kill -0 "$writer" 2>/dev/null; do
	ctl gc >/dev/null 2>"$T/gc.err" || { gcfail=$((gcfail + 1)); cat "$T/gc.err"; }
	gcs=$((gcs + 1))
done
wait "$writer" && pass "25 copy-and-delete rounds ran beside $gcs gc runs" || fail "the copy-and-delete writer failed"
assert_eq 0 "$gcfail" "no gc run failed"
settle d
expect_ok ctl gc
expect_ok ctl scrub d
assert_eq "$(sha "$T/a")" "$(sha "$MNT/d/r25")" "the last copy reads back after all that"
assert_eq "$(chunk_bytes d)" "$(stored d)" "STORED equals the chunk files' bytes after the race"

# ---- gc of one EIR is refused while the daemon serves the store -----------------------------
out=$(ctl gc d 2>&1)
assert_eq 1 "$?" "gc of one EIR while the daemon serves the store: exit 1"
grep -q "without an EIR" <<<"$out" && pass "and the refusal says to run it without an EIR" || fail "unclear refusal: $out"

# ---- offline: everything deleted, gc returns the EIR's chunk bytes to under 1 % -------------
peak=$(chunk_bytes d)
expect_ok rm -f "$MNT/d/"*
settle d
umount_fs
expect_ok ctl trash purge d
out=$(gc_json) || fail "offline gc failed: $out"
assert_eq False "$(jfield by_daemon <<<"$out")" "an unmounted store is collected by enrpctl itself"
left=$(chunk_bytes d)
log "after deleting everything: $left of $peak chunk bytes left"
assert_true "after every file is deleted gc leaves under 1 % of the chunk bytes ($left of $peak)" [ $left -le $((peak / 100)) ]
assert_eq 0 "$(nchunks d)" "no chunk file left at all"
expect_ok ctl fsck
mount_fs
assert_eq 0 "$(stored d)" "STORED is 0"

# ---- the daemon collects on its own once chunks lost their users (-o gc_interval); a purge
# of trash by enrpctl asks it to at once ------------------------------------------------------
umount_fs
mount_fs -o gc_interval=1
expect_ok cp "$T/b" "$MNT/d/auto"
settle d
assert_true "the new file has chunk files" [ "$(nchunks d)" -gt 0 ]
expect_ok rm "$MNT/d/auto"
in_trash() { [ "$(ctl --json trash list d | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')" = 1 ]; }
poll_until 20 in_trash || fail "the deleted file did not reach trash"
expect_ok ctl trash purge d
nothing_left() { [ "$(nchunks d)" -eq 0 ]; }
poll_until 30 nothing_left && pass "the daemon freed the deleted file's chunks without enrpctl gc" ||
	fail "$(nchunks d) chunk files left 30 s after the delete with gc_interval=1"
grep -q enrpfs <<<"$(ctl audit show --event gc)" && pass "its gc record names the daemon" ||
	fail "no gc record by enrpfs: $(ctl audit show --event gc | tail -n 2)"
out=$("$ENRPFS" "$STORE" "$T/m2" -o gc_interval=x 2>&1)
assert_eq 2 "$?" "a bad gc_interval is a usage error"
assert_match "gc_interval" "$out" "and the message names it"

finish
