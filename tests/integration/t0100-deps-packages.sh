#!/bin/bash
# t0100: what the suites need is installed by tools/deps.sh (README, .ci/run):
# every program and Python module the tests, the crash harness, the fuzzers
# and the bench use comes from tools/packages.txt or Debian's base system
# (tools/deps.sh --check), and the tool whose missing recommend once broke
# `make test` on a fresh machine works: `borg mount` (python3-pyfuse3).
. "$(dirname "$0")/lib.sh"

out=$("$REPO/tools/deps.sh" --check 2>&1)
rc=$?
assert_eq 0 "$rc" "tools/deps.sh --check: $(tail -n1 <<<"$out")"
printf '%s\n' "$out" | sed 's/^/# /'
for p in $(sed -e 's/#.*//' "$REPO/tools/packages.txt"); do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)
	assert_match '^ii' "$st" "package $p of tools/packages.txt is installed"
done

# borg mount of a one-file archive, read back (the bench's cold-read baseline).
T=$(mktemp -d /tmp/enrp-t0100.XXXXXX) || die "mktemp"
trap 'mountpoint -q "$T/m" && fusermount3 -u "$T/m"; rm -rf --one-file-system "$T"' EXIT
export BORG_BASE_DIR=$T/cache BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
echo "borg payload" >"$T/f"
mkdir "$T/m"
borg init -e none "$T/r" && borg create "$T/r::a" "$T/f" || die "borg init/create failed"
out=$(borg mount "$T/r::a" "$T/m" 2>&1)
assert_eq 0 "$?" "borg mount works (FUSE support installed): ${out:-ok}"
assert_eq "borg payload" "$(cat "$T/m$T/f" 2>&1)" "borg mount serves the archived file"
mountpoint -q "$T/m" && borg umount "$T/m"

finish
