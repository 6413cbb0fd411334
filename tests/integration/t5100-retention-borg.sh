#!/bin/bash
# t5100: enrp's snapshot selection (core/retention.c) is borg prune's
# (issue 9 item 5).  The same seeded few hundred timestamps over ~3.5 years,
# clustered at ISO week 53, month and year ends, Berlin's DST nights and
# Almaty's 2024 change of offset, become archives of a tiny directory in a
# real borg repository (borg create --timestamp); `borg prune --dry-run
# --list` under several keep combinations and time zones (TZ=...) must keep
# exactly the archives enrp keeps, each for the same rule and number.
# enrp's side is build/tests/test_retention --select ZONE SPEC (test-only).
# Differences would have to be listed in docs/design.md "Retention"; there
# are none for distinct timestamps.
. "$(dirname "$0")/lib.sh"
setup

RB=$LIB_DIR/retention_borg.py
ORACLE=$BUILDDIR/tests/test_retention
N=${T5100_ARCHIVES:-180}
[ -x "$ORACLE" ] || die "no $ORACLE (run make)"
command -v borg >/dev/null || die "borg not installed (tools/packages.txt: borgbackup)"

export BORG_BASE_DIR=$T/borg-base
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export BORG_CHECK_I_KNOW_WHAT_I_AM_DOING=NO
export BORG_DELETE_I_KNOW_WHAT_I_AM_DOING=NO
REPO_B=$T/borg-repo
mkdir -p "$T/src" && echo "retention" >"$T/src/file"

"$PY" "$RB" gen 5100 "$N" >"$T/stamps" || die "gen"
assert_eq "$N" "$(wc -l <"$T/stamps")" "$N distinct timestamps"
borg init -e none "$REPO_B" >/dev/null 2>&1 || die "borg init"
start=$SECONDS
"$PY" "$RB" create "$REPO_B" "$T/src" <"$T/stamps" >"$T/create.log" 2>&1 || die "borg create: $(tail -n 3 "$T/create.log")"
log "borg create of $N archives: $((SECONDS - start)) s"
assert_eq "$N" "$(borg list --short "$REPO_B" | wc -l)" "borg holds $N archives"

# enrp takes ns; borg was given the same whole seconds.
awk '{ printf "%s %s000000000\n", $1, $2 }' "$T/stamps" >"$T/stamps-ns"

# compare ZONE SPEC: borg's and enrp's choices, archive by archive.
compare() {
	local zone=$1 spec=$2 args
	args=$(echo "$spec" | tr ',' '\n' | sed 's/^/--/; s/=/ /' | tr '\n' ' ')
	# shellcheck disable=SC2086
	TZ=$zone borg prune --dry-run --list $args "$REPO_B" >"$T/borg.out" 2>&1 ||
		{ fail "$zone $spec: borg prune failed: $(tail -n 2 "$T/borg.out")"; return; }
	"$PY" "$RB" parse <"$T/borg.out" >"$T/borg.sel"
	"$ORACLE" --select "$zone" "$spec" <"$T/stamps-ns" | sort -n >"$T/enrp.sel" ||
		{ fail "$zone $spec: enrp's selection failed"; return; }
	local kept
	kept=$(grep -vc ' prune$' "$T/borg.sel")
	if [ "$(wc -l <"$T/borg.sel")" -ne "$N" ]; then
		fail "$zone $spec: borg listed $(wc -l <"$T/borg.sel") of $N archives"
	elif diff -u "$T/borg.sel" "$T/enrp.sel" >"$T/diff"; then
		pass "$zone $spec: identical ($kept of $N kept)"
		cat "$T/enrp.sel" >>"$T/all.sel"
		cp "$T/enrp.sel" "$T/sel-${zone//\//_}-$spec"
	else
		fail "$zone $spec: enrp differs from borg: $(grep '^[-+][0-9]' "$T/diff" | head -n 6 | tr '\n' ';')"
	fi
}

SPECS=(
	"keep-daily=7,keep-weekly=4,keep-monthly=12,keep-yearly=3"
	"keep-last=5,keep-hourly=10,keep-daily=14,keep-weekly=8,keep-monthly=12,keep-yearly=5"
	"keep-hourly=40"
	"keep-last=3,keep-daily=3,keep-yearly=10"
	"keep-weekly=500"
	"keep-monthly=30,keep-yearly=1"
)
start=$SECONDS
for zone in Europe/Berlin Asia/Almaty; do
	for spec in "${SPECS[@]}"; do
		compare "$zone" "$spec"
	done
done
compare UTC "${SPECS[0]}"
compare UTC "keep-daily=40,keep-weekly=30"
log "borg prune runs: $((SECONDS - start)) s"

# The comparisons exercised what they are meant to: borg's "[oldest]" keep,
# keep-last (borg: "secondly"), and zones that change the choice.
grep -q '\[oldest\] ' "$T/all.sel" && pass "a rule with fewer periods than N kept the oldest" ||
	fail "no [oldest] keep was exercised"
grep -q ' secondly #' "$T/all.sel" && pass "keep-last exercised" || fail "keep-last not exercised"
if cmp -s "$T/sel-Europe_Berlin-keep-weekly=500" "$T/sel-Asia_Almaty-keep-weekly=500"; then
	fail "Berlin and Almaty chose alike: the zone was not exercised"
else
	pass "the zone changes the choice (Berlin and Almaty differ for keep-weekly=500)"
fi
finish
