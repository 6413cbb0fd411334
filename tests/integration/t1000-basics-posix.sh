#!/bin/bash
# t1000: the POSIX surface of an EIR (DESIGN §3): files, directories,
# symlinks, hard links, special files, user xattrs, rename with
# NOREPLACE/EXCHANGE, truncate, fallocate, utimens, chmod/chown, fsync, statfs;
# the mount root refuses changes (EPERM); links and renames across EIRs fail
# with EXDEV; the hidden names .snapshots and .enrp; "." and ".." listed with
# their inode numbers everywhere (the live tree, .enrp/, .snapshots/, a
# snapshot mount) without costing lookup references; the status counts:
# files are regular files (= pending + verified + corrupt), inodes all.
. "$(dirname "$0")/lib.sh"
setup

mk_eir a --owner "$ALICE" --quota 50M
mk_eir b --owner "$ALICE"
mount_fs
A=$MNT/a
B=$MNT/b

# ---- the mount root -----------------------------------------------------------
names=$(ls -a "$MNT" | grep -Fvx -e . -e .. | tr '\n' ' ')
assert_eq "a b " "$names" "root lists one directory per EIR"
assert_eq "enrp-alice:enrp-alice 700 directory" "$(stat -c '%U:%G %a %F' "$A")" \
	"EIR directory owned by its owner, mode 0700"
assert_match '(^|,)nodev(,|$)' "$(awk -v m="$MNT" '$2 == m { print $4 }' /proc/mounts)" \
	"mount is nodev"
expect_fail EPERM mkdir "$MNT/newdir"
expect_fail EPERM touch "$MNT/newfile"
expect_fail EPERM ln -s a "$MNT/newlink"
expect_fail EPERM mkfifo "$MNT/newfifo"
expect_fail EPERM rmdir "$B"
expect_fail EPERM mv "$A" "$MNT/c"
expect_fail EPERM "$PY" "$PYH" renameat2 "$A" "$B" exchange
assert_true "root still lists a and b" test -d "$A" -a -d "$B" -a ! -e "$MNT/c"

# ---- regular files and directories ---------------------------------------------
expect_ok as "$ALICE" bash -c 'echo hello > "$1" && echo world >> "$1"' _ "$A/f"
assert_eq "$(printf 'hello\nworld')" "$(as "$ALICE" cat "$A/f")" "write, append, read back"
assert_eq "enrp-alice:enrp-alice 12" "$(stat -c '%U:%G %s' "$A/f")" "new file takes the caller's uid/gid, size"
expect_ok as "$ALICE" mkdir -p "$A/d/e/f"
expect_ok as "$ALICE" rmdir "$A/d/e/f"
expect_ok as "$ALICE" touch "$A/d/e/x"
expect_fail ENOTEMPTY as "$ALICE" rmdir "$A/d/e"
expect_fail ENOTDIR as "$ALICE" mkdir "$A/f/sub"
expect_fail EEXIST as "$ALICE" mkdir "$A/d"
long=$(printf 'n%.0s' $(seq 255))
expect_ok as "$ALICE" touch "$A/$long"
expect_fail ENAMETOOLONG as "$ALICE" touch "$A/${long}x"
expect_ok as "$ALICE" bash -c 'mkdir "$1" && cd "$1" && for i in $(seq 1 300); do : > "file-$i"; done' _ "$A/many"
assert_eq 300 "$(ls "$A/many" | wc -l)" "readdir returns all 300 entries of a large directory"
assert_eq 300 "$(find "$A/many" -type f | wc -l)" "find sees all 300 entries"

# ---- symlinks -----------------------------------------------------------------------
expect_ok as "$ALICE" ln -s f "$A/sl"
expect_ok as "$ALICE" ln -s /nonexistent/target "$A/dangling"
assert_eq f "$(readlink "$A/sl")" "readlink"
assert_eq "/nonexistent/target" "$(readlink "$A/dangling")" "readlink of a dangling symlink"
assert_eq "$(printf 'hello\nworld')" "$(as "$ALICE" cat "$A/sl")" "read through a symlink"
assert_eq "symbolic link" "$(stat -c %F "$A/sl")" "symlink type"
tgt=$(printf 't%.0s' $(seq 1000))
expect_ok as "$ALICE" ln -s "$tgt" "$A/longlink"
assert_eq "$tgt" "$(readlink "$A/longlink")" "1000-byte symlink target"

