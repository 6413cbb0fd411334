#!/bin/bash
# t1430: status that monitoring can alert on (issue 10, item 2).
#
# `enrpctl status` and `eir list` are one view with -o COLUMNS (an unknown
# or repeated column is a usage error naming the valid ones); FILES =
# VERIFIED + PENDING + CORRUPT after writes and a damaged chunk, in the
# table and in --json; `status --check` exits 0/1/2/3 Nagios-style for each
# condition (corrupt files, a transfer older than the interval and twice
# it, quota above 90 % and full, a file queued longer than --backlog-age,
# an unreadable store or a wrong command line); STORED (referenced) and
# DISK (the chunk files, as find/du count them) part after a removal and
# agree again after gc; `enrpfs -o metrics=FILE` writes a file promtool
# accepts whose values are the store's, and enrp_up 0 when it stops.
. "$(dirname "$0")/lib.sh"
setup

G=$LIB_DIR/integ9.py
MiB=1048576
PROM=$T/metrics/enrp.prom

# later OFFSET ARGS...: enrpctl with the wall clock OFFSET ahead ("+2h").
# (libfaketime is preloaded before ASan's runtime in a sanitizer build: ASan
# is told that this order is intended.)
later() {
	local off=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "$off" "$ENRPCTL" -S "$STORE" "$@"
}
# at EIR KEY SECONDS: the faketime offset that puts the clock SECONDS after
# the instant KEY_ns of EIR (created, last_verified), however long the test
# took to get here.
at() {
	local ns
	ns=$(jfield "$1" "${2}_ns")
	echo "$(( ns / 1000000000 + $3 - $(date +%s) ))" | sed 's/^[0-9]/+&/; s/$/s/'
}
# jfield EIR KEY: KEY of EIR in status --json.
jfield() {
	ctl --json status | "$PY" -c 'import json, sys
e = [x for x in json.load(sys.stdin)["eirs"] if x["name"] == sys.argv[1]][0]
print(e[sys.argv[2]])' "$1" "$2"
}
# adds_up: every EIR's files = verified + pending + corrupt, in --json and in
# the table; prints what does not.
adds_up() {
	ctl --json status | "$PY" -c 'import json, sys
for e in json.load(sys.stdin)["eirs"]:
    if e["files"] != e["verified"] + e["pending"] + e["corrupt"]:
        print("json", e["name"], e["files"], e["verified"], e["pending"], e["corrupt"])'
	ctl eir list -o name,files,verified,pending,corrupt |
		awk 'NR > 1 && $2 != $3 + $4 + $5 { print "table", $0 }'
}
prom() { # prom METRIC: its value in the metrics file ("" when absent)
	awk -v m="$1" '$1 == m { print $2 }' "$PROM"
}
eir_id() { jfield "$1" id; }
chunk_bytes() { # the sizes of EIR's chunk files, summed as find/du -b count them
	find "$STORE/chunks/$(eir_id "$1")" -path '*/tmp' -prune -o -type f -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }'
}
# enrpctl sees what the daemon's group commit has made durable, a moment
# after the filesystem does: wait for the value itself.
is_field() { [ "$(jfield "$1" "$2")" = "$3" ]; }
pending_empty() { [ "$(jfield "$1" pending)" = 0 ]; }
state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
is_state() { [ "$(state "$2")" = "$1" ]; }

mk_eir a --owner root
mk_eir q --owner root --quota 100K
mk_eir act --owner root --mode active --agent "$AGENT" --rpo 1
mkdir -m 0755 "$T/metrics"

# ---- enrpfs's metrics options ------------------------------------------------------------------
out=$("$ENRPFS" "$STORE" "$MNT" -o metrics=rel/enrp.prom 2>&1)
assert_eq "2 yes" "$? $(not_mounted "$MNT" && echo yes)" "enrpfs -o metrics=RELATIVE: usage error, nothing mounted"
assert_match "metrics needs the absolute path" "$out" "enrpfs -o metrics=RELATIVE says why"
out=$("$ENRPFS" "$STORE" "$MNT" -o metrics=$T/nodir/enrp.prom 2>&1)
assert_eq 2 "$?" "enrpfs -o metrics= in a missing directory: usage error"
assert_match "cannot create '$T/nodir/enrp.prom.tmp'.*No such file" "$out" "... naming the file it cannot create"
out=$("$ENRPFS" "$STORE" "$MNT" -o metrics=$PROM,metrics_interval=0 2>&1)
assert_eq 2 "$?" "enrpfs -o metrics_interval=0: usage error"
assert_true "enrpfs --help lists metrics=" grep -q "metrics=FILE" <("$ENRPFS" --help)

mount_fs -o metrics="$PROM",metrics_interval=1,workers=1

