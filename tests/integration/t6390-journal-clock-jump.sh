#!/bin/bash
# t6390: clock jumps are journalled (issue 11 item 8).  The real enrpfs runs
# under libfaketime with its offset read from a file at every call
# (FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE=1) and its monotonic clocks
# left alone (FAKETIME_DONT_FAKE_MONOTONIC=1), so changing the file makes
# its wall clock jump while CLOCK_BOOTTIME does not, as `date -s` would do
# to a real host.  A jump of an hour either way gives exactly one
# clock-jump record each (direction, delta_ns, from/to, seen_by=monotonic);
# a steady clock and a step of 3 s (under the 5 s threshold) give none.
# enrpctl journals a host clock set back behind the store's floor, once per
# setback, and only from a command that may write.
. "$(dirname "$0")/lib.sh"
setup

RECS="$PY $LIB_DIR/auditrecs.py"
faketime_lib
RC=$T/faketimerc
# jumps [SEEN_BY]: "direction delta_s" of each clock-jump record (seen_by
# SEEN_BY, default monotonic), one per line, delta rounded to seconds.
jumps() {
	ctl audit show --json | $RECS clock-jump | "$PY" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    d = r["details"]
    if d["seen_by"] == sys.argv[1]:
        print(d["direction"], round(int(d["delta_ns"]) / 1e9))' "${1:-monotonic}"
}
njumps() { jumps "$@" | grep -c . ; }
has_jumps() { [ "$(njumps)" -ge "$1" ]; }

mk_eir a --owner "$ALICE"
echo "+0" >"$RC"
# (libfaketime is preloaded before ASan's runtime in a sanitizer build: ASan
# is told that this order is intended.)
LD_PRELOAD="$FTLIB" FAKETIME_TIMESTAMP_FILE="$RC" FAKETIME_NO_CACHE=1 \
	FAKETIME_DONT_FAKE_MONOTONIC=1 \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" mount_fs
pid=$(daemon_pid)
assert_true "enrpfs runs with libfaketime" grep -q faketime "/proc/$pid/maps"

sleep 3
assert_eq 0 "$(njumps)" "a steady clock for 3 s: no clock-jump"

echo "+1h" >"$RC"
poll_until 10 has_jumps 1 || fail "no clock-jump record 10 s after the wall clock jumped +1h"
sleep 3
assert_eq "forward 3600" "$(jumps)" "+1h: exactly one clock-jump, forward, delta 3600 s (and none after)"
rec=$(ctl audit show --json | $RECS clock-jump | tail -n1)
assert_eq "$pid enrpfs - monotonic" "$("$PY" -c 'import json, sys
r = json.loads(sys.argv[1]); print(r["pid"], r["command"].split()[0], r["eir"] or "-", r["details"]["seen_by"])' "$rec")" \
	"the record is the daemon's, about no EIR, seen against its monotonic clock"
assert_eq 3600 "$("$PY" -c 'import json, sys, datetime as dt
d = json.loads(sys.argv[1])["details"]
p = lambda s: dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
print(round((p(d["to"]) - p(d["from"])).total_seconds() / 10) * 10)' "$rec")" \
	"from and to are an hour apart"

echo "+0" >"$RC"
poll_until 10 has_jumps 2 || fail "no clock-jump record 10 s after the wall clock jumped back"
sleep 2
assert_eq "forward 3600
backward -3600" "$(jumps)" "back to +0: one more, backward, delta -3600 s"

echo "+3s" >"$RC"
sleep 3
echo "+0" >"$RC"
sleep 3
assert_eq 2 "$(njumps)" "steps of +3 s and -3 s (under 5 s): nothing more"
assert_true "the daemon still serves" have_daemon
umount_fs

# --- enrpctl and the store's floor -------------------------------------------
# A command at +3h raises the floor to then (prune reads the platform clock);
# back at the real time, the host clock is 3 h behind the floor.
later() {
	local off=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "$off" "$ENRPCTL" -S "$STORE" "$@"
}
expect_ok later +3h prune
n=$(njumps floor)
expect_ok ctl audit show -n 1
assert_eq "$n" "$(njumps floor)" "a read-only command journals nothing"
out=$(ctl eir set a --quota 10M 2>&1)
assert_eq 0 "$?" "a writing command with the clock behind the floor still works"
assert_match "^enrpctl: warning: the host clock was set back behind the platform's clock: journalled as clock-jump" \
	"$out" "... warns that it journalled the setback"
new=$(jumps floor | tail -n $(( $(njumps floor) - n )))
assert_match '^backward -(1079[0-9]|10800)$' "$new" \
	"... one clock-jump seen_by=floor, backward by 3 h (less the seconds since the prune)"
expect_ok ctl eir set a --quota 11M
assert_eq "$((n + 1))" "$(njumps floor)" "the same setback is journalled once"
assert_eq "" "$(ctl eir set a --quota 12M 2>&1 | grep warning)" "... and warned about once"
expect_ok later +5h prune
expect_ok ctl eir set a --quota 13M
assert_eq "$((n + 2))" "$(njumps floor)" "a new setback (behind a floor raised again) is journalled again"
assert_eq 0 "$(ctl audit verify >/dev/null; echo $?)" "the chain is intact"

finish
