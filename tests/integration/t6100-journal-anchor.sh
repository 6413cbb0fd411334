#!/bin/bash
# t6100: what an administrator who holds the store's files can do to the
# audit journal, and which level of protection catches it (DESIGN §7):
#
#   attack                       chain only   head saved     head saved    syslog stream
#                                             after it       before it     (--anchors)
#   edit a record + re-hash      missed       caught         missed        caught at the record
#   delete a record + re-hash    missed       caught         missed        caught at the record
#   old data.mdb put back        missed       caught         missed        caught past the end
#   tail cut, head left          caught       caught         caught        caught
#   tail cut, head moved         missed       caught         missed        caught past the end
#   record 1 edited + re-hash    missed       caught         caught        caught (journal renamed)
#   old data.mdb put back, then  missed       caught         missed        caught: two records
#   new records mirrored                                                   under one seq
#
# Every "missed" is asserted too: it is the honest limit of that level.
# The stores are tampered through their real files with mdb_dump/mdb_load
# (journaltool.py), with no daemon running; the stream is what a syslog
# collector of our own (a unix datagram receiver) saved.
. "$(dirname "$0")/lib.sh"
setup

JT="$LIB_DIR/journaltool.py"
SOCK=$T/collector.sock
STREAM=$T/collector.log
"$PY" "$JT" recv unix "$SOCK" "$STREAM" &
CLEANUP_PIDS+=($!)
poll_until 10 test -S "$SOCK" || die "the collector did not start"

expect_ok ctl audit mirror --target "unix:$SOCK"          # record 1
mk_eir a --owner "$ALICE"                                  # 2
mk_eir b --owner "$BOB" --class 2 --mode wo                          # 3
H_EARLY=$(ctl audit head)
assert_match '^3:[0-9a-f]{64}$' "$H_EARLY" "audit head prints SEQ:HASH (record 3)"
# The environment as it was then, for the rollback (no writer is running).
cp -a "$STORE/meta" "$T/meta-at-3"
expect_ok ctl eir set a --mode ro                          # 4
expect_ok ctl eir set a --quota 10M                        # 5
expect_ok ctl eir suspend a --reason "anchor test"         # 6
expect_ok ctl eir resume a                                 # 7
expect_ok ctl eir set b --class 1                          # 8
N=8
H_LATE=$(ctl audit head)
assert_match "^$N:[0-9a-f]{64}\$" "$H_LATE" "audit head names record $N"
assert_eq "$(ctl audit show --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[-1]["hash"])')" \
	"${H_LATE#*:}" "the head's hash is the last record's (audit show --json)"
printf '# heads an auditor kept\n%s\n\n%s   # after the class change\n' "$H_EARLY" "$H_LATE" >"$T/heads.txt"

# A second store mirrors to the same collector, as on a real platform.
OTHER=$T/other
EXTRA_STORES+=("$OTHER")
expect_ok ctl_nostore init --mirror "unix:$SOCK" "$OTHER"
expect_ok "$ENRPCTL" -S "$OTHER" eir create x --owner "$ALICE"
expect_ok "$ENRPCTL" -S "$OTHER" eir create y --owner "$ALICE"

# lines_ge N PATTERN FILE: FILE has at least N lines matching PATTERN.
lines_ge() { [ "$(grep -c -- "$2" "$3")" -ge "$1" ]; }

poll_until 10 lines_ge $((N + 2)) 'enrp@32473' "$STREAM" ||
	fail "the collector holds $(grep -c 'enrp@32473' "$STREAM") messages, expected $((N + 2))"
# Lines a collector's file holds besides ours.
printf '<13>1 2026-11-21T10:00:00Z host cron 77 - - (root) CMD (run-parts)\n' >>"$STREAM"
printf 'Nov 21 10:00:01 host sshd[78]: Accepted publickey for root\n' >>"$STREAM"
cp "$STREAM" "$T/saved-stream.log"
SAVED=$T/saved-stream.log

# The untouched store: every level says intact.
out=$(ctl audit verify 2>&1)
assert_eq "audit: chain intact, $N records" "$out" "untouched: chain intact"
out=$(ctl audit verify --anchors "$SAVED" 2>&1)
rc=$?
assert_eq 0 "$rc" "untouched: verify --anchors STREAM exits 0 ($out)"
assert_match "^audit: $N anchored records match; records 1-$N covered, 0 after record $N not covered$" \
	"$out" "untouched: the stream covers all $N records"
assert_match '^audit: 2 anchors of other journals skipped$' "$out" "untouched: the other store's 2 records are skipped"
out=$(ctl audit verify --anchors "$T/heads.txt" 2>&1)
assert_match "^audit: 2 anchored records match; records 1-$N covered" "$out" "untouched: the kept heads hold ($out)"
json=$(ctl audit verify --anchor "$H_EARLY" --json)
assert_eq "True 3 5 1" "$("$PY" -c 'import json, sys; v = json.loads(sys.argv[1]); print(v["intact"], v["covered"], v["uncovered"], v["anchors_checked"])' "$json")" \
	"verify --json with the early head: covered 3, uncovered 5"

