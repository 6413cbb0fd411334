#!/bin/bash
# t9800: trash (issue 9, item 6).  What an owner deletes (rm), replaces (cp
# over, rsync -a, a rename over) or empties (> file) through the mount stays
# stored as trash, listed by `enrpctl trash list`, restorable (at its old
# path or --to PATH, never over a live file) with the same bytes after gc
# and a fresh mount, purgeable by root (then gc frees it), and invisible and
# out of reach for the owner.  The quota no longer counts it; STORED does.
. "$(dirname "$0")/lib.sh"
setup
ensure_users

pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 60 pending_empty "$1" || fail "$1: still pending after 60 s"; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
nchunks() { find "$STORE/chunks/$(eir_id d)" -path '*/tmp' -prune -o -type f -print 2>/dev/null | wc -l; }
# tjson EXPR: EXPR over the JSON list of d's trash (as T).
tjson() { ctl trash list d --json | "$PY" -c "import json, sys; T = json.load(sys.stdin); print($1)"; }
ntrash() { tjson 'len(T)'; }
# tid WHY PATH: the id of d's entry with that why and path.
tid() { tjson "[e['id'] for e in T if e['why'] == '$1' and e['path'] == '$2'][0]"; }

mk_eir d --owner "$ALICE"
mount_fs
D=$MNT/d
chmod 0755 "$T"
for f in gone copied synced emptied keep; do
	head -c $((1500000 + RANDOM)) /dev/urandom >"$T/$f.orig"
