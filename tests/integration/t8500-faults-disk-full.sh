#!/bin/bash
# t8500: the store's disk fills up (docs/design.md "Metadata durability",
# core/store.c "Disk full").  The store lives on a small ext4 image.
#
# Part A, data: the owner fills the disk through the mount with several
# files (some dd conv=fsync) until a write fails.  The failure is ENOSPC —
# not EIO, not a hang, not a dead daemon; every file fsync'd before it is
# intact and verified or pending, never corrupt; what was verified before
# stays verified (read back, scrub); the journal verifies.  Then space comes
# back (a ballast file on the image is deleted under the running daemon) and
# writing resumes without a remount, every pending file gets verified; then
# the image grows offline (resize2fs) and writing goes on after a remount;
# the mount unmounts cleanly and fsck is clean.
#
# Part B, metadata: a plain file outside the store, on the same filesystem,
# takes every free block; then metadata-only operations (large user.*
# xattrs) eat the LMDB headroom the committer keeps reserved.  Writes and
# metadata operations fail with ENOSPC, nothing acknowledged is lost, and
# everything resumes once the filler is deleted.  A file removed while held
# open is let go of while metadata is starved (its free fails): the daemon
# frees it once space is back, without a remount.
#
# Part C, a metadata burst: with the filler back, one process creates files
# with large xattrs as fast as it can, so one group of operations outgrows
# the reserved headroom.  Same contract: ENOSPC, nothing acknowledged lost,
# writes resume when the filler is deleted.
. "$(dirname "$0")/lib.sh"
setup

MiB=1048576
IMG=$T/disk.img
DISK=$T/disk
LOGF=$T/enrpfs.log
FG_PID=

# ---- the image, and cleanup that unmounts in the right order ------------------------------------
# lib.sh's cleanup unmounts $MNT and stops the daemon, but refuses to remove
# $T while the image is mounted under it: unmount FUSE, stop the daemon, then
# the image (lazily as a last resort), then hand over to lib.sh.
faults_cleanup() {
	local rc=$? p i
	set +e
	trap '' INT TERM
	for i in 1 2 3; do
		is_mounted "$MNT" || break
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
		sleep 0.2
	done
	# Our daemons: the pid file's, the foreground one we started, and any
	# enrpfs whose command line names this test's store (a path unique to
	# this run), each stopped by its id.
	for p in $(store_daemon_pid "$STORE") $FG_PID $(pgrep -f -x ".*enrpfs $STORE $MNT.*"); do
		kill -0 "$p" 2>/dev/null || continue
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
		poll_until 10 pid_gone "$p" || kill -KILL "$p" 2>/dev/null
		poll_until 5 pid_gone "$p"
	done
	[ -n "$FG_PID" ] && wait "$FG_PID" 2>/dev/null
	FG_PID=
	is_mounted "$MNT" && { fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null; }
	for i in 1 2 3 4 5; do
		is_mounted "$DISK" || break
		umount "$DISK" 2>/dev/null || sleep 1
	done
	is_mounted "$DISK" && umount -l "$DISK"
	[ "${KEEP:-0}" = 1 ] || rm -f "$IMG"
	(exit "$rc")
	cleanup
}
trap faults_cleanup EXIT

truncate -s 96M "$IMG" || die "truncate image"
mkfs.ext4 -q -F -m 0 "$IMG" || die "mkfs.ext4"
mkdir "$DISK"
mount -o loop "$IMG" "$DISK" || die "mount -o loop $IMG"
STORE=$DISK/store
ctl_nostore init "$STORE" >/dev/null || die "enrpctl init $STORE"
mk_eir e --owner "$ALICE"
E=$MNT/e
# Ballast outside the store: deleted later to give space back online.
dd if=/dev/zero of="$DISK/ballast" bs=1M count=16 status=none || die "ballast"
log "image: $(df -h --output=size,avail "$DISK" | tail -n1) (after 16 MiB of ballast)"