# ---- hard links -----------------------------------------------------------------------
expect_ok as "$ALICE" ln "$A/f" "$A/d/hl"
assert_eq 2 "$(stat -c %h "$A/f")" "link count 2 after ln"
assert_eq "$(stat -c %i "$A/f")" "$(stat -c %i "$A/d/hl")" "hard link shares the inode"
expect_ok as "$ALICE" bash -c 'echo again >> "$1"' _ "$A/d/hl"
assert_eq "$(printf 'hello\nworld\nagain')" "$(as "$ALICE" cat "$A/f")" "write through one link seen through the other"
expect_ok as "$ALICE" rm "$A/d/hl"
assert_eq 1 "$(stat -c %h "$A/f")" "link count 1 after rm of the link"

# ---- special files --------------------------------------------------------------------------
expect_ok as "$ALICE" mkfifo "$A/fifo"
assert_eq "fifo" "$(stat -c %F "$A/fifo")" "mkfifo makes a fifo"
expect_ok as "$ALICE" "$PY" "$PYH" mksock "$A/sock"
assert_eq "socket" "$(stat -c %F "$A/sock")" "bind makes a socket"
expect_ok mknod "$A/null" c 1 3
assert_eq "character special file 1,3" "$(stat -c '%F %t,%T' "$A/null")" "mknod stores a device node"
expect_fail EACCES cat "$A/null"
expect_ok mknod "$A/blk" b 7 0
assert_eq "block special file" "$(stat -c '%F' "$A/blk")" "mknod b stores a block device"

# ---- user xattrs ------------------------------------------------------------------------------
expect_ok as "$ALICE" setfattr -n user.color -v blue "$A/f"
expect_ok as "$ALICE" setfattr -n user.empty -v '""' "$A/f"
expect_ok as "$ALICE" setfattr -n user.dir -v yes "$A/d"
assert_eq blue "$(getfattr --only-values -n user.color "$A/f" 2>/dev/null)" "getxattr user.color"
assert_eq yes "$(getfattr --only-values -n user.dir "$A/d" 2>/dev/null)" "xattr on a directory"
assert_match 'user\.color' "$(getfattr -d "$A/f" 2>/dev/null)" "listxattr shows user.color"
expect_ok as "$ALICE" setfattr -n user.color -v red "$A/f"
assert_eq red "$(getfattr --only-values -n user.color "$A/f" 2>/dev/null)" "setxattr replaces"
expect_ok as "$ALICE" setfattr -x user.color "$A/f"
out=$(getfattr -n user.color "$A/f" 2>&1)
assert_match 'No such attribute' "$out" "getxattr of a removed xattr gives ENODATA"
expect_fail EPERM as "$ALICE" setfattr -n trusted.x -v 1 "$A/f"
big=$(head -c 3000 /dev/zero | tr '\0' 'x')
expect_ok as "$ALICE" setfattr -n user.big -v "$big" "$A/f"
assert_eq "$big" "$(getfattr --only-values -n user.big "$A/f" 2>/dev/null)" "3000-byte xattr value"

# ---- rename ---------------------------------------------------------------------------------------
expect_ok as "$ALICE" bash -c 'echo one > "$1/r1"; echo two > "$1/r2"; echo three > "$1/r3"' _ "$A"
expect_ok as "$ALICE" mv "$A/r3" "$A/d/r3moved"
assert_eq three "$(cat "$A/d/r3moved")" "rename into another directory"
assert_true "old name is gone after rename" test ! -e "$A/r3"
expect_fail EEXIST as "$ALICE" "$PY" "$PYH" renameat2 "$A/r1" "$A/r2" noreplace
assert_eq "one two" "$(cat "$A/r1") $(cat "$A/r2")" "RENAME_NOREPLACE changed nothing"
expect_ok as "$ALICE" "$PY" "$PYH" renameat2 "$A/r1" "$A/r2" exchange
assert_eq "two one" "$(cat "$A/r1") $(cat "$A/r2")" "RENAME_EXCHANGE swapped the files"
expect_ok as "$ALICE" "$PY" "$PYH" renameat2 "$A/r1" "$A/d" exchange
assert_eq "directory regular file" "$(stat -c %F "$A/r1") $(stat -c %F "$A/d")" "RENAME_EXCHANGE of a file and a directory"
expect_ok as "$ALICE" "$PY" "$PYH" renameat2 "$A/r1" "$A/d" exchange
expect_ok as "$ALICE" "$PY" "$PYH" renameat2 "$A/r1" "$A/r2"
assert_eq "two" "$(cat "$A/r2")" "rename over an existing file replaces it"
expect_ok as "$ALICE" mkdir "$A/emptydir"
expect_ok as "$ALICE" "$PY" "$PYH" renameat2 "$A/d" "$A/emptydir"
assert_true "rename of a directory over an empty directory" test -f "$A/emptydir/r3moved"
expect_ok as "$ALICE" mv "$A/emptydir" "$A/d"
expect_fail EINVAL as "$ALICE" "$PY" "$PYH" renameat2 "$A/d" "$A/d/e/inside"
expect_ok as "$ALICE" bash -c 'echo keep > "$1/ro"' _ "$A"
expect_ok as "$ALICE" "$PY" "$PYH" unlink-open "$A/ro"
assert_true "unlinked open file is gone from the tree" test ! -e "$A/ro"

