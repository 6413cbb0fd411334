#!/bin/bash
# t5110: an EIR's retention policy through enrpctl (issue 9 item 5):
# `eir create --retention`, `eir set --retention` (and "" to remove it),
# shown by `eir show` as text and JSON in its canonical form; each change
# journalled as retention-set; a bad spec exits 2 with a message that names
# the bad item and changes nothing (no EIR created, no policy changed, no
# journal record).
. "$(dirname "$0")/lib.sh"
setup

show_retention() { ctl eir show "$1" | sed -n 's/^retention: //p'; }
json_retention() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["retention"])'; }
# bad SPEC MESSAGE ARGS...: enrpctl ARGS exits 2 and says MESSAGE.
bad() {
	local msg=$1 out rc
	shift
	out=$(ctl "$@" 2>&1 >/dev/null)
	rc=$?
	assert_eq 2 "$rc" "$(cmdstr "$@"): exit 2"
	assert_match "$msg" "$out" "$(cmdstr "$@"): says $msg"
}

mk_eir plain --owner root
assert_eq "none" "$(show_retention plain)" "a new EIR has no policy"
assert_eq "None" "$(json_retention plain)" "--json: null"

# ---- create ----------------------------------------------------------------------
n0=$(audit_count)
expect_ok ctl eir create pop --owner root --retention "keep-yearly=3,files=90,keep-daily=7,keep-weekly=4,keep-monthly=12"
assert_eq "files=90,keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=3" "$(show_retention pop)" \
	"create --retention: shown canonical"
assert_eq "files=90,keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=3" "$(json_retention pop)" \
	"create --retention: --json"
assert_eq 1 "$(audit_count --event retention-set --eir pop)" "create --retention journalled once"
assert_eq $((n0 + 2)) "$(audit_count)" "eir-create and retention-set, nothing else"

n0=$(audit_count)
bad "invalid retention policy 'keep-dayly=7': 'keep-dayly': unknown key" \
	eir create typo --owner root --retention keep-dayly=7
expect_exit 1 ctl eir show typo
assert_eq "$n0" "$(audit_count)" "a refused create journals nothing"

# ---- set -------------------------------------------------------------------------
expect_ok ctl eir set plain --retention "keep-last=10"
assert_eq "keep-last=10" "$(show_retention plain)" "set --retention"
out=$(ctl eir set plain --retention "keep-last=10,keep-daily=7")
assert_match "retention: keep-last=10 -> keep-last=10,keep-daily=7" "$out" "set prints old -> new"
out=$(ctl eir set plain --retention "keep-daily=7,keep-last=10")
assert_match "unchanged" "$out" "the same policy in another order is no change"
n0=$(audit_count)
expect_ok ctl eir set plain --class 2 --retention ""
expect_ok ctl eir set plain --class 2 --retention "files=30"
assert_eq "files=30" "$(show_retention plain)" "set --retention with another option"
assert_match "class: 2" "$(ctl eir show plain)" "and the other option"
assert_eq $((n0 + 3)) "$(audit_count)" "both journalled"
assert_match 'policy="files=30" was=""' \
	"$(ctl audit show --event retention-set --eir plain | tail -n 1)" "the journal holds both policies"

# ---- bad specs: exit 2, named item, nothing changed ------------------------------
n0=$(audit_count)
bad "'files=0': days must be 1 to 36500" eir set plain --retention files=0
bad "'keep-daily=x': the value must be a whole number" eir set plain --retention keep-daily=x
bad "'keep-daily': given more than once" eir set plain --retention keep-daily=1,keep-daily=2
bad "'keep-hourly=100001': at most 100000" eir set plain --retention keep-hourly=100001
bad "empty item" eir set plain --retention "files=3,"
bad "'keep-minutely': unknown key" eir set plain --retention keep-minutely=1
bad "'weekly': expected KEY=NUMBER" eir set plain --retention weekly
assert_eq "files=30" "$(show_retention plain)" "bad specs changed nothing"
assert_eq "$n0" "$(audit_count)" "bad specs journalled nothing"
expect_exit 1 ctl eir set nosuch --retention files=3

# ---- clear ------------------------------------------------------------------------
out=$(ctl eir set plain --retention "")
assert_match "retention: files=30 -> none" "$out" "\"\" removes the policy"
assert_eq "none" "$(show_retention plain)" "removed"
assert_eq "None" "$(json_retention plain)" "removed: --json null"
assert_match "unchanged" "$(ctl eir set plain --retention '')" "removing none is no change"

# list --json carries it too
assert_eq "files=90,keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=3" \
	"$(ctl --json eir list | "$PY" -c 'import json, sys; print([e["retention"] for e in json.load(sys.stdin) if e["name"] == "pop"][0])')" \
	"eir list --json"

# retired EIRs are final, as for every other setting
expect_ok ctl eir retire pop --reason "off the list" --yes
expect_exit 1 ctl eir set pop --retention ""
assert_eq "files=90,keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=3" "$(show_retention pop)" \
	"a retired EIR keeps its policy"
finish
