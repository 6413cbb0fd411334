#!/bin/bash
# t6360: the daemon's records say where and who (issue 10 item 1): denied,
# verified, chunk-damaged and scrub-damage records carry the path relative
# to the EIR (one with a space and non-ASCII letters), denied names the
# caller; losing verified data is journalled: a truncate, an overwrite with
# >, a rewrite in place and a rename over a verified file each give a
# record with the path, size and sha256 of what was lost, and rm -rf of a
# tree of verified files gives one aggregated file-removed record with the
# count, the bytes and the first paths.
. "$(dirname "$0")/lib.sh"
setup

RECS="$PY $LIB_DIR/auditrecs.py"
G=$LIB_DIR/integ9.py
state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
# recs EVENT EIR: that EIR's EVENT records, one JSON object a line.
recs() { ctl audit show --json --eir "$2" | $RECS "$1"; }
have() { [ "$(recs "$1" "$2" | wc -l)" -ge "${3:-1}" ]; }
# field EVENT EIR KEY...: KEYs of the last such record (d.KEY: a details key).
field() {
	local ev=$1 eir=$2
	shift 2
	recs "$ev" "$eir" | tail -n1 | "$PY" -c '
import json, sys
line = sys.stdin.read().strip()
r = json.loads(line) if line else {}
print("|".join(str(r.get("details", {}).get(f[2:], "-") if f.startswith("d.") else r.get(f, "-"))
               for f in sys.argv[1:]))' "$@"
}

DIR="dir one"
NAME="файл №1.txt"
for e in a t o w r rm; do mk_eir "$e" --owner "$ALICE"; done
alice_uid=$(uid_of "$ALICE")
mount_fs
expect_ok as "$ALICE" mkdir "$MNT/a/$DIR"
printf 'the first file\n' >"$T/one"
printf 'the second file, damaged offline\n' >"$T/two"
expect_ok as "$ALICE" cp "$T/one" "$MNT/a/$DIR/$NAME"
expect_ok as "$ALICE" cp "$T/two" "$MNT/a/$DIR/two"
seed=1
for e in t o w r; do
	seed=$((seed + 1))
	"$PY" "$G" gen "$seed" 70000 >"$T/$e.src" || die "gen"
	expect_ok as "$ALICE" cp "$T/$e.src" "$MNT/$e/v file"
done
expect_ok as "$ALICE" cp "$T/one" "$MNT/r/incoming"
expect_ok as "$ALICE" mkdir -p "$MNT/rm/tree/sub"
for i in $(seq 1 12); do
	printf 'file %s\n' "$i" | as "$ALICE" tee "$MNT/rm/tree/f$i" "$MNT/rm/tree/sub/g$i" >/dev/null
done
for e in a t o w r rm; do poll_until 30 pending_empty "$e" || fail "$e: still pending after 30 s"; done

# ---- verified: path --------------------------------------------------------
# path_of_sum SHA256: the path in the verified record of that content.
path_of_sum() {
	recs verified a | "$PY" -c '
import json, sys
print(" ".join(d.get("path", "-") for d in (json.loads(l)["details"] for l in sys.stdin)
               if d.get("sha256") == sys.argv[1]))' "$1"
}
assert_eq "$DIR/$NAME" "$(path_of_sum "$(sha256sum <"$T/one" | cut -c1-64)")" \
	"verified names the path in its EIR (space and non-ASCII kept)"
assert_eq "$DIR/two" "$(path_of_sum "$(sha256sum <"$T/two" | cut -c1-64)")" \
	"verified: the second file's path, by its sha256"

# ---- denied: path and caller -----------------------------------------------
set_mode a ro
expect_fail EROFS as "$ALICE" bash -c 'echo more >>"$1"' _ "$MNT/a/$DIR/$NAME"
poll_until 10 have denied a || fail "no denied record for a within 10 s"
assert_eq "$DIR/$NAME|$alice_uid|bash|write|EROFS" "$(field denied a d.path uid command d.op d.errno)" \
	"denied names the path, and the caller (uid, command) as the actor"
set_mode a rw

