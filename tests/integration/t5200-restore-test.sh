#!/bin/bash
# t5200: test-restore records through the real enrpctl, beside a running
# daemon (issue 9 item 3).  The issue's own commands (record, list --due)
# work; list --json parses and carries the last pass, the due date by class
# and the next plan; a plan fewer than 3 working days away is refused
# (exit 1, naming the earliest date) and the earliest date is accepted;
# holidays move that date, and add/remove/list behave; the platform's zone
# can be shown and set; bad arguments exit 2 and store and journal nothing;
# every accepted plan, record and calendar change is journalled with its
# details, and the chain verifies.
#
# The dates come from the real clock: the expected ones are computed here
# with Python's zoneinfo in the platform's zone (Asia/Almaty).  Overdue and
# due EIRs need a past that a fresh store cannot have: test_restore covers
# them with "today" as a parameter.
. "$(dirname "$0")/lib.sh"
setup

PY=${PY:-python3}
ZONE=Asia/Almaty

# A minute before local midnight, wait: every date below is "today".
if [ "$(TZ=$ZONE date +%H%M)" = 2359 ]; then
	sleep 61
fi

# pydate EXPR: a date computed from today (Almaty) and the holidays in $HOL
# (comma-separated YYYY-MM-DD), with helpers workday_after(day, n) and
# months(day, n).
HOL=
pydate() {
	"$PY" - "$ZONE" "$HOL" "$1" <<'EOF'
import calendar, datetime, sys, zoneinfo
zone, hol, expr = sys.argv[1:4]
today = datetime.datetime.now(zoneinfo.ZoneInfo(zone)).date()
holidays = {datetime.date.fromisoformat(h) for h in hol.split(",") if h}
def workday(d):
    return d.weekday() < 5 and d not in holidays
def workday_after(d, n):
    while n:
        d += datetime.timedelta(days=1)
        n -= workday(d)
    return d
def months(d, n):
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return datetime.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))
def days(n):
    return today + datetime.timedelta(days=n)
print(eval(expr))
EOF
}

