#!/bin/bash
# t2310: write-only leaks nothing through the checksum (DESIGN §4).  The
# attack of the release-blockers issue — overwrite byte k of a secret with a
# guess, wait for the seal, compare enrp.sha256 — is refused for all 256
# guesses and the checksum never moves; so are shortening truncates, punched
# holes, zero/collapse/insert ranges, truncate(1), dd conv=notrunc.  Appends,
# new files, a writer rewriting its own new file (pg_dump -Fc writes its table
# of contents last), O_TRUNC, cp, shell redirection and rsync's
# temp-file-and-rename keep working.  Driver: tests/integration/woleak.py.
. "$(dirname "$0")/lib.sh"
setup

mk_eir wo --owner "$ALICE"
mount_fs

results=$("$PY" "$LIB_DIR/woleak.py" checksum "$ENRPCTL" "$STORE" "$MNT/wo" "$ALICE" 2>&1)
rc=$?
driver_results "$results"
[ "$rc" -eq 0 ] || fail "woleak.py checksum exited $rc"

# Whole-file replacement, the way owners send dumps, in the same wo EIR.
W=$MNT/wo
src=$T/src
mkdir "$src"
head -c 300000 /dev/urandom >"$src/dump.sql"
echo "small" >"$src/small.txt"
chown -R "$ALICE:" "$src"
expect_ok as "$ALICE" cp "$src/dump.sql" "$W/secret.conf"
expect_ok as "$ALICE" sh -c "cat '$src/small.txt' > '$W/secret.conf'"
expect_ok as "$ALICE" sh -c "cat '$src/small.txt' >> '$W/secret.conf'"
expect_ok as "$ALICE" rsync -a "$src/" "$W/r/"
head -c 1000 /dev/urandom >>"$src/dump.sql"
expect_ok as "$ALICE" rsync -a "$src/" "$W/r/"
expect_ok as "$ALICE" rsync -a --append "$src/" "$W/ra/"
poll_until 60 sh -c "[ \"\$(getfattr --only-values -n enrp.state '$W/r/dump.sql' 2>/dev/null)\" = verified ]" ||
	fail "r/dump.sql not verified 60 s after rsync"
assert_eq "$(sha "$src/dump.sql")" "$(getfattr --only-values -n enrp.sha256 "$W/r/dump.sql")" \
	"rsync's second run replaced the file whole: its checksum is the source's"
poll_until 60 sh -c "[ \"\$(getfattr --only-values -n enrp.state '$W/secret.conf' 2>/dev/null)\" = verified ]" ||
	fail "secret.conf not verified"
assert_eq "$(cat "$src/small.txt" "$src/small.txt" | sha256sum | cut -d' ' -f1)" \
	"$(getfattr --only-values -n enrp.sha256 "$W/secret.conf")" \
	"'>' then '>>' in wo give the checksum of what was sent"
finish
