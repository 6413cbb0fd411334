#!/bin/bash
# t9910: snapshot mounts for test restores (DESIGN §6, issue 9 item 2): the
# operator's drill of the issue (snapshot create, snapshot mount, sha256sum
# -c of the mount's .enrp/SHA256SUMS, read, snapshot umount), the same on a
# write-only EIR while its owner keeps writing through the live mount,
# EIR@latest, EROFS for every write (root too), the mount open to its
# mounter alone unless --allow, a mounted snapshot that cannot be deleted,
# the journal records, a damaged chunk read as EIO, and both daemons busy
# at once (the store's daemon sealing a big file while the snapshot mount
# is read whole).
. "$(dirname "$0")/lib.sh"
setup
ensure_users

G=$LIB_DIR/integ9.py
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 120 pending_empty "$1" || fail "$1: still pending after 120 s"; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
tree_sums() { (cd "$1" && find . -path ./.enrp -prune -o -type f -print0 | sort -z | xargs -0 -r sha256sum); }

# Every snapshot mount is registered for the EXIT trap before it is made.
R=$T/restore-test
W=$T/wo-drill
L=$T/latest
D=$T/damage
for m in "$R" "$W" "$L" "$D"; do
	mkdir "$m" && chmod 755 "$m"
	EXTRA_MOUNTS+=("$m")
done

mk_eir pop-registry --owner "$ALICE"
mount_fs
E=$MNT/pop-registry
as "$ALICE" sh -c "mkdir -p $E/db && head -c 3000000 /dev/urandom >$E/dump-2026-12-01.dump &&
	echo 'SELECT 1;' >$E/db/schema.sql && printf 'x' >'$E/db/odd\\name' &&
	ln -s dump-2026-12-01.dump $E/latest.dump" || die "write the tree"
settle pop-registry
tree_sums "$E" >"$T/live.sums"

# ---- the issue's drill ----------------------------------------------------------------------
expect_ok ctl snapshot create pop-registry nightly-2026-12-01
out=$(ctl snapshot mount pop-registry@nightly-2026-12-01 "$R" 2>&1)
assert_eq 0 "$?" "snapshot mount: $out"
assert_true "mounted" is_mounted "$R"
out=$(cd "$R" && sha256sum -c .enrp/SHA256SUMS 2>&1)
assert_eq 0 "$?" "cd MNT && sha256sum -c .enrp/SHA256SUMS passes: $out"
assert_eq 3 "$(grep -c ': OK$' <<<"$out")" "it checked the 3 files"
assert_eq "$(cat "$T/live.sums")" "$(tree_sums "$R")" "every file reads back with its bytes"
assert_eq "SELECT 1;" "$(cat "$R/db/schema.sql")" "read a file"
assert_eq "dump-2026-12-01.dump" "$(readlink "$R/latest.dump")" "and a symlink"
assert_eq "$(cat "$E/.enrp/SHA256SUMS" | sort)" "$(sort "$R/.enrp/SHA256SUMS")" \
	"the mount's SHA256SUMS is the live list of that moment, line for line"
as "$ALICE" sh -c "echo changed >$E/db/schema.sql && rm $E/dump-2026-12-01.dump" || fail "owner's change"
assert_eq "SELECT 1;" "$(cat "$R/db/schema.sql")" "the mount keeps showing the snapshot after live changes"
(cd "$R" && sha256sum --quiet -c .enrp/SHA256SUMS) && pass "still verifies" || fail "no longer verifies"

# ---- read-only, for root too ----------------------------------------------------------------
for cmd in "touch $R/x" "rm -f $R/db/schema.sql" "mv $R/db $R/db2" "chmod 0777 $R/db" \
	"sh -c 'echo x >>$R/db/schema.sql'" "mkdir $R/newdir" "ln -s x $R/sym" "truncate -s 0 $R/db/schema.sql" \
	"sh -c 'echo x >$R/.enrp/SHA256SUMS'"; do
	out=$(sh -c "$cmd" 2>&1)
	[ $? -ne 0 ] && grep -q "Read-only file system" <<<"$out" && pass "as root: $cmd -> EROFS" ||
		fail "as root: $cmd: $out"
done

# ---- only the mounting account --------------------------------------------------------------
out=$(as "$BOB" ls "$R" 2>&1)
[ $? -ne 0 ] && pass "$BOB cannot enter a mount without --allow ($out)" || fail "$BOB listed $R: $out"
out=$(as "$ALICE" cat "$R/db/schema.sql" 2>&1)
[ $? -ne 0 ] && pass "nor can the EIR's owner" || fail "$ALICE read $R: $out"