# ---- one view, -o and its errors ---------------------------------------------------------------
out=$(ctl status -o name,bogus 2>&1 >/dev/null)
assert_eq 2 "$(ctl status -o name,bogus >/dev/null 2>&1; echo $?)" "status -o name,bogus exits 2"
assert_match "^enrpctl: unknown [a-z]+ 'bogus' in -o" "$out" "status -o: the unknown name is named"
assert_match "^hint: the columns are name,id,.*files,verified,pending,corrupt.*stored.*disk,reclaim" "$out" \
	"status -o: the hint lists the valid columns"
out=$(ctl eir list -o name,name 2>&1 >/dev/null)
assert_eq 2 "$(ctl eir list -o name,name >/dev/null 2>&1; echo $?)" "eir list -o name,name exits 2"
assert_match "^enrpctl: [a-z]+ 'name' is given twice in -o" "$out" "eir list -o: a repeated name is refused"
assert_eq "NAME  MODE    FILES" "$(ctl eir list -o name,mode,files | head -n1)" "eir list -o: the headers in the order given"
assert_text_eq "$(ctl eir list)" "$(ctl status | sed '1,/^$/d')" "status and eir list show the same table"
assert_match "^NAME +CLASS +MODE +STATE +USED +QUOTA +FILES +PENDING +CORRUPT +LAST-VERIFIED +AGE +STORED +RATIO$" \
	"$(ctl eir list | head -n1)" "the default columns"
assert_true "status --help explains the columns and --check" \
	grep -q "files\*  *regular files = verified + pending + corrupt" <(ctl status --help)

# ---- writes: the counts add up --------------------------------------------------------------------
"$PY" "$G" gen 1430 $((3 * MiB + 77)) >"$T/big" || die gen
cp "$T/big" "$MNT/a/big" || fail "cp big"
for i in 1 2 3; do echo "small $i" >"$MNT/a/s$i"; done
mkdir "$MNT/a/dir" && ln -s big "$MNT/a/link" || fail "mkdir, ln -s"
poll_until 60 is_field a verified 4 || fail "a: not 4 files verified after 60 s"
assert_eq "4 4 0 0 6" "$(ctl eir list -o name,files,verified,pending,corrupt,inodes | awk '$1 == "a" { print $2, $3, $4, $5, $6 }')" \
	"a: FILES 4 = VERIFIED 4 + PENDING 0 + CORRUPT 0; INODES 6 (a directory and a link are not files)"
assert_eq "" "$(adds_up)" "every EIR: files = verified + pending + corrupt (table and json)"
# (--ignore-clock: the host clock may not be synchronised here; t1440 tests it.)
assert_match "^ENRP OK - 3 EIRs: " "$(ctl status --check --ignore-clock)" "--check: OK on a healthy store"
expect_exit 0 ctl status --check --ignore-clock

# ---- a file queued for sealing longer than --backlog-age -----------------------------------------
# Catch the daemon (one worker) with files queued: stop it right after a copy
# and look; if the seal was quicker than us, let it go on and try again.
"$PY" "$G" gen 1431 $((48 * MiB)) >"$T/huge" || die gen
pid=$(daemon_pid)
CLEANUP_CMDS+=("kill -CONT $pid")
caught=
for try in 1 2 3 4 5 6 7 8; do
	cp "$T/huge" "$MNT/a/huge$try" || fail "cp huge$try"
	sleep 0.05
	kill -STOP "$pid"
	if [ "$(jfield a backlog_files)" -gt 0 ]; then
		caught=$try
		break
	fi
	kill -CONT "$pid"
done
if [ -n "$caught" ]; then
	log "daemon stopped with $(jfield a backlog_files) file(s) of a queued (try $caught)"
	assert_match "^a +[1-9][0-9]* +[0-9]+s$" "$(ctl eir list -o name,backlog,backlog-age | grep '^a ')" \
		"eir list -o backlog,backlog-age: the queued files and the oldest's age"
	expect_exit 0 ctl status --check --eir a
	out=$(later +2h status --check --eir a --backlog-age 1h)
	assert_eq 1 "$?" "--check two hours later: a file queued longer than --backlog-age 1h is a WARNING (exit 1)"
	# The first line is the summary; a slow run (sanitizers) may be minutes
	# past the two hours.
	assert_match "^ENRP WARNING - a: [0-9]+ files? queued for sealing, the oldest for 2h([0-9][0-9]m)? \(more than 1h\)$" \
		"$(head -n1 <<<"$out")" "... and the summary says which EIR and how old"
	assert_eq 0 "$(later +2h status --check --eir a --backlog-age 3h >/dev/null; echo $?)" \
		"--backlog-age 3h: the same backlog is OK"
	assert_eq "" "$(adds_up)" "with files queued: files = verified + pending + corrupt"
	kill -CONT "$pid"
