#!/bin/bash
# t1320: enrpfs mounts only where it must (DESIGN §3): a regular file, a
# directory that already serves an enrpfs mount (which would hide the live
# store from the owners writing to it), a non-empty directory, a directory
# inside an enrpfs mount, inside the store or above it, a missing one and a
# dead FUSE mount are refused with "enrpfs: cannot mount on '...': why" and a
# hint, exit 1; a store inside an enrpfs mount is refused too.  -o keyfile=
# on an unencrypted store, workers= and compress= out of range, unknown
# options and extra operands are usage errors (exit 2), and a missing operand
# is said in one line, not the whole help.  Another account than root is
# refused in one line that says enrpfs must run as root.  Each refusal leaves
# nothing mounted, no daemon, and what was there as it was.  The same through
# mount -t fuse.enrpfs and an fstab line (mount(8) → mount.fuse3 → enrpfs),
# run in a private mount namespace where /usr/local/sbin holds our enrpfs.
. "$(dirname "$0")/lib.sh"
setup

mk_eir e --owner "$ALICE"
mk_eir r --owner root --dir-mode 0700
S2=$T/store2
ctl_nostore init "$S2" >/dev/null || die "init store2"
EXTRA_STORES+=("$S2")
mount_fs
as "$ALICE" sh -c 'echo live >"$1"' _ "$MNT/e/f" || die "write as alice"
touch "$T/file"
mkdir "$T/full" "$T/empty" "$T/m2"
echo keep >"$T/full/x"
EXTRA_MOUNTS+=("$T/empty" "$T/m2" "$T/dead")

# Our daemons: enrpfs processes whose command line names a path of this test
# (other tests may run their own at the same time).
ours() {
	local p n=0
	for p in $(pgrep -x enrpfs); do
		grep -qF "$T/" <<<"$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" && n=$((n + 1))
	done
	echo "$n"
}
no_daemon_of() { [ -z "$(store_daemon_pid "$1")" ]; }

# refused CODE WHY-REGEX ENRPFS-ARGS...: enrpfs exits CODE, says WHY on its
# first line and gives a hint; afterwards nothing new is mounted, no other
# daemon runs, and the live mount still serves alice.
refused() {
	local code=$1 why=$2 out rc desc before
	shift 2
	desc="enrpfs $(cmdstr "$@")"
	before=$(grep -cF " $T/" /proc/mounts)
	out=$("$ENRPFS" "$@" 2>&1)
	rc=$?
	assert_eq "$code" "$rc" "$desc: exit $code"
	assert_match "^enrpfs: $why" "$(head -n1 <<<"$out")" "$desc: says why"
	assert_match "^(hint|usage): " "$(sed -n 2p <<<"$out")" "$desc: says what to do"
	assert_eq "$before" "$(grep -cF " $T/" /proc/mounts)" "$desc: nothing mounted"
	assert_eq "1" "$(ours)" "$desc: no second daemon"
}