# ---- a mounted snapshot is not deleted; the journal -----------------------------------------
out=$(ctl snapshot delete pop-registry@nightly-2026-12-01 2>&1)
assert_eq 1 "$?" "deleting a mounted snapshot is refused"
assert_match "mounted at $R" "$out" "saying where: $out"
assert_eq 1 "$(audit_count --event snapshot-mount)" "snapshot mount is journalled"
assert_match "mountpoint=$R" "$(ctl audit show --event snapshot-mount)" "with where"
out=$(ctl snapshot umount "$R" 2>&1)
assert_eq 0 "$?" "snapshot umount: $out"
assert_true "unmounted" not_mounted "$R"
assert_eq 1 "$(audit_count --event snapshot-umount)" "snapshot umount is journalled"
out=$(ctl snapshot umount "$R" 2>&1)
assert_eq 1 "$?" "umount of what is not mounted is refused: $out"

# ---- --allow: another account, by user and by group -----------------------------------------
out=$(ctl snapshot mount pop-registry@nightly-2026-12-01 "$R" --allow "$BOB" 2>&1)
assert_eq 0 "$?" "snapshot mount --allow $BOB: $out"
assert_eq "SELECT 1;" "$(as "$BOB" cat "$R/db/schema.sql" 2>&1)" "$BOB reads with --allow"
(cd "$R" && as "$BOB" sha256sum --quiet -c .enrp/SHA256SUMS) && pass "$BOB verifies the restore" ||
	fail "$BOB: sha256sum -c failed"
out=$(as "$ALICE" ls "$R" 2>&1)
[ $? -ne 0 ] && grep -q "Permission denied" <<<"$out" && pass "$ALICE, not named, gets EACCES" ||
	fail "$ALICE listed $R: $out"
out=$(as "$BOB" touch "$R/x" 2>&1)
[ $? -ne 0 ] && pass "$BOB cannot write either" || fail "$BOB wrote: $out"
assert_match "allow=$BOB" "$(ctl audit show --event snapshot-mount)" "the journal names who was let in"
expect_ok ctl snapshot umount "$R"
grp=$(id -gn "$ALICE")
expect_ok ctl snapshot mount pop-registry@nightly-2026-12-01 "$R" --allow "$grp"
assert_eq "SELECT 1;" "$(as "$ALICE" cat "$R/db/schema.sql" 2>&1)" "a member of an allowed group reads"
expect_ok ctl snapshot umount "$R"
out=$(ctl snapshot mount pop-registry@nightly-2026-12-01 "$R" --allow no-such-user-x 2>&1)
assert_eq 1 "$?" "an unknown account is refused: $out"
assert_true "unmounted" not_mounted "$R"

# ---- deletable again after umount -----------------------------------------------------------
expect_ok ctl snapshot create pop-registry gone-soon
expect_ok ctl snapshot mount pop-registry@gone-soon "$R"
out=$(ctl snapshot delete pop-registry@gone-soon 2>&1)
assert_eq 1 "$?" "a mounted snapshot: refused"
expect_ok ctl snapshot umount "$R"
expect_ok ctl snapshot delete pop-registry@gone-soon

# ---- EIR@latest -----------------------------------------------------------------------------
as "$ALICE" sh -c "echo fresh >$E/fresh.txt" || fail "write fresh.txt"
settle pop-registry
out=$(ctl snapshot mount pop-registry@latest "$L" 2>&1)
assert_eq 0 "$?" "snapshot mount EIR@latest: $out"
assert_match "latest-20" "$(ctl snapshot list pop-registry)" "it took a snapshot named latest-TIME"
assert_eq "fresh" "$(cat "$L/fresh.txt" 2>&1)" "holding what arrived just before"
(cd "$L" && sha256sum --quiet -c .enrp/SHA256SUMS) && pass "latest verifies" || fail "latest: sha256sum -c"
expect_ok ctl snapshot umount "$L"

# ---- a write-only EIR: the drill needs no mode change, the owner keeps writing -------------
mk_eir vault --owner "$ALICE"
V=$MNT/vault
as "$ALICE" sh -c "for i in 1 2 3; do head -c 200000 /dev/urandom >$V/night-\$i.dump; done" || die "vault"
settle vault
set_mode vault wo
expect_ok ctl snapshot create vault drill
(
	for i in $(seq 1 40); do
		as "$ALICE" sh -c "head -c 50000 /dev/urandom >$V/during-$i.bin" || exit 1
	done
) &
writer=$!
CLEANUP_PIDS+=("$writer")
out=$(ctl snapshot mount vault@drill "$W" 2>&1)
assert_eq 0 "$?" "mount of a wo EIR's snapshot: $out"
out=$(cd "$W" && sha256sum -c .enrp/SHA256SUMS 2>&1)
assert_eq 0 "$?" "wo: sha256sum -c passes while the owner writes: $out"
assert_eq 3 "$(grep -c ': OK$' <<<"$out")" "wo: 3 files verified"
wait "$writer" && pass "the owner's 40 writes during the drill succeeded" || fail "the owner's writes failed"
settle vault
assert_eq wo "$(ctl --json eir show vault | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["mode"])')" \
	"the EIR stayed write-only"
