#!/bin/bash
# t2200: denied operations are journalled, aggregated (DESIGN §4, §7): a loop
# of 500 denied reads gives a handful of "denied" records carrying the caller,
# the operation, the errno and a count, and the chain stays intact.
. "$(dirname "$0")/lib.sh"
setup

mk_eir w --owner "$ALICE" --mode wo
mk_eir r --owner "$ALICE" --mode ro
mount_fs
expect_ok as "$ALICE" bash -c 'echo secret > "$1"' _ "$MNT/w/f"
uid=$(uid_of "$ALICE")
base=$(audit_count)

# 500 denied opens for reading, as alice, in one process.
out=$(as "$ALICE" "$PY" - "$MNT/w/f" <<'EOF' 2>&1
import errno, os, sys
denied = 0
for _ in range(500):
    try:
        os.close(os.open(sys.argv[1], os.O_RDONLY))
    except OSError as e:
        if e.errno == errno.EACCES:
            denied += 1
print(denied)
EOF
)
assert_eq 500 "$out" "500 opens for reading in wo all refused with EACCES"

# denied_records EIR: the JSON of its "denied" records.
denied_json() { ctl audit show --eir "$1" --event denied --json; }
have_denied() { [ "$(denied_json "$1" | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')" -ge 1 ]; }
if poll_until 15 have_denied w; then
	pass "a denied record appears within 15 s"
else
	fail "no denied record for EIR w 15 s after 500 denials"
fi
n=$(denied_json w | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')
if [ "$n" -ge 1 ] && [ "$n" -le 3 ]; then
	pass "500 denials gave $n denied record(s) (1..3) while mounted"
else
	fail "500 denials gave $n denied records while mounted, expected 1..3"
fi

# A second kind of denial (a write in ro) is a separate key.
expect_fail EROFS as "$ALICE" bash -c 'echo x > "$1"' _ "$MNT/r/new"
if poll_until 15 have_denied r; then
	pass "write denial in ro journalled"
else
	fail "no denied record for EIR r 15 s after a refused write"
fi

# Unmounting flushes the remaining counts.
umount_fs
summarise=$(cat <<'EOF'
import json, re, sys
uid = sys.argv[1]
recs = json.load(sys.stdin)
w = [r for r in recs if r["eir"] == "w"]
r_ = [r for r in recs if r["eir"] == "r"]
out = []
def fields(rec):
    return {k: str(v) for k, v in rec["details"].items()}
bad = [x["details"] for x in w if fields(x).get("uid") != uid or fields(x).get("op") != "read"
       or fields(x).get("errno") != "EACCES" or not fields(x).get("count", "").isdigit()]
out.append("w-records %d" % len(w))
out.append("w-bad %s" % (bad[:3] if bad else "none"))
out.append("w-total %d" % sum(int(fields(x).get("count", "0")) for x in w))
badr = [x["details"] for x in r_ if fields(x).get("op") != "write" or fields(x).get("errno") != "EROFS"]
out.append("r-records %d" % len(r_))
out.append("r-bad %s" % (badr[:3] if badr else "none"))
for rec in recs[:2]:
    out.append("sample %s" % json.dumps(rec))
print("\n".join(out))
EOF
)
check=$(ctl audit show --event denied --json | "$PY" -c "$summarise" "$uid")
printf '%s\n' "$check" | grep '^sample' | sed 's/^/# /'
field() { printf '%s\n' "$check" | sed -n "s/^$1 //p"; }
recs=$(field w-records)
if [ "$recs" -ge 1 ] && [ "$recs" -le 3 ]; then
	pass "after unmount: $recs denied record(s) for w (1..3)"
else
	fail "after unmount: $recs denied records for w, expected 1..3"
fi
assert_eq none "$(field w-bad)" "every denied record for w has uid=$uid op=read errno=EACCES count=N"
assert_eq 500 "$(field w-total)" "the counts of w's denied records add up to the 500 denials"
assert_eq 1 "$(field r-records)" "one denied record for the single refused write in r"
assert_eq none "$(field r-bad)" "r's denied record has op=write errno=EROFS"
total=$(audit_count)
if [ "$((total - base))" -le 8 ]; then
	pass "journal grew by $((total - base)) records for 501 denials"
else
	fail "journal grew by $((total - base)) records for 501 denials"
fi
out=$(ctl audit verify 2>&1)
assert_match "^audit: chain intact, $total records$" "$out" "audit verify intact"

finish
