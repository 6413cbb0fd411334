#!/bin/bash
# t3000: rsync into EIRs, as the owner (DESIGN §3): -a, -aHAX, -W, --inplace,
# delta transfers, --delete, --partial into an rw EIR; -aW (also --delete)
# into a wo EIR, where --inplace may only create and append; what a delta
# (over ssh), --checksum, --partial, --append and --inplace each do in wo,
# exit status and content (README, enrpfs(8) RSYNC INTO A WO EIR); and an
# rsync daemon pushing into the mount.  Each
# copy is checked byte for byte, with its metadata, and by a second rsync that
# finds nothing to do.
. "$(dirname "$0")/lib.sh"
setup

mk_eir rw --owner "$ALICE"
mk_eir wo --owner "$ALICE" --mode wo
mount_fs
SRC=$T/src
mkdir "$SRC"
chown "$ALICE:" "$SRC"
as "$ALICE" "$PY" "$LIB_DIR/mktree.py" "$SRC" 200 1 || die "mktree failed"

# The facts of a tree that rsync -a preserves, comparable across trees.
# (Directory sizes are the filesystem's business, so only files' sizes count.)
tree_meta() {
	(cd "$1" && find . \( -type d -printf '%P|%y|%m|-|%T@|\n' \) -o \
		\( ! -type d -printf '%P|%y|%m|%s|%T@|%l\n' \) | LC_ALL=C sort)
}
tree_sums() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }
# Hard-link groups: each file's first name among the names of its inode.
tree_links() {
	(cd "$1" && find . -type f -links +1 -printf '%i %P\n' | LC_ALL=C sort -k2 |
		awk '{ if (!($1 in first)) first[$1] = $2; print $2, first[$1] }')
}
tree_xattrs() {
	"$PY" - "$1" <<'EOF'
import os, sys
root = sys.argv[1]
for dp, dns, fns in os.walk(root):
    for n in sorted(dns + fns):
        p = os.path.join(dp, n)
        for a in sorted(os.listxattr(p, follow_symlinks=False)):
            if a.startswith("user."):
                print(os.path.relpath(p, root), a, os.getxattr(p, a, follow_symlinks=False).hex())
EOF
}

# verify_tree SRC DST LABEL [H] [X]: DST holds what rsync -a[H][X] makes of SRC.
verify_tree() {
	local src=$1 dst=$2 label=$3 flags=${4:-} out
	out=$(diff -r --no-dereference --exclude=fifo "$src" "$dst" 2>&1)
	assert_eq "" "$out" "$label: diff -r finds no difference"
	assert_text_eq "$(tree_sums "$src")" "$(tree_sums "$dst")" "$label: sha256 of every file matches"
	assert_text_eq "$(tree_meta "$src")" "$(tree_meta "$dst")" "$label: types, modes, sizes, mtimes, link targets match"
	case $flags in *H*)
		assert_text_eq "$(tree_links "$src")" "$(tree_links "$dst")" "$label: hard-link groups match" ;;
	esac
	case $flags in *X*)
		assert_text_eq "$(LC_ALL=C sort <<<"$(tree_xattrs "$src")")" "$(LC_ALL=C sort <<<"$(tree_xattrs "$dst")")" "$label: user xattrs match" ;;
	esac
	out=$(as "$ALICE" rsync -ani"$flags" --delete "$src/" "$dst/" 2>&1)
	assert_eq "" "$out" "$label: a second rsync -ani$flags --delete has nothing to do"
}

# ---- rw EIR ----------------------------------------------------------------------
R=$MNT/rw
expect_ok as "$ALICE" rsync -a "$SRC/" "$R/a/"
verify_tree "$SRC" "$R/a" "rsync -a"
expect_ok as "$ALICE" rsync -aHAX "$SRC/" "$R/hax/"
verify_tree "$SRC" "$R/hax" "rsync -aHAX" HX
expect_ok as "$ALICE" rsync -aW "$SRC/" "$R/w/"
verify_tree "$SRC" "$R/w" "rsync -aW"

