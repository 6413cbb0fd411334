#!/bin/bash
# t6370: `audit export` writes a segment of the journal that `audit verify
# --segment` checks offline, without the store (issue 11 item 8): the
# records' exact bytes and hashes, the anchor before the first one and the
# last hash.  Every way to damage a segment is caught and names the record
# (a byte flipped in the data or in a hash, a record dropped, two swapped,
# the file cut short or appended to, the anchor changed); a segment edited
# and re-hashed whole is not caught by itself (the honest limit), but is by
# a head saved earlier with `audit head`.  An independent checker
# (journaltool.py segment, Python's hashlib) agrees with enrpctl.
. "$(dirname "$0")/lib.sh"
setup

JT="$LIB_DIR/journaltool.py"
# offline ARGS...: enrpctl with no store at all (neither -S nor ENRP_STORE).
offline() { (exec -a enrpctl env -u ENRP_STORE "$ENRPCTL" "$@"); }
# tns SEQ: the time of record SEQ, in whole seconds since the epoch.
tns() { ctl audit show --json | "$PY" -c 'import json, sys
print([r for r in json.load(sys.stdin) if r["seq"] == int(sys.argv[1])][0]["time_ns"] // 10**9)' "$1"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
differs() { ! cmp -s "$1" "$2"; }

mk_eir c --owner "$ALICE"                                  # 1
mk_eir a --owner "$ALICE"                                  # 2
mk_eir b --owner "$BOB"                                    # 3
H3=$(ctl audit head)
assert_match '^3:[0-9a-f]{64}$' "$H3" "the head saved after record 3"
sleep 1.1
expect_ok ctl eir set a --quota 10M                        # 4
expect_ok ctl eir set a --quota 11M                        # 5
expect_ok ctl eir set a --quota 12M                        # 6
H6=$(ctl audit head)
sleep 1.1
expect_ok ctl eir set b --quota 10M                        # 7
expect_ok ctl eir set b --quota 11M                        # 8
H8=$(ctl audit head)

# --- the whole journal -------------------------------------------------------
expect_ok ctl audit export -o "$T/all.seg"
out=$(ctl audit export -o "$T/all2.seg")
assert_eq "audit: exported records 1-8 to $T/all2.seg, last $H8" "$out" "export -o says what it wrote"
assert_eq "$(head -c 200 "$T/all.seg" | head -n2)" "enrp-journal-segment 1
journal $(ctl audit head --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["journal"])')" \
	"a segment starts with its format and the journal's name"
assert_eq "anchor 0:$(printf '0%.0s' $(seq 64))" "$(grep '^anchor ' "$T/all.seg")" \
	"the whole journal chains from zeros"
assert_eq "end 8 $H8" "$(tail -n1 "$T/all.seg")" "the end line: 8 records, the head"
ZERO="0:$(printf '0%.0s' $(seq 64))"
assert_eq "audit: segment intact, records 1-8 (8 records), chained from $ZERO" \
	"$(offline audit verify --segment "$T/all.seg")" "verify --segment: intact, without any store"
assert_eq "ok 1 8 $H8" "$("$PY" "$JT" segment "$T/all.seg")" \
	"the independent checker recomputes every SHA-256 and the chain: the same head"
assert_eq "$(ctl audit export | grep -v '^exported ')" "$(grep -v '^exported ' "$T/all.seg")" \
	"export to stdout writes the same segment (but for the export time)"
assert_eq 8 "$(ctl audit show --json | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
	"exporting changes nothing: still 8 records (export is not journalled)"

# --- a range, chained from a head saved earlier --------------------------------
t4=$(tns 4); t6=$(tns 6)
expect_ok ctl audit export --from "$(iso "$t4")" --to "$(iso $((t6 + 1)))" -o "$T/mid.seg"
assert_eq "anchor $H3" "$(grep '^anchor ' "$T/mid.seg")" "records 4-6: the anchor is record 3's hash, the head saved then"
assert_eq "end 3 $H6" "$(tail -n1 "$T/mid.seg")" "records 4-6: the end line is the head at record 6"
out=$(offline audit verify --segment "$T/mid.seg" --anchor "$H3")
assert_eq "audit: segment intact, records 4-6 (3 records), chained from $H3
audit: 1 anchored record match; 0 anchors outside the segment" "$out" \
	"the saved head 3 is the segment's anchor: it chains to it"
printf '%s\n%s\n%s\n' "$H3" "$H6" "$H8" >"$T/heads.txt"
out=$(offline audit verify --segment "$T/mid.seg" --anchors "$T/heads.txt")
assert_eq "audit: 2 anchored records match; 1 anchor outside the segment" "$(sed -n 2p <<<"$out")" \
	"heads file: 3 and 6 checked, 8 outside"
out=$(offline audit verify --segment "$T/mid.seg" --anchor "$H8")
assert_eq 1 "$?" "an anchor outside the segment proves nothing: exit 1"
assert_match "^audit: segment anchor not held: none of the 1 anchors given is a record of this segment \(records 4 to 6, chained from 3\)$" \
	"$out" "... and says so"
assert_eq "ok 4 6 $H6" "$("$PY" "$JT" segment "$T/mid.seg")" "the independent checker agrees on 4-6"

# --- damage --------------------------------------------------------------------
# broken FILE SEQ PATTERN WHAT: verify --segment FILE fails at record SEQ with
# a reason matching PATTERN.
broken() {
	local out rc
	out=$(offline audit verify --segment "$1" 2>&1)
	rc=$?
	assert_eq 1 "$rc" "$4: verify exits 1"
	assert_match "^audit: segment broken at record $2: $3" "$out" "$4: named ($out)"
	local j
	j=$(offline audit verify --segment "$1" --json | "$PY" -c 'import json, sys
v = json.load(sys.stdin); print(v["intact"], v["bad_seq"])')
	assert_eq "False $2" "$j" "$4: --json names record $2"
}
line_of() { grep -n "^record $2 " "$1" | cut -d: -f1; }

# One byte of record 5's data: a letter of its base64 changed to another.
L5=$(line_of "$T/mid.seg" 5)
"$PY" - "$T/mid.seg" "$L5" >"$T/flip.seg" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = int(sys.argv[2]) - 1
kw, seq, h, b = lines[i].split(" ")
k = len(b) // 2
b = b[:k] + ("B" if b[k] != "B" else "C") + b[k + 1:]
lines[i] = " ".join((kw, seq, h, b))
sys.stdout.write("\n".join(lines))
PY
broken "$T/flip.seg" 5 "record 5 \(line $L5\): its bytes hash to [0-9a-f]{12}, the segment says" "a byte of record 5 flipped"
assert_match "^bad 5: hash$" "$("$PY" "$JT" segment "$T/flip.seg")" "the independent checker: bad 5"
# One hex digit of record 5's stated hash.
sed "${L5}s/^record 5 \(.\)/record 5 X\1/; ${L5}s/^record 5 X0/record 5 1/; ${L5}s/^record 5 X./record 5 0/" \
	"$T/mid.seg" >"$T/hash.seg"
assert_true "the hash line was changed" differs "$T/mid.seg" "$T/hash.seg"
broken "$T/hash.seg" 5 "record 5 \(line $L5\): its bytes hash to" "record 5's hash changed"
# Record 5 dropped.
sed "${L5}d" "$T/mid.seg" >"$T/drop.seg"
broken "$T/drop.seg" 5 "record 5 missing or moved \(line $L5 holds record 6\)" "record 5 dropped"
# Records 5 and 6 swapped.
awk -v l="$L5" 'NR == l { held = $0; next } { print } NR == l + 1 { print held }' "$T/mid.seg" >"$T/swap.seg"
broken "$T/swap.seg" 5 "record 5 missing or moved \(line $L5 holds record 6\)" "records 5 and 6 swapped"
# Record 4 repeated after itself.
awk -v l="$((L5 - 1))" '{ print } NR == l { print }' "$T/mid.seg" >"$T/repeat.seg"
broken "$T/repeat.seg" 5 "record 5 expected at line $L5, which holds record 4 \(reordered or repeated\)" "record 4 repeated"
# Cut: the end line gone; the last record cut in the middle.
head -n -1 "$T/mid.seg" >"$T/noend.seg"
broken "$T/noend.seg" 7 "the segment ends after record 6 without its end line \(truncated\)" "the end line cut off"
head -n "$L5" "$T/mid.seg" >"$T/cut.seg"
printf '%s' "$(sed -n "$((L5 + 1))p" "$T/mid.seg" | cut -c1-151)" >>"$T/cut.seg"
broken "$T/cut.seg" 6 "record 6 \(line $((L5 + 1))\): its data is not valid base64" "record 6 cut in the middle"
# A record appended after the end line; the end line's count changed.
{ cat "$T/mid.seg"; grep '^record 7 ' "$T/all.seg"; } >"$T/append.seg"
out=$(offline audit verify --segment "$T/append.seg")
assert_eq 1 "$?" "a record after the end line: exit 1"
assert_match "^audit: segment broken: line [0-9]+: data after the end line" "$out" "... and says where ($out)"
sed 's/^end 3 /end 2 /' "$T/mid.seg" >"$T/count.seg"
broken "$T/count.seg" 7 "the end line says 2 records up to record 6, the segment holds 3" "the end line's count changed"
# The anchor line changed (to record 2's hash): record 4 no longer chains.
H2=$(grep '^record 2 ' "$T/all.seg" | cut -d' ' -f3)
sed "s/^anchor 3:.*/anchor 3:$H2/" "$T/mid.seg" >"$T/anchor.seg"
broken "$T/anchor.seg" 4 "record 4 \(line [0-9]+\): its previous-hash is not the segment's anchor 3:" "the anchor line changed"
# Not a segment at all.
out=$(offline audit verify --segment "$T/heads.txt")
assert_eq 1 "$?" "a file that is no segment: exit 1"
assert_match "^audit: segment broken: not a journal segment" "$out" "... and says so"
out=$(offline audit verify --segment "$T/nosuch.seg" 2>&1)
assert_eq 2 "$?" "a segment that cannot be read: exit 2 (nothing verified)"

# --- the honest limit, and what catches it -------------------------------------
# Record 5 edited (its details), re-hashed, record 6's previous-hash and
# hash, and the end line rewritten to match: the segment is consistent.
"$PY" - "$T/mid.seg" "$LIB_DIR" >"$T/rehash.seg" <<'PY'
import base64, hashlib, sys
sys.path.insert(0, sys.argv[2])
import journaltool as jt
lines = open(sys.argv[1]).read().rstrip("\n").split("\n")
prev = None
for i, ln in enumerate(lines):
    if ln.startswith("record "):
        kw, seq, h, b = ln.split(" ")
        r = jt.decode(base64.b64decode(b))
        if int(seq) == 5:
            r["details"] = r["details"].replace(b"quota=", b"quota=9")
        if prev is not None:
            r["prev"] = prev
        val = jt.encode(r)
        prev = hashlib.sha256(val).digest()
        if int(seq) >= 5:
            lines[i] = "record %s %s %s" % (seq, prev.hex(), base64.b64encode(val).decode())
    elif ln.startswith("end "):
        lines[i] = "end 3 6:" + prev.hex()
print("\n".join(lines))
PY
assert_true "record 5 was edited" differs "$T/mid.seg" "$T/rehash.seg"
assert_eq "audit: segment intact, records 4-6 (3 records), chained from $H3" \
	"$(offline audit verify --segment "$T/rehash.seg")" "edited and re-hashed whole: the segment alone cannot tell (honest limit)"
out=$(offline audit verify --segment "$T/rehash.seg" --anchors "$T/heads.txt")
assert_eq 1 "$?" "... the head saved at record 6 catches it: exit 1"
assert_match "^audit: segment anchor not held at record 6: record 6 differs from its anchor \($T/heads.txt:2\)" \
	"$out" "... at record 6, naming the saved head ($out)"

# --- export's refusals -----------------------------------------------------------
before=$(cat "$T/all.seg")
out=$(ctl audit export -o "$T/all.seg" 2>&1)
assert_eq 1 "$?" "export -o onto an existing file: exit 1"
assert_match "^enrpctl: cannot write segment '$T/all.seg': File exists" "$out" "... says why"
assert_eq "$before" "$(cat "$T/all.seg")" "... and the archived segment is untouched"
out=$(ctl audit export --from 2001-01-01 --to 2001-02-01 2>&1)
assert_eq 1 "$?" "a range with no record: exit 1"
assert_match "^enrpctl: no journal record between 2001-01-01 and 2001-02-01" "$out" "... says so"
expect_exit 2 ctl audit export --from 2026-02-01 --to 2026-01-01
expect_exit 2 ctl audit export --from yesterday-ish
ls "$T" | grep -q '\.part' && fail "a temporary file was left beside the segments"

# A broken chain is not exported (its segment would vouch for the damage).
"$PY" "$JT" tamper "$STORE/meta" cut 6 || die "tamper failed"
out=$(ctl audit export -o "$T/broken.seg" 2>&1)
assert_eq 1 "$?" "export of a broken chain: exit 1"
assert_match "^enrpctl: the audit journal's chain is broken at record 7: not exported" "$out" "... names the record"
assert_true "... and writes no file" test ! -e "$T/broken.seg"

finish