done
head -c 700000 /dev/urandom >"$T/new" && head -c 900000 /dev/urandom >"$T/synced"
chmod 0644 "$T"/*.orig "$T/new" "$T/synced"
as "$ALICE" mkdir "$D/sub" || die "mkdir"
for f in gone copied synced emptied; do
	as "$ALICE" cp "$T/$f.orig" "$D/sub/$f" || die "cp $f"
done
as "$ALICE" cp "$T/keep.orig" "$D/keep" || die "cp keep"
settle d
used0=$(status_field d usage_bytes)
stored0=$(status_field d stored_bytes)

# ---- the owner deletes, overwrites, replaces, empties -----------------------------------------
expect_ok as "$ALICE" rm "$D/sub/gone"
expect_ok as "$ALICE" cp "$T/new" "$D/sub/copied"
expect_ok as "$ALICE" rsync -a "$T/synced" "$D/sub/synced"
expect_ok as "$ALICE" sh -c ": >'$D/sub/emptied'"
settle d
four() { [ "$(ntrash)" = 4 ]; }
poll_until 20 four && pass "four copies in trash" || fail "trash holds $(ntrash) entries: $(ctl trash list d)"
assert_eq 1 "$(tjson "len([e for e in T if e['why'] == 'deleted' and e['path'] == 'sub/gone'])")" \
	"rm: deleted, with its path"
assert_eq 1 "$(tjson "len([e for e in T if e['why'] == 'truncated' and e['path'] == 'sub/copied'])")" \
	"cp over: truncated (O_TRUNC), named by the file's path"
assert_eq 1 "$(tjson "len([e for e in T if e['why'] == 'renamed-over' and e['path'] == 'sub/synced'])")" \
	"rsync -a: renamed-over"
assert_eq 1 "$(tjson "len([e for e in T if e['why'] == 'truncated' and e['path'] == 'sub/emptied'])")" \
	"> file: truncated"
assert_eq "$(sha "$T/gone.orig")" "$(tjson "[e['sha256'] for e in T if e['path'] == 'sub/gone'][0]")" \
	"the entry keeps the copy's sha256"
out=$(ctl trash list d)
assert_match "ID +SIZE +SEALED +TRASHED +WHY +EXPIRES +PATH" "$out" "the table's columns"
assert_match "sub/gone" "$out" "and its rows"
assert_true "the quota no longer counts the trashed copies ($used0 -> $(status_field d usage_bytes))" \
	[ "$(status_field d usage_bytes)" -lt "$used0" ]
assert_true "STORED still does ($stored0 -> $(status_field d stored_bytes))" \
	[ "$(status_field d stored_bytes)" -ge "$stored0" ]
if ctl eir set d --retention "files=90" >/dev/null 2>&1; then
	assert_eq 4 "$(tjson "len([e for e in T if e['expires']])")" "files=90: each entry has an expiry"
else
	log "eir set --retention is not on this branch: no expiry to check (test_trash checks it)"
fi

# ---- the owner neither sees nor reaches trash ------------------------------------------------
out=$(as "$ALICE" sh -c "cd '$D' && ls -aR" 2>&1)
grep -qi -e trash -e gone <<<"$out" && fail "the owner's tree shows trash: $out" || pass "no trash in the owner's tree"
out=$(as "$ALICE" cat "$D/.enrp/"* 2>/dev/null)
grep -q 'sub/gone' <<<"$out" && fail ".enrp/ shows trash" || pass "nor in .enrp/"
out=$(as "$ALICE" sh -c "cd '$D' && getfattr -d -m - sub keep sub/*" 2>&1)
grep -qi trash <<<"$out" && fail "xattrs show trash: $out" || pass "nor in xattrs"
out=$(as "$ALICE" "$ENRPCTL" -S "$STORE" trash purge d 2>&1)
assert_true "the owner's enrpctl cannot purge (exit $?)" [ $? -ne 0 ]
out=$(as "$ALICE" "$ENRPCTL" -S "$STORE" trash list d 2>&1)
assert_true "nor list" [ $? -ne 0 ]
assert_eq 4 "$(ntrash)" "trash untouched"

# ---- gc keeps it; restore brings the same bytes back ------------------------------------------
out=$(ctl --json gc) || fail "gc: $out"
assert_eq 0 "$("$PY" -c 'import json, sys; print(json.load(sys.stdin)["chunks_freed"])' <<<"$out")" \
	"gc freed none of the trashed chunks"
id_gone=$(tid deleted sub/gone)
id_copied=$(tid truncated sub/copied)
id_synced=$(tid renamed-over sub/synced)
id_emptied=$(tid truncated sub/emptied)
expect_ok ctl trash restore d "$id_gone"
out=$(ctl trash restore d "$id_synced" 2>&1)
assert_eq 1 "$?" "restore over the live rsync'd file is refused"
assert_match "something has that name" "$out" "and says why"
assert_eq "$(sha "$T/synced")" "$(sha "$D/sub/synced")" "the live file is untouched"
out=$(ctl trash restore d "$id_copied" 2>&1)
assert_eq 1 "$?" "a truncated copy's old name is the live file's: refused"
assert_match "give --to" "$out" "and says to give --to"
expect_ok ctl trash restore d "$id_copied" --to sub/copied.orig
expect_ok ctl trash restore d "$id_synced" --to synced.orig
out=$(ctl trash restore d "$id_emptied" --to nodir/x 2>&1)
assert_eq 1 "$?" "--to a missing directory is refused"
out=$(ctl trash restore d "$id_gone" 2>&1)
assert_eq 1 "$?" "an entry is restored once"
assert_eq 1 "$(ntrash)" "one entry left"
assert_eq verified "$(getfattr --absolute-names --only-values -n enrp.state "$D/sub/gone")" \
	"the restored file is verified at once"

umount_fs
expect_ok ctl gc
mount_fs
assert_eq "$(sha "$T/gone.orig")" "$(sha "$D/sub/gone")" "rm'd file: same bytes after gc and a fresh mount"
assert_eq "$(sha "$T/copied.orig")" "$(sha "$D/sub/copied.orig")" "cp'd-over copy: same bytes"
assert_eq "$(sha "$T/synced.orig")" "$(sha "$D/synced.orig")" "rsync-replaced copy: same bytes"
assert_eq "$(sha "$T/new")" "$(sha "$D/sub/copied")" "the live files are what the owner wrote"
assert_eq "$(getfattr --absolute-names --only-values -n enrp.sha256 "$D/sub/gone")" "$(sha "$T/gone.orig")" \
	"enrp.sha256 of the restored file"
expect_ok as "$ALICE" cat "$D/synced.orig" >/dev/null
assert_eq "$ALICE" "$(stat -c %U "$D/sub/gone")" "it keeps its owner"

# ---- purge, then gc frees ---------------------------------------------------------------------
n_before=$(nchunks d)
expect_ok ctl trash purge d "$id_emptied"
assert_eq 0 "$(ntrash)" "purged"
expect_ok ctl gc
assert_true "gc freed the purged copy's chunks ($n_before -> $(nchunks d))" [ "$(nchunks d)" -lt "$n_before" ]
out=$(ctl trash purge d 42 2>&1)
assert_eq 1 "$?" "purge of no such entry: exit 1"
expect_ok ctl trash purge d
assert_true "trash-add is journalled, aggregated" [ "$(audit_count --event trash-add)" -ge 1 ]
assert_true "not one record per file" [ "$(audit_count --event trash-add)" -le 4 ]
assert_eq 3 "$(audit_count --event trash-restore)" "each restore is journalled" ||
	log "$(ctl audit show --event trash-restore)"
assert_eq 1 "$(audit_count --event trash-purge)" "the purge is journalled (an empty one is not)"

# ---- an rm -rf is one journal line -----------------------------------------------------------
as "$ALICE" sh -c "mkdir $D/many && for i in \$(seq 1 200); do echo \$i >$D/many/f\$i; done" || die "many"
settle d
add0=$(audit_count --event trash-add)
t0=$(date +%s)
expect_ok as "$ALICE" rm -rf "$D/many"
rm_s=$(( $(date +%s) - t0 + 1 ))
many() { [ "$(ntrash)" = 200 ]; }
poll_until 20 many && pass "200 files in trash" || fail "trash holds $(ntrash)"
# The daemon journals what was trashed on its once-a-second tick: at most one
# record per second the rm ran (a slow host, ASan), plus the one after it.
# Their counts add up to the 200 files, whatever the number of records.
added_in() {
	ctl audit show --json --event trash-add | "$PY" -c '
import json, sys
recs = json.load(sys.stdin)[int(sys.argv[1]):]
print(len(recs), sum(int(r["details"]["count"]) for r in recs))' "$add0"
}
all_journalled() { [ "$(added_in | cut -d" " -f2)" = 200 ]; }
poll_until 10 all_journalled && pass "the trash-add records count the 200 files" ||
	fail "trash-add records since the rm: $(added_in)"
n_added=$(added_in | cut -d" " -f1)
assert_true "$n_added trash-add records for 200 files, rm took ${rm_s} s" \
	[ "$n_added" -ge 1 -a "$n_added" -le $((rm_s + 1)) -a "$n_added" -lt 20 ]
assert_match "\?/f1" "$(ctl trash list d)" "their directory is gone: ?/NAME"

# ---- usage errors -----------------------------------------------------------------------------
out=$(ctl trash restore d 2>&1)
assert_eq 2 "$?" "restore without an id: usage"
out=$(ctl trash restore d x1 2>&1)
assert_eq 2 "$?" "a bad id: usage"
out=$(ctl trash list nope 2>&1)
assert_eq 1 "$?" "no such EIR: exit 1"

umount_fs
expect_ok ctl fsck
finish