# ---- truncate, fallocate, utimens, chmod, chown ---------------------------------------------------
expect_ok as "$ALICE" bash -c 'printf 0123456789abcdef > "$1"' _ "$A/t"
expect_ok as "$ALICE" truncate -s 10 "$A/t"
assert_eq 0123456789 "$(cat "$A/t")" "truncate shrinks"
expect_ok as "$ALICE" truncate -s 1M "$A/t"
assert_eq 1048576 "$(stat -c %s "$A/t")" "truncate extends"
assert_eq "$( (printf 0123456789; head -c $((1048576 - 10)) /dev/zero) | sha256sum | cut -d' ' -f1)" \
	"$(sha "$A/t")" "extended part reads as zeros"
expect_ok as "$ALICE" fallocate -l 2M "$A/fa"
assert_eq 2097152 "$(stat -c %s "$A/fa")" "fallocate sets the size"
assert_eq "$(head -c 2097152 /dev/zero | sha256sum | cut -d' ' -f1)" "$(sha "$A/fa")" "fallocated range reads as zeros"
expect_ok as "$ALICE" touch -d '2001-02-03 04:05:06.123456789 UTC' "$A/t"
assert_eq "981173106 2001-02-03 04:05:06.123456789" \
	"$(TZ=UTC stat -c '%Y %y' "$A/t" | sed 's/ +0000$//')" "utimens sets mtime with nanoseconds"
expect_ok as "$ALICE" touch -a -d '2002-01-01 00:00:00 UTC' "$A/t"
assert_eq 1009843200 "$(stat -c %X "$A/t")" "utimens sets atime"
expect_ok as "$ALICE" chmod 0600 "$A/t"
assert_eq 600 "$(stat -c %a "$A/t")" "chmod file"
expect_ok as "$ALICE" chmod 2750 "$A/d"
assert_eq 2750 "$(stat -c %a "$A/d")" "chmod directory with setgid"
expect_ok as "$ALICE" chgrp "$TEAM" "$A/d"
expect_ok as "$ALICE" touch "$A/d/sgid-child"
assert_eq "$TEAM" "$(stat -c %G "$A/d/sgid-child")" "new file in a setgid directory takes its group"
expect_ok as "$ALICE" chown ":$TEAM" "$A/t"
assert_eq "enrp-alice:$TEAM" "$(stat -c %U:%G "$A/t")" "owner chgrp to a group she is in"
expect_fail EPERM as "$ALICE" chown "$BOB" "$A/t"
expect_ok chown "$BOB:$BOB" "$A/t"
assert_eq "enrp-bob:enrp-bob" "$(stat -c %U:%G "$A/t")" "root chown"
expect_ok chown -h "$BOB" "$A/sl"
assert_eq "enrp-bob" "$(stat -c %U "$A/sl")" "chown -h of a symlink"

# ---- fsync, statfs ------------------------------------------------------------------------------
sum=$(as "$ALICE" "$PY" "$PYH" write-fsync "$A/synced" 300000)
assert_eq "$sum" "$(sha "$A/synced")" "write + fsync + read back"
expect_ok as "$ALICE" dd if=/dev/urandom of="$A/dd-synced" bs=64k count=4 conv=fsync status=none
assert_eq 52428800 "$(df -B1 --output=size "$A" | tail -n1 | tr -d ' ')" "df shows the EIR's quota (50M) as its size"
assert_eq 52428800 "$(($(stat -f -c '%b*%S' "$A")))" "statfs blocks*frsize is the quota"
used_ok() { [ "$(df -B1 --output=used "$A" | tail -n1 | tr -d ' ')" -ge 3000000 ]; }
if poll_until 10 used_ok; then
	pass "df used counts the bytes written (>= 3 MB)"
else
	fail "df used is $(df -B1 --output=used "$A" | tail -n1), expected >= 3000000"
fi

