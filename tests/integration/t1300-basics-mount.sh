#!/bin/bash
# t1300: mounting and unmounting (DESIGN §2, §3): enrpfs returns once the
# mount is ready; SIGTERM and SIGINT unmount cleanly; one daemon per store;
# mount -t fuse.enrpfs and fstab lines work; a missing store, a directory that
# is not a store and a store of a newer format are refused with a clear
# message and nothing mounted.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner "$ALICE"
MNT2=$T/mnt2
mkdir "$MNT2"
EXTRA_MOUNTS+=("$MNT2")

# ---- plain mount: ready on return, default options ---------------------------
out=$("$ENRPFS" "$STORE" "$MNT" 2>&1)
rc=$?
assert_eq 0 "$rc" "enrpfs STORE MNT exits 0 ($out)"
assert_true "mounted as soon as enrpfs returned" is_mounted "$MNT"
assert_eq "e" "$(ls "$MNT")" "root lists the EIR right after enrpfs returned"
line=$(awk -v m="$MNT" '$2 == m' /proc/mounts)
log "mount: $line"
assert_match '^[^ ]+ [^ ]+ fuse\.enrpfs ' "$line" "filesystem type is fuse.enrpfs"
assert_match '(^|,)allow_other(,|$)' "$(echo "$line" | cut -d' ' -f4)" "allow_other is on by default"
assert_match '(^|,)default_permissions(,|$)' "$(echo "$line" | cut -d' ' -f4)" "default_permissions is on by default"
pid=$(daemon_pid)
[ -n "$pid" ] || die "no daemon pid in $STORE/run"
assert_true "enrpfs daemonised (parent is not this shell)" test "$(ps -o ppid= -p "$pid" | tr -d ' ')" != "$$"
expect_ok as "$ALICE" bash -c 'echo kept > "$1"' _ "$MNT/e/file"