# enrpfs in the foreground, its messages in $LOGF (nothing reads syslog here).
mount_fg() {
	"$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
		"$ENRPFS" "$STORE" "$MNT" -f >>"$LOGF" 2>&1 &
	FG_PID=$!
	poll_until 20 is_mounted "$MNT" || die "enrpfs -f did not mount: $(tail -n 5 "$LOGF")"
	poll_until 10 have_daemon || die "no daemon pid after mounting"
}
umount_fg() {
	fusermount3 -u "$MNT" || { sleep 1; fusermount3 -u "$MNT"; } || die "fusermount3 -u $MNT failed"
	if [ -n "$FG_PID" ]; then
		poll_until 60 pid_gone "$FG_PID" || die "enrpfs $FG_PID still running 60 s after unmount"
		wait "$FG_PID"
		local rc=$?
		FG_PID=
		return "$rc"
	fi
}

state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
pending_empty() { [ -r "$E/.enrp/pending" ] && [ ! -s "$E/.enrp/pending" ]; }
daemon_serves() { have_daemon && stat "$MNT/e" >/dev/null 2>&1; }
avail_kib() { df --output=avail -k "$DISK" | tail -n1 | tr -d ' '; }

# A source file of SIZE random bytes, outside the image.
mksrc() { head -c "$2" /dev/urandom >"$T/src-$1" || die "source $1"; }

# write_as_owner NAME SRC [conv]: dd SRC into the EIR as its owner, bounded
# (a hang is a failure, reported as exit 124).  Output in $T/dd.err.
write_as_owner() {
	local conv=${3:+conv=$3}
	# shellcheck disable=SC2086
	as "$ALICE" timeout 120 dd if="$2" of="$E/$1" bs=1M $conv status=none 2>"$T/dd.err"
}

mount_fg

# ---- part A: verified files first ------------------------------------------------------------------
: >"$T/verified.sums"
for i in 1 2 3; do
	mksrc "v$i" $((2 * MiB + i * 4099))
	write_as_owner "v$i" "$T/src-v$i" fsync || fail "write v$i: $(cat "$T/dd.err")"
	echo "$(sha "$T/src-v$i")  $E/v$i" >>"$T/verified.sums"
done
poll_until 120 pending_empty || fail "v1..v3 still pending after 120 s: $(cat "$E/.enrp/pending")"
assert_eq "verified verified verified" "$(state "$E/v1") $(state "$E/v2") $(state "$E/v3")" \
	"three files verified before the disk fills"
log "after the verified files: $(avail_kib) KiB free; meta/data.mdb $(du -k --apparent-size "$STORE/meta/data.mdb" | cut -f1) KiB long, $(du -k "$STORE/meta/data.mdb" | cut -f1) KiB allocated (headroom reserved)"

# ---- part A: fill the disk through the mount -------------------------------------------------------
: >"$T/synced.sums"
full=0
fail_err=
for i in $(seq 1 40); do
	mksrc "f$i" $((4 * MiB + i * 1031))
	conv=
	[ $((i % 2)) -eq 1 ] && conv=fsync
	write_as_owner "f$i" "$T/src-f$i" $conv
	rc=$?
	if [ "$rc" -eq 0 ]; then
		[ -n "$conv" ] && echo "$(sha "$T/src-f$i")  $E/f$i" >>"$T/synced.sums"
		continue
	fi
	full=$i
	fail_err=$(cat "$T/dd.err")
	log "write of f$i (${conv:-no fsync}) failed with exit $rc after $(stat -c %s "$E/f$i" 2>/dev/null) bytes: $fail_err"
	break
done
[ "$full" -gt 0 ] || die "40 files of 4 MiB did not fill a 96 MiB disk?"
[ -s "$T/synced.sums" ] || die "the disk was full before any fsync'd file (sizes need adjusting)"
log "disk full after $((full - 1)) files; $(avail_kib) KiB free; $(wc -l <"$T/synced.sums") fsync'd"
assert_true "the write that hit the full disk did not hang" test "$rc" -ne 124
assert_match 'No space left on device' "$fail_err" "the write that hit the full disk fails with ENOSPC"
case $fail_err in
*"Input/output error"*) fail "the full disk surfaced as EIO: $fail_err" ;;
*) pass "no EIO from the full disk" ;;
esac
assert_true "the daemon survives the full disk" daemon_serves

