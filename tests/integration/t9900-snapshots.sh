#!/bin/bash
# t9900: snapshots (DESIGN §6, issue 9 item 1) through the real mount and the
# real enrpctl: a snapshot shows the EIR's verified tree as it was, under
# .snapshots/NAME/, whatever the owner does after (overwrite, delete, rename,
# rsync --delete); it cannot be changed through the mount by anyone; it
# follows the EIR's mode (wo: names and attributes, no bytes); it survives
# gc and a remount; rsync -a out of it restores the bytes; deleting it frees
# what only it kept.
. "$(dirname "$0")/lib.sh"
setup
ensure_users

pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 60 pending_empty "$1" || fail "$1: still pending after 60 s"; }
jfield() { "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
tree_sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }
eir_id() { ctl --json eir show "$1" | jfield id; }
chunk_bytes() { find "$STORE/chunks/$(eir_id "$1")" -path '*/tmp' -prune -o -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

mk_eir pop --owner "$ALICE"
mount_fs
E=$MNT/pop
as "$ALICE" sh -c "mkdir -p $E/db/2026 && head -c 2000000 /dev/urandom >$E/dump-2026-12-01.dump &&
	head -c 300000 /dev/urandom >$E/db/2026/wal.1 && echo 'SELECT 1;' >$E/db/schema.sql &&
	ln -s dump-2026-12-01.dump $E/latest.dump" || die "write the tree"
settle pop
tree_sums "$E" >"$T/before.sums"

# ---- create, list, show ---------------------------------------------------------------------
expect_ok ctl snapshot create pop nightly-2026-12-01
out=$(ctl --json snapshot show pop@nightly-2026-12-01) || fail "snapshot show: $out"
assert_eq 3 "$(jfield files <<<"$out")" "the snapshot holds the 3 verified files"
assert_eq 0 "$(jfield not_included <<<"$out")" "and left nothing out"
assert_match 'nightly-2026-12-01' "$(ctl snapshot list pop)" "snapshot list shows it"
assert_eq 1 "$(audit_count --event snapshot-create)" "snapshot create is journalled"
out=$(ctl snapshot create pop nightly-2026-12-01 2>&1)
assert_eq 1 "$?" "a second snapshot of that name is refused"
out=$(ctl snapshot create pop latest 2>&1)
assert_eq 2 "$?" "'latest' is reserved (usage error)"
out=$(ctl snapshot create nope x 2>&1)
assert_eq 1 "$?" "a snapshot of no such EIR is refused"
assert_eq "nightly-2026-12-01" "$(ls "$E/.snapshots/")" "ls .snapshots/ shows it"

# ---- the owner changes everything; the snapshot does not move -------------------------------
as "$ALICE" sh -c "head -c 100 /dev/urandom >$E/dump-2026-12-01.dump && rm -r $E/db && echo new >$E/new.txt &&
	mv $E/latest.dump $E/renamed.dump" || fail "the owner's changes"
mkdir "$T/src" && echo other >"$T/src/only" && chmod -R a+rX "$T/src" && chmod 0755 "$T"
expect_ok as "$ALICE" rsync -a --delete "$T/src/" "$E/"
settle pop
S=$E/.snapshots/nightly-2026-12-01
tree_sums "$S" >"$T/snap.sums"
sed "s|^\([0-9a-f]*\)  \./|\1  ./|" "$T/before.sums" >"$T/want.sums"
assert_eq "$(cat "$T/want.sums")" "$(cat "$T/snap.sums")" "after all that the snapshot shows every file with its old bytes"
assert_eq "dump-2026-12-01.dump" "$(readlink "$S/latest.dump")" "and the symlink"
xsha=$(getfattr --absolute-names --only-values -n enrp.sha256 "$S/dump-2026-12-01.dump" 2>&1)
assert_eq "$(sha "$S/dump-2026-12-01.dump")" "$xsha" "a snapshot's file carries the SHA-256 it was sealed with (enrp.sha256)"
assert_eq verified "$(getfattr --absolute-names --only-values -n enrp.state "$S/db/schema.sql" 2>&1)" "and enrp.state verified"
assert_eq "SELECT 1;" "$(cat "$S/db/schema.sql")" "and the deleted directory's files"
assert_eq "only" "$(ls "$E")" "while the live EIR holds only what rsync --delete left"

# ---- nobody changes a snapshot through the mount --------------------------------------------
for who in "$ALICE" root; do
	for cmd in "touch $S/x" "rm -f $S/db/schema.sql" "mv $S/db $S/db2" "chmod 0777 $S/db" \
		"sh -c 'echo x >>$S/db/schema.sql'" "setfattr -n user.x -v 1 $S/db/schema.sql" \
		"mkdir $S/newdir" "ln $S/db/schema.sql $S/db/hard" "mv $E/only $S/only"; do
		out=$(as "$who" sh -c "$cmd" 2>&1)
		[ $? -ne 0 ] && pass "as $who: $cmd refused" || fail "as $who: $cmd succeeded in a snapshot"
	done
done
assert_eq "$(cat "$T/want.sums")" "$(tree_sums "$S")" "the snapshot is unchanged"

# ---- another account cannot enter; the EIR's mode decides about bytes -----------------------
out=$(as "$BOB" ls "$S" 2>&1)
[ $? -ne 0 ] && pass "another account cannot list the snapshot" || fail "$BOB listed $S: $out"
set_mode pop wo
out=$(as "$ALICE" ls "$S/db" 2>&1) && pass "wo: the owner sees names ($out)" || fail "wo: ls of the snapshot failed: $out"
out=$(as "$ALICE" cat "$S/db/schema.sql" 2>&1)
[ $? -ne 0 ] && grep -q "Permission denied" <<<"$out" && pass "wo: the owner cannot read a snapshot's bytes" ||
	fail "wo: the snapshot's bytes came back: $out"
set_mode pop rw

# ---- rsync out of it restores the bytes; it survives gc and a remount -----------------------
expect_ok ctl gc
umount_fs
mount_fs
mkdir "$T/restore"
expect_ok rsync -a "$S/" "$T/restore/"
assert_eq "$(cat "$T/want.sums")" "$(tree_sums "$T/restore")" "rsync -a out of the snapshot after gc and a remount restores every byte"

# ---- a held snapshot cannot be deleted -------------------------------------------------------
expect_ok ctl snapshot create pop long-term
expect_ok ctl hold add pop@long-term --until +3650d --reason "long-term copy, order 12"
out=$(ctl snapshot delete pop@long-term 2>&1)
assert_eq 1 "$?" "deleting a held snapshot is refused"
assert_match "held" "$out" "and the message says it is held"
assert_match "@long-term" "$(ctl hold list pop)" "hold list shows the snapshot's hold"
out=$(ctl hold extend pop@long-term --until +30d 2>&1)
assert_eq 1 "$?" "a snapshot's hold cannot be shortened"
out=$(ctl hold add pop@no-such --until +30d --reason r 2>&1)
assert_eq 1 "$?" "holding a snapshot that does not exist is refused"
assert_eq long-term "$(ctl --json snapshot show pop@long-term | jfield name)" "the held snapshot is still there"

# ---- a second snapshot, then delete the first: what only it kept goes -----------------------
expect_ok ctl snapshot create pop nightly-2026-12-02
assert_eq "long-term nightly-2026-12-01 nightly-2026-12-02" "$(ls "$E/.snapshots/" | tr '\n' ' ' | sed 's/ $//')" "all three listed"
before=$(chunk_bytes pop)
expect_ok ctl snapshot delete pop@nightly-2026-12-01
assert_eq 1 "$(audit_count --event snapshot-delete)" "snapshot delete is journalled"
expect_ok ctl trash purge pop
expect_ok ctl gc
after=$(chunk_bytes pop)
assert_true "deleting the snapshot and purging trash freed its 2.3 MB ($before -> $after)" [ "$after" -lt $((before - 2000000)) ]
assert_eq "other" "$(cat "$E/.snapshots/nightly-2026-12-02/only")" "the second snapshot still reads"
out=$(ls "$E/.snapshots/nightly-2026-12-01" 2>&1)
[ $? -ne 0 ] && pass "the deleted snapshot is gone from .snapshots/" || fail "still listed: $out"
out=$(ctl snapshot delete pop@nightly-2026-12-01 2>&1)
assert_eq 1 "$?" "deleting it again: exit 1"
# ---- prune with keep-last: the rules decide, a held snapshot stays ---------------------------
expect_ok ctl eir set pop --retention keep-last=1
expect_ok ctl snapshot create pop nightly-2026-12-03
out=$(ctl --json prune --dry-run) || fail "prune --dry-run: $out"
assert_eq 1 "$(jfield snapshots <<<"$out")" "dry run: one snapshot would go (nightly-2026-12-02)"
assert_eq 1 "$(jfield held <<<"$out")" "and the held long-term one stays"
assert_match '"what": *"nightly-2026-12-02"' "$out" "it names the one that would go"
assert_eq 3 "$(ctl --json snapshot list pop | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')" "a dry run deletes nothing"
expect_ok ctl prune
assert_eq "long-term nightly-2026-12-03" "$(ctl --json snapshot list pop | "$PY" -c 'import json, sys; print(" ".join(s["name"] for s in json.load(sys.stdin)))')" "prune kept the last and the held one"
assert_true "prune is journalled" [ "$(audit_count --event prune)" -ge 1 ]
out=$(ctl prune nope 2>&1)
assert_eq 1 "$?" "prune of no such EIR: exit 1"

umount_fs
expect_ok ctl fsck
finish