else
	fail "could not catch a queued file in 8 tries (seals too fast?)"
fi
poll_until 60 is_field a verified $((4 + caught)) || fail "a: not all verified 60 s after the daemon went on"
assert_eq 0 "$(jfield a backlog_files)" "the backlog drained"

# ---- quota: warning above 90 %, critical when full -------------------------------------------
head -c $((93 * 1024)) /dev/zero >"$MNT/q/f" || fail "write 93K into q"
poll_until 10 is_field q used $((93 * 1024)) || fail "q: used is not 93K after 10 s"
out=$(ctl status --check --eir q)
assert_eq 1 "$?" "--check: quota 93 % used is a WARNING (exit 1)"
assert_match "^ENRP WARNING - q: quota 93% used \(93K of 100K\)$" "$out" "... saying which EIR and how much"
assert_eq 0 "$(ctl status --check --eir q --quota-warn 95 >/dev/null; echo $?)" "--quota-warn 95: 93 % is OK"
head -c $((7 * 1024)) /dev/zero >>"$MNT/q/f" || fail "fill q"
poll_until 10 is_field q used $((100 * 1024)) || fail "q: used is not 100K after 10 s"
out=$(ctl status --check --eir q)
assert_eq 2 "$?" "--check: a full quota is CRITICAL (exit 2)"
assert_match "^ENRP CRITICAL - q: quota full, 100% used" "$out" "... saying so"
assert_eq "100%" "$(ctl eir list -o name,use | awk '$1 == "q" { print $2 }')" "eir list -o use: 100%"
rm "$MNT/q/f"

# ---- the interval: an active EIR's rpo --------------------------------------------------------
assert_eq "1m" "$(ctl eir list -o name,interval | awk '$1 == "act" { print $2 }')" "act: INTERVAL is its rpo"
assert_eq "-" "$(ctl eir list -o name,interval | awk '$1 == "a" { print $2 }')" "a (rw): no interval"
expect_exit 0 ctl status --check --eir act
out=$(later "$(at act created 90)" status --check --eir act)
assert_eq 1 "$?" "--check 90 s after creation, rpo 1m, nothing sent: WARNING (exit 1)"
assert_match "^ENRP WARNING - act: no verified transfer since it was created (89|90|91)s ago, expected every 1m$" "$out" \
	"... no verified transfer since creation"
assert_eq 2 "$(later "$(at act created 150)" status --check --eir act >/dev/null; echo $?)" \
	"--check past twice the interval: CRITICAL (exit 2)"
as "$AGENT" sh -c 'echo tick >"$1"' _ "$MNT/act/tick" || fail "the agent writes into act"
poll_until 30 is_field act verified 1 || fail "act: not verified after 30 s"
expect_exit 0 ctl status --check --eir act
out=$(later "$(at act last_verified 100)" status --check --eir act)
assert_match "^ENRP WARNING - act: last verified transfer (99|100|101)s ago, expected every 1m$" \
	"$out" "after a transfer: the age of the last verified one"
assert_eq 0 "$(later +100s status --check --eir a >/dev/null; echo $?)" "an rw EIR has no interval to miss"

# ---- the metrics file -----------------------------------------------------------------------------
metrics_fresh() { [ "$(prom 'enrp_eir_files{eir="act",state="verified"}')" = 1 ] && [ "$(prom 'enrp_ingest_backlog_files{eir="a"}')" = 0 ]; }
poll_until 10 metrics_fresh || fail "the metrics file did not catch up within 10 s"
assert_true "promtool check metrics accepts the file" promtool check metrics <"$PROM"
assert_eq "$(jfield a used) $(jfield q quota) $(jfield a stored)" \
	"$(prom 'enrp_eir_used_bytes{eir="a"}') $(prom 'enrp_eir_quota_bytes{eir="q"}') $(prom 'enrp_eir_stored_bytes{eir="a"}')" \
	"metrics: used, quota and stored bytes are the store's"
assert_eq "$(jfield a verified) 0 0" \
	"$(prom 'enrp_eir_files{eir="a",state="verified"}') $(prom 'enrp_eir_files{eir="a",state="pending"}') $(prom 'enrp_eir_files{eir="a",state="corrupt"}')" \
	"metrics: a's files by state"
sealed=$(prom enrp_seal_files_total)
[ "${sealed:-0}" -ge $((4 + caught + 2)) ] && pass "metrics: enrp_seal_files_total $sealed counts every seal" ||
	fail "metrics: enrp_seal_files_total '$sealed' < $((4 + caught + 2))"