# attacked NAME OP ARG: a copy of the store, tampered with.
attacked() {
	local copy=$T/$1
	rm -rf "$copy"
	cp -a "$STORE" "$copy"
	if [ "$2" = rollback ]; then
		rm -rf "$copy/meta"
		cp -a "$T/meta-at-3" "$copy/meta"
	else
		"$PY" "$JT" tamper "$copy/meta" "$2" "$3" || die "tamper $2 $3 failed"
	fi
}

# verdict COPY ARGS...: "RC|first stdout line" of audit verify ARGS on COPY.
verdict() {
	local copy=$1 out rc
	shift
	out=$( (exec -a enrpctl "$ENRPCTL" -S "$copy" audit verify "$@") 2>/dev/null)
	rc=$?
	printf '%s|%s' "$rc" "$(head -n1 <<<"$out")"
}

# missed LABEL COPY ARGS...: the level does not see the attack (exit 0).
missed() {
	local label=$1 r
	shift
	r=$(verdict "$@")
	log "$label: ${r#*|}"
	if [ "${r%%|*}" = 0 ]; then
		pass "$label: not detected (the honest limit of this level)"
	else
		fail "$label: expected not detected (exit 0), got exit ${r%%|*}: ${r#*|}"
	fi
}

# caught LABEL REGEX COPY ARGS...: exit 1 and the verdict matches REGEX.
caught() {
	local label=$1 re=$2 r
	shift 2
	r=$(verdict "$@")
	log "$label: ${r#*|}"
	if [ "${r%%|*}" = 1 ] && grep -Eq -- "$re" <<<"${r#*|}"; then
		pass "$label: detected"
	else
		fail "$label: expected exit 1 and /$re/, got exit ${r%%|*}: ${r#*|}"
	fi
}

# Control: the method alone changes nothing.
attacked c-none cut-head "$N"
assert_eq "0|audit: chain intact, $N records" "$(verdict "$T/c-none" --anchors "$SAVED")" \
	"control: dump and load with nothing cut keeps every anchor"

# 1. Record 4 (a mode change) edited, the chain and the head re-hashed.
attacked c-edit edit 4
missed "edit+rehash, chain only" "$T/c-edit"
caught "edit+rehash, head saved after it" '^audit: anchor not held at record 8: record 8 differs' "$T/c-edit" --anchor "$H_LATE"
missed "edit+rehash, head saved before it" "$T/c-edit" --anchor "$H_EARLY"
caught "edit+rehash, kept heads file" '^audit: anchor not held at record 8: .*record from 4 to 8' "$T/c-edit" --anchors "$T/heads.txt"
caught "edit+rehash, syslog stream" '^audit: anchor not held at record 4: record 4 differs from its anchor \(.*saved-stream.log:4\).*record 4 was changed' "$T/c-edit" --anchors "$SAVED"

# 2. Record 4 deleted, the later ones renumbered, chain and head re-hashed.
attacked c-del delete 4
missed "delete+rehash, chain only" "$T/c-del"
caught "delete+rehash, head saved after it" '^audit: anchor not held at record 8: the journal ends at record 7' "$T/c-del" --anchor "$H_LATE"
missed "delete+rehash, head saved before it" "$T/c-del" --anchor "$H_EARLY"
caught "delete+rehash, syslog stream" '^audit: anchor not held at record 4: record 4 differs from its anchor' "$T/c-del" --anchors "$SAVED"

# 3. The data.mdb of record 3 put back.
attacked c-roll rollback
missed "rollback, chain only" "$T/c-roll"
caught "rollback, head saved after it" '^audit: anchor not held at record 4: the journal ends at record 3, but an anchor names record 8 \([0-9a-f]{12}, given with --anchor\)' "$T/c-roll" --anchor "$H_LATE"
missed "rollback, head saved at the rollback point" "$T/c-roll" --anchor "$H_EARLY"
caught "rollback, syslog stream" '^audit: anchor not held at record 4: the journal ends at record 3.*records from 4 on were removed' "$T/c-roll" --anchors "$SAVED"

# 4. Records 7 and 8 cut, the head left saying 8: the chain alone sees it.
attacked c-cut cut 6
caught "tail cut, chain only" '^audit: chain broken at record 7: journal head says 8 records, found 6' "$T/c-cut"
caught "tail cut, head saved after it" '^audit: chain broken at record 7' "$T/c-cut" --anchor "$H_LATE"
caught "tail cut, syslog stream" '^audit: chain broken at record 7' "$T/c-cut" --anchors "$SAVED"

