#!/bin/bash
# t7700: the compliance report (issue 11 item 4) through the real commands.
# A store in zone UTC with three EIRs: alpha has a daily schedule with a 1 h
# window and gets a transfer inside its first slot's window, one after its
# second's (late) and none for its third (missed) — the daemon runs under
# libfaketime at those moments; beta has a chunk flipped and `enrpctl
# scrub` finds it (a failed verification, a corrupt file), then is
# suspended with a reason holding <script>; gamma has a test-restore record
# and a hold ending in 10 days whose reason holds markup.  Then, at a
# moment after alpha's third window closed:
#   --json   every figure equals what the test made (computed here);
#   today's usage sample is written once and kept (a second report the
#            same day does not change it);
#   --csv    parsed by Python's csv module equals --json, CRLF records;
#   --html   names no URL, script or external resource and escapes the
#            store's texts; chromium --headless (no network: its own network
#            namespace) renders it: the DOM shows the same figures as
#            --json, the charts draw (pixels of the bars' and the line's
#            colours, against the same page with the charts' contents
#            removed), and it prints to A4 pages;
#   usage errors exit 2.
. "$(dirname "$0")/lib.sh"
setup

CHECK=$LIB_DIR/report_check.py
command -v chromium >/dev/null || die "chromium is not installed (tools/packages.txt)"