# ---- across EIRs ----------------------------------------------------------------------------------
expect_fail EXDEV as "$ALICE" ln "$A/f" "$B/f-link"
expect_fail EXDEV as "$ALICE" "$PY" "$PYH" renameat2 "$A/f" "$B/f-moved"
expect_fail EXDEV as "$ALICE" "$PY" "$PYH" renameat2 "$A/d" "$B/d-moved"
assert_true "nothing moved across EIRs" test -f "$A/f" -a ! -e "$B/f-link" -a ! -e "$B/f-moved" -a -d "$A/d"
expect_ok as "$ALICE" mv "$A/r2" "$B/r2"
assert_true "mv across EIRs copies and removes" test ! -e "$A/r2" -a "$(cat "$B/r2")" = two

# ---- hidden names ------------------------------------------------------------------------------------
listing=$(ls -a "$A")
if grep -qx -e .enrp -e .snapshots <<<"$listing"; then
	fail "readdir lists a hidden name: $(printf '%s' "$listing" | tr '\n' ' ')"
else
	pass "readdir does not list .enrp or .snapshots"
fi
assert_eq "directory" "$(stat -c %F "$A/.enrp")" ".enrp is reachable by name"
assert_eq "directory" "$(stat -c %F "$A/.snapshots")" ".snapshots is reachable by name"
expect_fail EEXIST as "$ALICE" mkdir "$A/.enrp"
expect_fail EEXIST as "$ALICE" mkdir "$A/.snapshots"
expect_fail EEXIST as "$ALICE" mkfifo "$A/.enrp"
expect_fail EEXIST as "$ALICE" ln -sT f "$A/.snapshots"
expect_fail EEXIST as "$ALICE" "$PY" "$PYH" open "$A/.enrp" creat-excl
expect_ok as "$ALICE" mkdir "$A/d/.enrp"
assert_true "hidden names are ordinary below the EIR directory" test -d "$A/d/.enrp"
assert_eq "SHA256SUMS corrupt pending status" "$(ls "$A/.enrp" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" ".enrp lists its four files"
st=$(cat "$A/.enrp/status")
printf '%s\n' "$st" | sed 's/^/# status: /'
for k in mode state quota usage_bytes pending_files; do
	assert_match "^$k: " "$st" ".enrp/status has '$k:'"
done
assert_eq rw "$(status_field a mode)" "status mode: rw"
assert_eq normal "$(status_field a state)" "status state: normal"
assert_match '^[0-9]+$' "$(status_field a usage_bytes)" "usage_bytes is a number"
if ! echo x >"$A/.enrp/status" 2>/dev/null; then
	pass ".enrp/status cannot be written"
else
	fail ".enrp/status accepted a write"
fi
expect_fail EEXIST as "$ALICE" mkdir "$B/.enrp"

# ---- "." and ".." -------------------------------------------------------------------------------
# dots_ok DIR UP WHAT: readdir returns "." with DIR's inode and ".." with
# UP's (glibc drops entries with inode 0, so ls -a would show neither).
dots_ok() {
	local d=$1 up=$2 what=$3 ents
	ents=$("$PY" "$PYH" dirents "$d") || { fail "$what: readdir failed"; return; }
	assert_eq "$(stat -c %i "$d") ." "$(grep -x '[0-9]* \.' <<<"$ents")" "$what: '.' has its own inode"
	assert_eq "$(stat -c %i "$up") .." "$(grep -x '[0-9]* \.\.' <<<"$ents")" "$what: '..' has its parent's inode"
	assert_eq ". .." "$(ls -a "$d" | head -n2 | tr '\n' ' ' | sed 's/ $//')" "$what: ls -a shows . and .."
}
expect_ok ctl snapshot create a s1
dots_ok "$A" "$A/.." "EIR directory"
dots_ok "$A/d/e" "$A/d" "subdirectory"
dots_ok "$MNT" "$MNT" "mount root (its '..' is itself)"
dots_ok "$A/.enrp" "$A" ".enrp"
dots_ok "$A/.snapshots" "$A" ".snapshots"
dots_ok "$A/.snapshots/s1" "$A/.snapshots" ".snapshots/s1"
dots_ok "$A/.snapshots/s1/d/e" "$A/.snapshots/s1/d" ".snapshots/s1/d/e"
assert_eq "$(stat -c %i "$A/d")" "$(ls -ai "$A/d/e" | awk '$2 == ".." { print $1 }')" \
	"ls -ai: '..' of d/e is the inode of d"
assert_eq "" "$("$PY" -c 'import os, sys; print(" ".join(e.name for e in os.scandir(sys.argv[1]) if e.name in (".", "..")))' "$A")" \
	"os.scandir lists neither . nor .."
