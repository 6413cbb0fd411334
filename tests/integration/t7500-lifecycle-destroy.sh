#!/bin/bash
# t7500: the end of an EIR's life (issue 11 item 5; DESIGN §4, §9).
# `enrpctl eir destroy` is refused (exit 1, nothing changed, every blocker
# named with its date) while the EIR is not retired, while files=DAYS
# retention runs, while the EIR's lock runs, and while a hold runs
# (libfaketime moves enrpctl's clock forward, as in t5120).  Once all have
# passed it destroys the EIR on an encrypted store, with the daemon
# running: afterwards no 32-byte window of the EIR's plaintext nor of its
# chunk files' ciphertext (saved before) remains in any file of the store
# (LMDB's data.mdb with its free pages included); the store's keys database
# has no key for it and its key share beside the master key file is gone.
# A complete copy of the store files taken before the destruction (it still
# holds the wrapped key), mounted with the master key, reads the other EIR
# and fails with ENOKEY on the destroyed one (what this proves and does not:
# docs/design.md "Destruction").  An unencrypted store is destroyed offline
# (no daemon) with --json.  The journal verifies and holds one eir-destroyed record
# with what, how, when, who and why; eir show / list / status show the
# state and the time; another EIR of the store reads back intact; fsck finds
# nothing.  A destruction killed right after its first step (the key gone,
# the data not yet) is finished by the next enrpfs start.
. "$(dirname "$0")/lib.sh"
setup

pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 60 pending_empty "$1" || fail "$1: still pending after 60 s"; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
later() {
	local days=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+${days}d" \
		bash -c 'exec -a enrpctl "$0" "$@"' "$ENRPCTL" -S "$STORE" "$@"
}
B_UID=$(uid_of "$BOB")
# approve_last [DAYS]: a second administrator (BOB's audit login uid) approves
# the newest pending request, DAYS days ahead.
approve_last() {
	local days=${1:-0} id
	id=$(ctl requests --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[-1]["id"])')
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+${days}d" \
		sh -c 'echo "$1" >/proc/self/loginuid || exit 99; shift; exec "$@"' sh "$B_UID" \
		"$ENRPCTL" -S "$STORE" approve "$id" >/dev/null || fail "approve $id"
}
# key_hex ENV ID: the wrapped data key of EIR ID in the LMDB env ENV (hex), or "".
key_hex() {
	mdb_dump -s keys "$1" 2>/dev/null | "$PY" -c '
import sys
want = "%08x" % int(sys.argv[1])
lines = [l.strip() for l in sys.stdin if l.startswith(" ")]
for k, v in zip(lines[0::2], lines[1::2]):
    if k == want:
        print(v)' "$2"
}
# windows_left SECRET_FILE DIR: how many files under DIR hold any 32-byte
# window (at any offset) of SECRET_FILE's bytes; prints "N file:offset ...".
windows_left() {
	"$PY" - "$1" "$2" <<'EOF'
import os, sys
secret = open(sys.argv[1], "rb").read()
W = 32
wins = {secret[i:i + W] for i in range(len(secret) - W + 1)}
hits = []
for root, dirs, files in os.walk(sys.argv[2]):
    for f in files:
        p = os.path.join(root, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        data = open(p, "rb").read()
        for i in range(len(data) - W + 1):
            if data[i:i + W] in wins:
                hits.append("%s:%d" % (os.path.relpath(p, sys.argv[2]), i))
                break
print(len(hits), *hits)
EOF
}

# ---- an encrypted store, two EIRs ---------------------------------------------------------
mkdir -m 700 "$T/keys"
KEY=$T/keys/master.key
STORE=$T/estore
expect_ok ctl_nostore init --encrypt --keyfile "$KEY" --mirror none "$STORE"
mk_eir gone --owner "$ALICE"
mk_eir keep --owner "$ALICE"
expect_ok ctl eir set gone --retention "files=1,keep-last=3"
mount_fs
head -c 700000 /dev/urandom >"$T/gone-data"
printf 'CANARY-%s-of-the-destroyed-EIR\n' "$(head -c 24 /dev/urandom | base64)" >"$T/gone-text"
for i in $(seq 200); do cat "$T/gone-text"; done >"$T/gone-text200"
head -c 300000 /dev/urandom >"$T/keep-data"
expect_ok as "$ALICE" mkdir "$MNT/gone/dir"
expect_ok as "$ALICE" cp "$T/gone-data" "$MNT/gone/dir/data"
expect_ok as "$ALICE" cp "$T/gone-text200" "$MNT/gone/text"
expect_ok as "$ALICE" cp "$T/keep-data" "$MNT/keep/data"
settle gone
settle keep
expect_ok ctl snapshot create gone s1
expect_ok as "$ALICE" rm "$MNT/gone/text"   # goes to trash
expect_ok as "$ALICE" cp "$T/gone-text200" "$MNT/gone/text"
settle gone
expect_ok ctl eir set gone --lock 5
GID=$(eir_id gone)
[ -n "$(find "$STORE/chunks/$GID" -type f)" ] || die "no chunk files for gone"
cat "$T/gone-data" "$T/gone-text200" >"$T/plain"
find "$STORE/chunks/$GID" -type f -print0 | sort -z | xargs -0 cat >"$T/cipher"
[ "$(stat -c %s "$T/cipher")" -gt 700000 ] || die "too few chunk bytes saved"

# control: the grep finds what it looks for while the EIR lives
set -- $(windows_left "$T/cipher" "$STORE")
[ "$1" -gt 0 ] && pass "control: the window search finds the ciphertext in the live store ($1 files)" ||
	fail "control: the ciphertext is not found in the live store; the search proves nothing"
mkdir "$T/ctl" && cp "$T/gone-text" "$T/ctl/x"
set -- $(windows_left "$T/plain" "$T/ctl")
assert_eq 1 "$1" "control: the window search finds plaintext where it is"

# ---- refused: not retired ------------------------------------------------------------------
# What enrpctl journals (the daemon may journal its own records meanwhile).
ctl_records() {
	ctl audit show --json | "$PY" -c 'import json, sys; print(sum(r["command"].startswith("enrpctl") for r in json.load(sys.stdin)))'
}
J0=$(ctl_records)
out=$(ctl eir destroy gone --reason "end of life" --yes 2>"$T/err"); rc=$?
assert_eq 1 "$rc" "not retired: exit 1"
assert_eq "" "$out" "not retired: nothing on stdout"
assert_match "cannot destroy EIR 'gone'" "$(head -n1 "$T/err")" "not retired: says so"
assert_match "it is not retired \(state: normal\)" "$(cat "$T/err")" "not retired: names the blocker"
expect_exit 2 ctl eir destroy gone --yes                 # no reason
expect_exit 2 ctl eir destroy gone --reason ""           # empty reason
expect_exit 2 ctl eir destroy gone --reason x </dev/null # no terminal, no --yes
expect_exit 2 ctl eir destroy "Bad Name" --reason x --yes
expect_exit 1 ctl eir destroy nosuch --reason x --yes
assert_eq "$J0" "$(ctl_records)" "refusals journal nothing"

expect_ok ctl eir retire gone --reason "off the list" --yes
expect_fail EROFS as "$ALICE" touch "$MNT/gone/new"

# ---- refused: retention, lock, hold ---------------------------------------------------------
ctl eir destroy gone --reason "end" --yes >/dev/null 2>"$T/err"; rc=$?
assert_eq 1 "$rc" "retention running: exit 1"
assert_match "files whose retention \(files=DAYS\) runs until 20" "$(cat "$T/err")" "retention running: named with its date"
assert_match "files under the EIR's lock until 20" "$(cat "$T/err")" "lock running: named"
assert_match "snapshots kept by the retention policy until 20" "$(cat "$T/err")" "snapshot: named"
expect_ok ctl hold add gone/dir/data --until "$(date -d '+20 days' +%F)" --reason "court order 7"

later 2 eir destroy gone --reason "end" --yes >/dev/null 2>"$T/err"; rc=$?
assert_eq 1 "$rc" "day 2: lock and hold: exit 1"
err=$(cat "$T/err")
assert_true "day 2: retention passed, not named" eval '! grep -q "retention (files=DAYS)" <<<"$err"'
assert_match "files under the EIR's lock until" "$err" "day 2: the lock is named"
assert_match "1 holds until $(date -d '+20 days' +%F)" "$err" "day 2: the hold is named with its date"

later 7 eir destroy gone --reason "end" --yes >/dev/null 2>"$T/err"; rc=$?
assert_eq 1 "$rc" "day 7: the hold still runs: exit 1"
assert_true "day 7: only the hold" eval '[ "$(grep -c "until" "$T/err")" = 1 ] && grep -q "holds until" "$T/err"'

out=$(later 21 eir destroy gone --reason "end" --dry-run 2>&1); rc=$?
assert_eq 0 "$rc" "day 21: dry run exits 0 ($out)"
assert_match "would destroy EIR 'gone'" "$out" "day 21: dry run says it would"
assert_eq retired "$(ctl --json eir show gone | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["state"])')" "dry run changed nothing"

# ---- a copy of the store files before ---------------------------------------------------------
umount_fs
cp -a "$STORE" "$T/oldcopy"
OLDKEY=$(key_hex "$T/oldcopy/meta" "$GID")
assert_eq 122 "${#OLDKEY}" "the old copy holds gone's wrapped key (61 bytes: version 2)"
assert_eq "400 32" "$(stat -c '%a %s' "$KEY.eirkeys/$GID")" "gone's key share: beside the key file, 0400, 32 bytes"
printf '%s' "$OLDKEY" | xxd -r -p >"$T/wrapped"
mount_fs
expect_ok ctl snapshot list gone

# ---- destroy --------------------------------------------------------------------------------
out=$(later 21 eir destroy gone --shred --reason "retention over, order 99" --yes 2>&1); rc=$?
assert_eq 1 "$rc" "destroy without a second administrator's approval: exit 1"
assert_match "eir destroy gone needs a second administrator's approval: request [0-9]+ made" "$out" \
	"a request is made"
assert_true "and nothing was destroyed yet" test -s "$KEY.eirkeys/$GID"
approve_last 21
out=$(later 21 eir destroy gone --shred --reason "retention over, order 99" --yes 2>&1); rc=$?
assert_eq 0 "$rc" "destroy exits 0 ($out)"
assert_match "^destroyed: 20" "$out" "prints the destruction time"
assert_match "destroyed-how: key shredded yes, key share destroyed yes" "$out" "the key was shredded, its share destroyed"
assert_true "the share file is gone" test ! -e "$KEY.eirkeys/$GID"
assert_true "the other EIR's share stays" test -s "$KEY.eirkeys/$(eir_id keep)"
assert_match "destroyed-what: 2 files" "$out" "counts the files"
assert_match "destroyed-approved-by: uid=$B_UID " "$out" "names the approver (the second administrator)"
expect_exit 1 later 21 eir destroy gone --reason again --yes

rep=$(later 21 report --json | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
e = [e for e in r["eirs"] if e["name"] == "gone"][0]
d = e["destroyed"]
print(e["state"], d["finished"], d["approved_by"].split()[0], d["reason"])')
assert_eq "destroyed True uid=$B_UID retention over, order 99" "$rep" \
	"the compliance report shows the destruction record (who approved, why)"
show=$(ctl eir show gone)
assert_match "state: destroyed" "$show" "eir show: state destroyed"
assert_match "destroyed: 20[0-9-]+T" "$show" "eir show: the destruction time"
assert_match "destroyed-reason: retention over, order 99" "$show" "eir show: the reason"
assert_match "gone +[a-z]+ +destroyed +20[0-9-]+T" "$(ctl eir list -o name,mode,state,destroyed)" "eir list: destroyed, with the time"
assert_match "keep +[a-z]+ +normal +-" "$(ctl status -o name,mode,state,destroyed)" "status: the other EIR is not destroyed"
assert_match "gone +[a-z]+ +destroyed +20[0-9-]+T" "$(ctl status -o name,mode,state,destroyed)" "status: destroyed, with the time"
ctl --json eir show gone | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["destroyed_at"] and d["destruction_finished"] is True' &&
	pass "eir show --json: destroyed_at, finished" || fail "eir show --json lacks the destruction"

assert_eq "" "$(find "$STORE/chunks/$GID" 2>/dev/null)" "no chunk directory for gone"
assert_true "the mount no longer lists gone" eval '! ls "$MNT" | grep -qx gone'
expect_fail ENOENT ls "$MNT/gone"
assert_eq "" "$(key_hex "$STORE/meta" "$GID")" "the store's keys database has no key for gone"

set -- $(windows_left "$T/plain" "$STORE")
assert_eq 0 "$1" "no 32-byte window of gone's plaintext in any store file ($*)"
set -- $(windows_left "$T/cipher" "$STORE")
assert_eq 0 "$1" "no 32-byte window of gone's chunk ciphertext in any store file ($*)"
# Not promised (LMDB frees the page and reuses it later; the key share is
# what makes a surviving copy useless), so only logged:
set -- $(windows_left "$T/wrapped" "$STORE")
log "files of the store still holding a 32-byte window of gone's wrapped key: $*"

# the other EIR is untouched
assert_eq "$(sha "$T/keep-data")" "$(as "$ALICE" cat "$MNT/keep/data" | sha256sum | cut -d' ' -f1)" "keep reads back intact"
expect_ok ctl audit verify
rec=$(ctl audit show --json --eir gone | "$PY" -c '
import json, sys
r = [x for x in json.load(sys.stdin) if x["event"] == "eir-destroyed"]
print(len(r))
d = r[0]["details"] if r else {}
for k in ("files", "snapshots", "trash", "holds", "encrypted", "key_shredded", "chunk_files_deleted", "reason", "approved_by"):
    print("%s=%s" % (k, d.get(k)))')
assert_eq 1 "$(head -n1 <<<"$rec")" "one eir-destroyed record"
for kv in "files=2" "snapshots=1" "trash=1" "holds=1" "encrypted=True" "key_shredded=True" "reason=retention over, order 99" "approved_by=uid=$B_UID login=$B_UID"; do
	assert_true "the record holds $kv" grep -qxF -- "$kv" <<<"$(sed 1d <<<"$rec" | sed 's/^\(approved_by=uid=[0-9]* login=[0-9]*\).*/\1/')"
done
assert_match "chunk_files_deleted=[1-9]" "$rec" "the record counts the chunk files deleted"
umount_fs
expect_ok ctl fsck

# ---- the old copy, with the master key: gone's chunks do not decrypt ---------------------------
# What this proves: with everything that remains after the destruction —
# the master key file, the key directory beside it, and a complete copy of
# the store's files taken before (its LMDB with gone's wrapped key, its
# chunk files) — enrpfs cannot decrypt any of gone's chunks, while keep's
# read back from the same copy.  It does not prove anything about a copy of
# the key directory taken before the destruction (docs/design.md).
mkdir "$T/oldmnt" && chmod 755 "$T/oldmnt"
EXTRA_MOUNTS+=("$T/oldmnt")
EXTRA_STORES+=("$T/oldcopy")
expect_ok "$ENRPFS" "$T/oldcopy" "$T/oldmnt"
poll_until 20 is_mounted "$T/oldmnt" || die "old copy not mounted"
assert_eq "$(sha "$T/keep-data")" "$(as "$ALICE" cat "$T/oldmnt/keep/data" | sha256sum | cut -d' ' -f1)" "old copy: keep reads back (the master key works)"
as "$ALICE" cat "$T/oldmnt/gone/dir/data" >"$T/oldread" 2>"$T/olderr"
rc=$?
assert_true "old copy: reading gone's file fails" test "$rc" -ne 0
assert_match "Required key not available" "$(cat "$T/olderr")" "old copy: ENOKEY, its key share is gone"
assert_eq 0 "$(stat -c %s "$T/oldread")" "old copy: not one byte of gone's file comes back"
fusermount3 -u "$T/oldmnt" && poll_until 30 eval "[ -z \"\$(store_daemon_pid \"\$T/oldcopy\")\" ]" || fail "old copy daemon still running"
mount_fs
assert_eq "$(sha "$T/keep-data")" "$(as "$ALICE" cat "$MNT/keep/data" | sha256sum | cut -d' ' -f1)" "keep reads back after a remount"

# ---- a crash after the first step ------------------------------------------------------------
mk_eir crash --owner "$ALICE"
expect_ok as "$ALICE" cp "$T/keep-data" "$MNT/crash/data"
settle crash
CID=$(eir_id crash)
expect_ok ctl eir retire crash --reason "crash drill" --yes
umount_fs
# ENRP_TEST_DESTROY_STOP=begun: enrpctl exits (as if killed) right after
# the first step commits.
ctl eir destroy crash --reason "drill" --yes >/dev/null 2>&1
approve_last 0
out=$(ENRP_TEST_DESTROY_STOP=begun ctl eir destroy crash --reason "drill" --yes 2>/dev/null)
assert_eq "137 " "$? $out" "the destruction was cut (SIGKILL) after its first step, nothing printed"
assert_match "destroyed: .*unfinished" "$(ctl eir show crash)" "an interrupted destruction shows as unfinished"
assert_eq "" "$(key_hex "$STORE/meta" "$CID")" "its key is gone already"
[ -n "$(find "$STORE/chunks/$CID" -type f)" ] && pass "its chunk files are still there" || fail "chunk files gone too early"
mount_fs
poll_until 20 eval '! ctl eir show crash | grep -q unfinished' || fail "enrpfs did not finish the destruction"
assert_eq "" "$(find "$STORE/chunks/$CID" 2>/dev/null)" "enrpfs's start finished it: no chunk files"
assert_eq 1 "$(ctl audit show --json --eir crash | "$PY" -c 'import json,sys; print(sum(x["event"] == "eir-destroyed" for x in json.load(sys.stdin)))')" "one eir-destroyed record for crash"
expect_ok ctl audit verify

# ---- an unencrypted store, no daemon running, --json ------------------------------------------
umount_fs
STORE=$T/store
mk_eir plain --owner "$ALICE"
mount_fs
expect_ok as "$ALICE" cp "$T/keep-data" "$MNT/plain/data"
settle plain
PID_=$(eir_id plain)
expect_ok ctl eir retire plain --reason "plain end" --yes
umount_fs
ctl eir destroy plain --reason "no key to shred" --yes >/dev/null 2>&1
approve_last 0
out=$(ctl --json eir destroy plain --reason "no key to shred" --yes 2>&1); rc=$?
assert_eq 0 "$rc" "offline destroy on an unencrypted store exits 0 ($out)"
"$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["eir"] == "plain" and d["finished"] is True, d
assert d["encrypted"] is False and d["key_shredded"] is False and d["key_share_destroyed"] is False, d
assert d["files"] == 1 and d["chunk_files_deleted"] >= 1 and d["reason"] == "no key to shred", d
assert d["requested_by"] != d["approved_by"] and d["approved_by"].startswith("uid="), d
' "$out" && pass "--json: the record, not encrypted, nothing shredded, data deleted" || fail "--json record: $out"
assert_eq "" "$(find "$STORE/chunks/$PID_" 2>/dev/null)" "unencrypted: its chunk files are gone"
set -- $(windows_left "$T/keep-data" "$STORE")
assert_eq 0 "$1" "unencrypted: no 32-byte window of its plaintext left in the store ($*)"
expect_ok ctl fsck
expect_ok ctl audit verify
mount_fs

finish
