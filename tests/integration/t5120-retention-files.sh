#!/bin/bash
# t5120: files=DAYS prunes live files (issue 9, item 5).  `enrpctl prune`,
# run two platform days later (libfaketime moves enrpctl's clock; the store
# keeps the platform clock's floor, so the daemon follows), removes through
# the running daemon every live file sealed more than files=1 day ago: both
# names of a hard link, files deep in the tree, a file someone holds open
# (which reads on until it is closed).  A held file, symlinks, directories
# and files sealed since stay.  Nothing goes to trash; a snapshot keeps its
# version.  --dry-run changes nothing.  The kernel forgets the names at once.
# Without a daemon enrpctl prunes itself.  After every file of an EIR is
# pruned, gc returns its chunk bytes to under 1 %.  fsck finds nothing.
. "$(dirname "$0")/lib.sh"
setup

pending_empty() { [ -r "$MNT/$1/.enrp/pending" ] && [ ! -s "$MNT/$1/.enrp/pending" ]; }
settle() { poll_until 60 pending_empty "$1" || fail "$1: still pending after 60 s"; }
eir_id() { ctl --json eir show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
chunk_bytes() { find "$STORE/chunks/$(eir_id "$1")" -path '*/tmp' -prune -o -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
# later DAYS ARGS...: enrpctl with the clock DAYS days ahead.  (libfaketime
# is preloaded before ASan's runtime in a sanitizer build: ASan is told
# that this order is intended.)
later() {
	local days=$1
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+${days}d" "$ENRPCTL" -S "$STORE" "$@"
}
ntrash() { ctl trash list "$1" --json | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'; }

mk_eir r --owner "$ALICE"
mk_eir z --owner "$ALICE"
expect_ok ctl eir set r --retention "files=1,keep-last=5"
expect_ok ctl eir set z --retention "files=1"
mount_fs
R=$MNT/r
mkdir -p "$R/old/deeper" || die "mkdir"
for f in top old/mid old/deeper/deep held open; do
	head -c $((300000 + RANDOM)) /dev/urandom >"$R/$f" || die "write $f"
done
ln "$R/old/mid" "$R/old/deeper/mid-link" || die "ln"
ln -s top "$R/sym" || die "ln -s"
for i in 1 2 3 4 5; do head -c $((1 << 20)) /dev/urandom >"$MNT/z/dump-$i"; done
settle r
settle z
mid_sha=$(sha "$R/old/mid")
open_sha=$(sha "$R/open")
expect_ok ctl snapshot create r before
expect_ok ctl hold add r/held --until "$(date -d '+30 days' +%F)" --reason "order 12"
trash0=$(ntrash r)
z_bytes0=$(chunk_bytes z)

# ---- dry run ---------------------------------------------------------------------------------
out=$(later 2 --json prune --dry-run 2>&1) || fail "prune --dry-run: $out"
files=$("$PY" -c 'import json, sys; d = json.load(sys.stdin); print(" ".join(sorted(i["eir"] + "/" + i["what"] for i in d["items"] if i["kind"] == "file" and not i["held"])))' <<<"$out")
assert_eq "r/old/deeper/deep r/old/deeper/mid-link r/old/mid r/open r/top z/dump-1 z/dump-2 z/dump-3 z/dump-4 z/dump-5" \
	"$files" "dry run: every name of every file sealed before, in both EIRs"
assert_eq "r/held" "$("$PY" -c 'import json, sys; print(" ".join(i["eir"] + "/" + i["what"] for i in json.load(sys.stdin)["items"] if i["held"]))' <<<"$out")" \
	"the held file is reported as kept"
assert_true "a dry run removes nothing" [ -f "$R/old/deeper/deep" ] && [ -f "$MNT/z/dump-1" ]

# ---- prune through the daemon ----------------------------------------------------------------
exec 3<"$R/open"
stat "$R/top" "$R/old/mid" >/dev/null # in the kernel's cache, now
out=$(later 2 prune 2>&1)
assert_eq 0 "$?" "prune exits 0 ($out)"
assert_match "pruned +file r/old/deeper/deep" "$out" "and lists each file"
assert_match "keep \(held\) +file r/held" "$out" "and the held one"
for f in top old/mid old/deeper/deep old/deeper/mid-link open; do
	[ -e "$R/$f" ] && fail "$f is still there" || pass "$f is gone at once"
done
for f in held sym old old/deeper; do
	[ -e "$R/$f" ] || [ -L "$R/$f" ] && pass "$f stays" || fail "$f is gone"
done
assert_eq "$open_sha" "$(sha256sum <&3 | cut -d' ' -f1)" "the file held open still reads whole"
exec 3<&-
assert_eq "$trash0" "$(ntrash r)" "nothing went to trash"
assert_eq "$mid_sha" "$(sha "$R/.snapshots/before/old/mid")" "the snapshot keeps its version"
rec=$(ctl audit show --json --event prune --eir r | details_flat)
assert_match 'files=5 snapshots=0 kept=1 trash=0 trash_bytes=0 held=1 mounted=0' "$rec" \
	"one prune record with the counts"
head -c 5000 /dev/urandom >"$R/fresh"
settle r
out=$(later 2 prune r 2>&1) || fail "prune again: $out"
assert_true "a file sealed since stays" [ -f "$R/fresh" ]

# ---- every file of z gone: gc returns its chunks ----------------------------------------------
out=$(ctl gc 2>&1) || fail "gc: $out"
z_bytes=$(chunk_bytes z)
assert_true "z's chunk bytes: $z_bytes0 -> $z_bytes (< 1 %)" [ "$z_bytes" -lt $((z_bytes0 / 100)) ]

# ---- without a daemon enrpctl prunes itself --------------------------------------------------
head -c 200000 /dev/urandom >"$R/offline"
settle r
umount_fs
out=$(later 4 prune r 2>&1)
assert_eq 0 "$?" "prune without a daemon exits 0 ($out)"
assert_match "pruned +file r/offline" "$out" "and removed the file"
out=$(ctl fsck --json 2>&1)
assert_eq 0 "$?" "fsck after the prunes exits 0"
assert_match '"problems": 0' "$out" "and finds nothing"
mount_fs
assert_true "offline is gone after a remount" [ ! -e "$MNT/r/offline" ]
assert_true "held is still there" [ -f "$MNT/r/held" ]
finish
