#!/bin/bash
# t6320: `enrpctl audit show` as an auditor uses it (issue 10, item 1): who
# acted (the person behind sudo), structured --json details (a reason with
# spaces, quotes and '=' survives; numbers are numbers), --until, --uid,
# --path, -n, --follow, and runs of per-file `verified` records grouped into
# one line by default while --event verified, -v and --json show each.
. "$(dirname "$0")/lib.sh"
setup

mk_eir a --owner "$ALICE"
mount_fs
ALICE_UID=$(uid_of "$ALICE")

# ---- verified records, grouped -----------------------------------------------------------------
as "$ALICE" bash -c 'mkdir -p "$1/dir" "$1/other" && echo one >"$1/dir/f1" && echo two >"$1/dir/f2" &&
	echo three >"$1/other/f3"' _ "$MNT/a" || die "cannot write as $ALICE"
three_verified() { [ "$(audit_count --event verified)" -ge 3 ]; }
poll_until 30 three_verified || die "the three files were not verified"
show=$(ctl audit show)
assert_match "^[0-9]+-[0-9]+ [0-9TZ:-]+ a verified 3 files, 14 bytes, until [0-9:]+Z, first " "$show" \
	"default: the three verified records are one line"
assert_eq 0 "$(grep -c ' verified ino=' <<<"$show")" "... and no verified record of its own"
assert_eq 3 "$(ctl audit show --event verified | grep -c ' verified ')" "--event verified: each record"
assert_eq 3 "$(ctl audit show -v | grep -c ' verified ')" "-v: each record"
assert_eq 3 "$(audit_count --event verified)" "--json: each record"

# ---- the person, and --uid ---------------------------------------------------------------------
(export SUDO_USER=$ALICE SUDO_UID=$ALICE_UID; ctl eir suspend a --reason 'disk "swap" = planned, ticket 42') >/dev/null ||
	fail "eir suspend through sudo"
expect_ok ctl eir resume a
last=$(ctl audit show --event suspend | tail -n 1)
assert_match " $ALICE via sudo \(uid 0\) pid=[0-9]+ \"enrpctl eir suspend\" a suspend " "$last" \
	"text: the person who ran sudo, and the uid"