# Next backup: the tree changes; transfer again in every style.
as "$ALICE" "$PY" "$LIB_DIR/mktree.py" --mutate "$SRC" 2 || die "mutate failed"
expect_ok as "$ALICE" rsync -aHAX --inplace --delete "$SRC/" "$R/hax/"
verify_tree "$SRC" "$R/hax" "rsync -aHAX --inplace --delete (update)" HX
expect_ok as "$ALICE" rsync -a --no-whole-file --delete "$SRC/" "$R/a/"
verify_tree "$SRC" "$R/a" "rsync -a --no-W --delete (delta update)"
expect_ok as "$ALICE" rsync -a --no-whole-file --inplace --partial --delete "$SRC/" "$R/w/"
verify_tree "$SRC" "$R/w" "rsync -a --no-W --inplace --partial --delete (delta in place)"
assert_true "--delete removed files deleted at the source" test ! -e "$R/hax/links/sub/h2" -a ! -e "$R/a/links/sub/h2"

# The owner compares checksums after the transfer (regulation; DESIGN §3, §5):
# once nothing is pending, .enrp/SHA256SUMS lists every file with its sha256.
log "waiting up to 90 s for verification: $(status_field rw pending_files) pending"
nothing_pending() { [ "$(status_field rw pending_files)" = 0 ]; }
if poll_until 90 nothing_pending; then
	pass "all files verified within 90 s"
	out=$(cd "$R" && as "$ALICE" sha256sum --quiet -c .enrp/SHA256SUMS 2>&1)
	assert_eq "" "$out" "sha256sum -c .enrp/SHA256SUMS passes in the EIR"
	want=$(cd "$R" && find hax -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
	got=$(grep -F '  hax/' "$R/.enrp/SHA256SUMS" | LC_ALL=C sort -k2)
	assert_eq "$want" "$got" ".enrp/SHA256SUMS lists each file of hax/ with its sha256"
else
	fail "files still pending 90 s after the transfer: $(status_field rw pending_files)"
fi

# ---- wo EIR: add and change, never read ------------------------------------------------
W=$MNT/wo
SRC2=$T/src2
mkdir "$SRC2"
chown "$ALICE:" "$SRC2"
as "$ALICE" "$PY" "$LIB_DIR/mktree.py" "$SRC2" 150 7 || die "mktree failed"
expect_ok as "$ALICE" rsync -aW "$SRC2/" "$W/t/"
expect_fail EACCES as "$ALICE" cat "$W/t/empty" "$W/t/readonly.txt"
as "$ALICE" "$PY" "$LIB_DIR/mktree.py" --mutate "$SRC2" 8 || die "mutate failed"
# --inplace rewrites an existing file's bytes where they are, which wo
# refuses (a checksum of old and new bytes mixed would tell the old ones):
# the changed files fail with EACCES, everything else goes through, and the
# ordinary temp-file-and-rename transfer that follows replaces them.
out=$(as "$ALICE" rsync -aW --inplace --delete "$SRC2/" "$W/t/" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'Permission denied (13)' <<<"$out"; then
	pass "rsync -aW --inplace into wo: rewriting existing files in place is refused (exit $rc)"
else
	fail "rsync -aW --inplace into wo: exit $rc, expected EACCES on the changed files: ${out:0:300}"
fi
as "$ALICE" "$PY" "$LIB_DIR/mktree.py" --mutate "$SRC2" 9 || die "mutate failed"
expect_ok as "$ALICE" rsync -aW --delete "$SRC2/" "$W/t/"
expect_ok as "$ALICE" rsync -aHXW "$SRC2/" "$W/hx/"
set_mode wo rw
verify_tree "$SRC2" "$W/t" "rsync -aW into wo (three passes, checked in rw)"
verify_tree "$SRC2" "$W/hx" "rsync -aHXW into wo (checked in rw)" HX
set_mode wo wo

# ---- wo: what each rsync option does (README, enrpfs(8) "RSYNC INTO A WO EIR") --------------
# rsync reads the destination for a delta (the default over ssh), --checksum,
# --append and a --partial resume; in wo nothing can be read, so each falls
# back to sending whole files, or (--append, --inplace) stops.  A fake remote
# shell gives the ssh case (delta on by default) on this host.
printf '#!/bin/sh\nshift\nexec "$@"\n' >"$T/rsh"
chmod 755 "$T/rsh"
O=$T/opts
mkdir "$O"
chown "$ALICE:" "$O"
as "$ALICE" sh -c "head -c 3000000 /dev/urandom >'$O/big'; echo hello >'$O/small'; echo x >'$O/same'; echo n >'$O/zlast'" ||
	die "opts tree"
expect_ok as "$ALICE" rsync -aW "$O/" "$W/o/"
# wo_rsync LABEL WANT_RC GREP_OUT RSYNC_ARGS...: exit status and output (in
# $out) of one run; "-e RSH" among the arguments makes it a remote one.
wo_rsync() {
	local label=$1 want=$2 pat=$3 rc dest=$W/o/
	shift 3
	case " $* " in *" -e "*) dest=localhost:$W/o/ ;; esac
	out=$(as "$ALICE" rsync -ai "$@" "$O/" "$dest" 2>&1)
	rc=$?
	assert_eq "$want" "$rc" "$label: exit $want ${out:0:300}"
	if [ -n "$pat" ]; then
		assert_match "$pat" "$out" "$label: output says: $pat"
	else
		assert_eq "" "$(grep -v '^[<>.ch]f\|^\.d\|^cd' <<<"$out")" "$label: no error lines"
	fi
}
# (same keeps its size: a new mtime, whole seconds apart, lets rsync's quick check see it.)
step=0
changed() {
	step=$((step + 1))
	as "$ALICE" sh -c "echo more >>'$O/small'; head -c 1000 /dev/urandom >>'$O/big'
		echo $((step % 10)) >'$O/same'; touch -d @$((1700000000 + step * 10)) '$O/same'"
}
changed
wo_rsync "wo: rsync -aW" 0 "" -W
changed
wo_rsync "wo: rsync -a over ssh (delta)" 0 'failed to open ".*/o/big", continuing: Permission denied \(13\)' -a -e "$T/rsh"
assert_match '<f\+\+\+\+\+\+\+\+\+ big' "$out" "... and big is sent whole"
as "$ALICE" sh -c "echo z >'$O/same'; touch -r '$W/o/same' '$O/same'"
wo_rsync "wo: rsync -aW --checksum" 0 "" -aW --checksum
assert_match '>fc\.+ same' "$out" "... re-sends the same-sized, same-mtime file"
out=$(as "$ALICE" rsync -ai -W --checksum "$O/" "$W/o/" 2>&1)
assert_match '>fc\.+ zlast' "$out" "... and re-sends every unchanged file each time"
wo_rsync "wo: rsync -a --checksum over ssh" 0 'failed to open ".*/o/zlast", continuing: Permission denied \(13\)' -a -c -e "$T/rsh"
changed
wo_rsync "wo: rsync -aW --partial" 0 "" -aW --partial
changed
wo_rsync "wo: rsync -a --append" 11 'write failed on ".*/o/big": Permission denied \(13\)' -a --append
changed
wo_rsync "wo: rsync -a --append-verify" 11 'write failed on ".*/o/big": Permission denied \(13\)' -a --append-verify
as "$ALICE" sh -c "echo later >>'$O/zlast'"
wo_rsync "wo: rsync -aW --inplace" 11 'write failed on ".*/o/big": Permission denied \(13\)' -aW --inplace
assert_eq 2 "$(stat -c %s "$W/o/zlast")" "... and stops there: zlast, after big, is not sent"
expect_ok as "$ALICE" rsync -aW "$O/" "$W/o/"
set_mode wo rw
verify_tree "$O" "$W/o" "rsync -aW after the refused --append and --inplace runs (checked in rw)"
set_mode wo wo

# An interrupted --partial transfer (over a slow link, cut after 3 s) leaves
# the part received under the file's name with mtime 0; closed, it is
# checksummed and verified like any file: `verified` says the platform holds
# exactly these bytes, and only the owner's sha256sum -c against the source
# says they are not the whole file.  The next run re-sends it whole.
as "$ALICE" head -c 8000000 /dev/urandom >"$O/huge" || die "huge"
out=$(as "$ALICE" timeout -s INT 3 rsync -a --partial -e "$LIB_DIR/slowrsh.py" "$O/huge" "localhost:$W/o/" 2>&1)
size=$(stat -c %s "$W/o/huge" 2>/dev/null)
assert_true "wo: rsync --partial cut after 3 s leaves a part (${size:-no file} of 8000000 bytes) ${out:0:200}" \
	test -n "$size" -a "${size:-0}" -gt 0 -a "${size:-0}" -lt 8000000
assert_eq 0 "$(stat -c %Y "$W/o/huge")" "... with mtime 0 (1970)"
expect_ok as "$ALICE" env -u ENRP_STORE "$ENRPCTL" wait --timeout 60 "$W/o/huge"
assert_eq verified "$(getfattr --absolute-names --only-values -n enrp.state "$W/o/huge")" "... and it is verified"
got=$(grep -F '  o/huge' "$W/.enrp/SHA256SUMS" | cut -d' ' -f1)
assert_true "... with the checksum of the part, not of the source ($got)" test -n "$got" -a "$got" != "$(sha "$O/huge")"
out=$(cd "$T" && grep -F '  o/huge' "$W/.enrp/SHA256SUMS" | sed "s|  o/|  opts/|" | sha256sum -c 2>&1)
assert_match 'opts/huge: FAILED' "$out" "... which the owner's sha256sum -c against the source catches"
wo_rsync "wo: rsync -a --partial over ssh after the cut" 0 'failed to open ".*/o/huge", continuing: Permission denied \(13\)' -a --partial -e "$LIB_DIR/slowrsh.py"
assert_match '<f\+\+\+\+\+\+\+\+\+ huge' "$out" "... and huge is sent again whole"
expect_ok as "$ALICE" env -u ENRP_STORE "$ENRPCTL" wait --timeout 60 "$W/o/huge"
assert_eq "$(sha "$O/huge")" "$(grep -F '  o/huge' "$W/.enrp/SHA256SUMS" | cut -d' ' -f1)" \
	"... and .enrp/SHA256SUMS now has the source's checksum"

# ---- an rsync daemon writing into the mount ---------------------------------------------
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_ok as "$ALICE" mkdir "$R/daemon"
cat >"$T/rsyncd.conf" <<EOF
pid file = $T/rsyncd.pid
use chroot = no
munge symlinks = no
[eir]
	path = $R/daemon
	uid = $ALICE
	gid = $ALICE
	read only = false
EOF
rsync --daemon --no-detach --address=127.0.0.1 --port="$port" --config="$T/rsyncd.conf" \
	--log-file="$T/rsyncd.log" &
CLEANUP_PIDS+=("$!")
daemon_up() { grep -q '^eir' <<<"$(rsync "rsync://127.0.0.1:$port/")"; }
poll_until 20 daemon_up || die "rsync daemon did not come up on port $port"
# (A daemon without chroot sanitises absolute symlink targets: leave them out.)
DSRC=$T/dsrc
cp -a "$SRC" "$DSRC"
rm "$DSRC/links/dangling"
"$PY" "$LIB_DIR/mktree.py" --settle "$DSRC" 1200000000
expect_ok rsync -a "$DSRC/" "rsync://127.0.0.1:$port/eir/tree/"
verify_tree "$DSRC" "$R/daemon/tree" "rsync daemon push"
as "$ALICE" "$PY" "$LIB_DIR/mktree.py" --mutate "$DSRC" 3 || die "mutate failed"
expect_ok rsync -a --delete "$DSRC/" "rsync://127.0.0.1:$port/eir/tree/"
verify_tree "$DSRC" "$R/daemon/tree" "rsync daemon push (delta update with --delete)"
assert_eq "enrp-alice" "$(stat -c %U "$R/daemon/tree/empty")" "daemon wrote as its uid"

finish
