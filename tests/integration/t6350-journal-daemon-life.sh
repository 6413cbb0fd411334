#!/bin/bash
# t6350: the daemon's life is in the audit journal (issue 10 item 1): a
# mount record (store, mount point, options, pid), an unmount record on a
# clean stop, a recovery record (what the start found) after a SIGKILL and
# no recovery record after a clean stop, and keyfile-use when an encrypted
# store's master key file is read.
. "$(dirname "$0")/lib.sh"
setup

RECS="$PY $LIB_DIR/auditrecs.py"
# last EVENT FIELD...: FIELDs of the last EVENT record ("-" when absent),
# FIELD being a record field or d.KEY for a details key.
last() {
	local ev=$1
	shift
	ctl audit show --json | $RECS "$ev" | tail -n1 | "$PY" -c '
import json, sys
line = sys.stdin.read().strip()
r = json.loads(line) if line else {}
out = []
for f in sys.argv[1:]:
    v = r.get("details", {}).get(f[2:], "-") if f.startswith("d.") else r.get(f, "-")
    if isinstance(v, bool):  # typed details: yes/no read as booleans
        v = "yes" if v else "no"
    out.append(str(v))
print(" ".join(out))' "$@"
}
count() { ctl audit show --json | $RECS "$1" | wc -l; }

mk_eir a --owner "$ALICE"
mount_fs -o workers=1
pid=$(daemon_pid)
assert_eq "$STORE $MNT workers=1 $pid $pid" "$(last mount d.store d.mountpoint d.options d.pid pid)" \
	"mount: store, mount point, options and pid of the daemon"
assert_eq 0 "$(count recovery)" "a first mount writes no recovery record"
assert_eq 0 "$(count keyfile-use)" "an unencrypted store reads no key file"
umount_fs
assert_eq "$STORE $MNT $pid yes" "$(last unmount d.store d.mountpoint d.pid d.clean)" \
	"unmount: a clean stop is journalled with the daemon's pid"

# A clean stop, then a mount: no recovery.
mount_fs
assert_eq 0 "$(count recovery)" "a mount after a clean unmount writes no recovery record"

# SIGKILL while a file is open and unlinked: the next start recovers it.
# The fsync makes the unlink durable (a SIGKILL loses an uncommitted group).
as "$ALICE" "$PY" -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, b"data")
os.unlink(sys.argv[1])
os.fsync(fd)
print("ready", flush=True)
time.sleep(60)' "$MNT/a/open" >"$T/ready" &
holder=$!
CLEANUP_PIDS+=("$holder")
poll_until 10 grep -q ready "$T/ready" || fail "the open file was not unlinked and synced"
killed=$(daemon_pid)
ctl audit show --json >/dev/null # the journal is readable while mounted
kill -KILL "$killed"
poll_until 20 pid_gone "$killed" || die "enrpfs $killed survived SIGKILL"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
before=$(count unmount)
mount_fs
# The record commits with the daemon's first group: wait for it, not for luck.
poll_until 10 eval '[ "$(count recovery)" -ge 1 ]'
assert_eq 1 "$(count recovery)" "a mount after a SIGKILL writes one recovery record"
assert_eq "$killed 1" "$(last recovery d.previous_pid d.orphans_freed)" \
	"recovery names the killed daemon's pid and the orphan it freed"
assert_match '^[0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+$' \
	"$(last recovery d.spools_removed d.rewrites_restored d.requeued d.chunk_tmp_removed d.pending)" \
	"recovery counts spool files removed, rewrites restored, files requeued, temporary chunks removed, files pending"
seqs=$(ctl audit show --json | $RECS - | "$PY" -c '
import json, sys
ev = [json.loads(l)["event"] for l in sys.stdin]
print(ev[-2:] if len(ev) >= 2 else ev)')
assert_eq "['recovery', 'mount']" "$seqs" "the recovery record comes just before the mount it belongs to"
assert_eq "$before" "$(count unmount)" "a SIGKILL leaves no unmount record"
umount_fs

# ---- an encrypted store: keyfile-use --------------------------------------
mkdir -m 700 "$T/keys"
KEY=$T/keys/master.key
STORE=$T/estore
expect_ok ctl_nostore init --mirror none --encrypt --keyfile "$KEY" "$STORE"
mount_fs
epid=$(daemon_pid)
assert_eq "$KEY $STORE $epid 0" "$(last keyfile-use d.path d.store d.pid uid)" \
	"keyfile-use: the key file read, the store, the daemon's pid, by root"
umount_fs
# enrpctl reading the key (an offline scrub) is journalled too, with its command.
expect_ok ctl scrub
assert_eq "$KEY $STORE enrpctl scrub" "$(last keyfile-use d.path d.store command)" \
	"keyfile-use: enrpctl scrub's read of the key file, by that command"
out=$(ctl audit verify 2>&1)
assert_match '^audit: chain intact' "$out" "the encrypted store's chain is intact"

finish