# ---- a second daemon on the same store is refused ------------------------------
out=$("$ENRPFS" "$STORE" "$MNT2" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then pass "second enrpfs on the store exits non-zero ($rc)"; else fail "second enrpfs on the store exited 0"; fi
assert_match '[Aa]lready|in use|busy|running|served|locked' "$out" "second enrpfs says why: '$out'"
assert_true "second mountpoint not mounted" not_mounted "$MNT2"
assert_true "first daemon still serves" test "$(cat "$MNT/e/file")" = kept
assert_eq "$pid" "$(daemon_pid)" "first daemon still running"

# ---- SIGTERM and SIGINT unmount cleanly --------------------------------------------
for sig in TERM INT; do
	pid=$(daemon_pid)
	[ -n "$pid" ] || die "no daemon pid before SIG$sig"
	kill -s "$sig" "$pid"
	if poll_until 30 not_mounted "$MNT"; then pass "SIG$sig unmounts"; else fail "still mounted 30 s after SIG$sig"; fi
	if poll_until 30 pid_gone "$pid"; then pass "daemon exits on SIG$sig"; else fail "daemon $pid alive 30 s after SIG$sig"; fi
	assert_true "no stale mount entry after SIG$sig" not_mounted "$MNT"
	expect_ok ctl audit verify
	mount_fs
	assert_match '^kept' "$(cat "$MNT/e/file")" "data intact after SIG$sig and remount"
	expect_ok as "$ALICE" bash -c 'echo "after $2" >> "$1"' _ "$MNT/e/file" "$sig"
done
umount_fs
mount_fs
assert_eq "$(printf 'kept\nafter TERM\nafter INT')" "$(cat "$MNT/e/file")" "appends survive"
umount_fs

# ---- foreground (-f): SIGINT ends it with status 0 --------------------------------------
# (bash starts background jobs with SIGINT ignored, and libfuse keeps an
# ignored signal ignored: restore the default before exec.)
"$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
	"$ENRPFS" "$STORE" "$MNT" -f >"$T/fg.log" 2>&1 &
fg_pid=$!
CLEANUP_PIDS+=("$fg_pid")
if poll_until 20 is_mounted "$MNT"; then pass "enrpfs -f mounts"; else fail "enrpfs -f did not mount in 20 s: $(cat "$T/fg.log")"; fi
assert_true "enrpfs -f stays in the foreground" kill -0 "$fg_pid"
assert_match '^kept' "$(cat "$MNT/e/file" 2>&1)" "enrpfs -f serves the data"
kill -INT "$fg_pid"
exited() { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"; }
if poll_until 30 exited "$fg_pid"; then
	wait "$fg_pid"
	assert_eq 0 "$?" "enrpfs -f exits 0 on SIGINT"
else
	fail "enrpfs -f still running 30 s after SIGINT"
	kill -KILL "$fg_pid"
	wait "$fg_pid"
fi
if poll_until 10 not_mounted "$MNT"; then pass "enrpfs -f unmounted on SIGINT"; else fail "still mounted after enrpfs -f exited"; fi

# ---- mount -t fuse.enrpfs and an fstab line ------------------------------------------
# mount(8) runs mount.fuse3 with a clean environment, which finds "enrpfs" in
# the default PATH only: link our binary into /usr/local/sbin for the test.
HELPER=/usr/local/sbin/enrpfs
if [ ! -e "$HELPER" ] && [ ! -L "$HELPER" ]; then
	ln -s "$ENRPFS" "$HELPER" || die "cannot link $HELPER"
	CLEANUP_CMDS+=("[ \"\$(readlink '$HELPER')\" = '$ENRPFS' ] && rm -f '$HELPER'")
fi
[ "$(readlink -f "$HELPER")" = "$(readlink -f "$ENRPFS")" ] ||
	die "$HELPER is another enrpfs ($(readlink -f "$HELPER")); remove it to run this test"
out=$(mount -t fuse.enrpfs "$STORE" "$MNT" 2>&1)
assert_eq 0 "$?" "mount -t fuse.enrpfs STORE MNT ($out)"
assert_true "mount -t fuse.enrpfs: mounted" is_mounted "$MNT"
assert_match '^kept' "$(cat "$MNT/e/file" 2>&1)" "mount -t fuse.enrpfs: data readable"
assert_match '(^|,)allow_other(,|$)' "$(awk -v m="$MNT" '$2 == m { print $4 }' /proc/mounts)" \
	"mount -t fuse.enrpfs: allow_other"
assert_match '(^|,)nodev(,|$)' "$(awk -v m="$MNT" '$2 == m { print $4 }' /proc/mounts)" \
	"mount -t fuse.enrpfs: nodev although mount(8) passes 'dev'"
umount_fs

# A snapshot mount through mount(8), beside the store's daemon.
mount_fs
expect_ok ctl snapshot create e s1
SNAP=$T/snap
mkdir -m 755 "$SNAP"
EXTRA_MOUNTS+=("$SNAP")
out=$(mount -t fuse.enrpfs -o snapshot=e@s1 "$STORE" "$SNAP" 2>&1)
assert_eq 0 "$?" "mount -t fuse.enrpfs -o snapshot=e@s1 STORE MNT ($out)"
assert_match '^kept' "$(cat "$SNAP/file" 2>&1)" "the snapshot's file reads back"
assert_true "the snapshot mount is read-only" bash -c "! touch '$SNAP/new' 2>/dev/null"
expect_ok ctl snapshot umount "$SNAP"
assert_true "and is gone after snapshot umount" not_mounted "$SNAP"
umount_fs

printf '%s %s fuse.enrpfs defaults 0 0\n' "$STORE" "$MNT" >"$T/fstab"
out=$(mount -T "$T/fstab" "$MNT" 2>&1)
assert_eq 0 "$?" "mount via an fstab line ($out)"
assert_true "fstab: mounted" is_mounted "$MNT"
assert_match '^kept' "$(as "$ALICE" cat "$MNT/e/file" 2>&1)" "fstab: data readable by the owner"
umount_fs

# ---- bad stores ------------------------------------------------------------------------------
mkdir "$T/notastore"
echo junk >"$T/notastore/junk"
for bad in "$T/missing-store" "$T/notastore" "$T/notastore/junk"; do
	out=$("$ENRPFS" "$bad" "$MNT" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then pass "enrpfs $bad exits non-zero ($rc)"; else fail "enrpfs $bad exited 0"; fi
	assert_match "$(basename "$bad")" "$out" "enrpfs names the bad store: '$out'"
	assert_true "nothing mounted for $bad" not_mounted "$MNT"
	out=$( (exec -a enrpctl "$ENRPCTL" -S "$bad" eir list) 2>&1)
	rc=$?
	assert_eq 1 "$rc" "enrpctl -S $bad eir list exits 1"
	assert_match "^enrpctl: .*$(basename "$bad")" "$out" "enrpctl names the bad store: '$out'"
done
out=$("$ENRPFS" "$STORE" "$T/no-such-mountpoint" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then pass "enrpfs with a missing mountpoint exits non-zero"; else fail "enrpfs with a missing mountpoint exited 0"; fi
if poll_until 10 no_daemon; then pass "no daemon left after a failed mount"; else fail "a daemon is left running after a failed mount"; fi

# ---- a store of a newer format -----------------------------------------------------------
# The format version is the "format" key of the named LMDB database "meta".
bump_format() { # DELTA
	"$PY" - "$STORE/meta" "$1" "$T/format.dump" <<'EOF'
import subprocess, sys
env, delta, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = subprocess.run(["mdb_dump", "-s", "meta", env], check=True,
                     capture_output=True, text=True).stdout.splitlines()
end = out.index("HEADER=END")
header, data = out[:end + 1], out[end + 1:]
pairs = [(data[i].strip(), data[i + 1].strip()) for i in range(0, len(data) - 1, 2)]
val = dict(pairs).get(b"format".hex())
if val is None:
    sys.exit("no 'format' key in the meta database: %r" % pairs)
b = bytearray.fromhex(val)
old = bytes(b)
b[-1] = (b[-1] + delta) & 0xff
print("format value %s -> %s" % (old.hex(), b.hex()))
with open(tmp, "w") as f:
    f.write("\n".join(header) + "\n " + b"format".hex() + "\n " + b.hex() + "\nDATA=END\n")
subprocess.run(["mdb_load", "-s", "meta", "-f", tmp, env], check=True)
EOF
}
log "meta before: $(mdb_dump -s meta -p "$STORE/meta" | grep -A1 '^ format$' | tr '\n' ' ')"
bump_format 1 | sed 's/^/# /' || die "could not change the format key"
log "meta after: $(mdb_dump -s meta -p "$STORE/meta" | grep -A1 '^ format$' | tr '\n' ' ')"
out=$("$ENRPFS" "$STORE" "$MNT" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then pass "enrpfs refuses a newer-format store ($rc)"; else fail "enrpfs mounted a newer-format store"; fi
assert_match '[Ff]ormat|[Vv]ersion' "$out" "enrpfs says the format is not supported: '$out'"
assert_true "newer-format store not mounted" not_mounted "$MNT"
for cmd in "eir list" "status" "audit verify"; do
	# shellcheck disable=SC2086
	out=$(ctl $cmd 2>&1)
	rc=$?
	assert_eq 1 "$rc" "enrpctl $cmd refuses a newer-format store"
	assert_match '^enrpctl: .*([Ff]ormat|[Vv]ersion)' "$out" "enrpctl $cmd says why: '$out'"
	assert_match "^enrpctl: cannot open store '$STORE': its format [0-9]+ is newer than this enrp reads \\([0-9]+\\)$" \
		"$(head -n1 <<<"$out")" "enrpctl $cmd names both formats in one line"
	assert_true "enrpctl $cmd gives one reason" bash -c '! grep -qi "not an enrp store\|not a store" <<<"$1"' _ "$out"
done
bump_format -1 | sed 's/^/# /' || die "could not restore the format key"
mount_fs
assert_match '^kept' "$(cat "$MNT/e/file")" "store mounts again once the format is restored"
expect_ok ctl audit verify
umount_fs

finish
