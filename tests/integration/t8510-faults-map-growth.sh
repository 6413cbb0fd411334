#!/bin/bash
# t8510: the LMDB map grows under load (core/store.c grow_map, begin_txn's
# MDB_MAP_RESIZED handling).  A store made and served with a 1 MiB map
# (ENRP_LMDB_MAPSIZE) receives a tree of ~5000 small files with user.*
# xattrs, by tar and by rsync -aX at once, while enrpctl flips the EIR's
# mode between rw and active with root as its agent (both allow every
# operation of the transfers, which run as root; a switch to wo would end
# writing through handles opened before it) and its class, and enrpctl status runs in a loop.  Every operation succeeds,
# the trees are identical to the source (content, xattrs), the daemon grew
# its map without failing a group commit, a remount with the default map
# size serves the same tree, and the journal and fsck are clean.
. "$(dirname "$0")/lib.sh"
setup

FT=$LIB_DIR/faults_tree.py
LOGF=$T/enrpfs.log
# FAULTS_MAPSIZE: another starting map (e.g. 268435456 to see the test pass
# without growth, which tells a growth bug from a transfer bug).
SMALL=${FAULTS_MAPSIZE:-1048576}
FG_PID=

# A fresh store made with the tiny map (setup's store was made without it).
rm -rf "$STORE"
ENRP_LMDB_MAPSIZE=$SMALL "$ENRPCTL" init "$STORE" >/dev/null || die "init with a 1 MiB map"
ENRP_LMDB_MAPSIZE=$SMALL mk_eir e --owner root --agent root
E=$MNT/e

mount_fg() { # [ENV=VALUE...]
	env "$@" "$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
		"$ENRPFS" "$STORE" "$MNT" -f >>"$LOGF" 2>&1 &
	FG_PID=$!
	CLEANUP_PIDS+=("$FG_PID")
	poll_until 20 is_mounted "$MNT" || die "enrpfs -f did not mount: $(tail -n 5 "$LOGF")"
	poll_until 10 have_daemon || die "no daemon pid after mounting"
}
umount_fg() {
	fusermount3 -u "$MNT" || { sleep 1; fusermount3 -u "$MNT"; } || die "fusermount3 -u $MNT failed"
	poll_until 60 pid_gone "$FG_PID" || die "enrpfs $FG_PID still running 60 s after unmount"
	wait "$FG_PID"
}
pending_empty() { [ -r "$E/.enrp/pending" ] && [ ! -s "$E/.enrp/pending" ]; }

"$PY" "$FT" mktree "$T/src" 5000 8510 || die "mktree"
"$PY" "$FT" xattrs "$T/src" >"$T/src.xattrs" || die "xattrs of the source"
log "source: $(find "$T/src" -type f | wc -l) files, $(wc -l <"$T/src.xattrs") xattrs, $(du -sh "$T/src" | cut -f1)"
(cd "$T/src" && tar --xattrs --xattrs-include='user.*' -cf "$T/src.tar" .) || die "tar of the source"

mount_fg ENRP_LMDB_MAPSIZE=$SMALL
log "map recorded at start: $(mdb_stat -e "$STORE/meta" | sed -n 's/ *Map size: //p') bytes"

# ---- the concurrent enrpctl load -------------------------------------------------------------------
STOP=$T/stop
: >"$T/ctl.fail"
(
	n=0
	while [ ! -e "$STOP" ]; do
		n=$((n + 1))
		if [ $((n % 2)) -eq 1 ]; then m=active; c=1; else m=rw; c=3; fi
		out=$(ENRP_LMDB_MAPSIZE=$SMALL timeout 60 "$ENRPCTL" -S "$STORE" eir set e --mode "$m" --class "$c" 2>&1) ||
			echo "eir set --mode $m --class $c: exit $? $out" >>"$T/ctl.fail"
		sleep 0.05
	done
	echo "$n" >"$T/set.count"
	# Leave it rw for the checks below.
	ENRP_LMDB_MAPSIZE=$SMALL timeout 60 "$ENRPCTL" -S "$STORE" eir set e --mode rw --class 3 >/dev/null 2>&1 || echo "final eir set rw failed" >>"$T/ctl.fail"
) &
setter=$!
CLEANUP_PIDS+=("$setter")
(
	n=0
	while [ ! -e "$STOP" ]; do
		n=$((n + 1))
		out=$(timeout 60 "$ENRPCTL" -S "$STORE" status 2>&1) || echo "status: exit $? $out" >>"$T/ctl.fail"
		case $out in *"daemon: running"*) ;; *) echo "status did not see the daemon: $out" >>"$T/ctl.fail" ;; esac
		sleep 0.1
	done
	echo "$n" >"$T/status.count"
) &
stater=$!
CLEANUP_PIDS+=("$stater")

