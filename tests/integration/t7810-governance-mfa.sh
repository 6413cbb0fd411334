#!/bin/bash
# t7810: the TOTP second factor (issue 11 item 7) through the real enrpctl,
# codes computed by oathtool (an independent RFC 6238 implementation), two
# administrators told apart by their audit login uid as in t7800.  Secrets
# are shown once and stored wrapped (no secret byte in any store file);
# MFA cannot be turned on before two people are enrolled nor by someone
# without a good code; with it on, approve and reject refuse a missing, a
# malformed, a wrong and a replayed code (each journalled mfa-failed with
# its why, the request left pending) and take a good one from --otp or
# ENRP_OTP; the window is one 30-second step either way, not two (clock
# moved with faketime); removing a person who would leave fewer than two
# is refused; turning it off needs a code.  The journal verifies.
. "$(dirname "$0")/lib.sh"
setup

PY=${PY:-python3}
A_UID=$(uid_of "$ALICE")
B_UID=$(uid_of "$BOB")
jq_py() { "$PY" -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
req_state() { ctl requests --all --json | jq_py "[r['state'] for r in j if r['id'] == $1][0]"; }
last_failed() { ctl audit show --json --event mfa-failed | jq_py 'j[-1]["details"]["why"]'; }

# at TIME UID ARGS...: enrpctl run by person UID (their audit login uid),
# with the clock at TIME (seconds since the epoch; it runs on from there),
# without a controlling terminal (nobody to ask a code of) and with no
# ENRP_OTP unless the caller exports one.
at() {
	local t=$1 uid=$2
	shift 2
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+$((t - $(date +%s)))" \
		setsid -w sh -c 'echo "$1" >/proc/self/loginuid || exit 99; shift; exec "$@"' sh "$uid" \
		"$ENRPCTL" -S "$STORE" "$@" </dev/null
}
# The code of base32 SECRET at TIME.
code() { oathtool --totp -b "$1" -N "@$2"; }
# A time 15 s into a step, STEPS steps after the last one used: every
# accepted code needs a later step than the one before (replay guard).
TS=$(( ($(date +%s) / 30 + 2) * 30 + 15 ))
next() { TS=$((TS + 30 * ${1:-2})); }

mkdir -m 700 "$T/keys"
STORE=$T/estore
expect_ok ctl_nostore init --mirror none --encrypt --keyfile "$T/keys/master.key" "$STORE"
mk_eir pop --owner "$ALICE"
printf 'owner passphrase\n' >"$T/owner.key"

# ---- enrolment --------------------------------------------------------------------------

out=$(ctl mfa list)
assert_eq "MFA: off" "$(printf '%s\n' "$out" | head -1)" "a new store: MFA off"
out=$(at $TS "$A_UID" mfa on --otp 123456 2>&1)
assert_eq 1 $? "mfa on by someone not enrolled: exit 1"
assert_match "needs a TOTP code, and uid $A_UID is not enrolled" "$out" "saying why"
assert_eq "not-enrolled" "$(last_failed)" "journalled mfa-failed why=not-enrolled"

out=$(at $TS "$A_UID" mfa enroll "$ALICE")
assert_eq 0 $? "enroll alice"
SA=$(printf '%s\n' "$out" | sed -n 's/^secret: //p')
assert_match '^[A-Z2-7]{32}$' "$SA" "a 160-bit base32 secret is shown"
assert_match "^uri: otpauth://totp/enrp:$ALICE\?secret=$SA&issuer=enrp&algorithm=SHA1&digits=6&period=30$" \
	"$out" "and its otpauth:// URI"
out=$(at $TS "$A_UID" mfa enroll "$A_UID" 2>&1)
assert_eq 1 $? "enroll alice again (by uid): exit 1"
assert_match "is already enrolled" "$out" "saying so"
out=$(at $TS "$A_UID" mfa enroll nosuchuser-xyz 2>&1)
assert_eq 2 $? "enroll an unknown user: exit 2"
out=$(at $TS "$A_UID" mfa on --otp "$(code "$SA" $TS)" 2>&1)
assert_eq 1 $? "mfa on with one person enrolled: exit 1"
assert_match "at least 2 people enrolled" "$out" "saying why"
next
out=$(at $TS "$B_UID" mfa enroll "$BOB" --json)
assert_eq 0 $? "enroll bob (--json)"
SB=$(printf '%s' "$out" | jq_py 'j["secret"]')
assert_eq "$B_UID" "$(printf '%s' "$out" | jq_py 'j["uid"]')" "the JSON names bob's uid"
assert_eq 2 "$(audit_count --event mfa-enroll)" "two mfa-enroll records"

# No secret byte in the store's files: wrapped by the master key.
hits=$("$PY" - "$STORE" "$SA" "$SB" <<'EOF'
import base64, os, sys
secrets = [base64.b32decode(s) for s in sys.argv[2:]]
n = 0
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        data = open(os.path.join(d, f), "rb").read()
        n += sum(s in data for s in secrets)
print(n)
EOF
)
assert_eq 0 "$hits" "neither secret is in any file of the encrypted store"

# ---- on -----------------------------------------------------------------------------

out=$(at $TS "$A_UID" mfa on 2>&1)
assert_eq 1 $? "mfa on without a code: exit 1"
assert_match "mfa on needs a TOTP code" "$out" "saying so"
out=$(at $TS "$A_UID" mfa on --otp "$(code "$SA" $TS)")
assert_eq 0 $? "mfa on by alice with her code"
assert_eq "on off 2" "$(ctl audit show --json --event mfa-set | jq_py '" ".join(str(j[-1]["details"][k]) for k in ("mfa", "was", "enrolled"))')" \
	"journalled mfa-set mfa=on was=off enrolled=2"
l=$(ctl mfa list --json)
assert_eq "True $A_UID,$B_UID" "$(printf '%s' "$l" | jq_py 'str(j["mfa"]) + " " + ",".join(str(p["uid"]) for p in j["people"])')" \
	"mfa list: on, alice and bob"

# ---- approve and reject need the decider's code ------------------------------------------

next
# Every administrator verb needs the person's code, once: escrow put and get
# as much as approve.
out=$(at $TS "$A_UID" escrow put pop "$T/owner.key" --reason "dump key" --otp 000000 2>&1)
assert_eq 1 $? "escrow put, an administrator's verb, with a wrong code: exit 1"
assert_match "wrong TOTP code for escrow put" "$out" "saying so"
assert_eq 0 "$(audit_count --event escrow-put)" "nothing deposited"
expect_ok at $TS "$A_UID" escrow put pop "$T/owner.key" --reason "dump key" --otp "$(code "$SA" $TS)"
out=$(at $TS "$B_UID" escrow get pop 1 --reason drill -o "$T/got" --otp "$(code "$SB" $TS)" 2>&1)
assert_match "request 1 made" "$out" "bob requests escrow 1"
next
out=$(at $TS "$A_UID" escrow get pop 1 --reason drill3 -o "$T/got" --otp "$(code "$SA" $TS)" 2>&1)
assert_match "request 2 made" "$out" "alice requests escrow 1 too"
next

out=$(at $TS "$A_UID" approve 1 2>&1)
assert_eq 1 $? "approve without a code (no terminal, no ENRP_OTP): exit 1"
assert_match "approve 1 needs a TOTP code" "$out" "saying so"
assert_eq "missing" "$(last_failed)" "journalled why=missing"
out=$(at $TS "$A_UID" approve 1 --otp 12345 2>&1)
assert_eq 1 $? "a 5-digit code: exit 1"
assert_match "is not a TOTP code" "$out" "saying so"
assert_eq "malformed" "$(last_failed)" "journalled why=malformed"
out=$(at $TS "$A_UID" approve 1 --otp "$(code "$SB" $TS)" 2>&1)
assert_eq 1 $? "bob's code for alice: exit 1"
assert_match "wrong TOTP code for approve 1" "$out" "saying so"
assert_eq "wrong" "$(last_failed)" "journalled why=wrong"
assert_eq "$A_UID" "$(ctl audit show --json --event mfa-failed | jq_py 'j[-1]["details"]["person"]')" \
	"naming the person"
assert_eq "pending" "$(req_state 1)" "request 1 is still pending"

C=$(code "$SA" $TS)
out=$(at $TS "$A_UID" approve 1 --otp "$C")
assert_eq 0 $? "approve with alice's code"
assert_match "^approved request 1" "$out" "approved"
assert_eq "approved" "$(req_state 1)" "request 1 approved"
out=$(at $TS "$B_UID" reject 2 --otp "$C" 2>&1)
assert_eq 1 $? "alice's code used by bob: exit 1"
out=$(at $TS "$A_UID" reject 2 --otp "$C" 2>&1)
assert_eq 1 $? "a replayed code: exit 1 (even for another request, and her own is refused later anyway)"
assert_match "TOTP code already used" "$out" "saying so"
assert_eq "replayed" "$(last_failed)" "journalled why=replayed"
out=$(at $((TS + 30)) "$A_UID" reject 2 --otp "$C" 2>&1)
assert_eq 1 $? "the same code a step later (still inside the window): exit 1"
assert_eq "replayed" "$(last_failed)" "replayed again"
out=$(at $TS "$B_UID" reject 2 --otp "$(code "$SB" $TS)")
assert_eq 0 $? "bob rejects alice's request with his own code"
assert_eq "rejected" "$(req_state 2)" "request 2 rejected"
failed=$(audit_count --event mfa-failed)

# ENRP_OTP is taken as --otp is.
next
out=$(at $TS "$A_UID" escrow get pop 1 --reason drill4 -o "$T/got" --otp "$(code "$SA" $TS)" 2>&1)
assert_match "request 3 made" "$out" "a third request"
out=$(ENRP_OTP=$(code "$SB" $TS) at $TS "$B_UID" approve 3)
assert_eq 0 $? "approve with the code in ENRP_OTP"
assert_eq "$failed" "$(audit_count --event mfa-failed)" "good codes journal no mfa-failed"

# ---- the window: one step either way, not two ---------------------------------------------
# 'approve 999' checks the code first, then finds no request: a good code
# says "no request", a refused one says why.

next 4
for d in -2 2; do
	out=$(at $TS "$A_UID" approve 999 --otp "$(code "$SA" $((TS + 30 * d)))" 2>&1)
	assert_match "wrong TOTP code" "$out" "a code $d steps away is refused"
done
out=$(at $TS "$A_UID" approve 999 --otp "$(code "$SA" $((TS - 30)))" 2>&1)
assert_match "there is no request 999" "$out" "the previous step's code is taken"
next
out=$(at $TS "$A_UID" approve 999 --otp "$(code "$SA" $((TS + 30)))" 2>&1)
assert_match "there is no request 999" "$out" "the next step's code is taken"
out=$(at $TS "$A_UID" approve 999 --otp "$(code "$SA" $TS)" 2>&1)
assert_match "TOTP code already used" "$out" "then the current step's code is older than the last used"

# Typed on a terminal: asked, not echoed, taken.  script(1) gives enrpctl
# a pseudo-terminal as its controlling terminal.
next
C=$(code "$SA" $TS)
out=$( (sleep 1; printf '%s\n' "$C") | FAKETIME_DONT_FAKE_MONOTONIC=1 \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	script -qe -c "sh -c 'echo $A_UID >/proc/self/loginuid && exec faketime -f +$((TS - $(date +%s))) $ENRPCTL -S $STORE approve 999'" /dev/null 2>&1 | tr -d '\r')
assert_match "^TOTP code: " "$out" "no --otp, no ENRP_OTP, a terminal: the code is asked"
assert_match "there is no request 999" "$out" "the typed code is taken"
assert_true "and not echoed" sh -c "! printf '%s' \"\$1\" | grep -q '$C'" sh "$out"

# Interrupted while it asks (Ctrl-C, a hang-up, kill): the terminal gets its
# echo back.  A pseudo-terminal of our own, so its settings can be read
# while enrpctl waits and after the signal ended it.  libfaketime is
# preloaded rather than run through faketime(1): that wrapper forks, so the
# signal would reach the wrapper, and enrpctl only the terminal's hang-up
# after it, racing the check.
next
faketime_lib
for sig in INT HUP TERM; do
	out=$(FAKETIME_DONT_FAKE_MONOTONIC=1 \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$PY" - "$sig" sh -c "echo $A_UID >/proc/self/loginuid && FAKETIME=+$((TS - $(date +%s))) LD_PRELOAD=$FTLIB exec $ENRPCTL -S $STORE approve 999" <<'PYEOF'
import fcntl, os, select, signal, sys, termios, time
sig = getattr(signal, "SIG" + sys.argv[1])
master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.execvp(sys.argv[2], sys.argv[2:])
seen, deadline = b"", time.monotonic() + 30
while b"TOTP code:" not in seen and time.monotonic() < deadline:
    if select.select([master], [], [], 0.5)[0]:
        seen += os.read(master, 4096)
asking = b"TOTP code:" in seen
echo_while = bool(termios.tcgetattr(slave)[3] & termios.ECHO)
with open("/proc/%d/comm" % pid) as f:
    who = f.read().strip()
time.sleep(0.2)
os.kill(pid, sig)
_, status = os.waitpid(pid, 0)
# libfaketime removes its shared memory at exit, which a signal skips; a
# later faketime(1) given the same pid would fail on the leftovers.
for name in ("faketime_shm_%d", "sem.faketime_sem_%d"):
    try:
        os.unlink("/dev/shm/" + name % pid)
    except FileNotFoundError:
        pass
echo_after = bool(termios.tcgetattr(slave)[3] & termios.ECHO)
print("who=%s asking=%d echo_while=%d echo_after=%d signalled=%d" % (
    who, asking, echo_while, echo_after,
    os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig))
PYEOF
)
	assert_eq "who=enrpctl asking=1 echo_while=0 echo_after=1 signalled=1" "$out" \
		"SIG$sig while the code is asked: echo back on, and enrpctl ends by that signal"
done

# ---- lock-out guards, and off ------------------------------------------------------------

next
out=$(at $TS "$A_UID" mfa remove "$BOB" --otp "$(code "$SA" $TS)" 2>&1)
assert_eq 1 $? "removing bob would leave one person enrolled: exit 1"
assert_match "fewer than 2 people enrolled" "$out" "saying why"
assert_eq 0 "$(audit_count --event mfa-remove)" "nothing removed"
next
out=$(at $TS "$A_UID" mfa off 2>&1)
assert_eq 1 $? "mfa off without a code: exit 1"
out=$(at $TS "$A_UID" mfa off --otp "$(code "$SA" $TS)")
assert_eq 0 $? "mfa off with a code"
assert_eq "off on" "$(ctl audit show --json --event mfa-set | jq_py '" ".join(j[-1]["details"][k] for k in ("mfa", "was"))')" \
	"journalled mfa-set mfa=off was=on"
next
expect_ok at $TS "$B_UID" escrow get pop 1 --reason drill -o "$T/got"
assert_true "bob's approved request gives him the deposit" cmp -s "$T/owner.key" "$T/got"
expect_ok at $TS "$A_UID" escrow put pop "$T/owner.key" --reason "dump key 2"
out=$(at $TS "$B_UID" escrow get pop 2 --reason drill5 -o "$T/got2" 2>&1)
assert_match "request 4 made" "$out" "a fourth request"
expect_ok at $TS "$A_UID" approve 4
out=$(at $TS "$A_UID" mfa remove "$BOB")
assert_eq 0 $? "with MFA off, bob can be removed (no code needed)"
assert_eq 1 "$(audit_count --event mfa-remove)" "journalled mfa-remove"

expect_ok ctl audit verify
finish
