#!/bin/bash
# t6380: nothing deletes journal records (issue 11 item 8; DESIGN §7:
# "nothing in enrpctl deletes journal records younger than 3 years").  enrp
# has no way to delete a record at all (docs/design.md: an archive is an
# export, never a deletion), so the test runs every enrpctl command that
# removes something — prune, trash purge, snapshot delete, gc, fsck
# --repair, scrub, retire — with the clock 3 years minus a day ahead (the
# oldest records are then just under 3 years old), and again 3 years and a
# day ahead (just over), and proves the journal kept every record byte for
# byte: the head saved before still holds, the record count only grew, and
# an export of records 1..N taken before is identical to one taken after.
# There is no `audit prune` (a usage error).  A static check guards the
# source: no code deletes from the journal's database.
. "$(dirname "$0")/lib.sh"
setup

JT="$LIB_DIR/journaltool.py"
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 60 pending_empty "$1" || fail "$1: still pending after 60 s"; }
# at DAYS ARGS...: enrpctl with the clock DAYS days ahead (ASan told that
# libfaketime preloaded first is intended).
at() {
	local days=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+${days}d" "$ENRPCTL" -S "$STORE" "$@"
}
nrec() { ctl audit show --json | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
# segment_upto N FILE: an export cut to records 1..N (an export always runs
# to the last record), with its end line recomputed and its export time
# left out, so two can be compared byte for byte.
segment_upto() {
	ctl audit export | awk -v n="$1" '
		/^record / { if ($2 > n) next; last = $2 ":" $3; cnt++ }
		/^end / { print "end " cnt " " last; next }
		/^exported / { print "exported - from start to end"; next }
		{ print }' >"$2"
}

# --- the source: no code path deletes from DBI_JOURNAL -------------------------------
SRC=$LIB_DIR/../..
if [ -d "$SRC/core" ]; then
	hits=$(grep -n 'DBI_JOURNAL' "$SRC"/core/*.c "$SRC"/fs/*.c "$SRC"/tools/*.c |
		grep -v 'txn_put\|txn_get\|txn_cursor\|\[DBI_JOURNAL\] =\|^[^:]*:[0-9]*: \*\|/\*')
	assert_eq "" "$hits" "the journal's database is only read and appended to (no txn_del, no drop)"
	assert_eq "" "$(grep -ln 'mdb_drop' "$SRC"/core/*.c "$SRC"/fs/*.c "$SRC"/tools/*.c)" \
		"no database is ever dropped"
fi

# --- a store with something to remove ----------------------------------------------------
mk_eir r --owner "$ALICE"
expect_ok ctl eir set r --retention "files=1"
mk_eir s --owner "$ALICE"
mount_fs
for f in a b c; do head -c 300000 /dev/urandom >"$MNT/r/$f" || die "write $f"; done
head -c 300000 /dev/urandom >"$MNT/s/x" || die "write x"
settle r
settle s
expect_ok ctl snapshot create r snap1
rm "$MNT/s/x" || die "rm"
umount_fs
n0=$(nrec)
H0=$(ctl audit head)
assert_match "^$n0:[0-9a-f]{64}\$" "$H0" "the head before: record $n0"
segment_upto "$n0" "$T/before.seg"
assert_eq "ok 1 $n0 $H0" "$("$PY" "$JT" segment "$T/before.seg")" "records 1-$n0 exported before"

# --- 3 years minus a day later: everything that removes anything -----------------------
D=$((3 * 365 - 1))
assert_eq "" "$(at $D audit show -n 1 --json | "$PY" -c 'import json, sys, time
r = json.load(sys.stdin)
print("" if r else "no record")')" "enrpctl sees the journal at +${D}d"
expect_ok at $D prune
expect_ok at $D trash purge s
expect_ok at $D snapshot delete r@snap1
expect_ok at $D gc
expect_ok at $D fsck --repair
expect_ok at $D scrub
out=$(at $D audit prune --before 2020-01-01 2>&1)
assert_eq 2 "$?" "there is no 'audit prune': a usage error"
expect_ok at $D eir retire s --reason "journal retention test" --yes
n1=$(nrec)
assert_true "records were only appended ($n0 -> $n1)" test "$n1" -gt "$n0"
out=$(ctl audit verify --anchor "$H0")
assert_eq 0 "$?" "+${D}d: the head saved before still holds ($out)"
assert_match "^audit: chain intact, $n1 records" "$out" "... over a whole chain of $n1 records"
segment_upto "$n0" "$T/after.seg"
assert_true "+${D}d: records 1-$n0 are byte for byte the same" cmp "$T/before.seg" "$T/after.seg"

# --- 3 years and a day later: older records are not deleted either ----------------------
D=$((3 * 365 + 1))
expect_ok at $D prune
expect_ok at $D gc
expect_ok at $D fsck --repair
out=$(ctl audit verify --anchor "$H0")
assert_eq 0 "$?" "+${D}d: the head saved before still holds"
segment_upto "$n0" "$T/after2.seg"
assert_true "+${D}d: records 1-$n0 are byte for byte the same" cmp "$T/before.seg" "$T/after2.seg"
assert_true "the record count only grew" test "$(nrec)" -ge "$n1"

finish
