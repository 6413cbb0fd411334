#!/bin/bash
# t1420: one owner reading .enrp/SHA256SUMS of a large EIR over and over
# neither disturbs another owner's work nor sees a wrong text: every poll of
# the unchanging EIR gives exactly its list, while the other owner creates
# and writes files that all arrive and are verified.  (How much the polling
# slows the other owner is a benchmark figure, xeir_create_p99_ratio.)
. "$(dirname "$0")/lib.sh"
setup

NA=4000   # files of the polled EIR
NB=1000   # files the other owner creates meanwhile
FL=$LIB_DIR/fairload.py

mk_eir polled --owner "$ALICE"
mk_eir busy --owner "$BOB"
mount_fs
A=$MNT/polled
B=$MNT/busy
field() { sed -n "s/^$1 //p" "$2"; }

as "$ALICE" "$PY" "$FL" creates "$A" "$NA" 512 >"$T/a.sums" || die "creating $NA files in polled"
verified() { [ "$(status_field "$1" verified_files)" = "$2" ]; }
poll_until 180 verified polled "$NA" || die "polled: not all $NA files verified after 180 s"
as "$ALICE" cat "$A/.enrp/SHA256SUMS" >"$T/a.got"
assert_text_eq "$(cat "$T/a.sums")" "$(cat "$T/a.got")" "polled: SHA256SUMS lists the $NA files in name order"
cp "$T/a.sums" "$T/a.want"
chmod 644 "$T/a.want"

as "$ALICE" "$PY" "$FL" pollsums "$A" "$T/a.want" "$T/poll.stop" >"$T/poll.out" 2>"$T/poll.err" &
CLEANUP_PIDS+=($!)
POLLER=$!
sleep 0.5
as "$BOB" "$PY" "$FL" creates "$B" "$NB" 1024 >"$T/b.sums" || fail "bob's creates failed while alice polled"
touch "$T/poll.stop"
wait "$POLLER"
polls=$(field polls "$T/poll.out")
log "alice polled SHA256SUMS $polls times while bob created $NB files"
if [ "${polls:-0}" -ge 2 ]; then
	pass "the polling went on during the creates ($polls polls)"
else
	fail "only '${polls}' polls: the test proved nothing ($(cat "$T/poll.err"))"
fi
assert_eq 0 "$(field bad "$T/poll.out")" "every poll gave exactly the unchanged list"
assert_eq "$NB" "$(wc -l <"$T/b.sums")" "bob created all $NB files"
poll_until 180 verified busy "$NB" || fail "busy: not all $NB files verified after 180 s"
as "$BOB" cat "$B/.enrp/SHA256SUMS" >"$T/b.got"
assert_text_eq "$(cat "$T/b.sums")" "$(cat "$T/b.got")" "busy: every file bob wrote is verified with its sum"
assert_true "busy: sha256sum -c of the EIR's list passes" \
	as "$BOB" bash -c 'cd "$1" && sha256sum --quiet --strict -c .enrp/SHA256SUMS' _ "$B"

finish