# ---- where it must not mount ----------------------------------------------------------
refused 1 "cannot mount on '$T/file': not a directory" "$S2" "$T/file"
assert_eq "" "$(cat "$T/file")" "the regular file is untouched"
refused 1 "cannot mount on '$T/full': the directory is not empty \(1 entry would be hidden\)" "$S2" "$T/full"
assert_eq keep "$(cat "$T/full/x")" "the non-empty directory's content is still there"
refused 1 "cannot mount on '$MNT': an enrpfs mount of '$STORE' is already there" "$S2" "$MNT"
refused 1 "cannot mount on '$MNT': an enrpfs mount of '$STORE' is already there" "$STORE" "$MNT"
assert_eq live "$(as "$ALICE" cat "$MNT/e/f")" "the live mount still serves its owner"
mkdir "$MNT/r/sub"
refused 1 "cannot mount on '$MNT/r/sub': it is inside the enrpfs mount at '$MNT'" "$S2" "$MNT/r/sub"
refused 1 "cannot mount on '$MNT/e': it is inside the enrpfs mount at '$MNT'" "$S2" "$MNT/e"
refused 1 "cannot mount on '$S2/run': it is inside the store '$S2'" "$S2" "$S2/run"
refused 1 "cannot mount on '$S2': it is inside the store '$S2'" "$S2" "$S2"
mkdir "$T/above" && ctl_nostore init "$T/above/s" >/dev/null || die "init above/s"
refused 1 "cannot mount on '$T/above': the store '$T/above/s' is below it" "$T/above/s" "$T/above"
refused 1 "cannot mount on '$T/nonexistent': No such file or directory" "$S2" "$T/nonexistent"
assert_true "the missing mount point was not created" test ! -e "$T/nonexistent"
# A store reached through an enrpfs mount (here a root-only EIR directory).
mkdir -p "$MNT/r/st/meta" "$MNT/r/st/spool" "$MNT/r/st/chunks" "$MNT/r/st/run"
chmod 0700 "$MNT/r/st" "$MNT/r/st"/*
refused 1 "cannot open store '$MNT/r/st': it is inside the enrpfs mount at '$MNT'" "$MNT/r/st" "$T/empty"

# A dead FUSE mount (its daemon killed): say so and how to clear it.
mkdir "$T/dead"
"$ENRPFS" "$S2" "$T/dead" || die "mount store2"
kill -KILL "$(store_daemon_pid "$S2")"
poll_until 10 no_daemon_of "$S2" || die "store2's daemon survived SIGKILL"
poll_until 10 bash -c '! stat "$1" 2>/dev/null' _ "$T/dead" || die "dead mount still answers"
refused 1 "cannot mount on '$T/dead': the mount point is stale \\(the enrpfs that served it was killed or crashed: Transport endpoint is not connected\\)" "$S2" "$T/dead"
out=$("$ENRPFS" "$S2" "$T/dead" 2>&1)
assert_match "hint: .*fusermount3 -u $T/dead" "$out" "the hint says how to clear the dead mount"
fusermount3 -u "$T/dead" || die "fusermount3 -u dead"

# Paths in messages are escaped: no byte of them acts on the terminal.
has() { # has FIXED-STRING TEXT DESCRIPTION
	if grep -qF -- "$1" <<<"$2"; then pass "$3"; else fail "$3: '${2:0:300}' lacks '$1'"; fi
}
evil=$T/$'\e[31mred\nenrpfs: fake\xe2\x80\xae'
mkdir "$evil" && touch "$evil/x"
out=$("$ENRPFS" "$S2" "$evil" 2>&1)
assert_eq 1 "$?" "a non-empty mount point with escapes in its name: exit 1"
assert_eq 2 "$(wc -l <<<"$out")" "... two lines: the newline in the name did not make a third"
has "enrpfs: cannot mount on '$T/\x1b[31mred\nenrpfs: fake\u202e': the directory is not empty" \
	"$(head -n1 <<<"$out")" "... the name is shown escaped"
assert_true "... no ESC byte reached the terminal" bash -c '! grep -q $'"'"'\e'"'"' <<<"$1"' _ "$out"
evil=$T/$'\e]0;title\a'
out=$("$ENRPFS" "$evil" "$T/empty" 2>&1)
has "enrpfs: cannot open store '$T/\x1b]0;title\x07': No such file" "$out" \
	"a store path with an OSC sequence is shown escaped"
out=$("$ENRPFS" "$S2" "$T/empty" -o $'workers=\e[2J' 2>&1)
has "enrpfs: bad option 'workers=\x1b[2J'" "$out" "an option value with an escape sequence is shown escaped"

# A directory that is no store: one reason, not a format.
out=$("$ENRPFS" "$T/empty" "$T/m2" 2>&1)
assert_eq 1 "$?" "enrpfs on an empty directory as store: exit 1"
assert_eq "enrpfs: cannot open store '$T/empty': not an enrp store" "$(head -n1 <<<"$out")" \
	"enrpfs on an empty directory: says it is not a store"
assert_eq 2 "$(wc -l <<<"$out")" "... in one line and a hint ($out)"
assert_true "... and nothing about formats" bash -c '! grep -qi "format\|newer" <<<"$1"' _ "$out"
out=$(ctl_nostore -S "$T/empty" eir list 2>&1)
assert_eq 1 "$?" "enrpctl on an empty directory as store: exit 1"
assert_eq "enrpctl: cannot open store '$T/empty': not an enrp store" "$(head -n1 <<<"$out")" \
	"enrpctl on an empty directory: says it is not a store"
assert_eq 2 "$(wc -l <<<"$out")" "... in one line and a hint ($out)"
assert_true "... and nothing about formats" bash -c '! grep -qi "format\|newer" <<<"$1"' _ "$out"
assert_eq "" "$(ls -A "$T/empty")" "... and the empty directory stays empty"

# ---- another account than root ---------------------------------------------------------
# One line saying what is needed, not "Permission denied" from deep inside;
# usage errors still come first.
mkdir "$T/alice-mnt" && chown "$ALICE" "$T/alice-mnt"
out=$(as "$ALICE" "$ENRPFS" "$S2" "$T/alice-mnt" 2>&1)
assert_eq 1 "$?" "enrpfs as $ALICE: exit 1"
assert_eq 1 "$(wc -l <<<"$out")" "enrpfs as $ALICE: one line ($out)"
assert_match "^enrpfs: cannot mount store '$S2' as uid $(uid_of "$ALICE"): enrpfs must run as root \(the store is root's alone" \
	"$out" "enrpfs as $ALICE: says it must run as root, and why"
assert_true "enrpfs as $ALICE: nothing mounted" not_mounted "$T/alice-mnt"
assert_eq "1" "$(ours)" "enrpfs as $ALICE: no second daemon"
out=$(as "$ALICE" "$ENRPFS" "$S2" 2>&1)
assert_eq 2 "$?" "enrpfs as $ALICE without a mount point: still a usage error first"

# ---- usage errors ---------------------------------------------------------------------
refused 2 "bad option 'keyfile=/etc/hostname': store '$S2' is not encrypted" "$S2" "$T/empty" -o keyfile=/etc/hostname
for w in 0 65 -1 abc "" 99999999999999999999 1x; do
	refused 2 "bad option 'workers=$w': workers is a number of threads, 1..64" "$S2" "$T/empty" -o "workers=$w"
done
for c in 0 20 -3 x ""; do
	refused 2 "bad option 'compress=$c': compress is a zstd level, 1..19" "$S2" "$T/empty" -o "compress=$c"
done
refused 2 "bad option 'keyfile=': keyfile needs" "$S2" "$T/empty" -o keyfile=
refused 2 "unknown option\(s\): .*-o bogus" "$S2" "$T/empty" -o bogus
refused 2 "unknown option\(s\): .*-o nosuchopt=1" "$S2" "$T/empty" -o rw,nosuchopt=1
refused 2 "unexpected argument 'extra'" "$S2" "$T/empty" extra
# A missing operand is one line, not the whole help.
for args in "$S2" ""; do
	# shellcheck disable=SC2086
	out=$("$ENRPFS" $args 2>&1)
	assert_eq 2 "$?" "enrpfs $args: a missing operand is a usage error"
	assert_eq 1 "$(wc -l <<<"$out")" "enrpfs $args: one line ($out)"
done
assert_match "^enrpfs: no mount point given \(usage: enrpfs \[options\] STORE MOUNTPOINT; see 'enrpfs --help'\)$" \
	"$("$ENRPFS" "$S2" 2>&1)" "no mount point: says what is missing and the synopsis"
assert_match "^enrpfs: no store given" "$("$ENRPFS" 2>&1)" "no operand: says the store is missing"
# The bounds themselves are accepted.
for opt in workers=1 workers=64,compress=19 compress=1; do
	out=$("$ENRPFS" "$S2" "$T/m2" -o "$opt" 2>&1)
	assert_eq 0 "$?" "enrpfs -o $opt mounts ($out)"
	is_mounted "$T/m2" && fusermount3 -u "$T/m2"
	poll_until 20 no_daemon_of "$S2" || fail "store2's daemon still runs 20 s after unmount"
done

# ---- the same through mount(8) and fstab --------------------------------------------------
mkdir "$T/sbin"
ln -s "$ENRPFS" "$T/sbin/enrpfs"
printf '%s %s fuse.enrpfs defaults 0 0\n' "$S2" "$T/file" >"$T/fstab.file"
printf '%s %s fuse.enrpfs defaults,workers=0 0 0\n' "$S2" "$T/empty" >"$T/fstab.workers"
# In a private mount namespace, /usr/local/sbin (where mount.fuse3 finds
# helpers; mount(8) gives it a clean PATH) holds our enrpfs: nothing outside
# the test sees it.
ns() {
	unshare -m --propagation private bash -c 'mount --bind "$1" /usr/local/sbin && shift && exec "$@"' \
		_ "$T/sbin" "$@"
}
nsrefused() { # CODE WHY-REGEX MOUNT-ARGS...
	local code=$1 why=$2 out rc
	shift 2
	out=$(ns mount "$@" 2>&1)
	rc=$?
	assert_eq "$code" "$rc" "mount $(cmdstr "$@"): exit $code"
	assert_match "^enrpfs: $why" "$(head -n1 <<<"$out")" "mount $(cmdstr "$@"): enrpfs says why"
	assert_eq "1" "$(ours)" "mount $(cmdstr "$@"): no second daemon"
}
nsrefused 1 "cannot mount on '$T/file': not a directory" -t fuse.enrpfs "$S2" "$T/file"
nsrefused 1 "cannot mount on '$T/full': the directory is not empty" -t fuse.enrpfs "$S2" "$T/full"
nsrefused 1 "cannot mount on '$MNT': an enrpfs mount of '$STORE' is already there" -t fuse.enrpfs "$S2" "$MNT"
nsrefused 2 "bad option 'workers=0'" -t fuse.enrpfs -o workers=0 "$S2" "$T/empty"
nsrefused 2 "unknown option\(s\)" -t fuse.enrpfs -o bogus "$S2" "$T/empty"
nsrefused 2 "bad option 'keyfile=/etc/hostname': store '$S2' is not encrypted" -t fuse.enrpfs -o keyfile=/etc/hostname "$S2" "$T/empty"
nsrefused 1 "cannot mount on '$T/file': not a directory" -T "$T/fstab.file" "$T/file"
nsrefused 2 "bad option 'workers=0'" -T "$T/fstab.workers" "$T/empty"
out=$(ns bash -c 'mount -t fuse.enrpfs "$1" "$2" && grep -c " $2 fuse.enrpfs " /proc/self/mounts; fusermount3 -u "$2"' \
	_ "$S2" "$T/empty" 2>"$T/ns.err")
# stderr apart: on a host without /dev/log enrpfs warns that a daemon's
# messages would be lost (t1330).
assert_eq 1 "$out" "mount -t fuse.enrpfs on an empty directory still mounts (in the namespace): $(cat "$T/ns.err")"
poll_until 20 no_daemon_of "$S2" || fail "store2's daemon still runs 20 s after its unmount"

assert_eq live "$(as "$ALICE" cat "$MNT/e/f")" "the live mount served its owner throughout"
assert_eq 1 "$(ours)" "only the first daemon runs at the end"
finish
