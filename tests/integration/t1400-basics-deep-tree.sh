#!/bin/bash
# t1400: one owner's 30,000-level directory chain (10,000 under
# AddressSanitizer) costs the daemon neither
# memory nor correctness: .enrp/status, pending and SHA256SUMS, read while the
# chain grows and after, are right (every file once, with its full path), a
# stat reports their exact sizes, and the daemon's memory (Rss less the
# store's mapped pages) stays under a fixed bound throughout.  The old walk
# built every path prefix anew per level: quadratic memory in the depth.
# (Under AddressSanitizer, whose quarantine keeps freed memory, the memory
# bound is not checked.)
. "$(dirname "$0")/lib.sh"
setup

DEPTH=30000
EVERY=1000
RSS_LIMIT_KIB=$((64 * 1024))   # measured ~10 MiB; the old walk needed ~1 GiB here
FL=$LIB_DIR/fairload.py

mk_eir deep --owner "$ALICE"
mk_eir other --owner "$BOB"
mount_fs
E=$MNT/deep
PID=$(daemon_pid)
# Under AddressSanitizer building the chain alone took 86-236 s on a busy
# host (5 s without): a third of its depth still walks far deeper than a C
# stack would let a recursive walk go with ASan's larger frames, which is
# what this build is for; the full depth runs without it.
if grep -q libasan "/proc/$PID/maps"; then
	DEPTH=10000
	log "AddressSanitizer build: $DEPTH levels"
fi

"$PY" "$FL" sample "$PID" "$T/rss.max" "$T/rss.stop" &
CLEANUP_PIDS+=($!)
SAMPLER=$!

# The chain, its files read back every 1000 levels as it grows (as the owner).
start=$SECONDS
install -m 666 /dev/null "$T/want.sums"
as "$ALICE" "$PY" "$FL" chain "$E" "$DEPTH" "$EVERY" "$T/want.sums" >"$T/chain.out" ||
	die "building the $DEPTH-level chain failed"
log "built $DEPTH levels in $((SECONDS - start)) s"
assert_eq "reads $((DEPTH / EVERY))" "$(grep '^reads ' "$T/chain.out")" "status, pending and SHA256SUMS read $((DEPTH / EVERY)) times as the chain grew"
assert_eq "bad_reads 0" "$(grep '^bad_reads ' "$T/chain.out")" "every line they had named a file that exists, once"
nfiles=$(wc -l <"$T/want.sums")
assert_eq $((DEPTH / EVERY + 1)) "$nfiles" "the chain holds $((DEPTH / EVERY + 1)) files"

# status comes from counters: the chain's directories and files counted.
assert_eq $((DEPTH + nfiles)) "$(status_field deep inodes)" "status: inodes counts every inode of the chain"
assert_eq "$nfiles" "$(status_field deep files)" "status: files counts its regular files only"

# pending names every not-yet-verified file by its full path; once they are
# sealed it is empty and SHA256SUMS has every line.
sealed() { [ "$(status_field deep verified_files)" = "$nfiles" ]; }
poll_until 180 sealed || fail "the chain's files are not all verified after 180 s: $(status_field deep pending_files) pending"
assert_eq 0 "$(status_field deep pending_files)" "status: nothing pending"
assert_eq 0 "$(stat -c %s "$E/.enrp/pending")" "pending is empty (size 0, known from the counts)"
as "$ALICE" cat "$E/.enrp/SHA256SUMS" >"$T/got.sums" || fail "cat SHA256SUMS"
assert_text_eq "$(cat "$T/want.sums")" "$(sort "$T/got.sums")" \
	"SHA256SUMS: every file of the chain once, its full path and its sum"
assert_eq "$(stat -c %s "$T/got.sums")" "$(stat -c %s "$E/.enrp/SHA256SUMS")" \
	"stat of SHA256SUMS reports the exact size of the text ($(stat -c %s "$T/got.sums") bytes)"
assert_eq "$(stat -c %s "$T/got.sums")" "$(as "$ALICE" wc -c <"$E/.enrp/SHA256SUMS")" \
	"wc -c (which trusts st_size) counts the whole text"
longest=$(awk '{ print length($0) }' "$T/got.sums" | sort -n | tail -n1)
assert_eq $((64 + 2 + 2 * DEPTH + 6)) "$longest" "the deepest line carries all $DEPTH levels"

# A new file at the bottom is pending with its whole path, then verified.
as "$ALICE" "$PY" -c '
import os, sys
os.chdir(sys.argv[1])
for _ in range(int(sys.argv[2])):
    os.chdir("d")
fd = os.open("late", os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, b"late\n")
os.fsync(fd)
print(len(open(os.path.join(sys.argv[1], ".enrp", "pending")).read()))
os.close(fd)' "$E" "$DEPTH" >"$T/pending.len" || fail "writing a file at the bottom"
assert_eq $((2 * DEPTH + 5)) "$(cat "$T/pending.len")" \
	"pending lists the open file at the bottom by its full path"

# stat and read of status cost nothing like the walk did: many in a row.
start=$SECONDS
for _ in $(seq 200); do
	stat -c %s "$E/.enrp/status" >/dev/null && cat "$E/.enrp/status" >/dev/null
done
log "200 stat+read of status took $((SECONDS - start)) s"

touch "$T/rss.stop"
wait "$SAMPLER"
max_kib=$(cat "$T/rss.max")
log "largest Rss - data.mdb of the daemon: $max_kib KiB"
if grep -q libasan "/proc/$PID/maps"; then
	log "AddressSanitizer build: the memory bound is not checked"
elif [ -n "$max_kib" ] && [ "$max_kib" -gt 0 ] && [ "$max_kib" -lt "$RSS_LIMIT_KIB" ]; then
	pass "daemon memory stayed under $((RSS_LIMIT_KIB / 1024)) MiB (max $((max_kib / 1024)) MiB)"
else
	fail "daemon memory went to '$max_kib' KiB (limit $RSS_LIMIT_KIB)"
fi

# The other owner's EIR is untouched and its status right.
expect_ok as "$BOB" touch "$MNT/other/x"
assert_eq 1 "$(status_field other files)" "another EIR's status is its own"

finish
