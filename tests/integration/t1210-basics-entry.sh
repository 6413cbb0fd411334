#!/bin/bash
# t1210: the registry, not mode bits or group memberships, decides who may
# enter an EIR (DESIGN §3): its owner, and the agent of an active EIR.  The
# agent works in the EIR it replicates (rsync -a into the EIR itself exits
# 0); another account never gets in, also when it belongs to the owner's
# group, whatever a client or an administrator does to the directory's mode,
# owner or ACL; a registry change (agent, owner, mode) is in force at once;
# and --dir-mode cannot open an EIR to other accounts.
. "$(dirname "$0")/lib.sh"
setup

# The owner's group is the team group, of which Bob and the agent are
# members: a hand-made membership must not let anyone in.
mk_eir act --owner "$ALICE:$TEAM" --mode active --agent "$AGENT"
mk_eir plain --owner "$ALICE:$TEAM"
mount_fs
A=$MNT/act
P=$MNT/plain

# ---- how the directories look -------------------------------------------
assert_eq "enrp-agent:$TEAM 770" "$(stat -c '%U:%G %a' "$A")" \
	"the active EIR's directory belongs to its agent (mask rwx for the named owner)"
acl=$(getfacl -cp "$A" 2>/dev/null | grep -v '^$')
assert_text_eq "user::rwx
user:$ALICE:rwx
group::---
mask::rwx
other::---" "$acl" "its ACL names the owner; the owner's group gets nothing"
assert_eq "$ALICE:$TEAM 700" "$(stat -c '%U:%G %a' "$P")" "an rw EIR's directory: owner only, 0700"
assert_eq "" "$(getfacl -cp --skip-base "$P" 2>/dev/null)" "and no ACL"

src=$T/src
mkdir -p "$src/sub"
echo one >"$src/a"
echo two >"$src/sub/b"
chmod 0777 "$src"

# ---- the agent --------------------------------------------------------------
chown -R "$AGENT:" "$src"
expect_ok as "$AGENT" ls -la "$A"
expect_ok as "$AGENT" sh -c "echo replicated > '$A/r1'"
expect_ok as "$AGENT" mkdir "$A/d"
expect_ok as "$AGENT" rsync -a "$src/" "$A/"
expect_ok as "$AGENT" rsync -a "$src/" "$A/"
expect_ok as "$AGENT" rsync -a --delete "$src/" "$A/d/"
expect_ok as "$AGENT" rm "$A/r1"
assert_eq "one" "$(as "$AGENT" cat "$A/a")" "the agent reads what it replicated"
# The owner reads, and may write only while escalated.
assert_eq "one" "$(as "$ALICE" cat "$A/a")" "the owner reads its active EIR"
expect_fail EROFS as "$ALICE" touch "$A/owner-file"
expect_ok ctl eir escalate act --for 1h --reason "restore drill"
expect_ok as "$ALICE" touch "$A/owner-file"
expect_ok ctl eir deescalate act
expect_fail EROFS as "$ALICE" touch "$A/owner-file2"

# ---- everyone else stays out ------------------------------------------------
for d in "$A" "$P"; do
	expect_fail EACCES as "$BOB" ls "$d"
	expect_fail EACCES as "$BOB" stat "$d/a"
	expect_fail EACCES as "$BOB" cat "$d/a"
	expect_fail EACCES as "$BOB" touch "$d/intruder"
	expect_fail EACCES as "$BOB" bash -c 'cd "$1"' _ "$d"
	expect_fail EACCES as "$BOB" cat "$d/.enrp/status"
done
expect_fail EACCES as "$AGENT" ls "$P"

# Whatever bits or ACL the owner, the agent or root send, nobody new gets in.
expect_ok as "$ALICE" chmod 0777 "$P"
expect_ok as "$AGENT" chmod 0777 "$A"
expect_ok as "$ALICE" setfacl -m "u:$BOB:rwx" "$P"
expect_ok as "$AGENT" setfacl -m "u:$BOB:rwx,m::rwx" "$A"
expect_ok chmod 0777 "$P"
expect_ok chown "$BOB:$BOB" "$P"
expect_fail EROFS setfacl -m "u:$BOB:rwx" "$A" # root is not the agent
expect_fail EACCES as "$BOB" ls "$P"
expect_fail EACCES as "$BOB" ls "$A"
expect_fail EACCES as "$BOB" touch "$P/intruder"
sleep 1.2 # past the kernel's attribute cache: still the registry's answer
expect_fail EACCES as "$BOB" ls "$P"
expect_fail EACCES as "$BOB" ls "$A"
assert_eq "$ALICE:$TEAM 700" "$(stat -c '%U:%G %a' "$P")" "chmod/chown/setfacl changed nothing"
assert_eq "" "$(getfacl -cp --skip-base "$P" 2>/dev/null)" "still no ACL on the rw EIR"

# ---- registry changes are in force at once -----------------------------------
expect_ok ctl eir set act --agent "$BOB"
expect_ok as "$BOB" ls "$A"
expect_ok as "$BOB" touch "$A/new-agent"
expect_fail EACCES as "$AGENT" ls "$A"
expect_fail EACCES as "$AGENT" cat "$A/a"
expect_ok ctl eir set act --agent "$AGENT"
expect_fail EACCES as "$BOB" ls "$A"
expect_ok as "$AGENT" ls "$A"
# Out of active mode the agent is nobody's agent.
expect_ok ctl eir set act --mode rw
assert_eq "$ALICE:$TEAM 700" "$(stat -c '%U:%G %a' "$A")" "rw again: the owner's, 0700"
expect_fail EACCES as "$AGENT" ls "$A"
expect_ok as "$ALICE" touch "$A/owner-rw"
expect_ok ctl eir set act --mode active
expect_ok as "$AGENT" ls "$A"
# A new owner: the old one is out.
expect_ok ctl eir set plain --owner "$BOB"
expect_ok as "$BOB" ls "$P"
expect_fail EACCES as "$ALICE" ls "$P"
expect_ok ctl eir set plain --owner "$ALICE:$TEAM"

# ---- --dir-mode cannot open an EIR ---------------------------------------------
for m in 0770 0777 0730 0703 0702 2700 1700 4700 6755; do
	expect_exit 2 ctl eir set plain --dir-mode "$m"
	expect_exit 2 ctl eir create "wide$m" --owner "$ALICE" --dir-mode "$m"
done
assert_true "refused dir modes created nothing" test ! -e "$MNT/wide0777"
out=$(ctl eir set plain --dir-mode 0777 2>&1)
assert_match "would let others" "$out" "the refusal says why"
assert_eq "$ALICE:$TEAM 700" "$(stat -c '%U:%G %a' "$P")" "refused dir modes changed nothing"
# An administrator may choose to let the owner's group look (not write).
expect_ok ctl eir set plain --dir-mode 0750
assert_eq "$ALICE:$TEAM 750" "$(stat -c '%U:%G %a' "$P")" "0750 is allowed"
expect_ok as "$BOB" ls "$P"
expect_fail EACCES as "$BOB" touch "$P/intruder"
expect_ok ctl eir set plain --dir-mode 0700
expect_fail EACCES as "$BOB" ls "$P"
finish