# More attempts while full: a new file with fsync, and an append to a file.
mksrc extra $((2 * MiB))
write_as_owner "extra" "$T/src-extra" fsync
rc=$?
if [ "$rc" -eq 0 ]; then
	# The failed file's spool may have been freed meanwhile; not an error,
	# but then it must be intact like the others.
	log "a 2 MiB fsync'd write succeeded after the disk was full (space came back from sealing?)"
	echo "$(sha "$T/src-extra")  $E/extra" >>"$T/synced.sums"
	pass "write after full: succeeded (space was freed meanwhile)"
else
	assert_match 'No space left on device' "$(cat "$T/dd.err")" "a second write on the full disk fails with ENOSPC (exit $rc)"
fi
out=$(as "$ALICE" timeout 60 bash -c 'head -c 3000000 /dev/urandom >> "$1"' _ "$E/v1.append" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then
	assert_match 'No space left on device' "$out" "an append on the full disk fails with ENOSPC (exit $rc)"
else
	pass "an append on the full disk succeeded (there was room after all)"
fi
as "$ALICE" rm -f "$E/v1.append"
assert_true "the daemon still serves after repeated ENOSPC" daemon_serves
# Deleting works on a full disk (the metadata headroom is still reserved).
expect_ok as "$ALICE" rm "$E/f$full"

# Everything fsync'd before the failure is intact, verified or pending.
out=$(sha256sum --quiet -c "$T/verified.sums" "$T/synced.sums" 2>&1)
assert_eq "" "$out" "every file fsync'd before the disk filled is intact ($(cat "$T/verified.sums" "$T/synced.sums" | wc -l) files)"
bad=
while read -r _ f; do
	s=$(state "$f")
	case $s in verified | pending) ;; *) bad="$bad ${f##*/}=$s" ;; esac
done < <(cat "$T/synced.sums")
assert_eq "" "$bad" "fsync'd files are verified or pending on the full disk"
assert_eq "verified verified verified" "$(state "$E/v1") $(state "$E/v2") $(state "$E/v3")" \
	"the files verified before stay verified on the full disk"
out=$(timeout 120 "$ENRPCTL" -S "$STORE" scrub e 2>&1)
assert_eq 0 "$?" "scrub on the full disk finds nothing damaged ($(printf '%s' "$out" | tail -n1))"
out=$(timeout 60 "$ENRPCTL" -S "$STORE" audit verify 2>&1)
assert_match '^audit: chain intact' "$out" "audit verify on the full disk"
assert_true "the daemon still serves after scrub on the full disk" daemon_serves

# ---- part A: space comes back under the running daemon ---------------------------------------------
# (Online resize2fs is not permitted everywhere; a ballast file placed on the
# image before the store filled it gives the space back instead.)
rm -f "$DISK/ballast"
sync -f "$DISK"
log "ballast removed: $(avail_kib) KiB free"
if poll_until 120 pending_empty; then
	pass "every pending file gets verified once space is back (no remount)"
else
	fail "still pending 120 s after space came back: $(head -n 5 "$E/.enrp/pending" | tr '\n' ' ')"
fi
bad=
while read -r _ f; do
	[ "$(state "$f")" = verified ] || bad="$bad ${f##*/}=$(state "$f")"
done < <(cat "$T/verified.sums" "$T/synced.sums")
assert_eq "" "$bad" "all fsync'd files verified after space came back"
: >"$T/after.sums"
mksrc n0 $((3 * MiB + 7))
if write_as_owner n0 "$T/src-n0" fsync; then
	pass "a write succeeds after space came back (no remount)"
else
	fail "write after space came back (no remount): $(cat "$T/dd.err")"
fi
echo "$(sha "$T/src-n0")  $E/n0" >>"$T/after.sums"
poll_until 120 pending_empty || fail "n0 still pending after 120 s"
assert_eq verified "$(state "$E/n0")" "the file written after space came back is verified"

