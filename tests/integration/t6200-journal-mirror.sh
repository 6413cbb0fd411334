#!/bin/bash
# t6200: the audit journal's syslog mirror (DESIGN §7) with both writers,
# enrpfs (group commit) and enrpctl (a commit per change), against syslog
# collectors of our own (journaltool.py recv):
#
#   - every record reaches the collector as one RFC 5424 message, in
#     sequence order, none missing, each carrying the record's seq, hash,
#     previous hash, time, event, EIR and actor;
#   - a SIGKILL of enrpfs while it journals leaves nothing in the collector
#     that the journal lost (only durable records are sent), and what was
#     pending is sent after the restart;
#   - a collector that is down: one warning per outage, 'audit head' and
#     'audit mirror' say what is pending, nothing fails, and the daemon
#     sends the backlog, in order, by itself once the collector is back;
#   - a target change goes to the old collector first, is journalled, is
#     refused when the old one is gone unless forced; UDP works too.
. "$(dirname "$0")/lib.sh"
setup

JT="$LIB_DIR/journaltool.py"

# collector NAME [MS]: a unix datagram collector at $T/NAME.sock ->
# $T/NAME.log (MS: milliseconds it takes over each message); its pid in
# COLLECTOR_PID.
collector() {
	rm -f "$T/$1.sock"
	"$PY" "$JT" recv unix "$T/$1.sock" "$T/$1.log" ${2:+"$2"} &
	COLLECTOR_PID=$!
	CLEANUP_PIDS+=("$COLLECTOR_PID")
	poll_until 10 test -S "$T/$1.sock" || die "collector $1 did not start"
}

stop_collector() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

head_seq() { ctl audit head 2>/dev/null | cut -d: -f1; }

# verified_ge N: at least N "verified" records (files sealed by enrpfs).
verified_ge() { [ "$(audit_count --event verified)" -ge "$1" ]; }

# settled LOG: the journal's head did not move for a second and LOG holds
# it (the daemon may still seal files a crash left pending).
settled() {
	local h
	h=$(head_seq)
	sleep 1
	[ "$h" = "$(head_seq)" ] && has_seq "$1" "$h"
}

# has_seq LOG SEQ: the collector's log holds record SEQ.
has_seq() { grep -q " seq=\"$2\" " "$1"; }