# json_get JSON PYEXPR: evaluates PYEXPR with j = the parsed JSON.
json_get() {
	"$PY" -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

TODAY=$(pydate today)
mk_eir pop-registry --owner "$ALICE" --class 1
mk_eir archive --owner "$ALICE" --class 3
mk_eir half --owner "$ALICE" --class 2 --mode active --agent "$AGENT"
mount_fs

z=$(ctl calendar zone --json)
assert_eq "$ZONE" "$(json_get "$z" 'j["zone"]')" "the platform's zone defaults to Asia/Almaty"
assert_eq "$TODAY" "$(json_get "$z" 'j["today"]')" "today is Almaty's date"

# ---- the issue's commands --------------------------------------------------

expect_exit 1 ctl restore-test record pop-registry --snapshot nightly-2026-12-01 --result pass
assert_eq 0 "$(audit_count --event restore-test-recorded)" "a snapshot that does not exist: exit 1, nothing recorded"
expect_ok ctl snapshot create pop-registry nightly-2026-12-01
expect_ok ctl snapshot create archive weekly-1

out=$(ctl restore-test record pop-registry --snapshot nightly-2026-12-01 --result pass \
	--note "restored into scratch, 41 tables")
assert_eq 0 $? "restore-test record (the issue's command) succeeds"
assert_match "^recorded test restore [0-9]+ of EIR 'pop-registry' from snapshot 'nightly-2026-12-01': pass$" \
	"$out" "record says what it recorded"
out=$(ctl restore-test list --due)
assert_eq 0 $? "restore-test list --due (the issue's command) succeeds"
assert_eq 1 "$(wc -l <<<"$out")" "nothing is due on a fresh store: the header alone"
assert_eq "[]" "$(ctl restore-test list --due --json | tr -d ' \n')" "list --due --json: []"

list=$(ctl restore-test list --json)
p() { json_get "$list" "$1"; }
assert_eq "archive half pop-registry" "$(p '" ".join(e["eir"] for e in j)')" "every EIR, by name"
assert_eq "3 6 12" "$(p '" ".join(str(e["interval_months"]) for e in sorted(j, key=lambda e: e["class"]))')" \
	"intervals: class 1 3 months, class 2 6, class 3 12 (an active class 2 too)"
assert_eq "nightly-2026-12-01" "$(p '[e for e in j if e["eir"] == "pop-registry"][0]["last_pass"]["snapshot"]')" \
	"the last pass names its snapshot"
assert_eq "restored into scratch, 41 tables" \
	"$(p '[e for e in j if e["eir"] == "pop-registry"][0]["last_pass"]["note"]')" "and its note"
assert_eq "$TODAY" "$(p '[e for e in j if e["eir"] == "pop-registry"][0]["last_pass"]["date"]')" \
	"and today's date"
assert_eq "$(pydate 'months(today, 3)')" "$(p '[e for e in j if e["eir"] == "pop-registry"][0]["due"]')" \
	"pop-registry is due 3 months after the pass"
assert_eq "$(pydate 'months(today, 12)')" "$(p '[e for e in j if e["eir"] == "archive"][0]["due"]')" \
	"archive, never restored, is due a year after its creation"
assert_eq "ok ok ok" "$(p '" ".join(e["status"] for e in j)')" "nothing is due or overdue"
assert_eq "False" "$(p 'any(e["overdue"] for e in j)')" "overdue is false"
assert_eq "None" "$(p '[e for e in j if e["eir"] == "archive"][0]["last_pass"]')" \
	"archive has no last pass (null)"
listing=$(ctl restore-test list)
assert_match "^pop-registry +1 +3m +$TODAY +nightly-2026-12-01 +$(pydate 'months(today, 3)') +ok +- +pass$" \
	"$(grep '^pop-registry' <<<"$listing")" "the table row of pop-registry"
assert_match "^archive +3 +12m +never +- " "$(grep '^archive' <<<"$listing")" "the row of archive"

ctl restore-test record archive --snapshot weekly-1 --result fail --note "tape unreadable" >/dev/null ||
	fail "record a fail"
list=$(ctl restore-test list --json)
assert_eq "fail None" "$(p '[e for e in j if e["eir"] == "archive"][0]["last_record"]["result"]') $(p '[e for e in j if e["eir"] == "archive"][0]["last_pass"]')" \
	"a fail is the last record, and no pass"
assert_eq "$(pydate 'months(today, 12)')" "$(p '[e for e in j if e["eir"] == "archive"][0]["due"]')" \
	"a fail does not move the due date"

# ---- bad arguments: exit 2, nothing stored or journalled ------------------

state() {
	audit_count
	ctl restore-test list --json
	ctl calendar holiday list --json
	ctl calendar zone
}
BEFORE=$(state)
LONG=$(printf 'x%.0s' $(seq 256))
usage() {
	local out err rc desc="enrpctl $(cmdstr "$@")"
	out=$(ctl "$@" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
	assert_eq 2 "$rc" "$desc: exit 2"
	assert_eq "" "$out" "$desc: nothing on stdout"
	assert_match "^enrpctl: " "$(head -n1 <<<"$err")" "$desc: says what is wrong"
}
usage restore-test
usage restore-test frobnicate
usage restore-test record pop-registry --result pass
usage restore-test record pop-registry --snapshot s1
usage restore-test record pop-registry --snapshot s1 --result ok
usage restore-test record pop-registry --snapshot latest --result pass
usage restore-test record pop-registry --snapshot "a/b" --result pass
usage restore-test record pop-registry --snapshot -x --result pass
usage restore-test record --snapshot s1 --result pass
usage restore-test record Pop-Registry --snapshot s1 --result pass
usage restore-test record pop-registry extra --snapshot s1 --result pass
usage restore-test record pop-registry --snapshot s1 --result pass --note "$LONG"
usage restore-test record pop-registry --snapshot s1 --result pass --bogus
usage restore-test plan pop-registry
usage restore-test plan pop-registry --date 2026-02-30
usage restore-test plan pop-registry --date tomorrow
usage restore-test plan pop-registry --date "$(pydate 'days(30)')" --note "$LONG"
usage restore-test plan --date "$(pydate 'days(30)')"
usage restore-test list extra
usage restore-test list --due=yes
usage calendar holiday
usage calendar holiday add
usage calendar holiday add 2026-13-01
usage calendar holiday add "$(pydate 'days(40)')" extra
usage calendar holiday remove "$(pydate 'days(40)')" --note x
usage calendar holiday list --note x
usage calendar zone "../../etc/passwd"
usage calendar zone a b
expect_exit 1 ctl restore-test record nobody --snapshot s1 --result pass
expect_exit 1 ctl restore-test record pop-registry --snapshot no-such-snapshot --result pass
expect_exit 1 ctl restore-test plan nobody --date "$(pydate 'days(30)')"
expect_exit 1 ctl calendar zone Nowhere/Atlantis
assert_text_eq "$BEFORE" "$(state)" "nothing stored or journalled by any of them"

# ---- plans: 3 working days' notice, holidays -----------------------------

EARLIEST=$(pydate 'workday_after(today, 3)')
out=$(ctl restore-test plan archive --date "$TODAY" 2>"$T/err")
assert_eq 1 $? "a plan for today is refused (exit 1)"
assert_match "fewer than 3 working days away" "$(cat "$T/err")" "saying why"
assert_match "^hint: .*earliest date now is $EARLIEST " "$(sed -n 2p "$T/err")" \
	"and naming the earliest date, $EARLIEST"
expect_exit 1 ctl restore-test plan archive --date "$(pydate 'days(-1)')"
expect_exit 1 ctl restore-test plan archive --date "$(pydate 'workday_after(today, 2)')"
assert_text_eq "$BEFORE" "$(state)" "refused plans store and journal nothing"
out=$(ctl restore-test plan archive --date "$EARLIEST" --note "owner told by mail")
assert_eq 0 $? "a plan on the earliest date, $EARLIEST, is accepted"
assert_match "^planned test restore [0-9]+ of EIR 'archive' on $EARLIEST \([A-Z][a-z]+day\)$" "$out" \
	"plan says what it planned"
list=$(ctl restore-test list --json)
assert_eq "$EARLIEST 1" "$(p '[e for e in j if e["eir"] == "archive"][0]["next_plan"]') $(p '[e for e in j if e["eir"] == "archive"][0]["plans_ahead"]')" \
	"list shows the plan"

# A holiday on the first working day after today moves the earliest date on.
H1=$(pydate 'workday_after(today, 1)')
out=$(ctl calendar holiday add "$H1" --note "a holiday")
assert_eq "added holiday $H1" "$out" "holiday add"
HOL=$H1
NEW_EARLIEST=$(pydate 'workday_after(today, 3)')
expect_exit 1 ctl restore-test plan pop-registry --date "$EARLIEST"
assert_match "earliest date now is $NEW_EARLIEST " \
	"$(ctl restore-test plan pop-registry --date "$EARLIEST" 2>&1)" "the earliest date moved to $NEW_EARLIEST"
expect_ok ctl restore-test plan pop-registry --date "$NEW_EARLIEST"
expect_exit 1 ctl calendar holiday add "$H1"
expect_exit 1 ctl calendar holiday remove "$(pydate 'days(400)')"
H2=$(pydate 'days(200)')
expect_ok ctl calendar holiday add "$H2"
hl=$(ctl calendar holiday list --json)
assert_eq "$H1:a holiday $H2:" "$(json_get "$hl" '" ".join(h["date"] + ":" + h["note"] for h in j)')" \
	"holiday list --json: both, in date order, with notes"
assert_match "^$H1 +a holiday$" "$(ctl calendar holiday list | sed -n 2p)" "holiday list: a table"
expect_ok ctl calendar holiday remove "$H2"
assert_eq 1 "$(json_get "$(ctl calendar holiday list --json)" 'len(j)')" "removed"

# ---- the zone -------------------------------------------------------------

expect_ok ctl calendar zone UTC
assert_eq UTC "$(json_get "$(ctl calendar zone --json)" 'j["zone"]')" "the zone is now UTC"
assert_eq "the platform's zone is UTC already" "$(ctl calendar zone UTC)" "setting it again changes nothing"
expect_ok ctl calendar zone "$ZONE"

# ---- the journal ----------------------------------------------------------

rec=$(ctl audit show --event restore-test-recorded --json)
assert_eq 2 "$(json_get "$rec" 'len(j)')" "two restore-test-recorded records"
assert_eq "pop-registry 0 enrpctl restore-test record" \
	"$(json_get "$rec" '" ".join(str(j[0][k]) for k in ("eir", "uid", "command"))')" "about the EIR, by whom"
assert_match "^seq=[0-9]+ snapshot=nightly-2026-12-01 files=0 bytes=0 result=pass date=$TODAY note=restored into scratch, 41 tables$" \
	"$(details_flat <<<"$rec" | sed -n 1p)" "with snapshot, result, date and note"
assert_match "snapshot=weekly-1 files=0 bytes=0 result=fail .*note=tape unreadable$" "$(details_flat <<<"$rec" | sed -n 2p)" \
	"the fail too"
pl=$(ctl audit show --event restore-test-planned --json)
assert_eq "archive pop-registry" "$(json_get "$pl" '" ".join(r["eir"] for r in j)')" \
	"one restore-test-planned record per accepted plan"
assert_match "^seq=[0-9]+ date=$EARLIEST workdays_ahead=3 note=owner told by mail$" "$(details_flat <<<"$pl" | sed -n 1p)" \
	"with date, the notice in working days and note"
assert_eq 2 "$(audit_count --event holiday-add)" "holiday-add journalled"
assert_eq 1 "$(audit_count --event holiday-remove)" "holiday-remove journalled"
assert_eq "from=$ZONE to=UTC" "$(ctl audit show --event calendar-zone --json | details_flat | sed -n 1p)" \
	"calendar-zone journalled with from and to"
expect_ok ctl audit verify

finish
