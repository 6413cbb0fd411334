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
	eir_settings a
	eir_settings act
	ctl eir list -o name,class,mode,state,used,quota,files,pending,corrupt,last,stored,ratio
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
expect_ok ctl eir retire rep --reason "decommissioned" --yes
bad 1 'already retired' "${S[@]}" eir retire rep --reason again --yes
bad 1 'retired' "${S[@]}" eir suspend rep --reason "too late"
n=$(audit_count)
bad 1 'already retired' "${S[@]}" eir retire rep --reason again --yes
bad 1 'already retired' "${S[@]}" eir retire rep --reason again --dry-run
assert_eq "$n" "$(audit_count)" "a refused retire journals nothing"

# ---- retire asks first ----------------------------------------------------------------------
# Retirement is final: on a terminal enrpctl says what it will do and asks
# for the EIR's name; without one it is refused (exit 2, before the store is
# opened) unless --yes; --dry-run says what would happen and changes nothing.
mk_eir gone --owner "$ALICE"
state_of() { ctl eir show "$1" --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["state"])'; }
n=$(audit_count)
# No controlling terminal (setsid) and stdin not one either.
out=$(setsid -w "$ENRPCTL" -S "$STORE" eir retire gone --reason "off the list" </dev/null 2>"$T/err")
assert_eq 2 "$?" "retire without a terminal and without --yes: exit 2"
assert_eq "" "$out" "... nothing on stdout"
assert_match "^enrpctl: refusing to retire EIR 'gone' without confirmation: there is no terminal to ask on$" \
	"$(head -n1 "$T/err")" "... says why"
assert_match "^hint: .*--yes.*--dry-run" "$(sed -n 2p "$T/err")" "... and names --yes and --dry-run"
out=$(setsid -w "$ENRPCTL" -S "$STORE" eir retire gone --reason "off the list" 2>&1 <<<"gone")
assert_eq 2 "$?" "retire with the name piped in: still refused (piped input never confirms)"
bad 2 'takes no --shorten' "${S[@]}" eir retire gone --reason x --shorten --yes
bad 2 'takes no --yes' "${S[@]}" eir suspend gone --reason x --yes
bad 2 'takes no --dry-run' "${S[@]}" eir resume gone --dry-run
out=$(ctl eir retire gone --reason "off the list" --dry-run 2>"$T/err")
assert_eq 0 "$?" "retire --dry-run: exit 0"
assert_eq "would retire EIR 'gone' (reason: off the list)" "$(head -n1 <<<"$out")" "... says what it would do"
assert_match "state: normal -> retired, for ever" "$out" "... that it is final"
assert_match "writes: refused with EROFS" "$out" "... that writes are refused"
assert_eq "nothing was changed (--dry-run)" "$(tail -n1 <<<"$out")" "... and that nothing changed"
assert_eq "" "$(cat "$T/err")" "... nothing on stderr"
assert_eq normal "$(state_of gone)" "... and the EIR is not retired"
# On a terminal (script(1) gives it one): the wrong name, then the right one.
# The answer is read from the terminal even when stdin is elsewhere.
ask() { # ANSWER: runs retire on a terminal that receives ANSWER
	printf '%s\n' "$1" | script -qec "$(printf '%q ' "$ENRPCTL" -S "$STORE" eir retire gone \
		--reason "off the list") </dev/null" /dev/null
}
out=$(ask gon)
assert_eq 1 "$?" "retire on a terminal, answered with another name: exit 1"
assert_match "Retiring EIR 'gone' cannot be undone:" "$out" "... it said what it would do"
assert_match "Type the EIR's name, gone, to retire it:" "$out" "... and asked for the name"
assert_match "enrpctl: EIR 'gone' not retired: the name typed does not match" "$out" "... and refused"
assert_eq normal "$(state_of gone)" "... the EIR is not retired"
out=$(: | script -qec "$(printf '%q ' "$ENRPCTL" -S "$STORE" eir retire gone --reason x)" /dev/null)
assert_eq 1 "$?" "retire on a terminal that answers nothing (EOF): exit 1"
assert_eq "$n" "$(audit_count)" "no refused or dry retire journalled anything"
out=$(ask gone)
assert_eq 0 "$?" "retire on a terminal, answered with its name: exit 0 ($out)"
assert_match "retired EIR 'gone'" "$out" "... says it is retired"
assert_eq retired "$(state_of gone)" "... and it is"
assert_eq "$((n + 1))" "$(audit_count)" "... one journal record"

