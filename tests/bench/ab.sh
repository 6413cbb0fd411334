#!/bin/bash
# tests/bench/ab.sh — interleaved A/B of enrpfs builds on the loads of bench step 13.
#
#   tests/bench/ab.sh ROUNDS mixed OPS BUILD...        4 processes x OPS operations
#   tests/bench/ab.sh ROUNDS fileserver SECONDS BUILD... 4 clients over 4,000 files
#
# Each BUILD is a build directory (with enrpfs and enrpctl).  Round by round,
# every build runs the load on a fresh store with the same seed, then bindfs
# does: whole runs minutes apart differ on these shared machines by more than
# most changes do, runs side by side much less.  Prints one line a round
# (mixed: seconds, lower is better; fileserver: ops/s, higher is better).
# Needs root (allow_other) and bindfs.
set -u
[ $# -ge 4 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
ROUNDS=$1 LOAD=$2 SIZE=$3
shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
WL=$HERE/workloads.py BH=$HERE/bench.py
T=$(mktemp -d /tmp/enrp-ab.XXXXXX)
trap 'fusermount3 -u "$T/mnt" 2>/dev/null; fusermount3 -u "$T/bm" 2>/dev/null; rm -rf "$T"' EXIT
mkdir "$T/mnt" "$T/bb" "$T/bm"
bindfs --multithreaded -o big_writes "$T/bb" "$T/bm" || exit 1

one() { # one BUILD SEED -> the figure
	local b=$1 out
	rm -rf "$T/store"
	"$b/enrpctl" init "$T/store" >/dev/null 2>&1 &&
		"$b/enrpctl" -S "$T/store" eir create e --owner root >/dev/null 2>&1 &&
		"$b/enrpfs" "$T/store" "$T/mnt" 2>/dev/null || { echo failed; return; }
	if [ "$LOAD" = fileserver ]; then
		python3 "$WL" fsetup "$T/mnt/e/ws" 4 4000 7 >/dev/null &&
			python3 "$BH" waitpending "$T/mnt/e" 600 >/dev/null && sync &&
			out=$(python3 "$WL" fileserver "$T/mnt/e/ws" 4 "$SIZE" "$2")
	else
		sync && out=$(python3 "$WL" mixed "$T/mnt/e/run" 4 "$SIZE" "$2")
	fi
	echo "${out%% *}"
	fusermount3 -u "$T/mnt"
	sleep 1
}

for ((r = 1; r <= ROUNDS; r++)); do
	line="round $r:"
	for b in "$@"; do line="$line $b=$(one "$b" $((30 + r)))"; done
	rm -rf "${T:?}/bb/"*
	if [ "$LOAD" = fileserver ]; then
		python3 "$WL" fsetup "$T/bm/ws" 4 4000 7 >/dev/null && sync
		out=$(python3 "$WL" fileserver "$T/bm/ws" 4 "$SIZE" $((30 + r)))
	else
		sync
		out=$(python3 "$WL" mixed "$T/bm/run" 4 "$SIZE" $((30 + r)))
	fi
	echo "$line bindfs=${out%% *}"
done
