#!/bin/bash
# t8000: enrpfs killed with SIGKILL in the middle of a transfer (DESIGN §2,
# §3, §5; STYLE 18): the mount can be cleaned up and made again, the store
# opens, every fsync'd file is intact, no spool file is left that no inode
# references, the journal verifies, and a new rsync completes.  Three rounds
# with different kill delays, on the same store.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner root
E=$MNT/e
SRC=$T/src
"$PY" - "$SRC" <<'EOF' || die "cannot build the source tree"
import os, random, sys
root = sys.argv[1]
rnd = random.Random(8000)
for d in range(40):
    os.makedirs(os.path.join(root, "d%02d" % d))
    for f in range(75):
        with open(os.path.join(root, "d%02d" % d, "f%03d" % f), "wb") as fh:
            fh.write(rnd.randbytes(rnd.randrange(50, 4000)))
with open(os.path.join(root, "big.bin"), "wb") as fh:
    fh.write(rnd.randbytes(8 << 20))
EOF
log "source: $(find "$SRC" -type f | wc -l) files, $(du -sh "$SRC" | cut -f1)"
: >"$T/synced.txt"

# Every spool file must belong to an inode that is still in the tree (pool
# files must be empty).
spool_orphans() {
	local name want p
	want=$(find "$MNT" -type f -printf '%i\n' 2>/dev/null | while read -r i; do printf '%016x\n' "$i"; done | sort -u)
	for p in "$STORE"/spool/* "$STORE"/spool/.[!.]*; do
		[ -e "$p" ] || continue
		name=${p##*/}
		case $name in
		p[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f])
			# The daemon's pool of emptied spool files (core/spool.c).
			[ -s "$p" ] && echo "$name(a pooled spool file that is not empty)"
			continue ;;
		[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
		*) echo "$name(not an inode name)"; continue ;;
		esac
		grep -qx "$name" <<<"$want" || echo "$name"
	done
}
no_spool_orphans() { [ -z "$(spool_orphans)" ]; }

mount_fs
round=0
for delay in 0.4 1.5 3; do
	round=$((round + 1))
	log "---- round $round: SIGKILL after ${delay}s of rsync"

	# Files made durable with fsync before the crash.
	for i in 1 2 3 4 5; do
		f=$E/synced-r$round-$i
		sum=$("$PY" "$PYH" write-fsync "$f" $((i * 37000 + round))) || fail "write-fsync $f"
		echo "$sum  $f" >>"$T/synced.txt"
	done
	head -c 700000 /dev/urandom >"$T/dd-src-$round"
	expect_ok dd if="$T/dd-src-$round" of="$E/dd-synced-r$round" bs=64k conv=fsync status=none
	echo "$(sha "$T/dd-src-$round")  $E/dd-synced-r$round" >>"$T/synced.txt"
	# A file fsync'd, then grown by a write that is not: at least the fsync'd bytes stay.
	"$PY" - "$E/partly-r$round" <<'EOF' || fail "partly-synced writer"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"durable\n" * 1000)
os.fsync(fd)
os.write(fd, b"maybe\n" * 1000)
os.close(fd)
EOF

	# The crash: rsync and an unsynced writer busy, then SIGKILL.
	rsync -a "$SRC/" "$E/tree/" >/dev/null 2>&1 &
	rsync_pid=$!
	"$PY" -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
while True:
    os.write(fd, os.urandom(65536))
    time.sleep(0.01)
' "$E/unsynced-r$round" >/dev/null 2>&1 &
	writer_pid=$!
	CLEANUP_PIDS+=("$rsync_pid" "$writer_pid")
	sleep "$delay"
	pid=$(daemon_pid)
	[ -n "$pid" ] || die "round $round: no daemon to kill"
	kill -KILL "$pid"
	poll_until 20 pid_gone "$pid" || die "round $round: enrpfs $pid survived SIGKILL"
	wait "$rsync_pid" 2>/dev/null
	kill "$writer_pid" 2>/dev/null
	wait "$writer_pid" 2>/dev/null

	# Clean up the dead mount; the store opens without a daemon.
	fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
	if poll_until 20 not_mounted "$MNT"; then
		pass "round $round: dead mount cleaned up"
	else
		die "round $round: $MNT still mounted after fusermount3 -u/-uz"
	fi
	expect_ok ctl eir show e
	out=$(ctl audit verify 2>&1)
	assert_match '^audit: chain intact, [0-9]+ records?$' "$out" "round $round: journal intact after SIGKILL"

	# Remount (the dead daemon's pid file and lock must not stand in the way).
	out=$("$ENRPFS" "$STORE" "$MNT" 2>&1)
	rc=$?
	assert_eq 0 "$rc" "round $round: enrpfs mounts again after SIGKILL ($out)"
	[ "$rc" -eq 0 ] || die "round $round: cannot continue without a mount"
	poll_until 20 is_mounted "$MNT" || die "round $round: not mounted"

	# Every fsync'd file, from this and earlier rounds, is intact.
	out=$(sha256sum --quiet -c "$T/synced.txt" 2>&1)
	assert_eq "" "$out" "round $round: all $(wc -l <"$T/synced.txt") fsync'd files intact"
	out=$(head -c 8000 "$E/partly-r$round" | sha256sum | cut -d' ' -f1)
	assert_eq "$(printf 'durable\n%.0s' $(seq 1000) | sha256sum | cut -d' ' -f1)" "$out" \
		"round $round: the fsync'd prefix of a partly synced file is intact"

	# No spool file without an inode (recovery may take a moment).
	if poll_until 30 no_spool_orphans; then
		pass "round $round: every spool file belongs to a live inode ($(ls -A "$STORE/spool" | wc -l) spool files)"
	else
		fail "round $round: spool files without an inode: $(spool_orphans | head -n 10 | tr '\n' ' ')"
	fi

	# The transfer can be repeated and completes.  --delete: a temporary file
	# of the killed rsync whose creation was committed stays, as it would on
	# any filesystem, and a mirroring rerun removes it.
	expect_ok rsync -a --delete "$SRC/" "$E/tree/"
	out=$(diff -r "$SRC" "$E/tree" 2>&1 | head -n 5)
	assert_eq "" "$out" "round $round: repeated rsync leaves an identical tree"
	expect_ok rm -f "$E/unsynced-r$round"
done

# After a clean unmount and mount everything is still there.
umount_fs
mount_fs
out=$(sha256sum --quiet -c "$T/synced.txt" 2>&1)
assert_eq "" "$out" "after a clean remount: all fsync'd files intact"
out=$(diff -r "$SRC" "$E/tree" 2>&1 | head -n 5)
assert_eq "" "$out" "after a clean remount: tree identical"
if poll_until 30 no_spool_orphans; then
	pass "after a clean remount: no orphan spool files"
else
	fail "after a clean remount: spool files without an inode: $(spool_orphans | head -n 10 | tr '\n' ' ')"
fi
expect_ok ctl audit verify

finish