# check_stream LOG: the collector holds the whole journal (records 1..head),
# each message RFC 5424 and equal to its record; copies of a record (sent
# again after a crash) are identical; first copies come in sequence order.
# Prints "ok" or what is wrong.
check_stream() {
	ctl audit show --json >"$T/journal.json" || { echo "audit show failed"; return; }
	"$PY" "$JT" stream "$1" >"$T/stream.json" || { echo "unparsable lines in $1"; return; }
	"$PY" - "$T/stream.json" "$T/journal.json" <<'EOF'
import json, sys
from datetime import datetime, timezone
msgs = [json.loads(l) for l in open(sys.argv[1])]
recs = json.load(open(sys.argv[2]))
problems = []
ids = {m["journal"] for m in msgs if m["sdid"] == "enrp@32473"}
if len(ids) != 1:
    problems.append("journals %s" % sorted(ids))
by_seq, order = {}, []
for m in msgs:
    if m["sdid"] != "enrp@32473":
        continue
    s = int(m["seq"])
    if s in by_seq:
        if by_seq[s]["hash"] != m["hash"]:
            problems.append("two different records %d" % s)
        continue
    by_seq[s] = m
    order.append(s)
if order != sorted(order):
    problems.append("first copies out of order: %s" % order[:40])
for r in recs:
    m = by_seq.get(r["seq"])
    if not m:
        problems.append("record %d missing" % r["seq"])
        continue
    want = {"hash": r["hash"], "prev": r["prev_hash"], "time": str(r["time_ns"]),
            "event": r["event"], "eir": r["eir"] or "", "uid": str(r["uid"]),
            "pid": str(r["pid"]), "cmd": r["command"]}
    for k, v in want.items():
        if m.get(k) != v:
            problems.append("record %d: %s=%r, expected %r" % (r["seq"], k, m.get(k), v))
    ts = datetime.fromtimestamp(r["time_ns"] // 1000 / 1e6, tz=timezone.utc)
    if m["timestamp"] != ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"):
        problems.append("record %d: header time %s" % (r["seq"], m["timestamp"]))
    if (m["pri"], m["app"], m["msgid"]) != (85, "enrp", "journal"):
        problems.append("record %d: header %r" % (r["seq"], (m["pri"], m["app"], m["msgid"])))
    if not m["msg"].startswith("%s %s" % (r["event"], r["eir"] or "-")):
        problems.append("record %d: MSG %r" % (r["seq"], m["msg"][:60]))
extra = set(by_seq) - {r["seq"] for r in recs}
if extra:
    problems.append("records the journal does not hold: %s" % sorted(extra)[:10])
print("; ".join(problems[:8]) or "ok")
EOF
}

# A store made with a target: it is set before the first record.
expect_exit 2 ctl_nostore init --mirror tcp:10.0.0.1:514 "$T/bad-init"
assert_true "a refused init --mirror creates nothing" test ! -e "$T/bad-init"

collector a
A_PID=$COLLECTOR_PID
# Moving from none needs no one to tell: not forced.
expect_ok ctl audit mirror --target "unix:$T/a.sock"
mk_eir w --owner "$ALICE"
mount_fs
DPID=$(daemon_pid)

# Records from both writers, interleaved: each file sealed by enrpfs is a
# "verified" record, each enrpctl change its own.  An enrpctl commit sends
# whatever is pending, the daemon's records too (it often takes the mirror
# before the daemon's own hook does), so the last files are sealed after the
# last enrpctl change: those only the daemon can send.
for i in $(seq 1 12); do
	as "$ALICE" bash -c 'head -c 3000 /dev/urandom > "$1"' _ "$MNT/w/f$i" || fail "write f$i"
	if [ $((i % 4)) = 2 ]; then
		expect_ok ctl eir set w --quota "$((i))M"
	fi
done
poll_until 60 verified_ge 12 || fail "12 files not verified within 60 s"
poll_until 30 settled "$T/a.log" || fail "the collector lacks the head record $(head_seq)"
assert_eq ok "$(check_stream "$T/a.log")" "both writers: every record once, in order, equal to the journal"
n=$(head_seq)
assert_true "the daemon sent its own records (PROCID $DPID)" \
	grep -q " enrp $DPID journal \[enrp@32473 .* event=\"verified\"" "$T/a.log"
out=$(ctl audit verify --anchors "$T/a.log" 2>&1)
assert_match "^audit: $n anchored records match; records 1-$n covered, 0 after" "$out" \
	"the stream anchors every record ($out)"
json=$(ctl audit mirror --json)
assert_eq "unix:$T/a.sock $n $n 0 False" \
	"$("$PY" -c 'import json, sys; m = json.loads(sys.argv[1])["mirror"]; print(m["target"], m["head_seq"], m["sent_seq"], m["pending"], m["failing"])' "$json")" \
	"audit mirror --json: all sent, not failing"

# SIGKILL while enrpfs journals: nothing the crash took back is in the
# collector (it would show as a record past the end or a different one).
as "$ALICE" bash -c 'i=0; while head -c 2000 /dev/urandom > "$1/k$i"; do i=$((i + 1)); done' _ "$MNT/w" \
	>/dev/null 2>&1 &
writer=$!
CLEANUP_PIDS+=("$writer")
sleep 1.5
kill -KILL "$DPID"
poll_until 20 pid_gone "$DPID" || die "enrpfs $DPID survived SIGKILL"
wait "$writer" 2>/dev/null
fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
poll_until 20 not_mounted "$MNT" || die "$MNT still mounted after SIGKILL"
log "after SIGKILL: journal head $(head_seq), collector has $(grep -c 'enrp@32473' "$T/a.log") messages"
out=$(ctl audit verify --anchors "$T/a.log" 2>&1)
rc=$?
assert_eq 0 "$rc" "after SIGKILL: every record the collector got is in the journal ($out)"
mount_fs
DPID=$(daemon_pid)
as "$ALICE" bash -c 'echo after > "$1"' _ "$MNT/w/after-crash" || fail "write after the crash"
expect_ok ctl eir set w --quota 100M
poll_until 60 settled "$T/a.log" || fail "the collector lacks record $(head_seq) after the restart"
assert_eq ok "$(check_stream "$T/a.log")" "after the restart: the collector holds the whole journal again"

# The collector goes down.
stop_collector "$A_PID"
rm -f "$T/a.sock"
before=$(head_seq)
err=$(ctl eir set w --quota 101M 2>&1 >/dev/null)
assert_match "warning: journal: cannot mirror record $((before + 1)) to syslog \(unix:$T/a.sock: No such file or directory\)" \
	"$err" "collector down: the first writer warns"
err=$(ctl eir set w --quota 102M 2>&1 >/dev/null)
assert_eq "" "$err" "collector down: the second writer does not warn again"
v=$(audit_count --event verified)
as "$ALICE" bash -c 'echo down > "$1"' _ "$MNT/w/while-down" || fail "write while the collector is down"
poll_until 60 verified_ge $((v + 1)) || fail "the file written while the collector was down was not verified"
now=$(head_seq)
out=$(ctl audit head 2>&1 >/dev/null)
assert_match "records $((before + 1)) to $now are anchored nowhere outside the store" "$out" \
	"audit head warns what is pending"
out=$(ctl audit mirror 2>&1)
rc=$?
assert_eq 1 "$rc" "audit mirror exits 1 while failing"
assert_match "pending: $((now - before))" "$out" "audit mirror: $((now - before)) pending"
assert_match "state: failing since .*No such file or directory" "$out" "audit mirror: failing, and why"
out=$(ctl audit verify 2>&1 >/dev/null)
assert_match 'syslog mirror fails since' "$out" "audit verify warns on stderr"
assert_true "the filesystem goes on working" as "$ALICE" cat "$MNT/w/while-down"

# Back: the daemon's tick sends the backlog without anyone asking.
collector a
A_PID=$COLLECTOR_PID
if poll_until 20 has_seq "$T/a.log" "$now"; then
	pass "collector back: the daemon sent the backlog by itself"
else
	fail "collector back: record $now not sent within 20 s"
fi
out=$(ctl audit mirror 2>&1)
assert_match 'pending: 0' "$out" "audit mirror: nothing pending"
assert_match 'state: ok' "$out" "audit mirror: ok"
assert_eq ok "$(check_stream "$T/a.log")" "the backlog arrived in order, nothing missing"

# Moving to a UDP collector: the old one gets the change first.
"$PY" "$JT" recv udp "$T/b.port" "$T/b.log" &
B_PID=$!
CLEANUP_PIDS+=("$B_PID")
poll_until 10 test -s "$T/b.port" || die "UDP collector did not start"
B="udp:127.0.0.1:$(cat "$T/b.port")"
out=$(ctl audit mirror --target "$B" 2>&1)
assert_eq "audit: the journal is mirrored to $B from now on" "$out" "audit mirror --target $B"
change=$(head_seq)
rec="$(ctl audit show --event mirror-target --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[-1]["seq"])') $(ctl audit show --event mirror-target --json | details_flat | tail -n 1)"
assert_eq "$change from=unix:$T/a.sock to=$B forced=no unsent=0" "$rec" "the change is journalled"
poll_until 10 has_seq "$T/b.log" "$change" || fail "the UDP collector lacks the change record"
assert_match "seq=\"$change\" .*event=\"mirror-target\"" "$(grep 'enrp@32473' "$T/a.log" | tail -n1)" \
	"the old collector's last message is the change"
assert_match "seq=\"$change\" " "$(grep 'enrp@32473' "$T/b.log" | head -n1)" \
	"the new collector's first message is the change"
v=$(audit_count --event verified)
as "$ALICE" bash -c 'echo udp > "$1"' _ "$MNT/w/udp" || fail "write after the move"
poll_until 60 verified_ge $((v + 1)) || fail "the file written after the move was not verified"
expect_ok ctl eir set w --quota 103M
poll_until 10 has_seq "$T/b.log" "$(head_seq)" || fail "the UDP collector lacks record $(head_seq)"
assert_eq "" "$(grep " seq=\"$(head_seq)\" " "$T/a.log")" "the old collector gets nothing after the change"