# ---- part A: the image grows (offline), more space -------------------------------------------------------
umount_fg || fail "enrpfs -f exited non-zero at the unmount before growing: $(tail -n 5 "$LOGF")"
umount "$DISK" || die "umount $DISK"
truncate -s 256M "$IMG" || die "truncate 256M"
e2fsck -f -p "$IMG" >/dev/null 2>&1
resize2fs "$IMG" >/dev/null 2>&1 || die "resize2fs $IMG"
mount -o loop "$IMG" "$DISK" || die "mount -o loop $IMG after growing"
log "image grown: $(avail_kib) KiB free"
mount_fg
for i in 1 2 3; do
	mksrc "n$i" $((5 * MiB + i))
	if write_as_owner "n$i" "$T/src-n$i" fsync; then
		pass "write n$i on the grown disk"
	else
		fail "write n$i on the grown disk: $(cat "$T/dd.err")"
	fi
	echo "$(sha "$T/src-n$i")  $E/n$i" >>"$T/after.sums"
done
poll_until 120 pending_empty || fail "new files still pending after 120 s"
assert_eq "verified verified verified" "$(state "$E/n1") $(state "$E/n2") $(state "$E/n3")" \
	"files written on the grown disk are verified"
out=$(sha256sum --quiet -c "$T/verified.sums" "$T/synced.sums" "$T/after.sums" 2>&1)
assert_eq "" "$out" "all fsync'd files intact after recovery"

if umount_fg; then pass "clean unmount after the disk-full episode"; else fail "enrpfs -f exited non-zero at unmount: $(tail -n 5 "$LOGF")"; fi
out=$("$ENRPCTL" -S "$STORE" fsck 2>&1)
rc=$?
assert_eq 0 "$rc" "fsck clean after the disk-full episode ($(printf '%s' "$out" | tail -n 3 | tr '\n' ' '))"
expect_ok ctl audit verify
expect_exit 0 ctl scrub
if grep -q "group commit failed" "$LOGF"; then
	fail "a group commit failed during part A: $(grep 'group commit failed' "$LOGF" | head -n1)"
else
	pass "no group commit failed in part A (the reservation held)"
fi

# ---- part B: a filler outside the store starves metadata --------------------------------------------
mount_fg
log "part B: $(avail_kib) KiB free before the filler"
# A file removed while a process holds it open: the daemon frees it when
# that process lets go, which it will do while metadata is starved.
HOLD_FIFO=$T/hold.fifo
mkfifo -m 666 "$HOLD_FIFO"
expect_ok as "$ALICE" bash -c 'echo held > "$1"' _ "$E/held-open"
as "$ALICE" bash -c 'exec 7<"$1"; rm "$1"; read -r _ <"$2"' _ "$E/held-open" "$HOLD_FIFO" &
HOLDER=$!
CLEANUP_PIDS+=("$HOLDER")
poll_until 10 test ! -e "$E/held-open" || fail "the held file was not removed"
dd if=/dev/zero of="$DISK/filler" bs=1M status=none 2>/dev/null
sync -f "$DISK"
log "filler: $(($(stat -c %s "$DISK/filler") / MiB)) MiB; $(avail_kib) KiB free"

mksrc b1 $((3 * MiB))
write_as_owner b1 "$T/src-b1" fsync
rc=$?
assert_true "a data write with the filler in place did not hang" test "$rc" -ne 124
if [ "$rc" -ne 0 ]; then
	assert_match 'No space left on device' "$(cat "$T/dd.err")" "a data write with the filler in place fails with ENOSPC"
else
	fail "a 3 MiB fsync'd write succeeded on a disk with no free block"
fi
assert_true "the daemon serves with the filler in place" daemon_serves

# Metadata only: files with 60 KiB user.* xattrs, until the committer can
# no longer reserve headroom.  Every acknowledged one must survive.
big=$(head -c 45000 /dev/urandom | base64 -w0 | head -c 60000)
: >"$T/xattr.ok"
meta_err=
for i in $(seq 1 800); do
	out=$(as "$ALICE" timeout 60 bash -c 'touch "$1" && setfattr -n user.big -v "$2" "$1" && setfattr -n user.two -v "$2" "$1"' _ "$E/x$i" "$big" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		meta_err="$out (exit $rc)"
		break
	fi
	echo "$E/x$i" >>"$T/xattr.ok"
done
log "metadata ops with the filler: $(wc -l <"$T/xattr.ok") files with 2 x 60 KiB xattrs acknowledged; then: ${meta_err:-no failure}"
if [ -n "$meta_err" ]; then
	assert_match 'No space left on device' "$meta_err" "metadata operations on the starved disk fail with ENOSPC"
	case $meta_err in *"Input/output error"* | *"exit 124"*) fail "starved metadata surfaced as EIO or a hang: $meta_err" ;; esac
	if grep -q "cannot reserve space for metadata" "$LOGF"; then
		pass "the committer says it cannot reserve metadata space"
	else
		fail "no 'cannot reserve space for metadata' message, although a metadata operation failed"
	fi