# ---- losses ----------------------------------------------------------------
size=70000
expect_ok as "$ALICE" truncate -s 100 "$MNT/t/v file"
expect_ok as "$ALICE" bash -c 'echo new >"$1"' _ "$MNT/o/v file"
expect_ok as "$ALICE" dd if=/dev/zero of="$MNT/w/v file" bs=1 count=10 conv=notrunc status=none
expect_ok as "$ALICE" mv "$MNT/r/incoming" "$MNT/r/v file"
poll_until 10 have file-truncated t || fail "no file-truncated record for t within 10 s"
assert_eq "v file|$size|$(sha256sum <"$T/t.src" | cut -c1-64)|1|$alice_uid|truncate" \
	"$(field file-truncated t d.path d.size d.sha256 d.count uid command)" \
	"truncate: file-truncated with the path, size and sha256 lost, by alice's truncate"
poll_until 10 have file-truncated o || fail "no file-truncated record for o within 10 s"
assert_eq "v file|$size|$(sha256sum <"$T/o.src" | cut -c1-64)|o_trunc" \
	"$(field file-truncated o d.path d.size d.sha256 d.how)" \
	"overwrite with >: file-truncated (how=o_trunc) with the path, size and sha256 lost"
poll_until 10 have file-replaced w || fail "no file-replaced record for w within 10 s"
assert_eq "v file|$size|$(sha256sum <"$T/w.src" | cut -c1-64)|rewrite|dd" \
	"$(field file-replaced w d.path d.size d.sha256 d.how command)" \
	"rewrite in place: file-replaced (how=rewrite) with the path, size and sha256"
poll_until 10 have file-replaced r || fail "no file-replaced record for r within 10 s"
assert_eq "v file|$size|$(sha256sum <"$T/r.src" | cut -c1-64)|rename|mv" \
	"$(field file-replaced r d.path d.size d.sha256 d.how command)" \
	"rename over: file-replaced (how=rename) with the path, size and sha256"
assert_eq 0 "$(recs file-removed r | wc -l)" "the renamed file itself lost nothing"

# A stranger's access to alice's 0700 EIR is refused by the kernel
# (default_permissions): enrpfs never sees it, so nothing is journalled
# (enrpfs(8): denials the daemon does not see).
expect_fail EACCES as "$BOB" ls "$MNT/a"
bob_uid=$(uid_of "$BOB")
expect_ok as "$ALICE" rm -rf "$MNT/rm/tree"
poll_until 10 have file-removed rm || fail "no file-removed record for rm within 10 s"
sleep 2 # a second record, if the burst were split, would be due by now
out=$(recs file-removed rm | "$PY" -c '
import json, sys
rs = [json.loads(l) for l in sys.stdin]
d = rs[-1]["details"]
paths = [d.get("path")] + [d["path%d" % i] for i in range(2, 11) if "path%d" % i in d]
ok = all(p.startswith("tree/f") or p.startswith("tree/sub/g") for p in paths)
print(len(rs), d.get("count"), d.get("bytes"), d.get("listed"), len(paths), ok, rs[-1]["command"])')
bytes=0
for i in $(seq 1 12); do bytes=$((bytes + 2 * $(printf 'file %s\n' "$i" | wc -c))); done
assert_eq "1 24 $bytes 10 10 True rm" "$out" \
	"rm -rf of 24 verified files: one file-removed record, count, bytes, 10 paths, by rm"
assert_eq 0 "$(recs file-removed a | wc -l)" "no file-removed record in an EIR that lost nothing"
assert_eq 0 "$(ctl audit show --json | $RECS denied | "$PY" -c '
import json, sys
print(sum(1 for l in sys.stdin if json.loads(l)["uid"] == int(sys.argv[1])))' "$bob_uid")" \
	"a kernel-made denial (another account entering a 0700 EIR) leaves no denied record"

# ---- chunk-damaged (read through the mount) and scrub-damage (offline) --------
umount_fs
for f in one two; do
	s=$(sha256sum <"$T/$f" | cut -c1-64)
	c="$STORE/chunks/$(eir_id a)/${s:0:2}/${s:2:2}/$s"
	[ -f "$c" ] || die "no chunk file $c"
	"$PY" "$G" flipbyte "$c" || die "flipbyte"
done
mount_fs
expect_fail EIO cat "$MNT/a/$DIR/$NAME"
poll_until 10 have chunk-damaged a || fail "no chunk-damaged record within 10 s"
assert_eq "$DIR/$NAME" "$(field chunk-damaged a d.path)" "chunk-damaged names the path"
umount_fs
ctl scrub >/dev/null 2>&1
assert_eq "$DIR/two" "$(field scrub-damage a d.path)" "scrub-damage (offline scrub) names the path"

out=$(ctl audit verify 2>&1)
assert_match '^audit: chain intact' "$out" "the chain is intact"
finish
