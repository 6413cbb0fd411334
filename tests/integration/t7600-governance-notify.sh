#!/bin/bash
# t7600: `enrpctl notify` tells each due item exactly once (issue 11 item
# 3), through the real command beside a running daemon: an EIR above 90 % of
# its quota, a hold ending within 30 days (and again when extended), a test
# restore planned within 3 working days, its report due once the date has
# passed (libfaketime moves enrpctl's clock), a copy that failed
# verification (a flipped chunk found by scrub).  --dry-run records
# nothing; every told item is journalled "notified" once; a quota that
# falls below 90 % and crosses it again is told again; --exec gets each
# item as JSON on stdin, a failing hook leaves the item for the next run
# (exit 1), two runs at once tell each item once; bad arguments exit 2.
. "$(dirname "$0")/lib.sh"
setup

PY=${PY:-python3}
G=$LIB_DIR/integ9.py

# later DAYS ARGS...: enrpctl with the clock DAYS days ahead (see t5120).
later() {
	local days=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+${days}d" "$ENRPCTL" -S "$STORE" "$@"
}
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
# used_below EIR BYTES: the EIR's usage, as the store has it, is below BYTES.
used_below() {
	[ "$(ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["used"])')" -lt "$2" ]
}
# kinds OUTPUT: the sorted kinds of the items in notify's text output.
kinds() { printf '%s\n' "$1" | awk 'NF {print $1}' | sort | tr '\n' ' ' | sed 's/ $//'; }

mk_eir pop --owner "$ALICE" --class 1 --quota 1M
mk_eir calm --owner "$ALICE" --class 3 --quota 1G
mount_fs

# ---- nothing due ---------------------------------------------------------------

out=$(ctl notify)
assert_eq 0 $? "notify with nothing due exits 0"
assert_eq "" "$out" "and prints nothing"
assert_eq 0 "$(audit_count --event notified)" "and journals nothing"

# ---- quota ----------------------------------------------------------------------

head -c 950000 /dev/urandom >"$T/big"
cp "$T/big" "$MNT/pop/big" || die "cp big"
expect_ok ctl wait --timeout 60 "$MNT/pop/big"

out=$(ctl notify --dry-run)
assert_match "^quota +pop uses 927.7K of its 1M quota \(more than 90%\)$" "$out" \
	"--dry-run shows the quota item"
