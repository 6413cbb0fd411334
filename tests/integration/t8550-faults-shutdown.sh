#!/bin/bash
# t8550: a daemon shutting down (issue 10, item 5).  `fusermount3 -u`
# returns once the kernel dropped the mount, while enrpfs still finishes its
# work with the store locked.  The daemon is frozen (SIGSTOP) right after the
# unmount to hold it in that state for as long as the test needs:
#
#   - `enrpctl status` says it is shutting down (text and --json);
#   - `enrpctl fsck --repair` and `enrpctl gc EIR` wait for it, saying so
#     on stderr, and run once it has exited (exit 0, no refusal);
#   - a new enrpfs on the store waits for it too, then mounts;
#   - a daemon still serving its mount is refused at once, as before.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner "$ALICE"
# A frozen daemon must never outlive the test: thaw before lib.sh stops it.
FROZEN=
CLEANUP_CMDS+=('[ -n "$FROZEN" ] && kill -CONT "$FROZEN"')

# freeze_unmounted: mounts, freezes the daemon and unmounts; sets $pid.
freeze_unmounted() {
	mount_fs
	pid=$(daemon_pid)
	[ -n "$pid" ] || die "no daemon"
	kill -STOP "$pid"
	FROZEN=$pid
	fusermount3 -u "$MNT" || die "fusermount3 -u $MNT with the daemon frozen"
	poll_until 10 not_mounted "$MNT" || die "$MNT still mounted"
}

# run_bg OUT CMD...: runs CMD in the background, stdout+stderr to OUT and
# its exit status to OUT.rc; sets $bg.
run_bg() {
	local out=$1
	shift
	("$@" >"$out" 2>&1; echo $? >"$out.rc") &
	bg=$!
	CLEANUP_PIDS+=("$bg")
}

has_text() { grep -qF -- "$2" "$1"; }

# ---- a serving daemon: refused at once ------------------------------------------------------------
mount_fs
pid=$(daemon_pid)
start=$SECONDS
out=$(timeout 20 "$ENRPCTL" -S "$STORE" fsck --repair 2>&1)
rc=$?
assert_eq 1 "$rc" "fsck --repair with a serving daemon exits 1 ($out)"
assert_true "... within 3 s, without waiting" test $((SECONDS - start)) -le 3
assert_match "enrpfs \\(pid $pid\\) is serving it" "$out" "the refusal names the serving daemon"
assert_match "^hint: unmount it first \\(fusermount3 -u $MNT\\)" "$out" "the hint names the mount point"
case $out in *waiting*) fail "fsck waited for a serving daemon: $out" ;; *) pass "no wait for a serving daemon" ;; esac
umount_fs

# ---- status and fsck --repair ------------------------------------------------------------------------
freeze_unmounted
out=$(timeout 20 "$ENRPCTL" -S "$STORE" status 2>&1)
assert_match "^daemon: shutting down, pid $pid \\($MNT is unmounted\\)$" "$out" "status: the daemon is shutting down"
out=$(timeout 20 "$ENRPCTL" -S "$STORE" --json status 2>&1)
assert_match '"daemon_state": *"stopping"' "$out" "status --json: daemon_state stopping"

run_bg "$T/fsck.out" timeout 60 "$ENRPCTL" -S "$STORE" fsck --repair
poll_until 10 has_text "$T/fsck.out" "enrpctl: waiting for enrpfs (pid $pid) to finish shutting down..." ||
	fail "fsck --repair does not say it waits: $(cat "$T/fsck.out")"
assert_true "fsck --repair is still waiting while the daemon is frozen" test ! -e "$T/fsck.out.rc"
kill -CONT "$pid"
FROZEN=
poll_until 30 pid_gone "$pid" || die "enrpfs $pid did not exit after SIGCONT"
wait "$bg"
assert_eq 0 "$(cat "$T/fsck.out.rc")" "fsck --repair ran once the daemon had exited: $(cat "$T/fsck.out")"
assert_match '^fsck: .*0 problems' "$(cat "$T/fsck.out")" "fsck --repair reported its check"

# ---- gc of one EIR --------------------------------------------------------------------------------
freeze_unmounted
run_bg "$T/gc.out" timeout 60 "$ENRPCTL" -S "$STORE" gc e
poll_until 10 has_text "$T/gc.out" "enrpctl: waiting for enrpfs (pid $pid) to finish shutting down..." ||
	fail "gc does not say it waits: $(cat "$T/gc.out")"
kill -CONT "$pid"
FROZEN=
wait "$bg"
assert_eq 0 "$(cat "$T/gc.out.rc")" "gc e ran once the daemon had exited: $(cat "$T/gc.out")"

# ---- a restart: fusermount3 -u, then enrpfs at once ---------------------------------------------------
freeze_unmounted
run_bg "$T/enrpfs.out" timeout 60 "$ENRPFS" "$STORE" "$MNT"
poll_until 10 has_text "$T/enrpfs.out" "enrpfs: waiting for enrpfs (pid $pid) to finish shutting down..." ||
	fail "a new enrpfs does not say it waits: $(cat "$T/enrpfs.out")"
assert_true "the new enrpfs has not mounted while the old one is frozen" not_mounted "$MNT"
kill -CONT "$pid"
FROZEN=
wait "$bg"
assert_eq 0 "$(cat "$T/enrpfs.out.rc")" "the new enrpfs mounted once the old one had exited: $(cat "$T/enrpfs.out")"
poll_until 10 is_mounted "$MNT" || fail "$MNT not mounted by the new enrpfs"
new=$(daemon_pid)
assert_true "a new daemon serves the store ($new, was $pid)" test -n "$new" -a "$new" != "$pid"
expect_ok as "$ALICE" bash -c 'echo x > "$1"' _ "$MNT/e/x"
finish