set_mode vault rw
n=$(grep -c 'during-' "$V/.enrp/SHA256SUMS")
assert_eq 40 "$n" "all 40 files written during the drill arrived verified"
expect_ok ctl snapshot umount "$W"

# ---- both daemons busy: a big seal live while the snapshot mount is read whole -------------
head -c 60000000 /dev/urandom >"$T/big.src" && chmod 644 "$T/big.src"
as "$ALICE" sh -c "head -c 40000000 /dev/urandom >$E/snapdump.bin" || die "snapdump"
settle pop-registry
expect_ok ctl snapshot create pop-registry busy
expect_ok ctl snapshot mount pop-registry@busy "$R"
as "$ALICE" cp "$T/big.src" "$E/big.live" &
copier=$!
CLEANUP_PIDS+=("$copier")
out=$(cd "$R" && sha256sum -c .enrp/SHA256SUMS 2>&1)
assert_eq 0 "$?" "the snapshot mount reads and verifies everything while the daemon takes a big file"
wait "$copier" || fail "the live copy failed"
settle pop-registry
assert_eq "$(sha "$T/big.src")" "$(grep ' big.live$' "$E/.enrp/SHA256SUMS" | cut -d' ' -f1)" \
	"and the live big file was sealed with its checksum meanwhile"
expect_ok ctl snapshot umount "$R"

# ---- a damaged chunk: EIO through the snapshot mount ----------------------------------------
mk_eir dmg --owner root
head -c 3000000 /dev/urandom >"$MNT/dmg/victim.bin"
settle dmg
expect_ok ctl snapshot create dmg before
v=$(find "$STORE/chunks/$(eir_id dmg)" -path '*/tmp' -prune -o -type f -print | sort | sed -n '2p')
[ -n "$v" ] || die "no chunk to damage"
"$PY" "$G" flipbyte "$v" || die "flipbyte"
expect_ok ctl snapshot mount dmg@before "$D"
expect_fail EIO cat "$D/victim.bin"
out=$(cd "$D" && sha256sum -c .enrp/SHA256SUMS 2>&1)
[ $? -ne 0 ] && pass "sha256sum -c fails on the damaged file" || fail "sha256sum -c passed: $out"
expect_ok ctl snapshot umount "$D"

# ---- extended attributes as they were, enrp.state and enrp.sha256 -----------------------------
mk_eir xa --owner root
echo "attributes" >"$MNT/xa/file"
setfattr -n user.origin -v nightly "$MNT/xa/file" || fail "setfattr"
settle xa
expect_ok ctl snapshot create xa then
setfattr -n user.origin -v changed "$MNT/xa/file" || fail "setfattr again"
setfattr -n user.later -v x "$MNT/xa/file" || fail "setfattr user.later"
assert_eq "nightly" "$(getfattr --absolute-names --only-values -n user.origin "$MNT/xa/.snapshots/then/file" 2>&1)" \
	".snapshots/: user.origin as it was"
assert_eq "changed" "$(getfattr --absolute-names --only-values -n user.origin "$MNT/xa/file" 2>&1)" "live: the new value"
expect_ok ctl snapshot mount xa@then "$D"
assert_eq "nightly" "$(getfattr --absolute-names --only-values -n user.origin "$D/file" 2>&1)" "snapshot mount: user.origin as it was"
assert_eq "user.origin" "$(getfattr --absolute-names -d -m - "$D/file" 2>/dev/null | sed -n 's/=.*//p' | tr '\n' ' ' | sed 's/ $//')" \
	"snapshot mount: only the attributes it had"
assert_eq "verified $(sha "$MNT/xa/file")" \
	"$(getfattr --absolute-names --only-values -n enrp.state "$D/file") $(getfattr --absolute-names --only-values -n enrp.sha256 "$D/file")" \
	"snapshot mount: enrp.state and enrp.sha256"
expect_ok ctl snapshot umount "$D"

# ---- enrpfs -o snapshot= directly, and its refusals -----------------------------------------
out=$("$ENRPFS" -o snapshot=pop-registry@nope "$STORE" "$R" 2>&1)
assert_eq 1 "$?" "enrpfs refuses a snapshot that does not exist: $out"
out=$("$ENRPFS" -o snapshot=pop-registry@nightly-2026-12-01 "$STORE" "$R" 2>&1)
assert_eq 0 "$?" "enrpfs -o snapshot= mounts: $out"
assert_match "enrp-snapshot:pop-registry@nightly-2026-12-01 $R fuse.enrpfs ro," "$(grep " $R " /proc/mounts)" \
	"a ro mount named after its snapshot"
assert_true "the store daemon still serves" have_daemon
fusermount3 -u "$R" && pass "fusermount3 -u" || fail "fusermount3 -u $R"
[ -z "$(grep -l . "$STORE"/run/*.pid 2>/dev/null | xargs -r grep -L "$(daemon_pid)")" ] &&
	pass "the snapshot mount took no daemon lock" || fail "a pid file other than the daemon's"

umount_fs
finish
