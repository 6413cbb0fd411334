#!/bin/bash
# t1900: the POSIX conformance suite (tests/posix, in the spirit of
# pjdfstest) against an rw EIR of a fresh mount, as root and as the EIR's
# owner; every check must give what Linux ext4 gives, or the intended enrp
# difference recorded in tests/posix/DIFFERENCES.md.  When $T is on ext4 the
# same suite runs there first, so a wrong expectation shows as an ext4
# failure, not as an enrp bug.  Plus the quota of open, unlinked files.
. "$(dirname "$0")/lib.sh"
setup

POSIX_RUN=$REPO/tests/posix/run

# run_suite LABEL DIR [ARGS...]: one check per failed suite check, and one
# for the run as a whole.
run_suite() {
	local label=$1 dir=$2 out rc summary line
	shift 2
	out=$("$POSIX_RUN" "$dir" "$@" 2>&1)
	rc=$?
	summary=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n1)
	printf '%s\n' "$out" | grep -E '^(# posix suite|skip )' | sed 's/^# //; s/^/# /'
	while IFS= read -r line; do
		[ -n "$line" ] && fail "posix $label: ${line#FAIL }"
	done < <(printf '%s\n' "$out" | grep -E '^FAIL')
	if [ "$rc" -eq 0 ] && [[ $summary =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]]; then
		pass "posix suite $label: $summary"
	else
		fail "posix suite $label: exit $rc, '${summary:-no summary}'"
		[ -n "$summary" ] || printf '%s\n' "$out" | tail -n 5 | sed 's/^/#   /'
	fi
}

if [ "$(stat -f -c %T "$T")" = ext2/ext3 ]; then
	mkdir "$T/ext4" && chmod 0777 "$T/ext4"
	run_suite "ext4 baseline (root)" "$T/ext4" --fs ext4
	run_suite "ext4 baseline ($ALICE)" "$T/ext4" --fs ext4 --as "$ALICE"
else
	log "$T is not on ext4: no baseline run"
fi

# A quota, so statvfs inside the EIR is the EIR's own accounting (not the
# host disk others write to).
mk_eir px --owner "$ALICE" --quota 1G
mk_eir pq --owner "$ALICE" --quota 8M
mount_fs

run_suite "enrp (root)" "$MNT/px" --fs enrp
run_suite "enrp ($ALICE)" "$MNT/px" --fs enrp --as "$ALICE"

# ---- quota and open, unlinked files -------------------------------------------
# ext4 (and any quota-enforcing fs) charges an open, unlinked file until its
# last close; otherwise open + unlink + write stores unbounded data.
orphan=$(as "$ALICE" "$PY" - "$MNT/pq" <<'PYEOF'
import errno, os, sys
d = sys.argv[1]
fd = os.open(d + "/orphan", os.O_RDWR | os.O_CREAT, 0o644)
os.unlink(d + "/orphan")
n = 0
res = "no error"
try:
    for _ in range(16):
        n += os.write(fd, b"y" * (1 << 20))
except OSError as e:
    res = errno.errorcode[e.errno]
usage = [l.split()[1] for l in open(d + "/.enrp/status") if l.startswith("usage_bytes:")][0]
print("%s %d %s" % (res, n, usage))
os.close(fd)
PYEOF
)
log "open unlinked file in an 8M EIR: $orphan (result, bytes written, usage_bytes while open)"
assert_match '^EDQUOT ' "$orphan" "writes to an open, unlinked file count against the quota (EDQUOT at 8M)"
assert_match '^[A-Za-z ]+ [0-9]+ [1-9][0-9]*$' "$orphan" "usage_bytes counts an open, unlinked file until its last close"

finish