FT=(env FAKETIME_DONT_FAKE_MONOTONIC=1 "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" faketime)
# at EPOCH_S CMD...: CMD with the clock at EPOCH_S (an offset from now).
at() {
	local t=$1
	shift
	"${FT[@]}" -f "+$((t - $(date +%s)))" "$@"
}
ctl_at() {
	local t=$1
	shift
	at "$t" "$ENRPCTL" -S "$STORE" "$@"
}
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 60 pending_empty "$1" || die "$1: still pending after 60 s"; }
# mount_at EPOCH_S: mounts with the daemon's clock at EPOCH_S.
mount_at() {
	local out
	out=$(at "$1" "$ENRPFS" "$STORE" "$MNT" 2>&1) || die "enrpfs at $1: $out"
	poll_until 20 is_mounted "$MNT" || die "$MNT not mounted"
	poll_until 10 have_daemon || die "no daemon"
}
jget() { "$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

expect_ok ctl calendar zone UTC
mk_eir alpha --owner "$ALICE" --class 1 --quota 10M
mk_eir beta --owner "$ALICE" --class 2 --quota 1M
mk_eir gamma --owner "$ALICE" --class 3

# alpha's slot: two hours from now, to the minute (UTC), daily.
T0=$(date +%s)
S1=$(( (T0 / 60) * 60 + 7200 ))
HHMM=$(date -u -d "@$S1" +%H:%M)
expect_ok ctl eir set alpha --schedule "daily $HHMM full"
expect_ok ctl eir set alpha --window 1h
log "alpha: daily $HHMM, first slot $(date -u -d "@$S1" +%FT%TZ)"

# ---- now: beta's damage, gamma's restore record and hold ----------------------------
mount_fs
head -c 200000 /dev/urandom >"$MNT/beta/dump" || die "write beta"
head -c 50000 /dev/urandom >"$MNT/gamma/dump" || die "write gamma"
settle beta
settle gamma
umount_fs
eid=$(ctl --json eir show beta | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
victim=$(find "$STORE/chunks/$eid" -mindepth 3 -type f | sort | head -1)
[ -n "$victim" ] || die "no chunk of beta"
"$PY" "$LIB_DIR/integ9.py" flipbyte "$victim" || die "flipbyte"
expect_exit 1 ctl scrub beta
assert_eq 1 "$(audit_count --event scrub-damage --eir beta)" "scrub journalled one scrub-damage for beta"
expect_ok ctl eir suspend beta --reason '<script>alert("x")</script> & more'
expect_ok ctl snapshot create gamma drill-1
expect_ok ctl restore-test record gamma --snapshot drill-1 --result pass --note 'ok'
expect_ok ctl hold add gamma/dump --until +10d --reason '<b>inquiry</b> 7'

# ---- alpha's transfers: in S1's window, after S2's (late), none for S3 --------------
mount_at $((S1 + 1800))
head -c 300000 /dev/urandom >"$MNT/alpha/f1" || die "write f1"
settle alpha
umount_fs
S2=$((S1 + 86400))
mount_at $((S2 + 7200))
head -c 100000 /dev/urandom >"$MNT/alpha/f2" || die "write f2"
settle alpha
sleep 12  # the maintenance thread's rounds: it writes this day's usage samples
umount_fs
S3=$((S2 + 86400))
NOW=$((S3 + 3 * 3600))  # S3's window closed at S3 + 1h; S4 is tomorrow

# ---- --json --------------------------------------------------------------------------
ctl_at "$NOW" report --json >"$T/r.json" || fail "report --json failed"
TODAY=$(date -u -d "@$NOW" +%F)
FROM=$(date -u -d "@$((NOW - 29 * 86400))" +%F)
RTODAY=$(date -u -d "@$T0" +%F)
DUE=$("$PY" -c 'import datetime, sys; d = datetime.date.fromisoformat(sys.argv[1]); print(d.replace(year=d.year + 1))' "$RTODAY")
assert_eq "$FROM $TODAY UTC" "$(jget "$T/r.json" 'j["from"], j["to"], j["zone"]' | tr -d "(),'")" \
	"default period: the last 30 days to today, zone UTC"
a='[e for e in j["eirs"] if e["name"] == "alpha"][0]'
b='[e for e in j["eirs"] if e["name"] == "beta"][0]'
g='[e for e in j["eirs"] if e["name"] == "gamma"][0]'
assert_eq "3 2 1 1 0" "$(jget "$T/r.json" "' '.join(str($a[k]) for k in ('expected', 'arrived', 'late', 'missed', 'pending'))")" \
	"alpha: 3 slots expected, 2 arrived, 1 late, 1 missed, none pending"
assert_eq "400000 2 10485760 3.8" "$(jget "$T/r.json" "' '.join(str($a[k]) for k in ('used', 'files', 'quota', 'quota_used_percent'))")" \
	"alpha: 400000 bytes in 2 files of 10M (3.8 %)"
assert_eq "red missed,late" "$(jget "$T/r.json" "$a['light'] + ' ' + ','.join($a['reasons'])")" "alpha: red for the missed slot, late too"
assert_eq "1 1 suspended red" "$(jget "$T/r.json" "' '.join(str($b[k]) for k in ('failed_verifications', 'corrupt', 'state', 'light'))")" \
	"beta: 1 failed verification, 1 corrupt file, suspended, red"
assert_eq "failed-verification,corrupt,suspended" "$(jget "$T/r.json" "','.join($b['reasons'])")" "beta: its reasons"
assert_eq "$RTODAY pass $DUE ok False" "$(jget "$T/r.json" "' '.join(str($g['restore'][k]) for k in ('last_pass', 'last_result', 'due', 'standing', 'overdue'))")" \
	"gamma: restore passed today, next due in 12 months (class 3)"
assert_eq "1 1 <b>inquiry</b> 7" "$(jget "$T/r.json" "' '.join(str($g[k]) for k in ('holds_active', 'holds_expiring', 'next_hold_reason'))")" \
	"gamma: one hold, expiring within 30 days"
assert_eq "amber hold-expiring,no-schedule" "$(jget "$T/r.json" "$g['light'] + ' ' + ','.join($g['reasons'])")" "gamma: amber"
assert_eq "3 0 1 2 3 2 1 1 1 1 1" "$(jget "$T/r.json" "' '.join(str(j['summary'][k]) for k in ('eirs', 'green', 'amber', 'red', 'expected', 'arrived', 'late', 'missed', 'failed_verifications', 'holds_active', 'holds_expiring'))")" \
	"platform summary row: the sums"
assert_eq "650000" "$(jget "$T/r.json" "j['summary']['used']")" "platform used: 300000 + 100000 + 200000 + 50000"
assert_eq "None" "$(jget "$T/r.json" "$a['destroyed']")" "the destruction record's place is there (null)"
# Transfers per day: S1 met, S2 late, S3 missed, each on its date.
days=$(jget "$T/r.json" "' '.join('%s:%d%d%d' % (d['date'], d['arrived'], d['late'], d['missed']) for d in $a['transfers_by_day'])")
want=$(for s in $S1 $S2 $S3; do date -u -d "@$s" +%F; done | paste -sd' ' | awk '{print $1":100 "$2":110 "$3":001"}')
assert_eq "$want" "$days" "alpha's transfers by day: met, late, missed"

D2=$(date -u -d "@$((S2 + 7200))" +%F)
assert_eq 1 "$(jget "$T/r.json" "len([s for s in $a['usage_history'] if s['date'] == '$D2'])")" \
	"the daemon wrote alpha's usage sample of $D2 (no enrpctl ran that day)"

# ---- the usage sample of today: written once ----------------------------------------
hist() { jget "$1" "[(s['date'], s['used'], s['files']) for s in $a['usage_history'] if s['date'] == '$TODAY']"; }
assert_eq "[('$TODAY', 400000, 2)]" "$(hist "$T/r.json")" "alpha: today's usage sample"
ctl_at "$NOW" report --json >"$T/r2.json" || fail "second report failed"
assert_eq "$(jget "$T/r.json" "[e['usage_history'] for e in j['eirs']]")" \
	"$(jget "$T/r2.json" "[e['usage_history'] for e in j['eirs']]")" "a second report the same day keeps the samples"
# ---- --csv ---------------------------------------------------------------------------
ctl_at "$NOW" report --csv >"$T/r.csv" || fail "report --csv failed"
expect_ok "$PY" "$CHECK" csv "$T/r.json" "$T/r.csv"
ctl_at "$NOW" report >"$T/r.txt" || fail "report (table) failed"
assert_match 'alpha +1 +rw +normal' "$(cat "$T/r.txt")" "the table lists alpha"

# ---- --html --------------------------------------------------------------------------
ctl_at "$NOW" report --html "$T/r.html" || fail "report --html failed"
expect_ok "$PY" "$CHECK" selfcontained "$T/r.html"
assert_match '&lt;script&gt;alert\(&quot;x&quot;\)&lt;/script&gt; &amp; more' "$(cat "$T/r.html")" "the suspend reason is escaped"
assert_match '&lt;b&gt;inquiry&lt;/b&gt; 7' "$(cat "$T/r.html")" "the hold's reason is escaped"
assert_match '@page\{size:A4' "$(cat "$T/r.html")" "A4 page rule"
# The same page without the charts' contents: what the charts draw is the difference.
"$PY" - "$T/r.html" "$T/blank.html" <<'EOF'
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
t, n = re.subn(r'(<svg class="chart"[^>]*>).*?</svg>', r'\1</svg>', t)
assert n >= 8, n
open(sys.argv[2], "w", encoding="utf-8").write(t)
EOF
browse() {
	unshare --net chromium --headless --no-sandbox --disable-gpu --user-data-dir="$T/chrome" \
		--host-resolver-rules='MAP * ~NOTFOUND' --no-first-run --disable-extensions \
		--hide-scrollbars --window-size=1100,1500 "$@" 2>>"$T/chrome.log"
}
browse --dump-dom "file://$T/r.html" >"$T/dom.html" || fail "chromium --dump-dom failed"
expect_ok "$PY" "$CHECK" dom "$T/r.json" "$T/dom.html"
browse --screenshot="$T/full.png" "file://$T/r.html" >/dev/null || fail "screenshot failed"
browse --screenshot="$T/blank.png" "file://$T/blank.html" >/dev/null || fail "screenshot failed"
full=$("$PY" "$CHECK" png "$T/full.png")
blank=$("$PY" "$CHECK" png "$T/blank.png")
log "chart colours: with charts $full, without $blank"
for c in green amber red blue; do
	d=$("$PY" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[3]] - json.loads(sys.argv[2])[sys.argv[3]])' "$full" "$blank" "$c")
	min=100
	[ "$c" = blue ] && min=40  # the usage line: two samples so far
	assert_true "the charts draw $c ($d pixels more than without them)" [ "$d" -gt "$min" ]
done
browse --print-to-pdf="$T/r.pdf" --no-pdf-header-footer "file://$T/r.html" >/dev/null || fail "print to pdf failed"
pdf=$("$PY" "$CHECK" pdf "$T/r.pdf")
assert_match '"a4": true' "$pdf" "printed on A4 ($pdf)"
assert_match '"pages": [1-9]' "$pdf" "printed pages"

# The platform clock never goes back (its floor): the next day's report comes last.
ctl_at "$((NOW + 86400))" report --json >"$T/r3.json" || fail "next day's report failed"
assert_eq 2 "$(jget "$T/r3.json" "len([s for s in $a['usage_history'] if s['date'] >= '$TODAY'])")" \
	"the next day adds one sample"


# ---- usage errors --------------------------------------------------------------------
expect_exit 2 ctl report --json --csv
expect_exit 2 ctl report --from 2026-13-01
expect_exit 2 ctl report --from 2026-03-05 --to 2026-03-01
expect_exit 2 ctl report --from 2000-01-01 --to 2026-01-01
expect_exit 2 ctl report extra
expect_exit 2 ctl report --html ''
expect_exit 1 ctl report --html "$T/no/such/dir/r.html"
finish
