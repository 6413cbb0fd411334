#!/bin/bash
# t7300: `enrpctl wait` returns once files are verified (issue 10): an owner,
# as their own user, waits through the mount for a file and for a whole wo
# EIR; root waits through the store by EIR[/PATH]; an open file runs into
# --timeout (exit 1); a corrupt file fails at once (exit 1); bad options exit 2.
. "$(dirname "$0")/lib.sh"
setup

G=$LIB_DIR/integ9.py
MiB=1048576
state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
# owner_ctl ARGS...: enrpctl as alice, with no store (no -S, no $ENRP_STORE).
owner_ctl() { as "$ALICE" env -u ENRP_STORE "$ENRPCTL" "$@"; }

mk_eir wo --owner "$ALICE" --mode wo
mk_eir dmg --owner "$ALICE"
mount_fs
"$PY" "$G" gen 7300 $((48 * MiB + 5)) >"$T/big" || die "gen"
"$PY" "$G" gen 7301 $((3 * MiB + 7)) >"$T/mid" || die "gen"
chmod 644 "$T/big" "$T/mid"

# ---- the owner waits for one file through the mount --------------------------------
expect_ok as "$ALICE" cp "$T/big" "$MNT/wo/big"
before=$(state "$MNT/wo/big")
log "state right after cp: $before"
out=$(owner_ctl wait "$MNT/wo/big" 2>&1)
rc=$?
assert_eq "0 verified" "$rc $(state "$MNT/wo/big")" \
	"owner: enrpctl wait MNT/wo/big exits 0 only once enrp.state says verified (was $before) ${out:0:200}"
assert_eq "$(sha "$T/big")" "$(getfattr --absolute-names --only-values -n enrp.sha256 "$MNT/wo/big")" \
	"the verified checksum is the source's"

# ---- ... and for the whole EIR (every file, several at once) -----------------------
for i in 1 2 3; do as "$ALICE" cp "$T/big" "$MNT/wo/copy$i" || fail "cp copy$i"; done
expect_ok owner_ctl wait "$MNT/wo"
assert_eq "0" "$(status_field wo pending_files)" "after wait MNT/wo: .enrp/status pending_files is 0"
assert_eq "verified verified verified" \
	"$(state "$MNT/wo/copy1") $(state "$MNT/wo/copy2") $(state "$MNT/wo/copy3")" \
	"after wait MNT/wo: every file is verified"
out=$(cd "$MNT" && owner_ctl wait wo/copy1 ./wo 2>&1)
assert_eq "0" "$?" "owner: relative paths (wo/copy1, ./wo) from the mount's root ${out:0:200}"

# ---- root, through the store: EIR and EIR/PATH -------------------------------------
expect_ok as "$ALICE" cp "$T/big" "$MNT/wo/rootwait"
out=$(ctl wait wo/rootwait 2>&1)
rc=$?
assert_eq "0 verified" "$rc $(state "$MNT/wo/rootwait")" "root: enrpctl -S STORE wait wo/rootwait ${out:0:200}"
expect_ok ctl wait wo
out=$(ctl wait wo/nothere 2>&1)
assert_eq 1 "$?" "store: a missing file exits 1"
assert_match "cannot find 'wo/nothere'" "$out" "store: ... saying so"
out=$(ctl wait nosuch 2>&1)
assert_eq 1 "$?" "store: a missing EIR exits 1"
assert_match "no EIR named 'nosuch'" "$out" "store: ... saying so"
out=$(owner_ctl -S "$STORE" wait wo 2>&1)
assert_eq 1 "$?" "an owner cannot open the store (root's alone): exit 1"
assert_match "permission denied|root's alone|runs only as root" "$out" "... and is told why: ${out:0:160}"

# ---- timeout: a file kept open is never verified -------------------------------------
as "$ALICE" sh -c "exec 3>'$MNT/wo/held-open'; echo x >&3
	while [ ! -e '$T/release' ]; do sleep 0.2; done" &
holder=$!
CLEANUP_PIDS+=("$holder")
poll_until 10 test -e "$MNT/wo/held-open" || die "held-open not created"
t0=$SECONDS
out=$(owner_ctl wait --timeout 2 "$MNT/wo/held-open" 2>&1)
rc=$?
took=$((SECONDS - t0))
assert_eq 1 "$rc" "wait --timeout 2 on an open file exits 1"
assert_match "timed out after 2 s: '.*held-open' is not verified yet" "$out" "... saying it timed out"
assert_true "... after about 2 s (took $took s)" test "$took" -ge 1 -a "$took" -le 6
out=$(owner_ctl wait --timeout 1 "$MNT/wo" 2>&1)
assert_eq 1 "$?" "wait --timeout 1 on the EIR with an open file exits 1"
assert_match "still has 1 file\(s\) not verified" "$out" "... naming how many"
out=$(ctl wait --timeout 1 wo 2>&1)
assert_eq 1 "$?" "store: wait --timeout 1 wo exits 1 too"

touch "$T/release"
wait "$holder"
expect_ok owner_ctl wait --timeout 60 "$MNT/wo/held-open"

# ---- usage ------------------------------------------------------------------------
expect_exit 2 owner_ctl wait
expect_exit 2 owner_ctl wait --timeout soon "$MNT/wo"
expect_exit 2 owner_ctl wait --timeout -1 "$MNT/wo"
expect_exit 0 owner_ctl wait --help
out=$(owner_ctl wait "$MNT" 2>&1)
assert_eq 1 "$?" "the mount's root is not an EIR directory: exit 1"

# ---- corrupt: a damaged chunk (as t9200) ---------------------------------------------
expect_ok as "$ALICE" cp "$T/mid" "$MNT/dmg/mid"
expect_ok owner_ctl wait "$MNT/dmg/mid"
umount_fs
eid=$(ctl --json eir show dmg | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
v=$(find "$STORE/chunks/$eid" -type f | sort | sed -n '2p')
[ -n "$v" ] || die "no chunk to damage"
"$PY" "$G" flipbyte "$v" || die "flipbyte"
mount_fs
expect_fail EIO cat "$MNT/dmg/mid"
poll_until 10 test "$(state "$MNT/dmg/mid")" = corrupt
out=$(owner_ctl wait --timeout 30 "$MNT/dmg/mid" 2>&1)
assert_eq 1 "$?" "wait on a corrupt file exits 1"
assert_match "is corrupt" "$out" "... saying it is corrupt: ${out:0:160}"
out=$(ctl wait --timeout 30 dmg 2>&1)
assert_eq 1 "$?" "store: wait on an EIR with a corrupt file exits 1"
assert_match "'dmg' holds corrupt files" "$out" "... saying so"
out=$(owner_ctl wait --timeout 30 "$MNT/dmg" 2>&1)
assert_eq 1 "$?" "mount: wait on the EIR directory with a corrupt file exits 1"
# Sending it again makes it whole.
expect_ok as "$ALICE" cp "$T/mid" "$MNT/dmg/mid2"
expect_ok as "$ALICE" mv "$MNT/dmg/mid2" "$MNT/dmg/mid"
expect_ok owner_ctl wait --timeout 60 "$MNT/dmg/mid"

finish
