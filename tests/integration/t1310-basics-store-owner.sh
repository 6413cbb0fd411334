#!/bin/bash
# t1310: a store belongs to root alone (DESIGN §2).  enrpctl init refuses an
# empty directory another account owns (which could then move meta/, spool/
# or run/ under the daemon) and a path below a directory others may write or
# own; enrpctl and enrpfs refuse a store whose directory, meta/, spool/,
# chunks/, run/ or LMDB files another account owns or may write, or that is
# reached through a symlink another account controls.  Each refusal exits 1
# with a message naming what is wrong and how to fix it, and changes
# nothing: no mount, no journal record, owners and modes as they were.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner "$ALICE"
mount_fs
echo data >"$MNT/e/f" || die "write"
umount_fs
N=$(audit_count)
perms() { find "$1" -xdev -printf '%p %u %m %y\n' | sort; }
PERMS=$(perms "$STORE")

# refused WHO-REGEX: enrpctl (several commands) and enrpfs refuse $STORE,
# exit 1, name WHO-REGEX and say what to do; nothing gets mounted.
refused() {
	local what=$1 out rc cmd
	for cmd in "eir list" "status" "audit verify" "eir set e --mode ro"; do
		# shellcheck disable=SC2086
		out=$(ctl $cmd 2>&1)
		rc=$?
		assert_eq 1 "$rc" "$what: enrpctl $cmd exits 1"
	done
	assert_match "^enrpctl: cannot open store '.*': .*$what" "$(head -n1 <<<"$out")" "$what: enrpctl says why"
	assert_match "^hint: (chown root:root|chmod go-|put the real directory).*root's alone" "$(sed -n 2p <<<"$out")" \
		"$what: enrpctl says how to fix it"
	out=$("$ENRPFS" "$STORE" "$MNT" 2>&1)
	rc=$?
	assert_eq 1 "$rc" "$what: enrpfs exits 1"
	assert_match "^enrpfs: cannot open store '.*': .*$what" "$(head -n1 <<<"$out")" "$what: enrpfs says why"
	assert_match "^hint: .*root's alone" "$(sed -n 2p <<<"$out")" "$what: enrpfs says how to fix it"
	assert_true "$what: nothing mounted" not_mounted "$MNT"
}

# ---- the store directory --------------------------------------------------------------
chown "$ALICE" "$STORE"
refused "it is owned by $ALICE \(uid [0-9]+\), not root"
# What that owner could do: move meta/ away under the daemon.
expect_ok as "$ALICE" mv "$STORE/meta" "$STORE/meta.hers"
expect_ok as "$ALICE" mv "$STORE/meta.hers" "$STORE/meta"
chown root "$STORE"
for m in 0750 0705 0770 0755; do
	chmod "$m" "$STORE"
	refused "is (open to|writable by) .*mode $m"
done
chmod 0700 "$STORE"

# ---- its parts ---------------------------------------------------------------------------
for d in meta spool chunks run; do
	chown "$ALICE" "$STORE/$d"
	refused "'$STORE/$d' is owned by $ALICE"
	chown root "$STORE/$d"
	chmod 0770 "$STORE/$d"
	refused "'$STORE/$d' is writable by its group"
	chmod 0700 "$STORE/$d"
	mv "$STORE/$d" "$T/$d.real"
	ln -s "$T/$d.real" "$STORE/$d"
	refused "'$STORE/$d' is a symlink"
	rm "$STORE/$d"
	mv "$T/$d.real" "$STORE/$d"
done
for f in data.mdb lock.mdb; do
	chown "$ALICE" "$STORE/meta/$f"
	refused "'$STORE/meta/$f' is owned by $ALICE"
	chown root "$STORE/meta/$f"
done

# ---- the way to it ------------------------------------------------------------------------
chown "$ALICE" "$T"
refused "'$T' is owned by $ALICE"
chown root "$T"
chmod 0777 "$T"
refused "'$T' is writable by its group and others \(mode 0777\)"
chmod 1777 "$T"
expect_ok ctl eir list   # sticky, like /tmp: root's entries cannot be moved by others
chmod 0755 "$T"
mkdir "$T/hers"
ln -s "$STORE" "$T/hers/store"
chown -h "$ALICE" "$T/hers/store"
chown "$ALICE" "$T/hers"
out=$( (exec -a enrpctl "$ENRPCTL" -S "$T/hers/store" eir list) 2>&1)
assert_eq 1 "$?" "a store reached through $ALICE's directory: enrpctl exits 1"
assert_match "'$T/hers' is owned by $ALICE" "$out" "... naming her directory"
out=$("$ENRPFS" "$T/hers/store" "$MNT" 2>&1)
assert_eq 1 "$?" "a store reached through $ALICE's directory: enrpfs exits 1 ($out)"
assert_true "... nothing mounted" not_mounted "$MNT"

# ---- nothing was changed -------------------------------------------------------------------
assert_text_eq "$PERMS" "$(perms "$STORE")" "owners and modes of the store as before the refusals"
assert_eq "$N" "$(audit_count)" "no refusal journalled anything"
expect_ok ctl audit verify
mount_fs
assert_eq data "$(cat "$MNT/e/f")" "the store mounts and serves once it is root's again"
umount_fs

# ---- init -------------------------------------------------------------------------------------
mkdir "$T/empty"
chown "$ALICE" "$T/empty"
chmod 0755 "$T/empty"
out=$(ctl_nostore init "$T/empty" 2>&1)
assert_eq 1 "$?" "init in $ALICE's empty directory exits 1"
assert_match "^enrpctl: cannot create store '$T/empty': it is owned by $ALICE" "$out" "... saying who owns it"
assert_match "^hint: chown root:root '$T/empty'" "$(sed -n 2p <<<"$out")" "... and how to fix it"
assert_eq "$ALICE 755 0" "$(stat -c '%U %a' "$T/empty") $(find "$T/empty" -mindepth 1 | wc -l)" \
	"... left as it was: her directory, mode 755, empty"
mkdir "$T/parent"
chown "$ALICE" "$T/parent"
out=$(ctl_nostore init "$T/parent/store" 2>&1)
assert_eq 1 "$?" "init below $ALICE's directory exits 1 ($out)"
assert_eq "" "$(ls -A "$T/parent")" "... nothing created"
mkdir -m 0777 "$T/open"
chmod 0777 "$T/open"
out=$(ctl_nostore init "$T/open/store" 2>&1)
assert_eq 1 "$?" "init below a world-writable directory exits 1 ($out)"
assert_eq "" "$(ls -A "$T/open")" "... nothing created"
chown root "$T/empty"
expect_ok ctl_nostore init "$T/empty"
assert_eq "root 700" "$(stat -c '%U %a' "$T/empty")" "init in root's empty directory makes it 0700"
mkdir -m 1777 "$T/sticky"
chmod 1777 "$T/sticky"
expect_ok ctl_nostore init "$T/sticky/store"

finish