SNAPMNT=$T/snapmnt
mkdir -m 755 "$SNAPMNT"
EXTRA_MOUNTS+=("$SNAPMNT")
if "$ENRPFS" -o snapshot=a@s1 "$STORE" "$SNAPMNT" && poll_until 10 is_mounted "$SNAPMNT"; then
	dots_ok "$SNAPMNT" "$SNAPMNT" "snapshot mount root (its '..' is itself)"
	dots_ok "$SNAPMNT/d/e" "$SNAPMNT/d" "snapshot mount subdirectory"
	dots_ok "$SNAPMNT/.enrp" "$SNAPMNT" "snapshot mount .enrp"
	expect_ok ctl snapshot umount "$SNAPMNT"
else
	fail "enrpfs -o snapshot=a@s1 did not mount"
fi

# Lookup counts: readdirplus sends "." and ".." without a node id (the
# kernel makes no dentry of them), so listing takes no reference the kernel
# will never forget: once it lets go, a removed tree leaves no orphan, and
# every entry stays reachable while it holds them.
expect_ok as "$ALICE" bash -c 'mkdir -p "$1/sub" && for i in $(seq 1 50); do : > "$1/f$i"; : > "$1/sub/g$i"; done' _ "$A/lc"
for i in $(seq 1 30); do
	ls -al "$A/lc" "$A/lc/sub" >/dev/null
	ls -a "$A/lc/sub/." "$A/lc/sub/.." >/dev/null
done
echo 2 >/proc/sys/vm/drop_caches
assert_eq 101 "$(find "$A/lc" -mindepth 1 | wc -l)" "after many ls -a and a cache drop, every entry is there"
expect_ok as "$ALICE" rm -rf "$A/lc"
if orphans_freed 30; then
	pass "once the kernel let go, no removed inode is left (lookup counts exact)"
else
	fail "$(orphan_count) removed inodes are still held by the daemon after the kernel dropped its cache"
fi

# ---- file counts ---------------------------------------------------------------------------------
# FILES counts regular files (hard links once); inodes counts every inode
# below the EIR directory (directories, symlinks, fifos, sockets, devices).
nreg=$(find "$A" -type f -printf '%i\n' | sort -u | wc -l)
nall=$(find "$A" -mindepth 1 -printf '%i\n' | sort -u | wc -l)
log "EIR a: $nreg regular files, $nall inodes"
assert_eq "$nreg" "$(status_field a files)" "status files: regular files only"
assert_eq "$nall" "$(status_field a inodes)" "status inodes: every inode"
# One read of the status file: files are still being sealed, and a file
# read as pending and then, a read later, as verified would count twice.
st=$(cat "$MNT/a/.enrp/status")
sf() { sed -n "s/^$1: *//p" <<<"$st" | head -n1; }
assert_eq "$(sf files)" "$(($(sf pending_files) + $(sf verified_files) + $(sf corrupt_files)))" \
	"status: files = pending_files + verified_files + corrupt_files (one read)"
show=$(ctl eir show a)
assert_match "^files: $nreg\$" "$show" "eir show: files"
assert_match "^inodes: $nall\$" "$show" "eir show: inodes"
assert_eq "$nreg $nall" "$(ctl eir show a --json | "$PY" -c 'import json, sys; j = json.load(sys.stdin); print(j["files"], j["inodes"])')" \
	"eir show --json: files and inodes"
assert_eq "$nreg" "$(ctl status | awk '$1 == "a" { print $7 }')" "enrpctl status: its FILES field"
assert_eq "$nreg" "$(ctl eir list | awk '$1 == "a" { print $7 }')" "eir list: its FILES field"
assert_eq "$nreg $nall" "$(ctl eir list -o name,files,inodes | awk '$1 == "a" { print $2, $3 }')" \
	"eir list -o name,files,inodes"

# ---- persistence across a remount ---------------------------------------------------------------
before=$(cd "$MNT" && find . -printf '%p %y %m %U %G %s %n %l\n' | sort)
sum_before=$(cd "$MNT" && find . -type f -readable ! -name null ! -name blk -print0 | sort -z | xargs -0 sha256sum)
umount_fs
mount_fs
after=$(cd "$MNT" && find . -printf '%p %y %m %U %G %s %n %l\n' | sort)
sum_after=$(cd "$MNT" && find . -type f -readable ! -name null ! -name blk -print0 | sort -z | xargs -0 sha256sum)
assert_eq "$before" "$after" "tree metadata identical after remount"
assert_eq "$sum_before" "$sum_after" "file contents identical after remount"
if getfattr -n user.color "$A/f" >/dev/null 2>&1; then
	fail "removed xattr user.color is back after remount"
else
	pass "removed xattr stays removed after remount"
fi
assert_eq yes "$(getfattr --only-values -n user.dir "$A/d" 2>/dev/null)" "xattr survives remount"

finish