assert_eq 0 "$(audit_count --event notified)" "--dry-run records nothing"
out=$(ctl notify)
assert_eq "quota" "$(kinds "$out")" "the quota item is told"
out=$(ctl notify)
assert_eq "" "$out" "and not told again"
assert_eq 1 "$(audit_count --event notified)" "one notified record"
d=$(ctl audit show --json --event notified | "$PY" -c '
import json, sys
r = json.load(sys.stdin)[0]
print(r["eir"], r["details"]["kind"], r["details"]["key"], r["details"]["how"])')
assert_match "^pop quota quota:[0-9]+:0 printed$" "$d" "it names the EIR, kind, key and how"

rm "$MNT/pop/big"
poll_until 20 used_below pop 100000 || die "pop's usage did not drop after rm"
expect_ok ctl notify
assert_eq 1 "$(audit_count --event notified)" "below 90 %: nothing to tell"
cp "$T/big" "$MNT/pop/big2" || die "cp big2"
expect_ok ctl wait --timeout 60 "$MNT/pop/big2"
out=$(ctl notify --json)
key=$(printf '%s\n' "$out" | "$PY" -c 'import json, sys; print(json.loads(sys.stdin.readline())["key"])')
assert_match "^quota:[0-9]+:1$" "$key" "crossing 90 % again is a new item (--json)"

# ---- holds ----------------------------------------------------------------------

echo "long-term" >"$MNT/calm/keep" || die "write keep"
expect_ok ctl wait --timeout 60 "$MNT/calm/keep"
expect_ok ctl hold add calm/keep --until +10d --reason "order 12"
out=$(ctl notify)
assert_eq "hold-expiring" "$(kinds "$out")" "a hold ending within 30 days is told"
assert_match "the hold on calm/keep ends on [0-9]{4}-[0-9]{2}-[0-9]{2} \(order 12\)" "$out" \
	"with the file, the date and the reason"
expect_ok ctl hold extend calm/keep --until +20d
out=$(ctl notify)
assert_eq "hold-expiring" "$(kinds "$out")" "extended to a new date: told again"
assert_eq "" "$(ctl notify)" "then quiet"

# ---- a copy that failed verification --------------------------------------------

head -c 300000 /dev/urandom >"$T/dmg"
cp "$T/dmg" "$MNT/calm/dmg" || die "cp dmg"
expect_ok ctl wait --timeout 60 "$MNT/calm/dmg"
v=$(find "$STORE/chunks/$(eir_id calm)" -type f -size +100k | head -1)
[ -n "$v" ] || die "no chunk of dmg"
"$PY" "$G" flipbyte "$v" || die "flipbyte"
expect_exit 1 ctl scrub
out=$(ctl notify --json)
k=$(printf '%s\n' "$out" | "$PY" -c '
import json, sys
for l in sys.stdin:
    j = json.loads(l)
    print(j["kind"], j["eir"], j["path"], j["key"].split(":")[0])')
assert_eq "verify-failed calm dmg journal" "$k" "a scrub finding is told, with its path"
assert_eq "" "$(ctl notify)" "once"

# ---- --exec ----------------------------------------------------------------------

mkdir -p "$T/hook"
expect_ok ctl restore-test plan pop --date "$("$PY" -c '
import datetime, zoneinfo
d = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Almaty")).date()
n = 3
while n:
    d += datetime.timedelta(days=1)
    n -= d.weekday() < 5
print(d)')"
out=$(ctl notify --exec "exit 3" 2>&1)
assert_eq 1 $? "a failing hook: exit 1"
assert_match "exec failed for restore-soon:[0-9]+:[0-9]+:[0-9-]+ \(exit 3\)" "$out" "naming the item"
n0=$(audit_count --event notified)
expect_ok ctl notify --exec "cat >\"$T/hook/\$ENRP_NOTIFY_KIND.json\""
assert_eq $((n0 + 1)) "$(audit_count --event notified)" "the next run tells it"
j=$("$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(j["kind"], j["eir"], j["owner"], j["date"] is not None, j["message"].startswith("a test restore of pop is planned for "))' \
	"$T/hook/restore-test-soon.json")
assert_eq "restore-test-soon pop $ALICE True True" "$j" "the hook got the item as JSON"
assert_eq "" "$(ctl notify)" "and it is not told again"
how=$(ctl audit show --json --event notified | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[-1]["details"]["how"])')
assert_eq exec "$how" "journalled as told by exec"

# ---- the report is due once the date has passed ---------------------------------

out=$(later 9 notify 2>&1)
assert_match "^restore-report-due +the test restore of pop planned for [0-9-]+ has no recorded result: the report is due by [0-9-]+$" \
	"$out" "9 days on, the report is due"
assert_eq "" "$(later 9 notify 2>&1)" "told once"

# ---- two runs at once -------------------------------------------------------------

echo x >"$MNT/calm/x" && expect_ok ctl wait --timeout 60 "$MNT/calm/x"
expect_ok ctl hold add calm/x --until +5d --reason twice
hook="sleep 1; cat >>\"$T/hook/both\""
ctl notify --exec "$hook" & p1=$!
ctl notify --exec "$hook" & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
assert_eq "0 0" "$r1 $r2" "two runs at once both succeed"
assert_eq 1 "$(grep -c '"kind": "hold-expiring"' "$T/hook/both")" "and the item was told once"

# ---- usage --------------------------------------------------------------------------

n0=$(audit_count --event notified)
expect_exit 2 ctl notify --bogus
expect_exit 2 ctl notify extra
expect_exit 2 ctl notify --exec ""
assert_eq "$n0" "$(audit_count --event notified)" "usage errors tell nothing"
expect_ok ctl audit verify

finish
