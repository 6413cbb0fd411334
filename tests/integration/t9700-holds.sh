#!/bin/bash
# t9700: holds (issue 9, item 8).  A held file cannot be removed, truncated,
# overwritten or renamed over — by its owner or by root, through every path
# a client has (rm, mv, cp, >, truncate, dd conv=notrunc, rsync, a second
# hard link, fallocate, open(O_WRONLY)) — in rw and wo alike (EPERM; ro says
# EROFS first).  Its name and metadata may change.  Holds are extended,
# never shortened; only verified files can be held; an expired hold lets go.
. "$(dirname "$0")/lib.sh"
setup
ensure_users

pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 60 pending_empty "$1" || fail "$1: still pending after 60 s"; }
state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
jcount() { "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

# refused WHO ERRNO-TEXT DESCRIPTION CMD...: CMD fails, stderr names ERRNO-TEXT.
refused() {
	local who=$1 want=$2 desc=$3 out rc
	shift 3
	out=$(as "$who" "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && grep -q "$want" <<<"$out"; then
		pass "$desc: refused ($want)"
	else
		fail "$desc: exit $rc, expected '$want'; output: ${out:0:300}"
	fi
}

mk_eir d --owner "$ALICE"
mount_fs
D=$MNT/d
as "$ALICE" sh -c "head -c 3000000 /dev/urandom >$D/dump.sql && echo other >$D/other && mkdir $D/sub" || die "write"
settle d
want=$(sha "$D/dump.sql")
echo "replacement" >"$T/src" && chmod 0644 "$T/src" && chmod 0755 "$T"

# ---- what can be held ------------------------------------------------------------------------
out=$(ctl hold add d/sub --until +30d --reason "a directory" 2>&1)
assert_eq 1 "$?" "a directory cannot be held (exit 1)"
assert_match "directory" "$out" "and the message says it is a directory"
out=$(ctl hold add d/nope --until +30d --reason r 2>&1)
assert_eq 1 "$?" "a missing file cannot be held"
as "$ALICE" sh -c "sleep 3 >$D/open-file" &
writer=$!
sleep 0.5
out=$(ctl hold add d/open-file --until +30d --reason r 2>&1)
assert_eq 1 "$?" "a file still being written cannot be held"
assert_match "not verified" "$out" "and the message says why"
wait "$writer"
out=$(ctl hold add d/dump.sql --until 2020-01-01 --reason r 2>&1)
assert_eq 2 "$?" "an --until in the past is a usage error"
out=$(ctl hold add d/dump.sql --until +30d 2>&1)
assert_eq 2 "$?" "add without --reason is a usage error"
out=$(ctl hold add d/../d/dump.sql --until +30d --reason r 2>&1)
assert_eq 1 "$?" "a path with '..' is refused"
assert_eq 0 "$(ctl --json hold list | jcount)" "none of these made a hold"

expect_ok ctl hold add d/dump.sql --until +3650d --reason "long-term storage, order 12"
assert_eq 1 "$(ctl --json hold list d | jcount)" "hold list shows it"
assert_match '"reason": *"long-term storage, order 12"' "$(ctl --json hold list)" "with its reason"
assert_eq 1 "$(audit_count --event hold-add)" "hold add is journalled"

# ---- every way to destroy it, as the owner and as root, in rw and wo -------------------------
attack() {
	local who=$1 err=$2 tag="$3 as $1"
	refused "$who" "$err" "rm ($tag)" rm -f "$D/dump.sql"
	refused "$who" "$err" "mv over it ($tag)" mv -f "$D/other" "$D/dump.sql"
	refused "$who" "$err" "cp over it ($tag)" cp "$T/src" "$D/dump.sql"
	refused "$who" "$err" "> it ($tag)" sh -c ": >$D/dump.sql"
	refused "$who" "$err" "truncate -s 0 ($tag)" truncate -s 0 "$D/dump.sql"
	refused "$who" "$err" "truncate -s 1 ($tag)" truncate -s 1 "$D/dump.sql"
	refused "$who" "$err" "dd conv=notrunc ($tag)" dd if=/dev/zero of="$D/dump.sql" bs=1 count=1 conv=notrunc status=none
	refused "$who" "$err" "append ($tag)" sh -c "echo x >>$D/dump.sql"
	# Both need read access too, which wo refuses first (EACCES).
	refused "$who" "$rw_err" "fallocate --punch-hole ($tag)" fallocate -p -o 0 -l 4096 "$D/dump.sql"
	refused "$who" "$rw_err" "open O_RDWR ($tag)" "$PY" -c "import os, sys; os.open(sys.argv[1], os.O_RDWR)" "$D/dump.sql"
	out=$(as "$who" rsync -a --no-whole-file "$T/src" "$D/dump.sql" 2>&1)
	[ $? -ne 0 ] && pass "rsync over it fails ($tag)" || fail "rsync over a held file succeeded ($tag)"
}
rw_err="Operation not permitted"
attack "$ALICE" "Operation not permitted" rw
attack root "Operation not permitted" rw
# A second name is allowed, but removing any name of a held file is not.
expect_ok as "$ALICE" ln "$D/dump.sql" "$D/second-name"
refused "$ALICE" "Operation not permitted" "rm of a second hard link" rm -f "$D/second-name"
# Moving it is allowed: the data stays, the hold follows the inode.
expect_ok as "$ALICE" mv "$D/dump.sql" "$D/sub/moved.sql"
refused root "Operation not permitted" "rm after it moved" rm -f "$D/sub/moved.sql"
expect_ok as "$ALICE" mv "$D/sub/moved.sql" "$D/dump.sql"
# Metadata may change.
expect_ok as "$ALICE" chmod 0600 "$D/dump.sql"
expect_ok as "$ALICE" touch -d 2020-01-01 "$D/dump.sql"

set_mode d wo
rw_err="Permission denied"
attack "$ALICE" "Operation not permitted" wo
set_mode d ro
refused "$ALICE" "Read-only file system" "rm (ro)" rm -f "$D/dump.sql"
set_mode d rw
assert_eq "$want" "$(sha "$D/dump.sql")" "after all that the held file is unchanged"
assert_eq verified "$(state "$D/dump.sql")" "and still verified"
# The daemon journals denials on its once-a-second tick, in bulk.
denials_journalled() { [ "$(audit_count --event denied)" -ge 1 ]; }
assert_true "the denials are journalled" poll_until 10 denials_journalled

# ---- extend, never shorten ------------------------------------------------------------------
out=$(ctl hold extend d/dump.sql --until +30d 2>&1)
assert_eq 1 "$?" "shortening a hold is refused"
assert_match "cannot shorten" "$out" "and says so"
expect_ok ctl hold extend d/dump.sql --until +4000d
assert_eq 1 "$(audit_count --event hold-extend)" "an extension is journalled"
out=$(ctl hold extend d/other --until +30d 2>&1)
assert_eq 1 "$?" "extend of a file without a hold is refused"

# ---- an expired hold lets go ----------------------------------------------------------------
expect_ok ctl hold add d/other --until +3s --reason "short"
refused "$ALICE" "Operation not permitted" "rm while the short hold runs" rm -f "$D/other"
sleep 3.2
expect_ok as "$ALICE" rm -f "$D/other"
expired_unlinked() { grep -q "expired, unlinked" <<<"$(ctl hold list d)"; }
poll_until 10 expired_unlinked && pass "hold list shows the expired hold's file is gone" ||
	fail "hold list does not show the file gone: $(ctl hold list d)"
assert_match "long-term storage, order 12" "$(ctl hold list d)" "an extension without --reason keeps the first reason"

# ---- the lock: every file held for DAYS after its seal --------------------------------------
assert_match "^lock: none$" "$(ctl eir show d)" "eir show says there is no lock"
expect_ok ctl eir set d --lock 30
assert_match "^lock: 30 days$" "$(ctl eir show d)" "eir show gives the lock (the purge hint sends operators there)"
assert_match '"lock_days": *30' "$(ctl --json eir show d)" "and so does its JSON"
as "$ALICE" sh -c "echo locked >$D/locked-file" || fail "write under the lock"
settle d
refused "$ALICE" "Operation not permitted" "rm of a file sealed under the lock" rm -f "$D/locked-file"
refused root "Operation not permitted" "> of it as root" sh -c ": >$D/locked-file"
out=$(ctl eir set d --lock 10 2>&1)
assert_eq 1 "$?" "a lock cannot be shortened"
assert_match "only ever lengthened" "$out" "and the message says so"
out=$(ctl eir set d --lock lots 2>&1)
assert_eq 2 "$?" "--lock must be a number of days"
out=$(ctl eir create d9 --owner root --lock 5 2>&1)
assert_eq 2 "$?" "eir create --lock is a usage error (set it once the EIR exists)"
assert_eq 1 "$(audit_count --event lock-set)" "the lock is journalled"

umount_fs
expect_ok ctl fsck
finish
