#!/bin/bash
# t7900: separation of duties (issue 11 item 7) through the real commands:
# accounts that are not root run enrpctl as themselves; it goes through the
# store's enrpfs, which names them by the kernel's peer credentials, and
# each command runs only for the roles that may run it.  The store stays
# root's alone (0700) throughout.  An operator takes snapshots and reads
# the status but cannot change an EIR nor read the journal; an auditor reads
# the journal but takes no snapshot; an account in no group gets nothing;
# every refusal is journalled as denied with the command.  Administrators
# change EIRs as themselves (the journal names them, not root), and four
# eyes holds between two of them.  Through the daemon no host file can be
# named (root would read or write it for them), no store created, nothing
# mounted.  Exit statuses and --json pass through; without a daemon the
# message says what to do.
. "$(dirname "$0")/lib.sh"
setup

PY=${PY:-python3}
ADM=enrpt-adm OPS=enrpt-ops AUD=enrpt-aud
for g in $ADM $OPS $AUD; do
	getent group $g >/dev/null || groupadd $g || die "groupadd $g"
done
gpasswd -M "$ALICE,$BOB" $ADM >/dev/null || die "gpasswd $ADM"
gpasswd -M "$AGENT" $OPS >/dev/null || die "gpasswd $OPS"
gpasswd -M "" $AUD >/dev/null || die "gpasswd $AUD"

