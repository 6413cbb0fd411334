#!/bin/bash
# t0200: enrpctl's and enrpfs's messages, hints and help speak Russian and
# Kazakh when LANG (or LC_MESSAGES, or LC_ALL) asks for them, and English
# otherwise; every message the sources hold has both translations (the test
# regenerates the template from the sources, so a message added without its
# translations fails here); numbers in JSON stay "1.5", never "1,5".
. "$(dirname "$0")/lib.sh"
setup

LOCALES=$BUILDDIR/locale
pot=$T/enrp.pot
make -s -C "$REPO" pot POT_OUT="$pot" >/dev/null 2>"$T/pot.err" ||
	die "make pot failed: $(cat "$T/pot.err")"
n=$(grep -c '^msgid "' "$pot")
assert_true "the template holds the sources' messages ($n)" test "$n" -gt 500

for l in ru kk; do
	po=$REPO/tools/po/$l.po
	out=$(msgfmt --check -o /dev/null "$po" 2>&1)
	assert_eq 0 "$?" "$l.po passes msgfmt --check (formats match the English): ${out:-ok}"
	msgmerge --quiet --no-fuzzy-matching -o "$T/$l.po" "$po" "$pot" 2>/dev/null ||
		die "msgmerge $l failed"
	missing=$(msgattrib --untranslated --no-obsolete --no-wrap "$T/$l.po" | grep -A1 '^msgid "' | grep '^msgid' | sed 1d)
	assert_eq "" "$missing" "every message of the sources has a $l translation"
	fuzzy=$(msgattrib --only-fuzzy --no-obsolete --no-wrap "$T/$l.po" | grep '^msgid "' | sed 1d)
	assert_eq "" "$fuzzy" "no $l translation is fuzzy (unchecked)"
	assert_true "make built $l's catalogue" test -s "$LOCALES/$l/LC_MESSAGES/enrp.mo"
done

locale -a | grep -qix 'ru_RU.utf8' && locale -a | grep -qix 'kk_KZ.utf8' ||
	die "locales ru_RU.UTF-8 and kk_KZ.UTF-8 are missing: run tools/deps.sh"

# The catalogue's own text for MSGID in LANG L (gettext(1) reads the same .mo).
tr_of() { env -u LC_ALL -u LANGUAGE LANG="$1" TEXTDOMAINDIR="$LOCALES" gettext -d enrp -- "$2"; }
# has_text TEXT LINE DESCRIPTION: LINE (a fixed string) is in TEXT.
has_text() {
	if grep -Fq -- "$2" <<<"$1"; then pass "$3"; else fail "$3: '${1:0:400}' lacks '$2'"; fi
}
# enrpctl in a language: ENV... -- ARGS...
ctl_in() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	(exec -a enrpctl env -u LC_ALL -u LANGUAGE "${envs[@]}" "$ENRPCTL" -S "$STORE" "$@")
}

msg="no EIR named '%s'"
hint="run 'enrpctl eir list' to see the EIRs"
for lang in ru_RU.UTF-8 kk_KZ.UTF-8; do
	want_msg=$(tr_of "$lang" "$msg")
	want_hint=$(tr_of "$lang" "$hint")
	assert_true "$lang: the catalogue translates '$msg' ($want_msg)" test "$want_msg" != "$msg"
	assert_match '[А-Яа-яӘәҒғҚқҢңӨөҰұҮүІі]' "$want_msg" "$lang: the translation is Cyrillic"
	out=$(ctl_in LANG="$lang" -- eir show nosuch 2>&1)
	assert_eq 1 "$?" "$lang: eir show of an unknown EIR still fails with 1"
	assert_text_eq "enrpctl: $(printf "$want_msg" nosuch)
$(tr_of "$lang" "hint: ")$want_hint" "$out" "$lang: error and hint in the language LANG names"
	out=$(ctl_in LANG=C LC_MESSAGES="$lang" -- eir show nosuch 2>&1)
	assert_match "$(printf "$want_msg" nosuch)" "$out" "$lang: LC_MESSAGES alone chooses it too"
	out=$(ctl_in LANG="$lang" LC_ALL=C -- eir show nosuch 2>&1)
	assert_match "^enrpctl: no EIR named 'nosuch'" "$out" "$lang: LC_ALL=C keeps English"

	want=$(tr_of "$lang" "Administers an enrp backup store (see enrpctl(8)).

Commands:
")
	assert_true "$lang: the catalogue translates enrpctl's help" test "$(head -n1 <<<"$want")" != "Administers an enrp backup store (see enrpctl(8))."
	out=$(ctl_in LANG="$lang" -- --help)
	has_text "$out" "$(head -n1 <<<"$want")" "$lang: enrpctl --help translated"
	out=$(ctl_in LANG="$lang" -- eir --help)
	assert_match "^usage: enrpctl \[-S STORE\] eir VERB" "$out" "$lang: synopsis stays as typed"
	want=$(tr_of "$lang" "create an EIR and its directory")
	assert_true "$lang: the catalogue translates a verb summary" test "$want" != "create an EIR and its directory"
	has_text "$out" "  create        $want" "$lang: verb summaries translated"
	out=$(env -u LC_ALL LANG="$lang" "$ENRPFS" --help)
	want=$(tr_of "$lang" "usage: enrpfs [options] STORE MOUNTPOINT
")
	assert_true "$lang: the catalogue translates enrpfs's help" test "$(sed -n 3p <<<"$want")" != "Mounts the enrp platform store STORE (made by 'enrpctl init') at MOUNTPOINT."
	has_text "$out" "$(sed -n 3p <<<"$want")" "$lang: enrpfs --help translated"
done

out=$(ctl_in -- eir show nosuch 2>&1)
assert_match "^enrpctl: no EIR named 'nosuch'" "$out" "no LANG: English"

# Only LC_MESSAGES follows the language: JSON numbers keep their point.
mk_eir books --owner "$ALICE"
mount_fs
head -c 300000 /dev/urandom >"$MNT/books/a"
cat "$MNT/books/a" "$MNT/books/a" >"$MNT/books/b"
poll_until 30 eval '[ "$(status_field books pending)" = 0 ]' || true
# (the ages, which grow with the clock between the two runs, left out)
no_ages() {
	"$PY" -c '
import json, sys
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if not k.endswith("_age_s")}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
print(json.dumps(strip(json.loads(sys.stdin.read())), sort_keys=True))'
}
en=$(ctl status --json)
ru=$(ctl_in LANG=ru_RU.UTF-8 LC_NUMERIC=ru_RU.UTF-8 -- status --json)
assert_eq "$(no_ages <<<"$en")" "$(no_ages <<<"$ru")" "status --json is the same in Russian (numbers, keys)"
assert_match '"ratio": [0-9]+\.[0-9]+' "$ru" "a ratio keeps its decimal point in Russian"
assert_true "and parses as JSON" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$ru"
finish
