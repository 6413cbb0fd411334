#!/bin/bash
# t9300: an encrypted store (DESIGN §5, §9): files round-trip; chunk files
# hold no plaintext and are not named by the plaintext's SHA-256; the same
# plaintext in two EIRs gives different chunks; the master key file must be
# the store's own, present, 0400 and outside the store, else nothing mounts
# and the message says why; scrub works with the key.  An unencrypted store
# with the same data is the control that shows the checks can fail.
. "$(dirname "$0")/lib.sh"
setup

CANARY=ENRP-PLAINTEXT-CANARY-9300-ZQXJ

state() { getfattr --absolute-names --only-values -n enrp.state "$1" 2>/dev/null; }
xsha() { getfattr --absolute-names --only-values -n enrp.sha256 "$1" 2>/dev/null; }
pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
chunk_names() { find "$STORE/chunks/$(eir_id "$1")" -type f -printf '%f\n' 2>/dev/null | sort; }
# try_mount ARGS...: runs enrpfs on $STORE $MNT; output in $out, status in $rc.
try_mount() {
	out=$("$ENRPFS" "$@" "$STORE" "$MNT" 2>&1)
	rc=$?
}

# ---- the data: text with the canary, random, sizes around the chunk limits --------------------
SRC=$T/src
mkdir "$SRC"
"$PY" - "$SRC" "$CANARY" <<'EOF' || die "cannot make the source files"
import os, random, sys
src, canary = sys.argv[1], sys.argv[2].encode()
rnd = random.Random(9300)
with open(os.path.join(src, "canary.txt"), "wb") as fh:   # one canary per 8 KiB of random data
    for i in range(400):
        fh.write(rnd.randbytes(8192) + canary + b"\n")
with open(os.path.join(src, "small.txt"), "wb") as fh:    # < 64 KiB: a single chunk
    fh.write(b"%s small confidential text\n" % canary * 100)
with open(os.path.join(src, "report.csv"), "wb") as fh:   # compressible text
    for i in range(60000):
        fh.write(b"%d;%s;account-%06d;%d\n" % (i, canary, rnd.randrange(10**6), rnd.randrange(10**9)))
open(os.path.join(src, "empty"), "wb").close()
with open(os.path.join(src, "random7M"), "wb") as fh:
    fh.write(rnd.randbytes(7 * 1024 * 1024 + 17))
EOF
FILES="canary.txt small.txt report.csv empty random7M"