# member USER ARGS...: enrpctl run by USER (not root), as they would.
member() {
	local u=$1
	shift
	as "$u" "$ENRPCTL" -S "$STORE" "$@"
}
jcount() { ctl audit show --json "$@" | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
last_field() {
	ctl audit show --json --event "$1" | "$PY" -c 'import json, sys; r = json.load(sys.stdin)[-1]; print(eval(sys.argv[1]))' "$2"
}

out=$(ctl roles --admin $ADM --operator $OPS --auditor $AUD)
assert_eq 0 $? "roles set"
assert_eq "admin: $ADM operator: $OPS auditor: $AUD" "$(echo $out)" "roles shows the groups"
assert_eq 1 "$(jcount --event roles-set)" "journalled as roles-set"
expect_exit 2 ctl roles --admin "-bad"

mk_eir pop --owner "$ALICE"
mk_eir reg --owner "$ALICE" --class 1 --mode wo
mount_fs
mode0=$(stat -c '%a %U' "$STORE")

# ---- an operator ---------------------------------------------------------------------

out=$(member "$AGENT" status --json)
assert_eq 0 $? "an operator reads the status (through enrpfs)"
assert_eq "pop reg" "$(printf '%s' "$out" | "$PY" -c 'import json, sys; print(" ".join(e["name"] for e in json.load(sys.stdin)["eirs"]))')" \
	"--json passes through"
expect_ok member "$AGENT" snapshot create pop drill-1
assert_eq "$(uid_of "$AGENT") enrpctl snapshot create" \
	"$(last_field snapshot-create 'str(r["uid"]) + " " + r["command"]')" \
	"the journal names the operator, not root"
echo "drill data" >"$MNT/pop/d.txt" && expect_ok ctl wait --timeout 60 "$MNT/pop/d.txt"
expect_ok member "$AGENT" snapshot create pop drill-2
SM=/run/enrp/mounts/$(uid_of "$AGENT")/pop@drill-2
out=$(member "$AGENT" snapshot mount pop@drill-2 "$T" 2>&1)
assert_eq 1 $? "an operator names no mount point of the host"
assert_match "give no MOUNTPOINT" "$out" "saying where it goes instead"
out=$(member "$AGENT" snapshot mount pop@drill-2)
assert_eq 0 $? "an operator mounts a snapshot (through enrpfs)"
assert_match "at $SM \(read-only\)" "$out" "under a directory of root's for that account"
assert_eq "drill data" "$(as "$AGENT" cat "$SM/d.txt")" "the operator reads the snapshot"
expect_fail EACCES as "$BOB" cat "$SM/d.txt"
assert_eq "$(uid_of "$AGENT")" "$(last_field snapshot-mount 'str(r["uid"])')" "the mount is journalled as the operator's"
out=$(member "$AGENT" snapshot umount "$MNT" 2>&1)
assert_eq 1 $? "an operator unmounts only their own snapshot mounts"
expect_ok member "$AGENT" snapshot umount "$SM"
assert_true "unmounted, and its directory removed" test ! -e "$SM"
out=$(member "$AGENT" eir set pop --quota 1G 2>&1)
assert_eq 1 $? "an operator cannot change an EIR"
assert_match "permission denied: 'enrpctl eir set' needs the role admin \(group $ADM\)" "$out" \
	"saying which role and group"
assert_eq "enrpctl eir set" "$(last_field denied 'r["details"]["op"]')" "the refusal is journalled with the command"
out=$(member "$AGENT" audit show 2>&1)
assert_eq 1 $? "an operator cannot read the journal"
assert_match "needs the role admin,auditor" "$out" "auditors and administrators read it"
assert_match "quota: *(none|unlimited|-)" "$(ctl eir show pop | grep quota)" "nothing changed"

# ---- an auditor, and an account in no group ------------------------------------------------

gpasswd -M "" $OPS >/dev/null && gpasswd -M "$AGENT" $AUD >/dev/null || die "regroup"
expect_ok member "$AGENT" audit verify
assert_match "^<!DOCTYPE html>" "$(member "$AGENT" report --html - | head -1)" \
	"an auditor gets the report page on standard output"
out=$(member "$AGENT" snapshot create pop drill-2 2>&1)
assert_eq 1 $? "an auditor takes no snapshot"
gpasswd -M "" $AUD >/dev/null || die "ungroup"
out=$(member "$AGENT" status 2>&1)
assert_eq 1 $? "an account in no group gets nothing, not even the status"
assert_match "permission denied" "$out" "permission denied"

# ---- administrators, four eyes between them ------------------------------------------------

expect_ok member "$ALICE" eir set pop --quota 1G
assert_eq "$(uid_of "$ALICE")" "$(last_field eir-set 'str(r["uid"])')" "the change is the administrator's"
out=$(member "$ALICE" eir set reg --mode rw 2>&1)
assert_eq 1 $? "class 1 to rw: a request"
rid=$(ctl requests --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[-1]["id"])')
assert_eq "$ALICE" "$(ctl requests --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[-1]["requester"])')" \
	"the requester is the administrator's own account"
out=$(member "$ALICE" approve "$rid" 2>&1)
assert_match "is your own" "$out" "who cannot approve it"
expect_ok member "$BOB" approve "$rid"
expect_ok member "$ALICE" eir set reg --mode rw
assert_match "mode: *rw" "$(ctl eir show reg)" "approved by the second: done"

# ---- what root must not do for them ------------------------------------------------------------

printf 'name,owner\nx1,%s\n' "$ALICE" >"$T/in.csv"
chmod 644 "$T/in.csv"
out=$(member "$ALICE" eir import "$T/in.csv" 2>&1)
assert_eq 1 $? "import of a host file: refused"
assert_match "names a file of the host" "$out" "saying why"
out=$(member "$ALICE" eir import - <"$T/in.csv" 2>&1)
assert_eq 0 $? "the same on standard input works ($out)"
out=$(member "$ALICE" audit export -o /tmp/enrp-t7900-x 2>&1)
assert_eq 1 $? "audit export -o FILE: refused"
assert_true "nothing written" test ! -e /tmp/enrp-t7900-x
out=$(member "$ALICE" scrub --keyfile /etc/shadow 2>&1)
assert_eq 1 $? "--keyfile: refused"
expect_exit 1 member "$ALICE" init "$T/another"
assert_true "no store made" test ! -e "$T/another"
expect_exit 2 member "$ALICE" eir set pop --bogus
assert_eq "$mode0" "$(stat -c '%a %U' "$STORE")" "the store stayed root's alone"

# ---- no daemon ------------------------------------------------------------------------------------

umount_fs
out=$(member "$ALICE" status 2>&1)
assert_eq 1 $? "without enrpfs: exit 1"
assert_match "no enrpfs serves it to other accounts" "$out" "saying so"
expect_ok ctl audit verify
for g in $ADM $OPS $AUD; do groupdel $g 2>/dev/null; done

finish