else
	log "800 files with 120 KiB of xattrs each fit in the LMDB headroom: metadata never starved"
	pass "metadata operations kept working inside the reserved headroom"
fi
assert_true "the daemon serves with metadata starved" daemon_serves
out=$(as "$ALICE" timeout 60 mkdir "$E/dir-while-full" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then
	assert_match 'No space left on device' "$out" "mkdir on the starved disk fails with ENOSPC (exit $rc)"
else
	pass "mkdir on the starved disk succeeded (headroom left)"
	echo "$E/dir-while-full" >>"$T/xattr.ok"
fi
out=$(timeout 60 "$ENRPCTL" -S "$STORE" audit verify 2>&1)
assert_match '^audit: chain intact' "$out" "audit verify with the filler in place"
out=$(as "$ALICE" timeout 60 rm "$E/v2" 2>&1)
rc=$?
log "rm through the mount with metadata starved: exit $rc ${out:+($out)}"
if [ "$rc" -ne 0 ]; then
	assert_match 'No space left on device' "$out" "a refused rm on the starved disk says ENOSPC"
	assert_true "v2 still there after the refused rm" test -f "$E/v2"
else
	sed -i "\\|  $E/v2\$|d" "$T/verified.sums"
	pass "rm works with metadata starved"
fi
# The holder and the kernel let go of what was removed while metadata is
# still starved: freeing those orphans fails now, and must happen once
# space is back.
echo done >"$HOLD_FIFO"
wait "$HOLDER"
echo 2 >/proc/sys/vm/drop_caches

# Space back: delete the filler.
rm -f "$DISK/filler"
sync -f "$DISK"
log "filler removed: $(avail_kib) KiB free"
resumed() { as "$ALICE" bash -c 'echo resumed > "$1"' _ "$E/resume-probe" 2>/dev/null; }
if poll_until 30 resumed; then pass "metadata writes resume after the filler is deleted"; else fail "writes still fail 30 s after the filler was deleted"; fi
if orphans_freed 30; then
	pass "every inode removed while the disk was full is freed once space is back, without a remount"
else
	fail "$(orphan_count) unlinked inodes still not freed 30 s after space came back"
fi
retried=$(grep -c 'whose freeing had failed' "$LOGF")
if [ -n "$meta_err" ]; then
	assert_true "the file let go of while metadata was starved was freed by the daemon's retry ($retried)" \
		test "$retried" -ge 1
else
	log "metadata was never starved: no free had to be retried ($retried)"
fi
out=$(as "$ALICE" timeout 60 bash -c 'touch "$1" && setfattr -n user.big -v "$2" "$1"' _ "$E/x-after" "$big" 2>&1)
assert_eq 0 "$?" "a large xattr can be set after the filler is deleted ($out)"
mksrc b2 $((3 * MiB))
if write_as_owner b2 "$T/src-b2" fsync; then pass "data writes resume after the filler is deleted"; else fail "data write after the filler was deleted: $(cat "$T/dd.err")"; fi
echo "$(sha "$T/src-b2")  $E/b2" >>"$T/after.sums"
poll_until 120 pending_empty || fail "still pending 120 s after the filler was deleted: $(head -n 5 "$E/.enrp/pending" | tr '\n' ' ')"
assert_eq "verified" "$(state "$E/b2")" "a file written after the filler was deleted gets verified"

# Nothing acknowledged is lost: a clean remount shows every acknowledged file.
if umount_fg; then pass "clean unmount after part B"; else fail "enrpfs -f exited non-zero at unmount (part B): $(tail -n 5 "$LOGF")"; fi
mount_fg
missing=0
while read -r f; do
	if [ -f "$f" ]; then
		v=$(getfattr --absolute-names --only-values -n user.big "$f" 2>/dev/null)
		[ "$v" = "$big" ] || missing=$((missing + 1))
	elif [ ! -d "$f" ]; then
		missing=$((missing + 1))
	fi
done <"$T/xattr.ok"
assert_eq 0 "$missing" "every acknowledged metadata operation ($(wc -l <"$T/xattr.ok")) survives a remount"
out=$(sha256sum --quiet -c "$T/verified.sums" "$T/synced.sums" "$T/after.sums" 2>&1)
assert_eq "" "$out" "all fsync'd files intact after part B and a remount"
if grep -q "group commit failed" "$LOGF"; then
	fail "a group commit failed in parts A/B: $(grep 'group commit failed' "$LOGF" | head -n1)"
else
	pass "no group commit failed in parts A and B"
fi

# ---- part C: a burst of metadata on a full disk --------------------------------------------------------
# One process creating files with 2 x 60 KB xattrs as fast as it can puts
# far more into one group (up to 1 s of operations) than the committer's
# headroom: the contract is still ENOSPC for the operation that does not
# fit, nothing acknowledged lost, and writes resuming once space is back.
dd if=/dev/zero of="$DISK/filler" bs=1M status=none 2>/dev/null
sync -f "$DISK"
log "part C: filler $(($(stat -c %s "$DISK/filler") / MiB)) MiB; $(avail_kib) KiB free"
: >"$T/burst.ok"
chmod 666 "$T/burst.ok"
out=$(as "$ALICE" timeout 120 "$PY" "$LIB_DIR/faults_tree.py" burst "$E" burst- 20 "$T/burst.ok" 2>&1)
rc=$?
acked=$(sed -n 's/^acked //p' <<<"$out")
berr=$(sed -n 's/^error //p' <<<"$out")
log "burst: exit $rc, ${acked:-?} files acknowledged, then: ${berr:-?}"
assert_true "the burst did not hang" test "$rc" -ne 124
assert_match '^ENOSPC ' "$berr" "the burst on the full disk ends with ENOSPC (got '$berr')"
assert_true "the daemon serves after the burst" daemon_serves
rm -f "$DISK/filler"
sync -f "$DISK"
resumed_c() { as "$ALICE" bash -c 'echo c > "$1"' _ "$E/resume-c" 2>/dev/null; }
if poll_until 30 resumed_c; then
	pass "writes resume after the burst once the filler is gone"
else
	fail "writes still fail 30 s after the filler was deleted: $(as "$ALICE" bash -c 'echo c > "$1"' _ "$E/resume-c" 2>&1)"
fi
if umount_fg; then pass "clean unmount after part C"; else fail "enrpfs -f exited non-zero at unmount (part C): $(tail -n 3 "$LOGF")"; fi
mount_fg
lost=$("$PY" - "$T/burst.ok" <<'EOF2'
import os, sys
lost = 0
for p in open(sys.argv[1]).read().split():
    try:
        if len(os.getxattr(p, "user.a")) != 60000 or len(os.getxattr(p, "user.b")) != 60000:
            lost += 1
    except OSError:
        lost += 1
print(lost)
EOF2
)
assert_eq 0 "$lost" "every file of the burst that was acknowledged ($(wc -l <"$T/burst.ok")) survives a remount"
if umount_fg; then pass "clean final unmount"; else fail "enrpfs -f exited non-zero at the final unmount"; fi
out=$("$ENRPCTL" -S "$STORE" fsck 2>&1)
assert_eq 0 "$?" "fsck clean at the end ($(printf '%s' "$out" | tail -n 3 | tr '\n' ' '))"
expect_ok ctl audit verify
if grep -q "metadata map grown" "$LOGF"; then
	fail "the full disk made the daemon grow its LMDB map: $(grep -c 'metadata map grown' "$LOGF") times ($(grep 'metadata map grown' "$LOGF" | tail -n1))"
else
	pass "a full disk (data or metadata) is not mistaken for a full LMDB map"
fi
log "daemon messages: $(grep -c . "$LOGF") lines; distinct: $(sed 's/[0-9]\+/N/g' "$LOGF" | sort | uniq -c | sort -rn | head -n 8 | tr '\n' ';')"

finish
