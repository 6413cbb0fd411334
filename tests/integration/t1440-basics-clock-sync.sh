#!/bin/bash
# t1440: `enrpctl status` says whether the host clock is synchronised, as
# adjtimex(2) reports it (issue 11 item 8): the text line, the --json
# object and `status --check` (a WARNING for the whole store, none with
# --eir or --ignore-clock), and the metrics file's gauges.  What this host's
# kernel says is read independently (Python's ctypes calling libc's
# adjtimex), not assumed; both answers are then forced with a preloaded
# adjtimex of our own, so each path is tested on any host.
. "$(dirname "$0")/lib.sh"
setup

PROM=$T/metrics/enrp.prom
# kernel: "SYNC STATE STATUS MAXERROR_US" from adjtimex, read here.
kernel() {
	"$PY" -c '
import ctypes
class Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("rest", ctypes.c_byte * 256)]
t = Timex()
r = ctypes.CDLL(None, use_errno=True).adjtimex(ctypes.byref(t))
assert r >= 0, "adjtimex failed"
names = ["ok", "insert", "delete", "leap", "wait", "error"]
sync = r != 5 and not (t.status & 0x40)
print("yes" if sync else "no", names[r], t.status, t.maxerror)'
}
json_clock() {
	"$@" --json status | "$PY" -c 'import json, sys
c = json.load(sys.stdin)["clock"]
print("yes" if c["synchronised"] else "no", c["state"], c["status"], c["maxerror_us"])'
}

mk_eir a --owner "$ALICE"
read -r sync state status maxerr <<<"$(kernel)"
log "this host's kernel: synchronised=$sync state=$state status=$status maxerror=$maxerr us"

# --- what the kernel says here -------------------------------------------------
read -r jsync jstate jstatus jmax <<<"$(json_clock ctl)"
assert_eq "$sync $state $status" "$jsync $jstate $jstatus" "status --json: clock as adjtimex says"
assert_true "status --json: maxerror_us within 1 s of adjtimex's (it grows while unsynced)" \
	test $(( jmax - maxerr < 1000000 && maxerr - jmax < 1000000 )) -eq 1
line=$(ctl status | grep '^clock: ')
if [ "$sync" = yes ]; then
	assert_match "^clock: synchronised, offset -?[0-9.]+ ms, estimated error [0-9.]+ ms, maximum error [0-9.]+ ms$" \
		"$line" "status: the clock line (synchronised here)"
	expect_exit 0 ctl status --check
else
	assert_match "^clock: unsynchronised \(adjtimex: state $state, maximum error [0-9.]+ s\)" \
		"$line" "status: the clock line (unsynchronised here)"
	expect_exit 1 ctl status --check
fi
expect_exit 0 ctl status --check --ignore-clock
expect_exit 0 ctl status --check --eir a

# --- both answers, forced --------------------------------------------------------
# A preloaded adjtimex: FAKE_SYNC=1 a disciplined clock (TIME_OK, STA_PLL,
# offset 4242 us, errors 678 us and 12345 us), FAKE_SYNC=0 an unsynchronised
# one (TIME_ERROR, STA_UNSYNC, 16 s).
cat >"$T/adjtimex.c" <<'C'
#include <stdlib.h>
#include <sys/timex.h>
int adjtimex(struct timex *t)
{
	int sync = getenv("FAKE_SYNC") && getenv("FAKE_SYNC")[0] == '1';
	t->status = sync ? STA_PLL : STA_UNSYNC;
	t->offset = sync ? 4242 : 0;
	t->esterror = sync ? 678 : 16000000;
	t->maxerror = sync ? 12345 : 16000000;
	return sync ? TIME_OK : TIME_ERROR;
}
C
cc -shared -fPIC -o "$T/adjtimex.so" "$T/adjtimex.c" || die "cannot build the adjtimex shim"
fake() {
	local s=$1
	shift
	(exec -a enrpctl env FAKE_SYNC="$s" LD_PRELOAD="$T/adjtimex.so${LD_PRELOAD:+:$LD_PRELOAD}" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$ENRPCTL" -S "$STORE" "$@")
}
assert_eq "clock: synchronised, offset 4.242 ms, estimated error 0.678 ms, maximum error 12.345 ms" \
	"$(fake 1 status | grep '^clock: ')" "forced synchronised: the clock line"
assert_eq "yes ok 1 12345" "$(json_clock fake 1)" "forced synchronised: --json"
out=$(fake 1 status --check)
assert_eq 0 "$?" "forced synchronised: --check OK (exit 0)"
assert_match "^ENRP OK - 1 EIR: " "$out" "... with the OK line"
assert_eq "clock: unsynchronised (adjtimex: state error, maximum error 16.000 s): nothing disciplines it (NTP, chrony)" \
	"$(fake 0 status | grep '^clock: ')" "forced unsynchronised: the clock line"
assert_eq "no error 64 16000000" "$(json_clock fake 0)" "forced unsynchronised: --json"
out=$(fake 0 status --check)
assert_eq 1 "$?" "forced unsynchronised: --check WARNING (exit 1), not critical"
assert_eq "ENRP WARNING - host clock unsynchronised (adjtimex: state error, maximum error 16.000 s): nothing disciplines it (NTP, chrony)
WARNING: host clock unsynchronised (adjtimex: state error, maximum error 16.000 s): nothing disciplines it (NTP, chrony)" \
	"$out" "... the finding"
assert_eq "WARNING clock None" "$(fake 0 --json status --check | "$PY" -c 'import json, sys
d = json.load(sys.stdin); f = d["findings"][0]; print(d["status"], f["check"], f["eir"])')" \
	"--check --json: the clock finding, about no EIR"
expect_exit 0 fake 0 status --check --ignore-clock
expect_exit 0 fake 0 status --check --eir a

# --- the metrics file ---------------------------------------------------------------
mkdir -p "$T/metrics"
mount_fs -o metrics="$PROM",metrics_interval=1
poll_until 10 test -s "$PROM" || fail "no metrics file"
assert_eq "$([ "$sync" = yes ] && echo 1 || echo 0)" "$(awk '$1 == "enrp_clock_synchronised" { print $2 }' "$PROM")" \
	"metrics: enrp_clock_synchronised as adjtimex says"
assert_match '^[0-9]+\.[0-9]{6}$' "$(awk '$1 == "enrp_clock_maxerror_seconds" { print $2 }' "$PROM")" \
	"metrics: enrp_clock_maxerror_seconds"
umount_fs

finish
