#!/bin/bash
# t7410: enrp's CSV reader against Python's csv module on 300 generated
# files (Russian and Kazakh text, quotes, commas, line breaks in quotes,
# CRLF/LF/CR, BOM, empty fields and lines) and on damaged copies, where
# the two differ as documented in csv_differential.py and enrpctl(8).
# No mount: the reader is core code, reached through the test_csv dumper;
# t7400 runs the same reader through 'enrpctl eir import' on a mount.
. "$(dirname "$0")/lib.sh"
setup

DUMPER=$BUILDDIR/tests/test_csv
[ -x "$DUMPER" ] || die "no $DUMPER (run make)"
mkdir "$T/csv"
out=$("$PY" "$LIB_DIR/csv_differential.py" "$DUMPER" "$T/csv" 300 "${CSV_SEED:-11}")
rc=$?
printf '%s\n' "$out" | grep '^not ok' -A2 | head -40
total=$(grep -c '^ok' <<<"$out")
assert_eq 0 "$rc" "the differential run passed ($total checks)"
assert_true "at least 300 files compared" test "$total" -ge 300
finish