# ---- a quota below usage needs --force -----------------------------------------------------
mk_eir q --owner "$ALICE" --quota 10M
mount_fs
as "$ALICE" sh -c 'for i in 1 2 3; do head -c 1048576 /dev/zero >"$1/f$i"; done' _ "$MNT/q" ||
	die "write 3M into q"
used_of() { ctl eir show "$1" --json | "$PY" -c 'import json, sys; e = json.load(sys.stdin); print(e["used"], e["inodes"])'; }
holds_3m() { [ "$(used_of q | cut -d' ' -f1)" = 3145728 ]; }
poll_until 10 holds_3m
read -r used files <<<"$(used_of q)"
assert_eq 3145728 "$used" "q holds 3M"
# Records enrpctl wrote about q (the daemon journals its seals meanwhile).
ctl_records_q() { ctl audit show --eir q | grep -c '"enrpctl '; }
n=$(ctl_records_q)
bad 1 "^enrpctl: refusing to set the quota of EIR 'q' to 1M: it holds 3M already, 2M more than that$" \
	"${S[@]}" eir set q --quota 1M
assert_match "^hint: .*--force" "$(sed -n 2p "$T/err")" "... the hint names --force"
bad 1 "it holds 3M already, 1023K more than that" "${S[@]}" eir set q --quota 2049K
bad 1 "it holds 3M already, 1 byte more than that" "${S[@]}" eir set q --quota 3145727
bad 1 "refusing to set the file limit of EIR 'q' to 1: it holds $files inodes [(]files, directories, links[)] already, $((files - 1)) more" \
	"${S[@]}" eir set q --max-files 1
bad 1 "refusing to set the quota" "${S[@]}" eir set q --quota 1M --mode ro
assert_eq "$n" "$(ctl_records_q)" "refused limits journal nothing"
assert_match "^quota: 10M$" "$(ctl eir show q | grep '^quota:')" "... and change nothing"
assert_match "^mode: rw$" "$(ctl eir show q | grep '^mode:')" "... not even the other settings given"
expect_ok ctl eir set q --quota 3M
expect_ok ctl eir set q --quota none
expect_ok ctl eir set q --max-files "$files"
out=$(ctl eir set q --quota 1M --max-files 1 --force 2>&1)
assert_eq 0 "$?" "--force sets them below the usage ($out)"
assert_match "quota: none -> 1M" "$out" "... and says so"
expect_fail EDQUOT as "$ALICE" sh -c 'echo x >"$1/more"' _ "$MNT/q"
expect_ok ctl eir set q --quota 10M --max-files none

# ---- a shorter escalation needs --shorten ----------------------------------------------------
until_of() { ctl eir show "$1" --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["escalated_until"])'; }
expect_ok ctl eir escalate act --for 2h --reason "drill"
u2=$(until_of act)
# act's own records: the mount may flush the journal's aggregated denials
# (q's EDQUOT above) at any moment.
act_records() { ctl audit show --eir act | wc -l; }
n=$(act_records)
bad 1 "^enrpctl: refusing to shorten the escalation of EIR 'act': it runs until $u2, and --for 1h would end it at " \
	"${S[@]}" eir escalate act --for 1h --reason "second"
assert_match "^hint: .*--shorten.*deescalate" "$(sed -n 2p "$T/err")" "... the hint names --shorten and deescalate"
assert_eq "$u2" "$(until_of act)" "... the escalation stands"
assert_eq "$n" "$(act_records)" "... nothing journalled"
bad 2 'takes no --shorten' "${S[@]}" eir suspend act --reason x --shorten
expect_ok ctl eir escalate act --for 3h --reason "longer"
out=$(ctl eir escalate act --for 1h --reason "shorter" --shorten)
assert_eq 0 "$?" "--shorten shortens it"
assert_eq "escalated EIR 'act' until $(until_of act)" "$out" "... to the new end"
expect_ok ctl eir deescalate act

finish
