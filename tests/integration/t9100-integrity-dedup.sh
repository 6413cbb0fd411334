#!/bin/bash
# t9100: chunks are stored once per EIR (DESIGN §5): the same 20 MiB twice in
# one EIR costs about one copy, also when shifted by an insertion (content-
# defined chunking); the same content in two EIRs is stored by each; and seven
# daily dumps of a slowly changing SQL database cost less than two dumps.
. "$(dirname "$0")/lib.sh"
setup

G=$LIB_DIR/integ9.py
MiB=1048576

state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
xsha() { getfattr --absolute-names --only-values -n enrp.sha256 "$1" 2>/dev/null; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
stored() { status_field "$1" stored_bytes; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
nchunks() { find "$STORE/chunks/$(eir_id "$1")" -type f 2>/dev/null | wc -l; }
chunk_names() { find "$STORE/chunks/$(eir_id "$1")" -type f -printf '%f\n' 2>/dev/null | sort; }
# seal EIR FILE SRC: waits until the EIR has nothing pending, then checks FILE.
seal() {
	poll_until 120 pending_empty "$1" || fail "$1: still pending after 120 s: $(head -n 3 "$MNT/$1/.enrp/pending" | tr '\n' ' ')"
	assert_eq "verified $(sha "$3")" "$(state "$2") $(xsha "$2")" "$(basename "$2") verified with the source's SHA-256"
}
# pct A B: A as a percentage of B, one decimal.
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b ? 100 * a / b : -1 }'; }
# lt A B: A < B for integers or decimals.
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

mk_eir d --owner root
mk_eir d2 --owner root
mk_eir sql --owner root
mount_fs

# ---- the same 20 MiB twice in one EIR --------------------------------------------------------
"$PY" "$G" gen 9100 $((20 * MiB)) >"$T/x20" || die "gen"
expect_ok cp "$T/x20" "$MNT/d/first"
seal d "$MNT/d/first" "$T/x20"
s1=$(stored d)
c1=$(nchunks d)
log "one copy: stored_bytes $s1, $c1 chunk files"
if [ "$s1" -ge $((19 * MiB)) ] && [ "$s1" -le $((21 * MiB)) ]; then
	pass "20 MiB of random data stores about 20 MiB ($s1)"
else
	fail "20 MiB of random data: stored_bytes $s1, expected about 20 MiB"
fi
if [ "$c1" -ge 20 ] && [ "$c1" -le 320 ]; then
	pass "20 MiB cut into $c1 chunks (between 10 and 320 for 64 KiB-2 MiB, ~256 KiB)"
else
	fail "20 MiB cut into $c1 chunk files, expected 10..320"
fi

expect_ok cp "$T/x20" "$MNT/d/second-name"
seal d "$MNT/d/second-name" "$T/x20"
s2=$(stored d)
add=$((s2 - s1))
log "second copy added $add bytes ($(pct "$add" "$s1") % of the first)"
if [ "$add" -lt $((s1 / 20)) ]; then
	pass "same content under another name adds < 5 % ($add bytes)"
else
	fail "same content under another name added $add bytes (first copy: $s1)"
fi
assert_eq "$c1" "$(nchunks d)" "no new chunk files for the second copy"
assert_eq $((40 * MiB)) "$(status_field d usage_bytes)" "usage_bytes counts both copies (logical bytes)"

# Shifted by 1000 bytes inserted at the front: content-defined chunks resynchronise.
{ head -c 1000 /dev/zero | tr '\0' 'Q'; cat "$T/x20"; } >"$T/x20-shifted"
expect_ok cp "$T/x20-shifted" "$MNT/d/shifted"
seal d "$MNT/d/shifted" "$T/x20-shifted"
s3=$(stored d)
add=$((s3 - s2))
log "shifted copy added $add bytes ($(pct "$add" "$s1") % of the first)"
if [ "$add" -lt $((s1 / 10)) ]; then
	pass "a copy shifted by an insertion adds < 10 % ($add bytes)"
else
	fail "a copy shifted by 1000 bytes added $add bytes (first copy: $s1): chunking is not content-defined?"
fi
expect_ok cmp "$T/x20-shifted" "$MNT/d/shifted"

# ---- the same content in two EIRs: each stores it --------------------------------------------
e1=$(stored d2)
expect_ok cp "$T/x20" "$MNT/d2/same"
seal d2 "$MNT/d2/same" "$T/x20"
e2=$(stored d2)
log "d2: stored_bytes $e1 -> $e2"
if [ "$((e2 - e1))" -ge $((s1 * 95 / 100)) ] && [ "$((e2 - e1))" -le $((s1 * 105 / 100)) ]; then
	pass "the other EIR stores its own copy ($((e2 - e1)) bytes, first EIR: $s1)"
else
	fail "the other EIR's stored_bytes grew by $((e2 - e1)), expected about $s1 (no dedup across EIRs)"
fi
assert_eq "$c1" "$(nchunks d2)" "the other EIR has its own chunk files, as many"
assert_eq "$s3" "$(stored d)" "the first EIR's stored_bytes unchanged by the other EIR"
out=$(comm -23 <(chunk_names d2) <(chunk_names d) | head -n 3)
assert_eq "" "$out" "unencrypted: the same content has the same chunk names (SHA-256) in both EIRs"
# Deleting in one EIR must not touch the other's data.
expect_ok rm "$MNT/d/first" "$MNT/d/second-name" "$MNT/d/shifted"
expect_ok cmp "$T/x20" "$MNT/d2/same"

# ---- seven daily SQL dumps ---------------------------------------------------------------------
log "generating 7 daily dumps"
seq 0 6 | xargs -P 2 -I{} "$PY" "$G" sqldump 9100 {} "$T/day{}.sql" || die "sqldump generator failed"
for day in 0 1 2 3 4 5 6; do
	expect_ok cp "$T/day$day.sql" "$MNT/sql/dump-day$day.sql"
	seal sql "$MNT/sql/dump-day$day.sql" "$T/day$day.sql"
	st[day]=$(stored sql)
	us[day]=$(status_field sql usage_bytes)
	log "day $day: size $(stat -c %s "$T/day$day.sql"), usage $((us[day])), stored ${st[day]} (+$((st[day] - ${st[day - 1]:-0})))"
done
ratio=$(awk -v a="${st[6]}" -v b="${st[0]}" 'BEGIN { printf "%.3f", a / b }')
comp=$(awk -v a="${us[0]}" -v b="${st[0]}" 'BEGIN { printf "%.2f", a / b }')
total=$(awk -v a="${us[6]}" -v b="${st[6]}" 'BEGIN { printf "%.2f", a / b }')
log "7 days stored / day 0 stored = $ratio; day 0 compression ${comp}x; 7 days logical/stored ${total}x"
if lt "$ratio" 2; then
	pass "7 daily dumps cost less than 2 x the first (ratio $ratio)"
else
	fail "7 daily dumps stored ${st[6]} bytes, $ratio x the first dump's ${st[0]} (expected < 2)"
fi
if lt "${st[0]}" $((us[0] / 2)); then
	pass "the SQL dump is compressed (${comp}x)"
else
	fail "day 0 dump: stored ${st[0]} of ${us[0]} logical bytes: not compressed?"
fi
for day in 1 2 3 4 5 6; do
	if [ "$((st[day] - st[day - 1]))" -lt "$((st[0] / 5))" ]; then
		pass "day $day adds less than a fifth of day 0 ($((st[day] - st[day - 1])) bytes)"
	else
		fail "day $day added $((st[day] - st[day - 1])) bytes (day 0: ${st[0]})"
	fi
done

# Every dump reads back right after a remount (chunks shared across files).
umount_fs
mount_fs
for day in 0 3 6; do
	expect_ok cmp "$T/day$day.sql" "$MNT/sql/dump-day$day.sql"
done
assert_eq "${st[6]}" "$(stored sql)" "stored_bytes survives a remount"
expect_exit 0 ctl scrub sql

finish