rec=$(ctl audit show --event suspend --json | "$PY" -c '
import json, sys
r = json.load(sys.stdin)[-1]
print(json.dumps([r["sudo_user"], r["sudo_uid"], r["uid"], r["details"]["reason"], r["person"]]))')
assert_eq "[\"$ALICE\", $ALICE_UID, 0, \"disk \\\"swap\\\" = planned, ticket 42\", \"$ALICE via sudo (uid 0)\"]" "$rec" \
	"--json: sudo user and uid, uid 0, the reason whole (spaces, quotes, '=')"
resume=$(ctl audit show --event resume --json | "$PY" -c 'import json, sys; r = json.load(sys.stdin)[-1]; print(r["sudo_user"], r["sudo_uid"])')
assert_eq "None None" "$resume" "--json: no sudo, no sudo fields"
assert_eq 1 "$(audit_count --uid "$ALICE" --event suspend)" "--uid USER matches the sudo uid"
assert_eq 1 "$(audit_count --uid "$ALICE_UID" --event suspend)" "--uid UID too"
assert_eq 0 "$(audit_count --uid "$ALICE" --event resume)" "--uid leaves out the records of others"
nobody=$(ctl audit show --uid "$ALICE" --json | "$PY" -c '
import json, sys
u = int(sys.argv[1])
print(sum(1 for r in json.load(sys.stdin) if u not in (r["uid"], r["login_uid"], r["sudo_uid"])))' "$ALICE_UID")
assert_eq 0 "$nobody" "--uid: every record shown has the uid as uid, login uid or sudo uid"
out=$(ctl audit show --uid no-such-user-x 2>&1)
assert_eq 1 "$?" "--uid of an unknown user exits 1"
assert_match "^enrpctl: no user 'no-such-user-x'" "$out" "... and says so"

# ---- typed details -----------------------------------------------------------------------------
types=$(ctl audit show --event eir-create --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)[0]["details"]
print(type(d["id"]).__name__, type(d["quota"]).__name__, type(d["mode"]).__name__, d["dir_mode"])')
assert_eq "int int str 0700" "$types" "--json details: integers as numbers, the rest as strings (0700 stays a string)"

# ---- --path ------------------------------------------------------------------------------------
expect_ok ctl hold add a/dir/f1 --until +30d --reason "keep it"
expect_ok ctl hold add a/other/f3 --until +30d --reason "keep it too"
# (each file's verified record carries its path too: count the holds')
assert_eq 1 "$(audit_count --path dir/f1 --event hold-add)" "--path FILE: the record about that file"
assert_eq 2 "$(audit_count --path dir/f1)" "--path FILE: its verified record as well"
assert_eq 1 "$(audit_count --path /dir/ --event hold-add)" "--path DIR (leading and trailing '/'): the records under it"
assert_eq 0 "$(audit_count --path di)" "--path matches whole names, not a prefix of one"
assert_eq 2 "$(audit_count --path / --event hold-add)" "--path /: every record about a file"
assert_eq "dir/f1" "$(ctl audit show --path dir --event hold-add --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[0]["path"])')" \
	"--json: the record's path at the top level"

# ---- -n, --since, --until ----------------------------------------------------------------------
all=$(ctl audit show --json | "$PY" -c 'import json, sys; print(" ".join(str(r["seq"]) for r in json.load(sys.stdin)))')
last2=$(ctl audit show -n 2 --json | "$PY" -c 'import json, sys; print(" ".join(str(r["seq"]) for r in json.load(sys.stdin)))')
assert_eq "$(tr ' ' '\n' <<<"$all" | tail -n 2 | paste -sd' ')" "$last2" "-n 2: the last two records"
assert_eq 1 "$(ctl audit show --last 1 --event suspend | wc -l)" "--last 1 with a filter: the last of those"
out=$(ctl audit show -n x 2>&1)
assert_eq 2 "$?" "-n x is a usage error"
# A record in a new second, so that --until that second's start leaves it out.
s0=$(date +%s)
next_second() { [ "$(date +%s)" -gt "$s0" ]; }
poll_until 3 next_second
cut=$(date -u +%Y-%m-%dT%H:%M:%SZ)
expect_ok ctl eir set a --quota 50M
n=$(audit_count)
assert_eq $((n - 1)) "$(audit_count --until "$cut")" "--until: everything before, not the record after"
assert_eq 1 "$(audit_count --since "$cut")" "--since the same time: only that record"
out=$(ctl audit show --since "$cut" --until 2000-01-01 2>&1)
assert_eq 2 "$?" "--until before --since is a usage error"

# ---- --follow ----------------------------------------------------------------------------------
(exec -a enrpctl "$ENRPCTL" -S "$STORE" audit show --follow >"$T/follow.txt" 2>"$T/follow.err") &
FOLLOW=$!
CLEANUP_PIDS+=("$FOLLOW")
(exec -a enrpctl "$ENRPCTL" -S "$STORE" audit show --follow --json -n 1 >"$T/follow.json" 2>&1) &
FOLLOWJ=$!
CLEANUP_PIDS+=("$FOLLOWJ")
started() { [ -s "$T/follow.txt" ] && [ -s "$T/follow.json" ]; }
poll_until 10 started || fail "--follow printed nothing: $(cat "$T/follow.err")"
assert_text_eq "$(ctl audit show -n 10)" "$(cat "$T/follow.txt")" "--follow starts with the last 10 records"
expect_ok ctl eir set a --quota 60M
followed() { grep -q 'quota=52428800->62914560' "$T/follow.txt" && grep -q '62914560' "$T/follow.json"; }
poll_until 10 followed
assert_true "--follow prints a record appended by another enrpctl" grep -q 'quota=52428800->62914560' "$T/follow.txt"
assert_true "the followers still run" kill -0 "$FOLLOW" "$FOLLOWJ"
kill "$FOLLOW" "$FOLLOWJ"
lines=$("$PY" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
print(len(recs), recs[-1]["event"], recs[-1]["details"]["quota"])' "$T/follow.json")
assert_eq "2 eir-set 52428800->62914560" "$lines" "--follow --json: one JSON object per line, the new one last"
assert_eq "" "$(cat "$T/follow.err")" "--follow: nothing on stderr"

expect_ok ctl audit verify
finish
