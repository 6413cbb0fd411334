#!/bin/bash
# tools/deps.sh — installs the Debian 12 packages enrp needs to build, run
# and test (tools/packages.txt), as the README tells a newcomer and as CI
# does (.ci/run): one list, one way, so the two never differ.  Run as root.
#
#   tools/deps.sh            install what is missing (apt-get, without
#                            recommends: only what the list names is relied on)
#   tools/deps.sh --check    change nothing; exit 1 unless every package of the
#                            list is installed and every program and Python
#                            module the suites and the bench use comes from the
#                            list or from Debian's base system (tools/depcheck.py;
#                            `make test` runs it first)
set -euo pipefail
cd "$(dirname "$0")"

packages() { sed -e 's/#.*//' -e 's/[[:space:]]//g' packages.txt | grep -v '^$'; }

case ${1:-} in
--check)
	[ $# -eq 1 ] || { echo "usage: tools/deps.sh [--check]" >&2; exit 2; }
	if ! command -v python3 >/dev/null; then
		echo "tools/deps.sh: python3 is not installed; run tools/deps.sh first" >&2
		exit 1
	fi
	exec python3 depcheck.py
	;;
"") ;;
-h | --help)
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "tools/deps.sh: unknown argument '$1'" >&2
	echo "usage: tools/deps.sh [--check]" >&2
	exit 2
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "tools/deps.sh: must run as root" >&2
	echo "hint: log in as root (su -), or run it with sudo where sudo is installed" >&2
	exit 1
fi
missing=()
while read -r pkg; do
	grep -q 'ok installed' <<<"$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" || missing+=("$pkg")
done < <(packages)
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The Russian and Kazakh messages (tools/po) are chosen by LANG, which names
# a locale; Debian's locales package builds only those /etc/locale.gen asks
# for, and a fresh machine asks for none.
want_locales=(ru_RU.UTF-8 kk_KZ.UTF-8)
have=$(locale -a 2>/dev/null | tr 'A-Z' 'a-z' | sed 's/utf-8/utf8/')
gen=0
for l in "${want_locales[@]}"; do
	norm=$(tr 'A-Z' 'a-z' <<<"$l" | sed 's/utf-8/utf8/')
	if ! grep -qx "$norm" <<<"$have"; then
		if grep -q "^# *$l UTF-8" /etc/locale.gen; then
			sed -i "s/^# *\($l UTF-8\)/\1/" /etc/locale.gen
		elif ! grep -q "^$l UTF-8" /etc/locale.gen; then
			echo "$l UTF-8" >>/etc/locale.gen
		fi
		gen=1
	fi
done
if [ "$gen" -eq 1 ]; then
	locale-gen
fi
