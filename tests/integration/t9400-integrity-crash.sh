#!/bin/bash
# t9400: enrpfs SIGKILLed while files wait to be sealed (DESIGN §2, §5): after
# a remount the workers pick up every closed and synced file and seal it with
# the right checksum — a new 200 MiB file, an append to a sealed file, a file
# whose writer still held it open (fsync'd) — and the spool of a file unlinked
# while open is not left behind: once everything is verified the spool is
# empty.  The closed files are synced before the kill: what was not synced
# may be lost with the last second's commit (DURABILITY in enrpfs(8)), and a
# kill within that second, on a loaded machine, cut big at the size the
# commit before had.
. "$(dirname "$0")/lib.sh"
setup

G=$LIB_DIR/integ9.py
MiB=1048576

state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
xsha() { getfattr --absolute-names --only-values -n enrp.sha256 "$1" 2>/dev/null; }
is_verified() { [ "$(state "$1")" = verified ]; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
# Spool files holding bytes: the daemon's pool of emptied spool files
# (p + 16 hex digits, core/spool.c) holds none, and any non-empty one counts.
spool_files() {
	find "$STORE/spool" -mindepth 1 ! -type d \( ! -name 'p????????????????' -o -size +0c \) 2>/dev/null
}
spool_empty() { [ -z "$(spool_files)" ]; }
chunk_tmp_files() { find "$STORE/chunks" -mindepth 2 -path "$STORE/chunks/*/tmp/*" -type f 2>/dev/null; }

mk_eir e --owner root
E=$MNT/e
"$PY" "$G" gen 9400 $((200 * MiB)) >"$T/big" || die "gen big"
"$PY" "$G" gen 9401 $((30 * MiB)) >"$T/base" || die "gen base"
"$PY" "$G" gen 9402 $((1 * MiB + 5)) >"$T/tail" || die "gen tail"
"$PY" "$G" gen 9403 $((5 * MiB)) >"$T/held" || die "gen held"
"$PY" "$G" gen 9404 $((10 * MiB)) >"$T/unlinked" || die "gen unlinked"
cat "$T/base" "$T/tail" >"$T/appended"

# ---- a sealed file to append to later ----------------------------------------------------------
mount_fs
expect_ok cp "$T/base" "$E/appended"
expect_ok cp "$T/tail" "$E/small-verified"
poll_until 60 pending_empty e || die "e: files not sealed in 60 s"
assert_eq "verified $(sha "$T/base")" "$(state "$E/appended") $(xsha "$E/appended")" "base file sealed before the crash"
umount_fs

# ---- slow sealing (one worker, zstd level 19), then the crash ---------------------------------------
mount_fs -o workers=1,compress=19
# A writer that fsyncs and keeps the file open, and one that unlinks its file while open.
"$PY" - "$T/held" "$E/held-open" "$T/unlinked" "$E/unlinked-open" "$T/ready" <<'EOF' &
import os, sys, time
src1, dst1, src2, dst2, ready = sys.argv[1:6]
fd1 = os.open(dst1, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd1, open(src1, "rb").read())
os.fsync(fd1)
fd2 = os.open(dst2, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd2, open(src2, "rb").read())
os.unlink(dst2)
open(ready, "w").close()
while True:
    time.sleep(1)
EOF
holder=$!
CLEANUP_PIDS+=("$holder")
poll_until 60 test -e "$T/ready" || die "the writers did not get ready"
# big first: the one worker is busy with it when appended is queued.  (The other way round,
# appended's reseal dedups onto its old chunks, which its trashed copy keeps, and can finish
# before the kill.)
expect_ok cp "$T/big" "$E/big"
expect_ok bash -c 'cat "$1" >>"$2"' _ "$T/tail" "$E/appended"
expect_ok sync "$E/big" "$E/appended"
st_big=$(state "$E/big")
st_app=$(state "$E/appended")
st_held=$(state "$E/held-open")
pid=$(daemon_pid)
[ -n "$pid" ] && kill -KILL "$pid"
log "states just before SIGKILL: big=$st_big appended=$st_app held-open=$st_held"
case $st_big in
pending | open) pass "big was $st_big (not yet sealed) when enrpfs was killed" ;;
*) fail "big was '$st_big' before the kill; the crash did not land before sealing" ;;
esac
case $st_app in
pending | open) pass "appended was $st_app when enrpfs was killed" ;;
*) fail "appended was '$st_app' before the kill (expected pending/open)" ;;
esac
# fsync queues the file (DESIGN §5), so open or pending.
case $st_held in
pending | open) pass "held-open (fsync'd, writer still holding it) was $st_held when enrpfs was killed" ;;
*) fail "held-open was '$st_held' before the kill (expected open or pending)" ;;
esac
[ -n "$pid" ] || die "no daemon to kill"
poll_until 20 pid_gone "$pid" || die "enrpfs $pid survived SIGKILL"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
log "spool after the crash: $(spool_files | wc -l) file(s); chunk temp files: $(chunk_tmp_files | wc -l)"

fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
poll_until 20 not_mounted "$MNT" || die "$MNT still mounted after fusermount3 -u/-uz"
expect_ok ctl audit verify

# ---- remount: the workers pick everything up ---------------------------------------------------------
start=$SECONDS
mount_fs
if poll_until 180 is_verified "$E/big"; then
	pass "big verified after the remount ($((SECONDS - start)) s to seal 200 MiB again)"
else
	fail "big not verified 180 s after the remount: state '$(state "$E/big")'"
fi
poll_until 120 pending_empty e || fail "still pending 120 s after the remount: $(head -n 5 "$E/.enrp/pending" | tr '\n' ' ')"
assert_eq "verified $(sha "$T/big")" "$(state "$E/big") $(xsha "$E/big")" "big: verified with the right SHA-256"
expect_ok cmp "$T/big" "$E/big"
assert_eq "verified $(sha "$T/appended")" "$(state "$E/appended") $(xsha "$E/appended")" \
	"appended: sealed again with the appended content's SHA-256"
expect_ok cmp "$T/appended" "$E/appended"
assert_eq "verified $(sha "$T/held")" "$(state "$E/held-open") $(xsha "$E/held-open")" \
	"held-open: the fsync'd file whose writer died is sealed"
expect_ok cmp "$T/held" "$E/held-open"
assert_true "unlinked-open is gone" test ! -e "$E/unlinked-open"
assert_eq "verified $(sha "$T/tail")" "$(state "$E/small-verified") $(xsha "$E/small-verified")" \
	"a file verified before the crash stays verified"
assert_eq 0 "$(status_field e pending_files)" "status: pending_files 0"
assert_eq 4 "$(status_field e verified_files)" "status: verified_files 4"
want_usage=$((200 * MiB + 30 * MiB + 1 * MiB + 5 + 5 * MiB + 1 * MiB + 5))
assert_eq "$want_usage" "$(status_field e usage_bytes)" "status: usage_bytes of the four live files (the unlinked file not counted)"
assert_true "SHA256SUMS checks out after the crash" \
	bash -c 'cd "$1" && sha256sum --quiet --strict -c .enrp/SHA256SUMS' _ "$E"

# ---- nothing left behind ------------------------------------------------------------------------------
if poll_until 30 spool_empty; then
	pass "the spool is empty once everything is verified (pooled empty files aside)"
else
	fail "spool files left behind: $(spool_files | head -n 5 | tr '\n' ' ')"
fi
if poll_until 30 test -z "$(chunk_tmp_files)"; then
	pass "no chunk temp files of the killed daemon left behind"
else
	fail "chunk temp files left behind: $(chunk_tmp_files | head -n 5 | tr '\n' ' ')"
fi
out=$(ctl scrub e 2>&1)
rc=$?
assert_eq 0 "$rc" "scrub after the crash is clean ($out)"
stored=$(status_field e stored_bytes)
log "stored_bytes $stored for $want_usage logical bytes"
if [ "$stored" -le $((want_usage + want_usage / 50)) ]; then
	pass "stored_bytes not inflated by the interrupted seal ($stored)"
else
	fail "stored_bytes $stored exceeds the live data $want_usage by more than 2 %"
fi

# ---- and after a clean remount ----------------------------------------------------------------------
umount_fs
mount_fs
expect_ok cmp "$T/big" "$E/big"
assert_true "spool still empty after a clean remount" spool_empty

finish
