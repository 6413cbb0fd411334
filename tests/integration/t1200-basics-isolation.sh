#!/bin/bash
# t1200: EIRs of different owners are isolated by ordinary Unix permissions
# on the 0700 EIR directories (DESIGN §3): each owner works in their own and
# cannot see into or change the other's (EACCES).
. "$(dirname "$0")/lib.sh"
setup

mk_eir alice-db --owner "$ALICE"
mk_eir bob-fs --owner "$BOB:$BOB"
mount_fs
AD=$MNT/alice-db
BD=$MNT/bob-fs

assert_eq "enrp-alice:enrp-alice 700" "$(stat -c '%U:%G %a' "$AD")" "alice's EIR"
assert_eq "enrp-bob:enrp-bob 700" "$(stat -c '%U:%G %a' "$BD")" "bob's EIR"

for who in "$ALICE:$AD" "$BOB:$BD"; do
	u=${who%%:*}
	d=${who#*:}
	expect_ok as "$u" bash -c 'echo "data of $2" > "$1/file" && mkdir "$1/dir" && echo x > "$1/dir/y"' _ "$d" "$u"
	assert_eq "data of $u" "$(as "$u" cat "$d/file")" "$u reads back own file"
	expect_ok as "$u" ls -la "$d"
done

# Alice against Bob's EIR and the reverse.
for pair in "$ALICE:$BD" "$BOB:$AD"; do
	u=${pair%%:*}
	d=${pair#*:}
	expect_fail EACCES as "$u" ls "$d"
	expect_fail EACCES as "$u" cat "$d/file"
	expect_fail EACCES as "$u" stat "$d/file"
	expect_fail EACCES as "$u" touch "$d/intruder"
	expect_fail EACCES as "$u" mkdir "$d/intruder-dir"
	expect_fail EACCES as "$u" rm -f "$d/file"
	expect_fail EACCES as "$u" bash -c 'cd "$1"' _ "$d"
	expect_fail EACCES as "$u" cat "$d/.enrp/status"
	expect_fail EACCES as "$u" ln "$d/file" "$MNT/$( [ "$u" = "$ALICE" ] && echo alice-db || echo bob-fs)/stolen"
done
assert_true "nothing of the intruders landed" test ! -e "$AD/intruder" -a ! -e "$BD/intruder" \
	-a ! -e "$AD/intruder-dir" -a ! -e "$BD/intruder-dir"
assert_eq "data of $ALICE" "$(cat "$AD/file")" "alice's file untouched"
assert_eq "data of $BOB" "$(cat "$BD/file")" "bob's file untouched"

# A third user with no group access is kept out of both.
expect_fail EACCES as "$AGENT" ls "$AD"
expect_fail EACCES as "$AGENT" ls "$BD"

# Root sees both (the mode, not Unix permissions, limits root).
expect_ok ls "$AD" "$BD"

# Changing the owner with enrpctl hands the directory over.
expect_ok ctl eir set bob-fs --owner "$AGENT"
assert_eq "enrp-agent" "$(stat -c %U "$BD")" "eir set --owner changes the EIR directory's owner"
expect_ok as "$AGENT" ls "$BD"

finish