# 5. Records 7 and 8 cut and the head moved to 6.
attacked c-cuthead cut-head 6
missed "tail cut + head moved, chain only" "$T/c-cuthead"
caught "tail cut + head moved, head saved after it" '^audit: anchor not held at record 7: the journal ends at record 6' "$T/c-cuthead" --anchor "$H_LATE"
missed "tail cut + head moved, head saved before it" "$T/c-cuthead" --anchor "$H_EARLY"
caught "tail cut + head moved, syslog stream" '^audit: anchor not held at record 7: the journal ends at record 6' "$T/c-cuthead" --anchors "$SAVED"

# 6. Record 1 edited and everything re-hashed: the journal's name changes,
# so none of the stream's records is about it any more.
attacked c-first edit 1
missed "record 1 edit+rehash, chain only" "$T/c-first"
caught "record 1 edit+rehash, head saved after it" '^audit: anchor not held at record 8' "$T/c-first" --anchor "$H_LATE"
caught "record 1 edit+rehash, head saved before it" '^audit: anchor not held at record 3' "$T/c-first" --anchor "$H_EARLY"
caught "record 1 edit+rehash, syslog stream" '^audit: anchor not held at record 1: none of the 10 anchors is about this journal' "$T/c-first" --anchors "$SAVED"

# What audit head says of a broken chain: nothing to anchor.
out=$( (exec -a enrpctl "$ENRPCTL" -S "$T/c-cut" audit head) 2>&1 >/dev/null)
rc=$?
assert_eq 1 "$rc" "audit head on a broken chain exits 1"
assert_match 'chain is broken at record 7' "$out" "audit head says where the chain is broken"
assert_eq "" "$( (exec -a enrpctl "$ENRPCTL" -S "$T/c-cut" audit head) 2>/dev/null)" \
	"audit head prints no anchor for a broken chain"

# 7. The rollback, on a store that keeps mirroring: the next record is
# number 4 again.  The sender sees that the journal no longer holds the
# record it mirrored last, raises an alarm, and goes on; the collector then
# holds two different records 4.
attacked c-live rollback
out=$( (exec -a enrpctl "$ENRPCTL" -S "$T/c-live" eir set b --class 3) 2>&1)
assert_match 'journal is shorter than what was mirrored' "$out" "rollback then a write: the writer reports the divergence ($out)"
poll_until 10 grep -q 'enrpAlarm@32473' "$STREAM" || fail "no alarm reached the collector"
alarm=$(grep 'enrpAlarm@32473' "$STREAM" | head -n1)
assert_match '^<81>1 .* enrp [0-9]+ alarm \[enrpAlarm@32473 journal="[0-9a-f]{16}" mirrored_seq="8" mirrored_hash="[0-9a-f]{64}" head_seq="4"\]' \
	"$alarm" "the collector got the alarm (severity alert, mirrored_seq 8, head_seq 4: the new record's)"
poll_until 10 lines_ge 2 ' seq="4" ' "$STREAM" || fail "the new record 4 did not reach the collector"
missed "rollback + new record, chain only" "$T/c-live"
caught "rollback + new record, head saved after it" '^audit: anchor not held at record 5: the journal ends at record 4' "$T/c-live" --anchor "$H_LATE"
caught "rollback + new record, syslog stream" '^audit: anchor not held at record 4: anchors disagree about record 4' "$T/c-live" --anchors "$STREAM"

# Anchors that cannot be used are an error, and nothing is verified (exit 2).
bad_anchor() {
	local label=$1 re=$2 out rc
	shift 2
	out=$(ctl audit verify "$@" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && grep -Eq -- "$re" <<<"$out"; then
		pass "$label: exit 2"
	else
		fail "$label: expected exit 2 and /$re/, got exit $rc: $out"
	fi
}
bad_anchor "--anchor 0:HASH" 'sequence number must be a decimal number from 1 on' --anchor "0:${H_LATE#*:}"
bad_anchor "--anchor SEQ:short" 'hash must be 64 hexadecimal digits' --anchor "8:abc"
bad_anchor "--anchor without a colon" "invalid anchor '8'" --anchor 8
bad_anchor "--anchors missing file" "cannot read anchors file '$T/nope'" --anchors "$T/nope"
printf 'nothing here\n\n' >"$T/empty.txt"
bad_anchor "--anchors file without an anchor" 'holds no anchor \(2 lines' --anchors "$T/empty.txt"
{ head -n 2 "$SAVED"; sed -n 3p "$SAVED" | sed 's/ hash="[0-9a-f]*"/ hash="xyz"/'; } >"$T/badline.txt"
bad_anchor "--anchors with a damaged mirror line" "anchors file '$T/badline.txt', line 3: hash is not 64 hexadecimal digits" --anchors "$T/badline.txt"
printf '%s\n7:zz\n' "$H_EARLY" >"$T/badhead.txt"
bad_anchor "--anchors with a damaged SEQ:HASH line" 'line 2: the hash must be 64' --anchors "$T/badhead.txt"
assert_eq 0 "$(ctl audit verify --anchors - <"$T/heads.txt" >/dev/null 2>&1; echo $?)" "--anchors - reads stdin"

finish