# ---- the transfers ---------------------------------------------------------------------------------
mkdir "$E/tar" "$E/rsync" || die "mkdir in the EIR"
tar --xattrs --xattrs-include='user.*' -xf "$T/src.tar" -C "$E/tar" 2>"$T/tar.err" &
tar_pid=$!
rsync -aX "$T/src/" "$E/rsync/" 2>"$T/rsync.err" &
rsync_pid=$!
CLEANUP_PIDS+=("$tar_pid" "$rsync_pid")
wait "$tar_pid"
tar_rc=$?
wait "$rsync_pid"
rsync_rc=$?
touch "$STOP"
wait "$setter"
wait "$stater"
assert_eq 0 "$tar_rc" "tar -x of $(find "$T/src" -type f | wc -l) files while the map grows ($(head -c 300 "$T/tar.err"))"
assert_eq 0 "$rsync_rc" "rsync -aX at the same time ($(head -c 300 "$T/rsync.err"))"
log "enrpctl eir set ran $(cat "$T/set.count" 2>/dev/null) times, status $(cat "$T/status.count" 2>/dev/null) times"
assert_eq "" "$(head -n 5 "$T/ctl.fail")" "every concurrent enrpctl eir set and status succeeded"
assert_true "the daemon serves after the transfers" stat "$E/tar"

# ---- the trees ---------------------------------------------------------------------------------------
check_trees() { # LABEL
	local d out
	for d in tar rsync; do
		out=$(diff -r --no-dereference "$T/src" "$E/$d" 2>&1 | head -n 5 | cut -c1-200)
		assert_eq "" "$out" "$1: the $d tree is identical to the source"
		out=$(diff <("$PY" "$FT" xattrs "$E/$d") "$T/src.xattrs" | head -n 5 | cut -c1-200)
		assert_eq "" "$out" "$1: the $d tree has the source's user.* xattrs"
	done
}
check_trees "tiny map"
mapsz=$(mdb_stat -e "$STORE/meta" | sed -n 's/ *Map size: //p')
log "map now: $mapsz bytes; daemon log: $(grep -c 'map grown' "$LOGF") growth messages"
if grep -q 'metadata map grown' "$LOGF"; then
	pass "the daemon grew its map ($(grep 'metadata map grown' "$LOGF" | tail -n1))"
else
	fail "the daemon never grew its 1 MiB map (map size now $mapsz): the test did not exercise growth"
fi
broken=0
if grep -Eq 'group commit failed|cannot begin metadata transaction|at its ceiling' "$LOGF"; then
	fail "the store failed while growing: $(grep -E 'group commit failed|cannot begin|ceiling' "$LOGF" | head -n 2)"
	broken=1
else
	pass "no group commit failed while the map grew"
fi
# (A daemon that refuses every write never seals: no point waiting long.)
wait_s=$((broken ? 5 : 100))
if poll_until "$wait_s" pending_empty; then
	pass "every file verified"
else
	fail "still $(wc -l <"$E/.enrp/pending") files pending after $wait_s s"
fi
# A later write works too, and enrpctl still writes, with the tiny map setting.
expect_ok bash -c 'echo after > "$1"' _ "$E/after"
expect_ok env ENRP_LMDB_MAPSIZE=$SMALL "$ENRPCTL" -S "$STORE" eir set e --class 2
umount_fg
assert_eq 0 "$?" "enrpfs (tiny map) exits 0 at unmount"

# ---- remount with the default map size ---------------------------------------------------------------
mount_fg
check_trees "default map"
assert_eq after "$(cat "$E/after")" "the file written last is there after the remount"
expect_ok bash -c 'echo again > "$1"' _ "$E/again"
umount_fg
assert_eq 0 "$?" "enrpfs (default map) exits 0 at unmount"
out=$(ctl audit verify 2>&1)
assert_match '^audit: chain intact' "$out" "audit verify after map growth"
out=$(ctl fsck 2>&1)
assert_eq 0 "$?" "fsck clean after map growth ($(printf '%s' "$out" | tail -n 3 | tr '\n' ' '))"
n=$(ctl audit show --json --eir e | "$PY" -c 'import json, sys; print(sum(1 for r in json.load(sys.stdin) if "mode" in json.dumps(r)))')
log "journal records mentioning the mode: $n"

finish
