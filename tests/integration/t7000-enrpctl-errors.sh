#!/bin/bash
# t7000: enrpctl's command line (DESIGN §8, STYLE 31-33): every bad input
# exits 1 (failure) or 2 (usage) with an "enrpctl: " message on stderr,
# prints no data, and changes nothing (the journal and the EIRs are as
# before); --help works on every command; --json output parses.
. "$(dirname "$0")/lib.sh"
setup

mk_eir a --owner "$ALICE"
mk_eir act --owner "$ALICE" --mode active --agent "$AGENT"
unset ENRP_STORE

snapshot_state() {
	printf '%s\n' "$(audit_count)"
	ctl eir show a --json
	ctl eir show act --json
	ctl eir list
}
BEFORE=$(snapshot_state)

# bad CODES REGEX ARGS...: enrpctl ARGS exits with one of CODES ("1", "2" or
# "1|2"), prints nothing on stdout, and its stderr starts with "enrpctl: "
# and matches REGEX (grep -E, case-insensitive).
bad() {
	local codes=$1 re=$2 out err rc desc
	shift 2
	desc="enrpctl $(cmdstr "$@")"
	out=$( (exec -a enrpctl "$ENRPCTL" "$@") 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
	if [[ "|$codes|" == *"|$rc|"* ]]; then
		pass "$desc: exit $rc"
	else
		fail "$desc: exit $rc, expected $codes (stderr: ${err:0:200})"
	fi
	assert_eq "" "$out" "$desc: nothing on stdout"
	assert_match '^enrpctl: ' "$(head -n1 <<<"$err")" "$desc: stderr starts with 'enrpctl: '"
	if grep -Eiq -- "$re" <<<"$err"; then
		pass "$desc: message says /$re/"
	else
		fail "$desc: message '${err:0:300}' does not match /$re/"
	fi
}
S=(-S "$STORE")

# ---- commands and options ------------------------------------------------------------
bad 2 'frobnicate' "${S[@]}" frobnicate
bad 2 'frobnicate' "${S[@]}" eir frobnicate
bad 2 'frob' "${S[@]}" audit frob
bad 2 'bogus' --bogus-global "${S[@]}" eir list
bad 2 'bogus' "${S[@]}" eir list --bogus
bad 2 '.' "${S[@]}"
bad 2 '.' "${S[@]}" eir
bad 2 'name|usage|missing|operand' "${S[@]}" eir show
bad 2 'extra|unexpected|too many|operand|usage' "${S[@]}" eir show a b
bad 2 'owner' "${S[@]}" eir create b
bad 2 'name|usage|missing|operand' "${S[@]}" eir create --owner "$ALICE"
bad 2 'extra|unexpected|too many|operand|usage' "${S[@]}" eir create b --owner "$ALICE" extra
bad 2 'option|nothing|at least' "${S[@]}" eir set a
bad 2 'reason' "${S[@]}" eir escalate act --for 1h
bad 2 'for|duration' "${S[@]}" eir escalate act --reason x
bad 2 'reason' "${S[@]}" eir suspend a
bad 2 'reason' "${S[@]}" eir retire a

# ---- unknown EIRs ---------------------------------------------------------------------------
bad 1 '^enrpctl: no EIR named' "${S[@]}" eir show nosuch
bad 1 '^enrpctl: no EIR named' "${S[@]}" eir set nosuch --mode ro
bad 1 '^enrpctl: no EIR named' "${S[@]}" eir suspend nosuch --reason x
bad 1 '^enrpctl: no EIR named' "${S[@]}" eir escalate nosuch --for 1h --reason x

# ---- bad values -----------------------------------------------------------------------------
bad '1|2' 'rx' "${S[@]}" eir set a --mode rx
bad '1|2' 'bogus' "${S[@]}" eir create b --owner "$ALICE" --mode bogus
for c in 0 4 x 1.5 ''; do
	bad '1|2' 'class' "${S[@]}" eir create b --owner "$ALICE" --class "$c"
done
bad '1|2' 'class' "${S[@]}" eir set a --class 9
for q in 10X abc -5 '' 1.2.3G 99999999999P; do
	bad '1|2' 'size|quota' "${S[@]}" eir create b --owner "$ALICE" --quota "$q"
done
bad '1|2' 'size|quota' "${S[@]}" eir set a --quota 5Q
long=$(printf 'x%.0s' $(seq 64))
for n in UPPER Mixed a/b "$long" .hidden -dash _under 'sp ace' '' 'é'; do
	bad '1|2' 'name' "${S[@]}" eir create --owner "$ALICE" -- "$n"
done
bad 1 'exist|already|taken' "${S[@]}" eir create a --owner "$ALICE"
bad '1|2' 'nosuchuser' "${S[@]}" eir create b --owner nosuchuser
bad '1|2' 'nosuchgroup' "${S[@]}" eir create b --owner "$ALICE:nosuchgroup"
bad '1|2' 'agent' "${S[@]}" eir create b --owner "$ALICE" --mode active
bad '1|2' 'nosuchuser' "${S[@]}" eir set act --agent nosuchuser
bad '1|2' 'bogus|duration' "${S[@]}" eir escalate act --for bogus --reason x
bad '1|2' '0s|duration|future|positive' "${S[@]}" eir escalate act --for 0s --reason x
bad '1|2' 'reason' "${S[@]}" eir escalate act --for 1h --reason ''
bad '1|2' 'reason|long|255' "${S[@]}" eir suspend a --reason "$(printf 'r%.0s' $(seq 300))"
bad '1|2' 'garbage|time|date' "${S[@]}" audit show --since garbage

# ---- wrong state --------------------------------------------------------------------------
bad 1 'active' "${S[@]}" eir escalate a --for 1h --reason "not active"
bad 1 'escalat' "${S[@]}" eir deescalate act
bad 1 'suspend' "${S[@]}" eir resume a

# ---- stores ------------------------------------------------------------------------------------
bad 1 'nonexistent' -S "$T/nonexistent" eir list
bad 1 'nonexistent' -S "$T/nonexistent" audit verify
bad '1|2' 'store' eir list
bad 1 'exist|empty|not empty' init "$STORE"

# ---- nothing changed -----------------------------------------------------------------------
assert_text_eq "$BEFORE" "$(snapshot_state)" "no failed command changed the journal or an EIR"
assert_eq "audit: chain intact, $(audit_count) records" "$(ctl audit verify 2>&1)" "journal intact"

# ---- --help everywhere -----------------------------------------------------------------------
for c in "" "init" "eir" "eir create" "eir list" "eir show" "eir set" "eir escalate" \
	"eir deescalate" "eir suspend" "eir resume" "eir retire" "status" "audit" \
	"audit show" "audit verify"; do
	# shellcheck disable=SC2086
	out=$( (exec -a enrpctl "$ENRPCTL" $c --help) 2>"$T/err")
	rc=$?
	assert_eq 0 "$rc" "enrpctl $c --help exits 0"
	assert_match '^usage: enrpctl' "$(head -n1 <<<"$out")" "enrpctl $c --help prints usage on stdout"
	assert_eq "" "$(cat "$T/err")" "enrpctl $c --help: nothing on stderr"
done
expect_ok ctl_nostore --version

# ---- --json parses ---------------------------------------------------------------------------
json_ok() { # ARGS...: enrpctl -S STORE ARGS --json parses
	ctl "$@" --json | "$PY" -m json.tool >/dev/null
}
for c in "eir list" "eir show a" "eir show act" "status" "audit show"; do
	# shellcheck disable=SC2086
	assert_true "enrpctl $c --json parses" json_ok $c
done
assert_eq "a rw normal" \
	"$(ctl eir show a --json | "$PY" -c 'import json, sys; e = json.load(sys.stdin); print(e["name"], e["mode"], e["state"])' 2>&1)" \
	"eir show --json: name, mode, state"
assert_eq "2 a act" "$(ctl eir list --json | "$PY" -c 'import json, sys; l = json.load(sys.stdin); print(len(l), *[e["name"] for e in l])')" \
	"eir list --json: both EIRs"
assert_true "global --json before the command works" bash -c \
	'(exec -a enrpctl "$1" -S "$2" --json eir list) | "$3" -m json.tool' _ "$ENRPCTL" "$STORE" "$PY"

# ---- repeated state changes: refused, and the state stays -----------------------------------
mk_eir rep --owner "$ALICE"
expect_ok ctl eir suspend rep --reason "maintenance"
bad 1 'already suspended' "${S[@]}" eir suspend rep --reason again
assert_eq "suspended" "$(ctl eir show rep --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["state"])')" \
	"a second suspend leaves it suspended"
expect_ok ctl eir resume rep
bad 1 'not suspended' "${S[@]}" eir resume rep
expect_ok ctl eir retire rep --reason "decommissioned"
bad 1 'already retired' "${S[@]}" eir retire rep --reason again
bad 1 'retired' "${S[@]}" eir suspend rep --reason "too late"
n=$(audit_count)
bad 1 'already retired' "${S[@]}" eir retire rep --reason again
assert_eq "$n" "$(audit_count)" "a refused retire journals nothing"

finish
