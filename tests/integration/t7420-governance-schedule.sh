#!/bin/bash
# t7420: schedules (issue 11, item 2).  `eir schedule --from/--to --json`
# gives the slots Python's zoneinfo computes independently
# (slots_ref.py) over 2027-2028 in five zones: every rule kind, month ends,
# Feb 29 2028, clock changes in Berlin and New York, Kathmandu's +05:45.
# The rules' defaults ("monthly", "yearly") and the window setting.
# Then through the real mount, with the platform clock moved on by
# enrpctl under libfaketime (the store's floor carries it to the daemon,
# which seals at that time): a file in a slot's window makes it met and
# journals nothing; a slot whose window closes empty gets exactly one
# transfer-missed record, still one after a restart of the daemon; a file
# after the window is one transfer-late; `eir schedule --from` shows
# met / late / missed / pending; a slot that closed while unmounted is
# journalled at the next mount, once; fsck finds nothing.
. "$(dirname "$0")/lib.sh"
setup

REF=$(dirname "$0")/slots_ref.py
ALL='daily 02:30 incremental; weekly sun 01:30 differential; monthly first-fri 23:00 full; quarterly first-sat 23:00 full; yearly'

# ---- the calculator against Python's zoneinfo ------------------------------------------------
mk_eir cal --owner "$ALICE"
expect_ok ctl eir set cal --schedule "$ALL"
assert_match 'schedule: daily 02:30 incremental; weekly sun 01:30 differential; monthly first-fri 23:00 full; quarterly first-sat 23:00 full; yearly first-sat 23:00 full' \
	"$(ctl eir show cal)" "the rule 'yearly' alone is the rules' default, stored in full"
for zone in Asia/Almaty UTC Europe/Berlin America/New_York Asia/Kathmandu; do
	expect_ok ctl calendar zone "$zone"
	got=$(ctl eir schedule cal --from 2027-01-01T00:00Z --to 2029-01-01T00:00Z --json |
		"$PY" -c 'import json, sys; print("\n".join(s["start"] for s in json.load(sys.stdin)))')
	want=$("$PY" "$REF" "$(ctl eir show cal --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["form"]["schedule"])')" \
		"$zone" 2027-01-01T00:00:00Z 5000 | awk '$0 < "2029-01-01"')
	n=$(wc -l <<<"$want")
	[ "$n" -gt 800 ] || fail "$zone: the reference gave only $n slots"
	assert_eq "$want" "$got" "$zone: the $n slots of 2027-2028 are zoneinfo's"
done
# Kathmandu is the zone now: local times at +05:45.
assert_eq '2028-02-29 02:30 +05:45|2028-02-28T20:45:00Z|incremental|2028-02-29T20:45:00Z' \
	"$(ctl eir schedule cal --from 2028-02-29 --to 2028-02-29T03:00 --json | "$PY" -c '
import json, sys
for s in json.load(sys.stdin): print(s["start_local"], s["start"], s["type"], s["window_end"], sep="|")')" \
	"Feb 29 2028 in Kathmandu; its window ends at the next slot (Mar 1, 02:30 local)"
expect_ok ctl calendar zone Asia/Almaty

# ---- defaults, window, refusals --------------------------------------------------------------
mk_eir bare --owner "$ALICE"
expect_exit 1 ctl eir schedule bare
assert_match "EIR 'bare' has no schedule" "$(ctl eir schedule bare 2>&1)" "says so"
expect_exit 2 ctl eir set bare --window 30s
expect_exit 2 ctl eir set bare --schedule weekly
expect_exit 2 ctl eir schedule cal --next 0
expect_ok ctl eir set bare --schedule monthly
assert_eq 'monthly first-fri 23:00 full' \
	"$(ctl eir show bare --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["form"]["schedule"])')" \
	"'monthly' is the first Friday at 23:00, full"
assert_eq "3" "$(ctl eir schedule bare --next 3 --json | "$PY" -c '
import json, sys, datetime as dt
ok = 0
for s in json.load(sys.stdin):
    d = dt.date.fromisoformat(s["start_local"][:10])
    ok += d.weekday() == 4 and d.day <= 7 and s["start_local"][11:16] == "23:00" and s["start_local"].endswith("+05:00")