# ---- control: the unencrypted store (from setup) shows the canary and the plain names --------------
PLAIN=$STORE
PMNT=$T/pmnt
mkdir "$PMNT"
EXTRA_MOUNTS+=("$PMNT")
EXTRA_STORES+=("$PLAIN")
ctl eir create p --owner root >/dev/null || die "eir create p"
MNT=$PMNT mount_fs
cp "$SRC"/* "$PMNT/p/" || fail "cp into the plain store"
MNT=$PMNT poll_until 60 pending_empty p || fail "plain store: still pending"
if grep -rqaF "$CANARY" "$PLAIN/chunks"; then
	pass "control: grep finds the canary in an unencrypted store's chunks"
else
	fail "control: the canary is not found in the unencrypted chunks; the grep below proves nothing"
fi
s=$(sha "$SRC/small.txt")
if [ -f "$PLAIN/chunks/$(eir_id p)/${s:0:2}/${s:2:2}/$s" ]; then
	pass "control: unencrypted, a single-chunk file's chunk is named by its SHA-256"
else
	fail "control: no chunk named by the SHA-256 of small.txt in the unencrypted store"
fi
MNT=$PMNT umount_fs

# ---- the encrypted store -------------------------------------------------------------------
mkdir -m 700 "$T/keys"
KEY=$T/keys/master.key
STORE=$T/estore
expect_ok ctl_nostore init --encrypt --keyfile "$KEY" "$STORE"
assert_eq "400 32" "$(stat -c '%a %s' "$KEY")" "the master key file is created 0400, 32 bytes"
mk_eir e1 --owner "$ALICE"
mk_eir e2 --owner "$ALICE"
mount_fs
for f in $FILES; do
	expect_ok as "$ALICE" cp "$SRC/$f" "$MNT/e1/$f"
	expect_ok as "$ALICE" cp "$SRC/$f" "$MNT/e2/$f"
done
expect_ok as "$ALICE" cp "$SRC/random7M" "$MNT/e1/random7M-again"
poll_until 120 pending_empty e1 || fail "e1: still pending after 120 s"
poll_until 120 pending_empty e2 || fail "e2: still pending after 120 s"
for f in $FILES; do
	assert_eq "verified $(sha "$SRC/$f")" "$(state "$MNT/e1/$f") $(xsha "$MNT/e1/$f")" "encrypted: $f verified with the right SHA-256"
	expect_ok cmp "$SRC/$f" "$MNT/e1/$f"
done
umount_fs
mount_fs
for f in $FILES; do
	expect_ok cmp "$SRC/$f" "$MNT/e2/$f"
done
assert_true "encrypted: SHA256SUMS checks out after a remount" \
	bash -c 'cd "$1" && sha256sum --quiet --strict -c .enrp/SHA256SUMS' _ "$MNT/e1"

# ---- a snapshot mount of the encrypted store: the key from where init recorded it -------------
SNAP=$T/snap
mkdir -m 755 "$SNAP"
EXTRA_MOUNTS+=("$SNAP")
expect_ok ctl snapshot create e1 drill
out=$(ctl snapshot mount e1@drill "$SNAP" 2>&1)
assert_eq 0 "$?" "snapshot mount of an encrypted store ($out)"
assert_true "encrypted snapshot: sha256sum -c of its SHA256SUMS passes" \
	bash -c 'cd "$1" && sha256sum --quiet --strict -c .enrp/SHA256SUMS' _ "$SNAP"
for f in $FILES; do
	expect_ok cmp "$SRC/$f" "$SNAP/$f"
done
expect_ok ctl snapshot umount "$SNAP"

# ---- what lies on disk ----------------------------------------------------------------------------
n=$(find "$STORE/chunks" -type f | wc -l)
[ "$n" -gt 10 ] || fail "only $n chunk files in the encrypted store"
hits=$(grep -rlaF "$CANARY" "$STORE" 2>/dev/null | head -n 3)
assert_eq "" "$hits" "encrypted: no file in the store contains the plaintext canary"
hits=$(grep -rlaF 'account-0' "$STORE/chunks" 2>/dev/null | head -n 3)
assert_eq "" "$hits" "encrypted: no chunk contains CSV plaintext"
s=$(sha "$SRC/small.txt")
assert_eq "" "$(find "$STORE/chunks" -name "$s")" "encrypted: no chunk is named by the plain SHA-256 of a single-chunk file"
# No chunk name equals the SHA-256 of any 64 KiB-aligned piece either (cheap extra check).
plain_names=$(for f in $FILES; do sha "$SRC/$f"; done | sort)
assert_eq "" "$(comm -12 <(chunk_names e1) <(printf '%s\n' "$plain_names"))" "encrypted: no chunk named by a whole-file SHA-256"
same=$(comm -12 <(chunk_names e1) <(chunk_names e2) | wc -l)
assert_eq 0 "$same" "the same plaintext in two encrypted EIRs gives different chunk names ($(chunk_names e1 | wc -l) vs $(chunk_names e2 | wc -l) chunks)"
# Dedup still works inside one encrypted EIR: random7M-again added no chunks.
assert_eq "$(chunk_names e2 | wc -l)" "$(chunk_names e1 | wc -l)" \
	"within an encrypted EIR, the same content twice is stored once (e1 = e2 chunk count)"
# A chunk file is not a zstd frame one could just decompress.
c=$(find "$STORE/chunks/$(eir_id e1)" -type f | head -n 1)
if command -v zstd >/dev/null; then
	if zstd -dc "$c" >/dev/null 2>&1; then
		fail "an encrypted chunk file decompresses with plain zstd"
	else
		pass "an encrypted chunk file is not a plain zstd frame"
	fi
fi

# ---- scrub with the key ---------------------------------------------------------------------
expect_exit 0 ctl scrub
expect_exit 0 ctl scrub --keyfile "$KEY" e1
umount_fs

# ---- key file problems: nothing mounts, the message says what -------------------------------------
OTHER=$T/other
expect_ok ctl_nostore init --encrypt --keyfile "$T/keys/other.key" "$OTHER"
EXTRA_STORES+=("$OTHER")

try_mount -o keyfile="$T/keys/other.key"
assert_eq "nonzero" "$([ "$rc" -ne 0 ] && echo nonzero || echo 0)" "wrong key file: enrpfs exits non-zero"
assert_match '[Kk]ey' "$out" "wrong key file: the message is about the key ($out)"
assert_true "wrong key file: not mounted" not_mounted "$MNT"
assert_true "wrong key file: no daemon left" no_daemon
out=$(ctl scrub --keyfile "$T/keys/other.key" 2>&1)
rc=$?
assert_eq 1 "$rc" "scrub with the wrong key file exits 1 ($out)"
assert_match '[Kk]ey' "$out" "scrub with the wrong key file says it is the key"

mv "$KEY" "$T/keys/away.key"
try_mount
assert_eq "nonzero" "$([ "$rc" -ne 0 ] && echo nonzero || echo 0)" "missing key file: enrpfs exits non-zero"
assert_match 'keyfile' "$out" "missing key file: the message hints at -o keyfile ($out)"
assert_true "missing key file: not mounted" not_mounted "$MNT"
# -o keyfile= points at the moved key: it mounts.
try_mount -o keyfile="$T/keys/away.key"
assert_eq 0 "$rc" "-o keyfile=PATH finds the moved key ($out)"
if [ "$rc" -eq 0 ]; then
	poll_until 20 is_mounted "$MNT" || fail "not mounted with -o keyfile"
	poll_until 10 have_daemon
	expect_ok cmp "$SRC/canary.txt" "$MNT/e1/canary.txt"
	umount_fs
fi
mv "$T/keys/away.key" "$KEY"

chmod 0644 "$KEY"
try_mount
assert_eq "nonzero" "$([ "$rc" -ne 0 ] && echo nonzero || echo 0)" "key file 0644: enrpfs exits non-zero"
assert_match '0644|readable|permission|chmod' "$out" "key file 0644: the message says why ($out)"
assert_true "key file 0644: not mounted" not_mounted "$MNT"
out=$(ctl scrub 2>&1)
rc=$?
assert_eq 1 "$rc" "scrub with a 0644 key file is refused ($out)"
chmod 0400 "$KEY"

# init: a key file inside the store, or a group/other-readable one, is refused.
out=$(ctl_nostore init --encrypt --keyfile "$T/s-in/master.key" "$T/s-in" 2>&1)
rc=$?
assert_eq 1 "$rc" "init with the key file inside the store exits 1 ($out)"
assert_match 'inside the store|outside the store' "$out" "init with the key inside the store: the message says so"
assert_true "init with the key inside the store leaves no key file" test ! -e "$T/s-in/master.key"
mkdir -m 700 "$T/s-in2"
ln -s "$T/s-in2" "$T/link-to-store"
out=$(ctl_nostore init --encrypt --keyfile "$T/link-to-store/master.key" "$T/s-in2" 2>&1)
rc=$?
assert_eq 1 "$rc" "init with the key inside the store, reached through a symlink, exits 1 ($out)"
head -c 32 /dev/urandom >"$T/keys/loose.key"
chmod 0644 "$T/keys/loose.key"
# The store directory made beforehand by the administrator (allowed: "STORE
# must not exist, or be an empty directory") is left as it was.
mkdir -m 700 "$T/s-loose"
out=$(ctl_nostore init --encrypt --keyfile "$T/keys/loose.key" "$T/s-loose" 2>&1)
rc=$?
assert_eq 1 "$rc" "init with a 0644 key file exits 1 ($out)"
assert_true "init with a 0644 key file created no store" test ! -e "$T/s-loose/meta"
assert_true "a refused init leaves the administrator's empty store directory in place" test -d "$T/s-loose"
assert_true "a refused init (key inside the store) leaves the existing store directory in place" test -d "$T/s-in2"

# With the key back in place it mounts, the data is intact, scrub is clean.
mount_fs
expect_ok cmp "$SRC/random7M" "$MNT/e1/random7M-again"
expect_ok cmp "$SRC/report.csv" "$MNT/e2/report.csv"
expect_exit 0 ctl scrub

finish
