#!/bin/bash
# t8010: an fsync that needs no commit (docs/design.md, "An fsync without a
# commit").  Once a file's creation is durable, its appends, rewrites and
# truncates are made durable by its spool file alone; enrpfs killed right
# after such fsyncs loses none of them: the next mount takes each size from
# its spool file (the recovery record counts them), and the files seal with
# the checksum of exactly what was fsync'd.  A chmod since the last commit
# makes the next fsync commit again.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner root
E=$MNT/e
METRICS=$T/metrics.prom

metric() { sed -n "s/^enrp_fsync_total{kind=\"$1\"} //p" "$METRICS" 2>/dev/null; }
recovered() { ctl audit show 2>/dev/null | grep ' recovery ' | tail -1 | sed -n 's/.* sizes_recovered=\([0-9]*\).*/\1/p'; }
not_match() { ! grep -q -- "$1" <<<"$2"; }
state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
xsha() { getfattr --absolute-names --only-values -n enrp.sha256 "$1" 2>/dev/null; }

# ---- which fsyncs commit -------------------------------------------------------------------------
mount_fs -o metrics="$METRICS",metrics_interval=1
"$PY" - "$E/log" "$E/mode" <<'EOF' || die "the fsync writer failed"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(20):
    os.write(fd, b"%d\n" % i * 100)
    os.fsync(fd)
os.close(fd)
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"a" * 1000)
os.fsync(fd)
os.fchmod(fd, 0o600)
os.write(fd, b"b" * 1000)
os.fsync(fd)
os.close(fd)
EOF
umount_fs
alone=$(metric alone) commit=$(metric commit)
log "fsyncs: $alone alone, $commit with a commit"
assert_eq 19 "$alone" "19 appends after the first fsync of a new file need no commit"
assert_eq 3 "$commit" "the first fsync of each new file commits, and so does one after a chmod"

# ---- killed right after fsyncs without a commit --------------------------------------------------
# The writer kills enrpfs itself, at once after its last fsync: a commit of
# the group (20 ms idle, 1 s old) between the two would leave nothing to
# recover, so a round where that happened (a stalled machine) is run again.
crash_round() { # crash_round N
	local n=$1 pid out
	mount_fs
	pid=$(daemon_pid)
	"$PY" - "$E" "$n" "$T/expect" "$pid" <<'EOF' || die "round $n: the writer failed"
import os, random, signal, sys
root, n, expect, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rnd = random.Random(8010 + int(n))
os.makedirs(expect, exist_ok=True)
want = {}

# Appends, each fsync'd (a log, a WAL).
log = os.path.join(root, "append-%s" % n)
fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
body = b""
for i in range(12):
    data = rnd.randbytes(rnd.randrange(1, 20000))
    os.write(fd, data)
    body += data
    os.fsync(fd)
want[log] = body
logfd = fd  # kept open: closed, it is sealed at once, and a reopen unseals it
# Replaced in place (O_TRUNC), then fsync'd.
rep = os.path.join(root, "replace-%s" % n)
fd = os.open(rep, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, rnd.randbytes(30000))
os.fsync(fd)
os.close(fd)
fd = os.open(rep, os.O_WRONLY | os.O_TRUNC)
data = rnd.randbytes(5000)
os.write(fd, data)
os.fsync(fd)
os.close(fd)
want[rep] = data
# Rewritten at an offset, cut shorter, grown by a truncate.
cut = os.path.join(root, "cut-%s" % n)
fd = os.open(cut, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
first = rnd.randbytes(40000)
os.write(fd, first)
os.fsync(fd)
os.pwrite(fd, b"X" * 100, 1000)
os.ftruncate(fd, 7000)
os.ftruncate(fd, 9000)
os.fsync(fd)
os.close(fd)
want[cut] = first[:1000] + b"X" * 100 + first[1100:7000] + b"\0" * 2000
for path, data in want.items():
    with open(os.path.join(expect, os.path.basename(path)), "wb") as fh:
        fh.write(data)
# The last fsync again, then the kill, with nothing in between.
data = rnd.randbytes(3000)
os.write(logfd, data)
os.fsync(logfd)
os.kill(pid, signal.SIGKILL)
with open(os.path.join(expect, os.path.basename(log)), "ab") as fh:
    fh.write(data)
EOF
	poll_until 20 pid_gone "$pid" || die "round $n: enrpfs $pid survived SIGKILL"
	fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
	poll_until 20 not_mounted "$MNT" || die "round $n: $MNT still mounted"
	FSCK_OUT=$(ctl fsck 2>&1)
	FSCK_RC=$?
	mount_fs
}

rounds=0 got=0
while [ "$rounds" -lt 4 ] && [ "$got" -eq 0 ]; do
	rounds=$((rounds + 1))
	crash_round "$rounds"
	got=$(recovered)
	log "round $rounds: the mount took ${got:-?} size(s) from spool files"
	for f in append replace cut; do
		assert_eq "$(sha "$T/expect/$f-$rounds")" "$(sha "$E/$f-$rounds")" \
			"round $rounds: $f has exactly what was fsync'd"
	done
	assert_true "round $rounds: fsck of the crashed store finds no spool file unaccounted for" \
		not_match 'spool-unaccounted' "$FSCK_OUT"
	umount_fs
	got=${got:-0}
done
if [ "$got" -gt 0 ]; then
	pass "sizes taken from spool files after the kill ($got in round $rounds)"
	assert_match 'spool-size-pending' "$FSCK_OUT" "fsck before the mount tells which sizes the mount will take"
else
	fail "no round left a size to take from a spool file ($rounds rounds)"
fi

# The recovered files seal with the checksum of what was fsync'd.
mount_fs
sealed() { [ "$(state "$E/append-$rounds")" = verified ] && [ "$(state "$E/cut-$rounds")" = verified ]; }
poll_until 60 sealed || fail "the recovered files were not sealed in 60 s"
assert_eq "$(sha "$T/expect/append-$rounds")" "$(xsha "$E/append-$rounds")" "the appended file seals with the fsync'd bytes' checksum"
assert_eq "$(sha "$T/expect/cut-$rounds")" "$(xsha "$E/cut-$rounds")" "the cut file seals with the fsync'd bytes' checksum"
umount_fs

finish