# Back to a, then a goes away: moving on is refused, unless forced.
expect_ok ctl audit mirror --target "unix:$T/a.sock"
stop_collector "$A_PID"
rm -f "$T/a.sock"
collector c
n=$(audit_count)
out=$(ctl audit mirror --target "unix:$T/c.sock" 2>&1)
rc=$?
assert_eq 1 "$rc" "the present collector is gone: the change is refused"
assert_match "cannot move the journal mirror to 'unix:$T/c.sock'.*nothing changed" "$out" "the refusal says so"
assert_match 'hint: .*--force' "$out" "and how to force it"
assert_eq "$n" "$(audit_count)" "a refused change journals nothing"
expect_ok ctl audit mirror --target "unix:$T/c.sock" --force
rec=$(ctl audit show --event mirror-target --json | details_flat | tail -n 1)
assert_match "^from=unix:$T/a.sock to=unix:$T/c.sock forced=yes unsent=[0-9]+$" "$rec" "the forced change says so"
poll_until 10 has_seq "$T/c.log" "$(head_seq)" || fail "the new collector lacks the forced change"

# Spellings refused before anything happens.
n=$(audit_count)
expect_exit 2 ctl audit mirror --target tcp:10.0.0.1:514
expect_exit 2 ctl audit mirror --target udp:collector.example:514
expect_exit 2 ctl audit mirror --target unix:relative.sock
expect_exit 2 ctl audit mirror --force
assert_eq "$n" "$(audit_count)" "refused spellings journal nothing"

# A burst right before a clean stop, to a collector slower than the
# daemon: enrpfs sends what is left before it exits (audit head only reads
# the state; audit mirror would send).
stop_collector "$COLLECTOR_PID"
collector c 3
as "$ALICE" bash -c 'for i in $(seq 1 200); do echo "$i" > "$1/burst$i"; done' _ "$MNT/w" ||
	fail "burst of writes"
umount_fs
json=$(ctl audit head --json)
assert_eq "0 False" "$("$PY" -c 'import json, sys; m = json.loads(sys.argv[1])["mirror"]; print(m["pending"], m["failing"])' "$json")" 	"after a clean stop nothing is pending"
assert_true "the collector has the last record" has_seq "$T/c.log" "$(head_seq)"
assert_eq 0 "$(ctl audit verify >/dev/null 2>&1; echo $?)" "the journal verifies at the end"
finish
