#!/bin/bash
# t1120: statfs inside an EIR is the EIR's own (DESIGN §3): df's "used" is
# the EIR's usage to the byte (not the host's, and not invented when the
# quota exceeds the disk), size and available never promise more than the
# quota nor more than the disk has, and the inode counters are the EIR's
# (used = its live inodes; free = the disk's, there being no per-EIR inode
# limit yet).  Also under .enrp/ and .snapshots/, for the owner in every mode;
# the root of the mount shows the store's disk.
. "$(dirname "$0")/lib.sh"
setup

disk_avail=$(($(stat -f -c '%a*%S' "$STORE")))
big=$((disk_avail * 4))
mk_eir big --owner "$ALICE" --quota "$big"
mk_eir small --owner "$ALICE" --quota 1M
mk_eir none --owner "$ALICE"
mount_fs

# field DIR FIELD: one df -B1 figure of DIR (size, used, avail, itotal,
# iused, iavail).
field() { df -B1 --output="$2" "$1" | tail -n1 | tr -d ' '; }
usage_of() { status_field "$1" usage_bytes; }
files_of() { status_field "$1" inodes; }
avail_now() { echo $(($(stat -f -c '%a*%S' "$STORE"))); }

# check EIR QUOTA(0: none) [DIR]: the figures of one EIR against its status
# and the disk, from DIR (the EIR directory or a hidden one in it), as
# alice; one df call, so the figures are of one statfs.
check() {
	local e=$1 quota=$2 dir=${3:-$MNT/$1} size used avail itotal iused iavail dsk
	read -r size used avail itotal iused iavail < <(as "$ALICE" df -B1 \
		--output=size,used,avail,itotal,iused,iavail "$dir" | tail -n1)
	dsk=$(avail_now)
	assert_eq "$(usage_of "$e")" "$used" "$e ($dir): df used is the EIR's usage_bytes"
	assert_eq "$((size - used))" "$avail" "$e ($dir): size = used + available"
	if [ "$quota" -gt 0 ]; then
		assert_true "$e ($dir): size $size <= quota $quota" test "$size" -le "$quota"
		assert_true "$e ($dir): available $avail <= quota - used" test "$avail" -le $((quota - used))
	fi
	# The disk moves as other tests write: allow 64 MiB of drift.
	assert_true "$e ($dir): available $avail <= the disk's ($dsk)" test "$avail" -le $((dsk + 64 * 1048576))
	assert_eq "$(files_of "$e")" "$iused" "$e ($dir): df's inodes used are the EIR's live inodes"
	assert_eq "$((itotal - iused))" "$iavail" "$e ($dir): inodes = used + free"
}

# ---- empty EIRs -------------------------------------------------------------------------
check big "$big"
assert_eq 0 "$(field "$MNT/big" used)" "an empty EIR with a quota larger than the disk shows 0 used"
size=$(field "$MNT/big" size)
assert_true "its size ($size) is what the disk has, not the ${big}-byte quota" \
	test "$size" -le $(($(avail_now) + 64 * 1048576))
check small $((1 << 20))
assert_eq $((1 << 20)) "$(field "$MNT/small" size)" "an empty 1M EIR: size is the quota"
check none 0
assert_eq 0 "$(field "$MNT/none" used)" "an empty EIR without a quota shows 0 used, not the host's"
assert_eq 0 "$(field "$MNT/none" iused)" "... and 0 inodes used"

# ---- with content -----------------------------------------------------------------------
as "$ALICE" head -c 12345 /dev/urandom >"$MNT/small/a" || die "write a"
as "$ALICE" mkdir "$MNT/small/d" || die "mkdir"
as "$ALICE" head -c 777 /dev/urandom >"$MNT/small/d/b" || die "write b"
as "$ALICE" ln -s a "$MNT/small/l" || die "symlink"
check small $((1 << 20))
assert_eq $((12345 + 777)) "$(field "$MNT/small" used)" "used is the bytes written, to the byte"
assert_eq 4 "$(field "$MNT/small" iused)" "four inodes used (two files, a directory, a symlink)"
as "$ALICE" head -c 1000 /dev/urandom >"$MNT/none/x" || die "write none/x"
check none 0
assert_eq 1000 "$(field "$MNT/none" used)" "an EIR without a quota: used is its 1000 bytes"
as "$ALICE" head -c 5000 /dev/urandom >"$MNT/big/x" || die "write big/x"
check big "$big"

# ---- the hidden names and the subdirectories are the same EIR ---------------------------------
check small $((1 << 20)) "$MNT/small/.enrp"
check small $((1 << 20)) "$MNT/small/.snapshots"
check small $((1 << 20)) "$MNT/small/d"

# ---- every mode, and a quota lowered below the usage ------------------------------------------
for m in wo ro rw; do
	set_mode small "$m"
	check small $((1 << 20))
done
expect_ok ctl eir set small --quota 10000 --force
used=$(field "$MNT/small" used)
assert_eq $((12345 + 777)) "$used" "quota lowered below the usage: used is still the usage"
assert_eq 0 "$(field "$MNT/small" avail)" "... nothing available"
assert_eq "$used" "$(field "$MNT/small" size)" "... and the size is the usage (nothing more promised)"

# ---- the root shows the store's disk ---------------------------------------------------------
assert_eq "$(($(stat -f -c "%b*%S" "$STORE")))" \
	"$(($(stat -f -c '%b*%S' "$MNT")))" "the root of the mount: the store disk's size"

finish
