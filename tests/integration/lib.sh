# shellcheck shell=bash
# lib.sh — helpers for enrp integration tests (STYLE rule 35).
#
# Each test script sources this file, calls `setup`, and ends with `finish`.
# Every test runs against a real FUSE mount of a real store in its own
# temporary directory; an EXIT trap unmounts, stops the daemon it started and
# removes the directory (set KEEP=1 to keep it for debugging).
#
# Checks do not abort the script: `fail` counts and goes on, so one run shows
# every broken cell.  `die` is for broken preconditions and ends the test.
#
# Binaries: $ENRP_BUILD, else $BUILD (relative to the repository), else build/.

set -u -o pipefail

# System tools only (the test users cannot reach root's ~/.pyenv and such).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LIB_DIR/../.." && pwd)
if [ -n "${ENRP_BUILD:-}" ]; then
	BUILDDIR=$ENRP_BUILD
elif [ -n "${BUILD:-}" ]; then
	case $BUILD in /*) BUILDDIR=$BUILD ;; *) BUILDDIR=$REPO/$BUILD ;; esac
else
	BUILDDIR=$REPO/build
fi
ENRPFS=$BUILDDIR/enrpfs
ENRPCTL=$BUILDDIR/enrpctl
TEST_NAME=$(basename "$0" .sh)

ALICE=enrp-alice
BOB=enrp-bob
AGENT=enrp-agent
TEAM=enrp-team

CHECKS=0
FAILS=0
T=
STORE=
MNT=
EXTRA_MOUNTS=()   # more mountpoints to unmount at exit
EXTRA_STORES=()   # more stores whose daemon to stop at exit
CLEANUP_PIDS=()   # background processes to kill at exit
CLEANUP_CMDS=()   # shell snippets to eval at exit (before unmounting)

# ---- reporting ------------------------------------------------------------

log() { printf '# %s\n' "$*"; }

pass() {
	CHECKS=$((CHECKS + 1))
	printf 'ok %d - %s\n' "$CHECKS" "$*"
}

fail() {
	CHECKS=$((CHECKS + 1))
	FAILS=$((FAILS + 1))
	printf 'not ok %d - %s\n' "$CHECKS" "$*"
	return 1
}

die() {
	printf 'Bail out! %s\n' "$*"
	FAILS=$((FAILS + 1))
	exit 1
}

# faketime_lib: libfaketime's path in FTLIB, for a process that must run
# under it itself (faketime(1) forks, so a signal or a pid would be the
# wrapper's).
faketime_lib() {
	FTLIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n1)
	[ -n "$FTLIB" ] || die "libfaketime.so.1 not found (Debian package libfaketime)"
}

# Ends the test: exit 0 only when every check passed and at least one ran.
# A daemon that vanished while its mount is still there is a failure too.
finish() {
	if [ "$CHECKS" -eq 0 ]; then
		die "no checks ran"
	fi
	if [ -n "$MNT" ] && is_mounted "$MNT"; then
		if have_daemon && stat "$MNT/" >/dev/null 2>&1; then
			pass "enrpfs still serving at the end of the test"
		else
			fail "enrpfs is gone but $MNT is still mounted (crashed or killed?)"
		fi
	fi
	printf '# %s: %d checks, %d failed\n' "$TEST_NAME" "$CHECKS" "$FAILS"
	[ "$FAILS" -eq 0 ] && exit 0
	exit 1
}

# Short printable form of a command for messages.
cmdstr() {
	local s
	s=$(printf '%q ' "$@")
	s=${s% }
	s=${s//"$T"/\$T}
	[ "${#s}" -gt 160 ] && s="${s:0:157}..."
	printf '%s' "$s"
}

# strerror text of an errno name, e.g. EACCES -> "Permission denied".
errmsg() {
	case $1 in
	EPERM) echo "Operation not permitted" ;;
	ENOENT) echo "No such file or directory" ;;
	EACCES) echo "Permission denied" ;;
	EEXIST) echo "File exists" ;;
	EXDEV) echo "Invalid cross-device link" ;;
	ENOTDIR) echo "Not a directory" ;;
	EISDIR) echo "Is a directory" ;;
	EINVAL) echo "Invalid argument" ;;
	ENOSPC) echo "No space left on device" ;;
	EROFS) echo "Read-only file system" ;;
	ENOTEMPTY) echo "Directory not empty" ;;
	EDQUOT) echo "Disk quota exceeded" ;;
	ENODATA) echo "No data available" ;;
	EBUSY) echo "Device or resource busy" ;;
	*) "$PY" -c 'import errno, os, sys; print(os.strerror(getattr(errno, sys.argv[1])))' "$1" ;;
	esac
}

# expect_ok CMD...: CMD exits 0.
expect_ok() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$(cmdstr "$@")"
		return 0
	fi
	fail "$(cmdstr "$@"): exit $rc, expected success; output: ${out:0:400}"
}

# expect_fail ERRNAME CMD...: CMD exits non-zero and its stderr carries the
# strerror text of ERRNAME.
expect_fail() {
	local err=$1 msg out rc
	shift
	msg=$(errmsg "$err")
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "$(cmdstr "$@"): succeeded, expected $err ($msg)"
		return 1
	fi
	case $out in
	*"$msg"*)
		pass "$(cmdstr "$@") -> $err"
		return 0
		;;
	esac
	fail "$(cmdstr "$@"): exit $rc, expected $err ($msg); stderr: ${out:0:400}"
}

# expect_exit CODE CMD...: CMD exits with exactly CODE.
expect_exit() {
	local want=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$(cmdstr "$@") -> exit $want"
		return 0
	fi
	fail "$(cmdstr "$@"): exit $rc, expected $want; output: ${out:0:400}"
}

# assert_eq WANT GOT DESCRIPTION
assert_eq() {
	if [ "$1" == "$2" ]; then
		pass "$3"
		return 0
	fi
	fail "$3: expected '$1', got '$2'"
}

# assert_text_eq WANT GOT DESCRIPTION: like assert_eq for multi-line text;
# on failure shows the first lines of a diff instead of both texts.
assert_text_eq() {
	if [ "$1" == "$2" ]; then
		pass "$3"
		return 0
	fi
	fail "$3: texts differ (- expected, + got):"
	diff -u <(printf '%s\n' "$1") <(printf '%s\n' "$2") | sed -n '3,30s/^/#   /p'
	return 1
}

# assert_match REGEX TEXT DESCRIPTION (extended regex, grep -E)
assert_match() {
	# A here-string, not a pipe: with pipefail, grep -q leaving at its first
	# match could kill the writer with SIGPIPE and fail a matching check.
	if grep -Eq -- "$1" <<<"$2"; then
		pass "$3"
		return 0
	fi
	fail "$3: '${2:0:400}' does not match /$1/"
}

# assert_true DESCRIPTION CMD...: like expect_ok with a readable name.
assert_true() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$desc"
		return 0
	fi
	fail "$desc: $(cmdstr "$@") exit $rc; output: ${out:0:400}"
}

# driver_results TEXT: the lines of a test driver (python) as checks:
# "ok|what" passes, "fail|what" fails, anything else is logged.
driver_results() {
	local line
	while IFS= read -r line; do
		case $line in
		ok\|*) pass "${line#ok|}" ;;
		fail\|*) fail "${line#fail|}" ;;
		*) log "$line" ;;
		esac
	done <<<"$1"
}

# poll_until TIMEOUT_SECONDS CMD...: runs CMD every 0.2 s until it succeeds;
# returns 1 if it never did within the timeout.
poll_until() {
	local timeout=$1 deadline
	shift
	deadline=$((SECONDS + timeout))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.2
	done
}

# orphan_count: unlinked inodes the store still keeps (fsck's "orphan"
# findings), for checks that the daemon freed what the kernel let go of.
orphan_count() {
	ctl fsck --json | "$PY" -c 'import json, sys; print(sum(1 for f in json.load(sys.stdin)["findings"] if f["kind"] == "orphan"))'
}

# orphans_freed SECONDS: drops the kernel's dentry and inode caches (so it
# forgets what it holds) until no orphan is left; 1 if one still is.
orphans_freed() {
	_no_orphan() {
		echo 2 >/proc/sys/vm/drop_caches
		[ "$(orphan_count)" = 0 ]
	}
	poll_until "$1" _no_orphan
}

# ---- users ------------------------------------------------------------------

# Creates the test accounts and the shared group if absent (idempotent).
ensure_users() {
	[ "$(id -u)" -eq 0 ] || die "integration tests need root"
	(
		flock 9
		local u
		for u in "$ALICE" "$BOB" "$AGENT"; do
			id "$u" >/dev/null 2>&1 || useradd -M -s /bin/bash "$u" ||
				exit 1
		done
		getent group "$TEAM" >/dev/null || groupadd "$TEAM" || exit 1
		for u in "$ALICE" "$BOB" "$AGENT"; do
			grep -qx "$TEAM" <<<"$(id -nG "$u" | tr ' ' '\n')" ||
				usermod -aG "$TEAM" "$u" || exit 1
		done
	) 9>/run/enrp-test-users.lock || die "cannot create test users"
}

uid_of() { id -u "$1"; }
gid_of() { id -g "$1"; }

# as USER CMD...: runs CMD as USER with USER's groups (root: as is).
as() {
	local u=$1
	shift
	if [ "$u" = root ]; then
		"$@"
		return
	fi
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- env HOME=/ "$@"
}

# ---- store and mount --------------------------------------------------------

# ctl ARGS...: enrpctl on $STORE, run as "enrpctl" so messages read that way.
ctl() {
	(exec -a enrpctl "$ENRPCTL" -S "$STORE" "$@")
}

# ctl_nostore ARGS...: enrpctl without -S.
ctl_nostore() {
	(exec -a enrpctl "$ENRPCTL" "$@")
}

cleanup() {
	local rc=$? m p s c
	set +e
	for c in "${CLEANUP_CMDS[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	for p in "${CLEANUP_PIDS[@]}"; do
		kill "$p" 2>/dev/null || continue
		poll_until 5 pid_gone "$p" || kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for m in "$MNT" "${EXTRA_MOUNTS[@]}"; do
		[ -n "$m" ] || continue
		if is_mounted "$m"; then
			fusermount3 -u "$m" 2>/dev/null ||
				fusermount3 -uz "$m" 2>/dev/null ||
				umount -l "$m" 2>/dev/null
		fi
	done
	for s in "$STORE" "${EXTRA_STORES[@]}"; do
		[ -n "$s" ] || continue
		p=$(store_daemon_pid "$s")
		if [ -n "$p" ]; then
			kill -TERM "$p" 2>/dev/null
			poll_until 10 pid_gone "$p" || kill -KILL "$p" 2>/dev/null
		fi
	done
	if [ -n "$T" ] && [ -d "$T" ]; then
		if grep -q " $T/" /proc/mounts; then
			echo "# cleanup: something is still mounted under $T; not removing it" >&2
		elif [ "${KEEP:-0}" = 1 ]; then
			echo "# KEEP=1: left $T" >&2
		else
			rm -rf --one-file-system "$T"
		fi
	fi
	exit "$rc"
}

# setup: tmpdir (0755 so test users can traverse), users, a fresh store.
setup() {
	[ -x "$ENRPFS" ] || die "no enrpfs at $ENRPFS (run make)"
	[ -x "$ENRPCTL" ] || die "no enrpctl at $ENRPCTL (run make)"
	ensure_users
	T=$(mktemp -d "/tmp/enrp-$TEST_NAME.XXXXXX") || die "mktemp"
	chmod 755 "$T"
	STORE=$T/store
	MNT=$T/mnt
	mkdir "$MNT"
	chmod 755 "$MNT"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	cd "$T" || die "cd $T"
	# No journal mirror: tests must not write to the host's syslog (the
	# journal tests, t6*, point theirs at a receiver of their own).
	ctl_nostore init --mirror none "$STORE" >/dev/null || die "enrpctl init $STORE failed"
	log "tmpdir $T"
}

is_mounted() {
	# /proc/mounts escapes spaces; our paths have none.
	awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts
}

not_mounted() { ! is_mounted "$1"; }

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# Pid of the enrpfs serving store $1 (from run/enrpfs.pid, checked against
# /proc so a stale file never makes us signal a stranger), or nothing.
store_daemon_pid() {
	local s=$1 p f cmdline
	for f in "$s/run/enrpfs.pid" "$s"/run/*.pid; do
		[ -f "$f" ] || continue
		p=$(tr -dc '0-9' <"$f")
		[ -n "$p" ] || continue
		if [ -r "/proc/$p/cmdline" ] &&
			cmdline=$(tr '\0' ' ' <"/proc/$p/cmdline") &&
			grep -q "enrpfs" <<<"$cmdline" && grep -qF "$(basename "$s")" <<<"$cmdline"; then
			echo "$p"
			return 0
		fi
	done
	return 0
}

daemon_pid() { store_daemon_pid "$STORE"; }
have_daemon() { [ -n "$(daemon_pid)" ]; }
no_daemon() { [ -z "$(daemon_pid)" ]; }

# mount_fs [ENRPFS-ARGS...]: mounts $STORE on $MNT and waits until mounted.
mount_fs() {
	local out rc
	out=$("$ENRPFS" "$STORE" "$MNT" "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '# enrpfs: %s\n' "$out"
		die "enrpfs $STORE $MNT $* exited $rc"
	fi
	poll_until 20 is_mounted "$MNT" || die "$MNT not mounted 20 s after enrpfs returned"
	poll_until 10 have_daemon || die "no daemon pid in $STORE/run after mounting"
}

# umount_fs: unmounts $MNT and waits for the daemon to exit (so the store is
# closed, the group commit flushed and denials written).
umount_fs() {
	local p
	p=$(daemon_pid)
	fusermount3 -u "$MNT" || { sleep 1; fusermount3 -u "$MNT"; } || die "fusermount3 -u $MNT failed"
	if [ -n "$p" ]; then
		poll_until 30 pid_gone "$p" || die "enrpfs $p still running 30 s after unmount"
	fi
}

# mk_eir NAME ARGS...: enrpctl eir create, dying on failure.
mk_eir() {
	local out
	out=$(ctl eir create "$@" 2>&1) || die "eir create $*: $out"
}

# set_mode EIR MODE: enrpctl eir set --mode, dying on failure.
set_mode() {
	local out
	out=$(ctl eir set "$1" --mode "$2" 2>&1) || die "eir set $1 --mode $2: $out"
}

# Number of journal records (via audit show --json), optional filter args.
audit_count() {
	ctl audit show --json "$@" | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

# eir_settings NAME: `eir show NAME --json` without the ages (*_age_s), which
# grow with the clock: for "nothing changed" comparisons.
eir_settings() {
	ctl eir show "$1" --json | "$PY" -c '
import json, sys
print(json.dumps({k: v for k, v in json.load(sys.stdin).items() if not k.endswith("_age_s")},
                 indent=1, sort_keys=True))'
}

# details_flat: reads `audit show --json` on stdin and prints the details of
# each record as one line of key=value words, values unquoted and booleans as
# yes/no, for matching with a pattern.
details_flat() {
	"$PY" -c '
import json, sys
for r in json.load(sys.stdin):
    print(" ".join("%s=%s" % (k, ("yes" if v else "no") if isinstance(v, bool) else v)
                   for k, v in r["details"].items()))'
}

# sha256 of a file's content.
sha() { sha256sum <"$1" | cut -d' ' -f1; }

# A key from EIR/.enrp/status ("key: value").
status_field() {
	sed -n "s/^$2: *//p" "$MNT/$1/.enrp/status" | head -n1
}

# The python syscall helpers (runnable as any user).
PYH=$LIB_DIR/pyhelp.py
PY=/usr/bin/python3
# Inline drivers import what they share from driver.py.
export PYTHONPATH=$LIB_DIR${PYTHONPATH:+:$PYTHONPATH}