head_seq=$(ctl audit head | grep -oE '^[0-9]+' | head -n1)
seq_now() { [ "$(prom enrp_journal_head_seq)" -ge "$head_seq" ]; }
poll_until 5 seq_now && pass "metrics: enrp_journal_head_seq reached the journal's head ($head_seq)" ||
	fail "metrics: enrp_journal_head_seq $(prom enrp_journal_head_seq) < $head_seq"
assert_eq "1 0" "$(prom enrp_up) $(prom enrp_verify_failures_total)" "metrics: enrp_up 1, no verify failure yet"
assert_eq "-rw-r--r--" "$(stat -c %A "$PROM")" "the metrics file is 0644"
assert_eq "" "$(find "$T/metrics" -name '*.tmp')" "no temporary file left beside it"

# ---- stored (referenced) against disk, after a removal and a gc -----------------------------
for i in $(seq 1 "$caught"); do rm -f "$MNT/a/huge$i"; done
umount_fs
assert_eq 0 "$(prom enrp_up)" "metrics: enrp_up 0 in the file written as the daemon stopped"
expect_ok ctl trash purge a
stored=$(jfield a stored)
disk=$(jfield a disk)
log "after removing and purging: stored $stored, disk $disk, find $(chunk_bytes a)"
[ "$disk" -gt "$stored" ] && pass "after a removal: STORED ($stored) dropped, DISK ($disk) did not yet" ||
	fail "after a removal: stored $stored, disk $disk"
assert_eq "$(chunk_bytes a) $((disk - stored))" "$disk $(jfield a reclaimable)" \
	"DISK is what find/du -b count of the chunk files; RECLAIMABLE = DISK - STORED"
expect_ok ctl gc
assert_eq "$(chunk_bytes a) $(chunk_bytes a) 0" "$(jfield a stored) $(jfield a disk) $(jfield a reclaimable)" \
	"after gc: STORED = DISK = the chunk files, nothing reclaimable"
assert_eq "0" "$(ctl status -o name,reclaim | awk '$1 == "a" { print $2 }')" "status -o reclaim: 0 after gc"

# ---- a damaged chunk: critical, and the counts still add up -----------------------------------
# (the daemon is down; a's chunks of more than 100K are big's alone now)
v=$(find "$STORE/chunks/$(eir_id a)" -type f -size +100k | sort | sed -n '2p')
[ -n "$v" ] || die "no chunk of a to damage"
"$PY" "$G" flipbyte "$v" || die flipbyte
mount_fs -o metrics="$PROM",metrics_interval=1
expect_fail EIO cat "$MNT/a/big"
poll_until 10 is_state corrupt "$MNT/a/big" || fail "a/big not corrupt after the failed read"
poll_until 10 is_field a corrupt 1 || fail "a: corrupt is not 1 after 10 s"
assert_eq "1" "$(ctl eir list -o name,corrupt | awk '$1 == "a" { print $2 }')" "a: CORRUPT 1"
assert_eq "" "$(adds_up)" "with a corrupt file: files = verified + pending + corrupt"
out=$(ctl status --check)
assert_eq 2 "$?" "--check: corrupt files are CRITICAL (exit 2)"
assert_match "^ENRP CRITICAL - a: 1 corrupt file" "$out" "... the summary names the EIR first"
assert_match "(^|$'\n')CRITICAL: a: 1 corrupt file" "$out" "... and one line per finding follows"
assert_eq "CRITICAL corrupt a" "$(ctl --json status --check | "$PY" -c 'import json, sys
d = json.load(sys.stdin); f = d["findings"][0]; print(d["status"], f["check"], f["eir"])')" "--check --json: the findings"
failures() { [ "$(prom enrp_verify_failures_total)" -ge 1 ] && [ "$(prom 'enrp_eir_files{eir="a",state="corrupt"}')" = 1 ]; }
poll_until 10 failures && pass "metrics: the verify failure and the corrupt file are counted" ||
	fail "metrics: enrp_verify_failures_total '$(prom enrp_verify_failures_total)', corrupt '$(prom 'enrp_eir_files{eir="a",state="corrupt"}')'"

# ---- UNKNOWN: the store cannot be read, or a wrong command line --------------------------------
out=$(ctl_nostore -S "$T/nostore" status --check 2>/dev/null)
assert_eq 3 "$?" "--check on a missing store: UNKNOWN (exit 3)"
assert_match "^ENRP UNKNOWN - cannot open the store" "$out" "... with the summary line"
assert_eq 3 "$(ctl status --check --backlog-age soon >/dev/null 2>&1; echo $?)" "--check with a bad duration: UNKNOWN (exit 3)"
assert_eq 2 "$(ctl status --backlog-age soon >/dev/null 2>&1; echo $?)" "... without --check: a usage error (exit 2)"
assert_eq 3 "$(ctl status --check --eir nosuch >/dev/null 2>&1; echo $?)" "--check --eir of no EIR: UNKNOWN (exit 3)"
finish
