#!/bin/bash
# t7800: key escrow behind four eyes (issue 11 items 6 and 7), through the
# real enrpctl, with two administrators told apart as the kernel tells
# people apart: each runs enrpctl with their own audit login uid.  A
# deposit is wrapped by the master key (no plaintext anywhere in the store
# files), listed with its size and SHA-256, and read back only after a
# second person approved the requester's request, once; the requester
# cannot approve their own; a used, rejected or expired request opens
# nothing; every access is journalled and the chain verifies.  An
# unencrypted store refuses escrow; bad arguments exit 2 and change
# nothing.
. "$(dirname "$0")/lib.sh"
setup

PY=${PY:-python3}
A_UID=$(uid_of "$ALICE")
B_UID=$(uid_of "$BOB")

# admin UID ARGS...: enrpctl run by the person UID: their audit login uid
# (as after logging in and sudo), written into a child shell's
# /proc/self/loginuid, which root may set.
admin() {
	local uid=$1
	shift
	sh -c 'echo "$1" >/proc/self/loginuid || exit 99; shift; exec "$@"' sh "$uid" \
		"$ENRPCTL" -S "$STORE" "$@"
}
# later HOURS ARGS...: admin with the clock HOURS hours ahead.
later_admin() {
	local hours=$1 uid=$2
	shift 2
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+${hours}h" \
		sh -c 'echo "$1" >/proc/self/loginuid || exit 99; shift; exec "$@"' sh "$uid" \
		"$ENRPCTL" -S "$STORE" "$@"
}
jq_py() { "$PY" -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
req_state() { ctl requests --all --json | jq_py "[r['state'] for r in j if r['id'] == $1][0]"; }

printf 'owner passphrase: CANARY-7f3a9c-escrow\n' >"$T/owner.key"
head -c 3000 /dev/urandom >>"$T/owner.key"

# ---- an unencrypted store has nothing to wrap with --------------------------------

mk_eir plain --owner "$ALICE"
out=$(ctl escrow put plain "$T/owner.key" --reason "dump key" 2>&1)
assert_eq 1 $? "escrow put on an unencrypted store: exit 1"
assert_match "is not encrypted: escrow needs the master key" "$out" "saying why"
assert_eq 0 "$(audit_count --event escrow-put)" "nothing deposited"

# ---- the encrypted store -----------------------------------------------------------

mkdir -m 700 "$T/keys"
KEY=$T/keys/master.key
STORE=$T/estore
expect_ok ctl_nostore init --mirror none --encrypt --keyfile "$KEY" "$STORE"
mk_eir pop --owner "$ALICE"

out=$(admin "$A_UID" escrow put pop "$T/owner.key" --reason "pg_dump encryption key, order 7")
assert_eq 0 $? "escrow put (administrator A)"
assert_match "^deposited 'owner.key' for EIR 'pop' as escrow 1 \($(stat -c %s "$T/owner.key") bytes\)$" \
	"$out" "put says what it kept"
l=$(ctl escrow list pop --json)
assert_eq "1 owner.key $(stat -c %s "$T/owner.key") $(sha "$T/owner.key")" \
	"$(printf '%s' "$l" | jq_py '" ".join(str(j[0][k]) for k in ("id", "name", "size", "sha256"))')" \
	"list shows id, name, size and the SHA-256 of what was deposited"
assert_eq 1 "$(audit_count --event escrow-list)" "the listing is journalled"
assert_eq "$(sha "$T/owner.key")" \
	"$(ctl audit show --json --event escrow-put | jq_py 'j[0]["details"]["sha256"]')" \
	"escrow-put journals the SHA-256"
assert_eq 0 "$(grep -rla 'CANARY-7f3a9c' "$STORE" | wc -l)" \
	"the plaintext is in no file of the store (LMDB included)"

# ---- four eyes -------------------------------------------------------------------------

out=$(admin "$A_UID" escrow get pop 1 --reason "restore drill" -o "$T/got" 2>&1)
assert_eq 1 $? "escrow get without approval: exit 1"
assert_match "needs a second administrator's approval: request 1 made" "$out" "a request is made"
assert_true "and nothing was written" test ! -e "$T/got"
assert_eq "pending" "$(req_state 1)" "request 1 is pending"
r=$(ctl requests --json | jq_py '" ".join(str(j[0][k]) for k in ("action", "eir", "target", "requester"))')
assert_eq "escrow-get pop 1 $ALICE" "$r" "requests lists it with the requester as a person"

out=$(admin "$A_UID" approve 1 2>&1)
assert_eq 1 $? "A cannot approve A's own request"
assert_match "is your own: another administrator must decide it" "$out" "saying so"
assert_eq "pending" "$(req_state 1)" "still pending"
out=$(admin "$A_UID" escrow get pop 1 --reason "restore drill" -o "$T/got" 2>&1)
assert_match "request 1 for escrow get pop 1 is still waiting for approval" "$out" \
	"asking again while pending makes no second request"
assert_eq 1 "$(audit_count --event request-created)" "one request so far"

expect_ok admin "$B_UID" approve 1 --note "checked with the owner"
assert_eq "approved" "$(req_state 1)" "B approved it"
d=$(ctl audit show --json --event request-approved | jq_py 'j[0]["details"]["by"] + " " + j[0]["details"]["requester"]')
assert_eq "$BOB $ALICE" "$d" "journalled with who approved whose request"

out=$(admin "$B_UID" escrow get pop 1 --reason "curious" -o "$T/b-got" 2>&1)
assert_eq 1 $? "the approval is A's: B gets nothing with it"
assert_true "B wrote nothing" test ! -e "$T/b-got"

out=$(admin "$A_UID" escrow get pop 1 --reason "restore drill" -o "$T/got" 2>&1)
assert_eq 0 $? "A, approved, gets the deposit"
assert_true "byte for byte" cmp -s "$T/owner.key" "$T/got"
assert_eq 600 "$(stat -c %a "$T/got")" "written 0600"
d=$(ctl audit show --json --event escrow-get | jq_py 'str(j[0]["details"]["request"]) + " " + j[0]["details"]["approved_by"] + " " + j[0]["details"]["reason"]')
assert_eq "1 $BOB restore drill" "$d" "escrow-get journals the request, the approver and the reason"
assert_eq "used" "$(req_state 1)" "the request is used"

rm -f "$T/got"
out=$(admin "$A_UID" escrow get pop 1 --reason "again" -o "$T/got" 2>&1)
assert_eq 1 $? "a used approval opens nothing a second time"
assert_true "nothing written" test ! -e "$T/got"
new=$(ctl requests --json | jq_py 'j[-1]["id"]')
expect_ok admin "$B_UID" reject "$new" --note "no"
assert_eq "rejected" "$(req_state "$new")" "B rejected the second request"
out=$(admin "$B_UID" approve "$new" 2>&1)
assert_match "is already rejected" "$out" "a decided request cannot be decided again"

# ---- expiry ------------------------------------------------------------------------------

out=$(admin "$A_UID" escrow get pop 1 --reason "third" -o "$T/got" 2>&1)
third=$(ctl requests --json | jq_py 'j[-1]["id"]')
out=$(later_admin 25 "$B_UID" approve "$third" 2>&1)
assert_eq 1 $? "approving after 24 hours: exit 1"
assert_match "has expired" "$out" "the request expired"

# ---- eir set: shortening a retention, a class 1 EIR to rw ---------------------------

mk_eir reg --owner "$ALICE" --class 1 --mode wo
expect_ok admin "$A_UID" eir set reg --retention "files=90,keep-daily=7"
assert_eq 0 "$(audit_count --event request-created --eir reg)" "a first policy needs no approval"
expect_ok admin "$A_UID" eir set reg --retention "files=120,keep-daily=7,keep-weekly=4"
assert_eq 0 "$(audit_count --event request-created --eir reg)" "nor a longer one"
out=$(admin "$A_UID" eir set reg --retention "files=30,keep-daily=7,keep-weekly=4" 2>&1)
assert_eq 1 $? "shortening files= needs an approval: exit 1"
assert_match "eir set reg \(retention=files=30,keep-daily=7,keep-weekly=4\) needs a second administrator's approval" \
	"$out" "naming exactly what is asked"
assert_match "files=120" "$(ctl eir show reg | grep retention)" "the policy is unchanged"
rid=$(ctl requests --json | jq_py 'j[-1]["id"]')
out=$(admin "$A_UID" eir set reg --retention "files=10" 2>&1)
assert_eq 1 $? "another shortening is another request"
expect_ok admin "$B_UID" approve "$rid"
out=$(admin "$A_UID" eir set reg --retention "files=30,keep-daily=7,keep-weekly=4")
assert_eq 0 $? "approved: the change is made"
assert_match "using request $rid, approved by $BOB" "$out" "saying which approval it used"
assert_match "files=30" "$(ctl eir show reg | grep retention)" "the policy is shortened"
out=$(admin "$A_UID" eir set reg --retention "files=20,keep-daily=7,keep-weekly=4" 2>&1)
assert_eq 1 $? "the approval was for that change, once"
out=$(admin "$A_UID" eir set reg --retention "files=30,keep-daily=3,keep-weekly=4" 2>&1)
assert_eq 1 $? "lowering a keep count also needs one"

out=$(admin "$A_UID" eir set reg --mode rw 2>&1)
assert_eq 1 $? "switching a class 1 EIR to rw needs an approval"
assert_match "eir set reg \(mode=rw\) needs" "$out" "saying so"
assert_match "mode: *wo" "$(ctl eir show reg)" "the mode is unchanged"
rid=$(ctl requests --json | jq_py '[r["id"] for r in j if r["target"] == "mode=rw"][-1]')
expect_ok admin "$B_UID" approve "$rid"
expect_ok admin "$A_UID" eir set reg --mode rw
assert_match "mode: *rw" "$(ctl eir show reg)" "approved: rw"
expect_ok admin "$A_UID" eir set reg --mode wo
expect_ok admin "$A_UID" eir set reg --class 3
expect_ok admin "$A_UID" eir set reg --mode rw
out=$(admin "$A_UID" eir set reg --class 1 2>&1)
assert_eq 1 $? "rw class 3 made class 1 needs an approval too (no way around)"
assert_match "eir set reg \(mode=rw\) needs" "$out" "the same request"

# ---- refusals -----------------------------------------------------------------------------

n0=$(ctl audit show --json | jq_py 'len(j)')
expect_exit 2 admin "$A_UID" escrow put pop "$T/owner.key"
expect_exit 2 admin "$A_UID" escrow get pop x --reason r -o "$T/x"
expect_exit 2 admin "$A_UID" escrow get pop 1 -o "$T/x"
expect_exit 2 admin "$A_UID" approve nope
expect_exit 1 admin "$A_UID" escrow put nosuch "$T/owner.key" --reason r
expect_exit 1 admin "$A_UID" escrow put pop "$T/nothing-here" --reason r
head -c 1100000 /dev/zero >"$T/too-big"
expect_exit 1 admin "$A_UID" escrow put pop "$T/too-big" --reason r
printf 'x' >"$T/existing"
expect_exit 1 admin "$A_UID" approve 999
assert_eq "$n0" "$(ctl audit show --json | jq_py 'len(j)')" "refusals journal nothing"
expect_ok ctl audit verify

finish