print(ok)')" "--next 3: three first Fridays, 23:00 Almaty time"
assert_match 'window: next' "$(ctl eir show bare)" "the default window: until the next slot"

# ---- through the daemon ----------------------------------------------------------------------
# S1: the first whole minute 3 minutes from now, as "daily HH:MM" in Almaty.
S1=$("$PY" -c 'import time; print((int(time.time()) // 60 + 3) * 60)')
HM=$(TZ=Asia/Almaty date -d "@$S1" +%H:%M)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# at T ARGS...: enrpctl with the clock at T (epoch seconds); prune raises the
# store's floor, which the daemon then reads as the time.
at() {
	local t=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+$((t - $(date +%s)))" "$ENRPCTL" -S "$STORE" "$@"
}
jump() { at "$1" prune --dry-run >/dev/null 2>&1 || die "cannot move the platform clock to $(iso "$1")"; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 60 pending_empty "$1" || fail "$1: still pending after 60 s"; }
records() { ctl audit show --json --eir d --event "$1" | details_flat; }
nrec() { [ "$(records "$1" | grep -c .)" -ge "$2" ]; }

mk_eir d --owner "$ALICE"
expect_ok ctl eir set d --schedule "daily $HM full" --window 10m
assert_match 'window: 10m' "$(ctl eir show d)" "eir show: the window"
assert_eq "window=from=next to=10m" "window=$(records schedule-window)" "schedule-window journalled"
S2=$((S1 + 86400)) S3=$((S1 + 2 * 86400)) S4=$((S1 + 3 * 86400))
assert_eq "$(iso $S1) $(iso $S2)" "$(ctl eir schedule d --next 2 --json | "$PY" -c 'import json, sys; print(" ".join(s["start"] for s in json.load(sys.stdin)))')" \
	"the next two slots"
mount_fs

jump $((S1 + 300))          # inside S1's window: a file arrives
head -c 100000 /dev/urandom >"$MNT/d/dump-1" || die "write"
settle d
jump $((S2 + 660))          # S2's window closed empty 1 minute ago
poll_until 40 nrec transfer-missed 1 || fail "no transfer-missed 40 s after S2's window closed"
assert_eq "slot=$(iso $S2) type=full window_end=$(iso $((S2 + 600)))" "$(records transfer-missed)" \
	"exactly one transfer-missed, for S2 (S1 was met)"

umount_fs
mount_fs
jump $((S2 + 1800))         # after S2's window, before S3: late
head -c 100000 /dev/urandom >"$MNT/d/dump-2" || die "write"
settle d
poll_until 40 nrec transfer-late 1 || fail "no transfer-late 40 s after the late file"
assert_eq "slot=$(iso $S2) type=full window_end=$(iso $((S2 + 600))) verified=$(iso $((S2 + 1800)))" \
	"$(records transfer-late)" "one transfer-late for S2, with the time of the file"
jump $((S3 + 660))          # S3 closes empty too
poll_until 40 nrec transfer-missed 2 || fail "no transfer-missed for S3"
assert_eq "slot=$(iso $S2) type=full window_end=$(iso $((S2 + 600)))
slot=$(iso $S3) type=full window_end=$(iso $((S3 + 600)))" "$(records transfer-missed)" \
	"after a restart: S2 still journalled once, S3 once"
assert_eq 1 "$(records transfer-late | grep -c .)" "and one transfer-late"

st=$(at $((S3 + 700)) eir schedule d --from "$(iso $((S1 - 60)))" --to "$(iso $((S4 + 60)))" --json |
	"$PY" -c 'import json, sys; print(" ".join(s["status"] for s in json.load(sys.stdin)))')
assert_eq "met late missed pending" "$st" "eir schedule --from: met, late, missed, pending"
umount_fs
jump $((S4 + 3600))
mount_fs
poll_until 40 nrec transfer-missed 3 || fail "no transfer-missed for S4, closed while unmounted"
assert_eq 3 "$(records transfer-missed | grep -c .)" "S4, closed while no daemon ran, once"
out=$(ctl fsck --json 2>&1)
assert_eq 0 "$?" "fsck: the seal minutes and marks are nothing it objects to ($out)"
finish
